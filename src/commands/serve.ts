// lnps serve: run the node. Flags override lnps.conf in the data directory, which overrides the
// defaults (src/core/node/settings.ts). Logs go to standard error, one line per event in lnd's
// layout, and to --log-file when given. This file owns the process: signals and closed pipes.
import type { Command } from 'commander';
import { Option } from 'commander';
import { nodePaths, readNodeKeyOf } from '../core/datadir.js';
import { CONFIG_KEYS, LNPS_DEFAULT_PORT, readConfig, type ConfigKey, type ConfigValues } from '../core/node/config.js';
import { Logger } from '../core/node/log.js';
import { DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_CONNECTIONS_PER_IP } from '../core/node/node.js';
import { openLogFile, type LogFile } from '../core/node/logfile.js';
import { parsePeerAddress } from '../core/node/peeraddr.js';
import { startNode } from '../core/node/serve.js';
import { nodeSettings, resolveSettings } from '../core/node/settings.js';
import { DEFAULT_SETTINGS, STORAGE_POLICIES } from '../core/provider/policy.js';
import { keepRunningOnClosedPipes } from '../pipes.js';
import { action, examples, globals } from './_common.js';

/** Commander's camelCase name of each config key. */
const camel = (k: string) => k.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

export function register(program: Command): void {
  program
    .command('serve')
    .description(
      'Run the node: accept BOLT #8 connections, store peers\' blobs (option_provide_storage), keep our own backup with peers that store, ' +
        'and answer the other lnps commands over the control socket. Settings come from flags, then <datadir>/lnps.conf, then defaults. ' +
        'Stops cleanly on SIGINT, SIGTERM or `lnps stop`: pending blobs are written before the database closes. ' +
        'SIGHUP reads lnps.conf again (log level, storage policy, allowlist, quotas, cooldown) and reopens --log-file.',
    )
    .option('--listen <host:port>', `address to accept peers on, repeat for more (default 0.0.0.0:${LNPS_DEFAULT_PORT}, not 9735, which the Lightning node beside lnps uses; port 0 picks a free port, logged at start)`, (v: string, prev: string[] | undefined) => [...(prev ?? []), v])
    .option('--no-listen', 'do not accept peers; only dial out with `lnps connect`')
    .option('--connect <pubkey@host:port>', 'a peer to connect to at start and reconnect to whenever the connection drops (repeat for more)', (v: string, prev: string[] | undefined) => [...(prev ?? []), v])
    .addOption(new Option('--storage-policy <policy>', 'whose blobs to keep (default channel-peers)').choices([...STORAGE_POLICIES]))
    .option('--allow <pubkey>', 'with --storage-policy allowlist: a peer allowed to store (repeat for more)', (v: string, prev: string[] | undefined) => [...(prev ?? []), v])
    .option('--max-peers <n>', `most peers whose blobs are kept (default ${DEFAULT_SETTINGS.maxPeers})`)
    .option('--max-bytes <n>', `most blob bytes kept in total (default ${DEFAULT_SETTINGS.maxBytes})`)
    .option('--max-blob-bytes <n>', `largest blob accepted (default ${DEFAULT_SETTINGS.maxBlobLen}, the protocol's limit)`)
    .option('--max-connections <n>', `most inbound connections at once, handshaking or active (default ${DEFAULT_MAX_CONNECTIONS})`)
    .option('--max-connections-per-ip <n>', `most inbound connections from one source address (default ${DEFAULT_MAX_CONNECTIONS_PER_IP})`)
    .option('--cooldown <duration>', 'per-peer write debounce, like 1s or 500ms, at most 60s (default 1s)')
    .option('--retention-blocks <n>', `blocks after a peer's last channel closed before its blob may be pruned (default ${DEFAULT_SETTINGS.retentionBlocks})`)
    .option('--retention-interval <duration>', 'how often retention runs (default 10m)')
    .option('--no-provide-storage', 'do not advertise option_provide_storage and ignore peer_storage (consumer only)')
    .option('--ping-interval <duration>', 'ping a peer silent this long (default 60s)')
    .option('--pong-timeout <duration>', 'drop a pinged peer still silent after this (default 30s)')
    .option('--retrieval-timeout <duration>', 'wait this long for a peer\'s peer_storage_retrieval before sending our backup (default 10s)')
    .option('--handshake-timeout <duration>', 'BOLT #8 handshake and init deadline (default 10s)')
    .option('--shard-move-after <duration>', 'a peer holding a shard of our striped backup (`backup --stripe`) and away this long has its shard moved to another peer, or the backup re-striped (default 24h)')
    .option('--confirm-delay <duration>', 'after sending our backup to a peer we dialled, reconnect this much later to read it back (its retrieval after init confirms it); at least the provider\'s cooldown (default 5s)')
    .option('--confirm-interval <duration>', 'reconnect to read back a peer\'s copy at most once per this interval (default 1m)')
    .option('--reconnect-delay <duration>', 'first wait before redialling a --connect peer; doubles per failure up to 60s (default 1s)')
    .option('--debuglevel <level>', 'log level: trace, debug, info, warn, error, critical, off; or SUBSYSTEM=level pairs (PEER, SRVR, STOR, RETN, BKUP, INPT)')
    .option('--log-file <file>', 'also append the log to this file (reopened on SIGHUP, for logrotate); standard error stays the default')
    .option('--backup-file <file>', "watch this file (lnd's channel.backup, Core Lightning's emergency.recover, anything) and seal and send its content as `lnps backup` would, each time a write to it completes")
    .option('--backup-debounce <duration>', 'with --backup-file: wait until the file has been quiet this long before reading it (default 1s)')
    .option('--height-cmd <cmd>', "a shell command printing the best block height, run every --height-interval (e.g. 'bitcoin-cli getblockcount')")
    .option('--height-interval <duration>', 'how often --height-cmd runs (default 1m)')
    .option('--channels-cmd <cmd>', "a shell command printing the node's channels as `lncli listchannels` or Core Lightning `listpeerchannels` JSON, run every --channels-interval; a channel no longer listed is marked closed at the best height")
    .option('--channels-interval <duration>', 'how often --channels-cmd runs (default 10m)')
    .option('--cmd-timeout <duration>', 'a --height-cmd or --channels-cmd run still going after this is killed (default 30s)')
    .option('--metrics-listen <host:port>', 'serve Prometheus metrics at http://HOST:PORT/metrics (off by default; no authentication, keep it on a private address)')
    .addHelpText(
      'after',
      examples(
        'lnps serve',
        `lnps serve --listen 127.0.0.1:${LNPS_DEFAULT_PORT} --storage-policy any --cooldown 5s`,
        'lnps serve --network regtest --debuglevel info,PEER=debug --log-file ~/.lnps/lnps.log',
        "lnps serve --backup-file ~/.lnd/data/chain/bitcoin/mainnet/channel.backup --height-cmd 'bitcoin-cli getblockcount'",
      ) +
        '\nlnps.conf (in the data directory) takes every flag as key=value lines, plus network and key-file; see lnps.conf.sample:\n' +
        `  listen=0.0.0.0:${LNPS_DEFAULT_PORT}\n  storage-policy=allowlist\n  allow=02...\n  cooldown=2s\n  connect=02...@node.example.org:${LNPS_DEFAULT_PORT}\n`,
    )
    .action(action(async (opts: Record<string, unknown>, cmd: Command) => serve(opts, cmd)));
}

/** The flags given on the command line, as lnps.conf would spell them. */
function flagValues(opts: Record<string, unknown>, cmd: Command, g: ReturnType<typeof globals>): ConfigValues {
  const out: ConfigValues = { ...g.flags };
  for (const k of Object.keys(CONFIG_KEYS) as ConfigKey[]) {
    if (k === 'network' || k === 'key-file') continue;
    if (cmd.getOptionValueSource(camel(k)) !== 'cli') continue;
    const v = opts[camel(k)];
    // --no-listen and --no-provide-storage arrive as false.
    if (v === false) out[k] = [k === 'listen' ? '' : 'false'];
    else out[k] = Array.isArray(v) ? v.map(String) : [String(v)];
  }
  return out;
}

async function serve(opts: Record<string, unknown>, cmd: Command): Promise<undefined> {
  const g = globals(cmd);
  const paths = nodePaths(g);
  const flags = flagValues(opts, cmd, g);
  const raw = resolveSettings(flags, readConfig(paths.confPath), paths.confPath);
  const settings = nodeSettings(raw);
  const keep = settings.connect.map((a) => parsePeerAddress(a));

  // Logs: standard error (journald reads it), and the log file when one is set. A closed
  // stderr (the terminal went away, `2>&1 | head -1`) only stops that copy of the log.
  keepRunningOnClosedPipes();
  let stderrOpen = true;
  process.stderr.on('error', () => (stderrOpen = false));
  let file: LogFile | undefined;
  const sink = (line: string) => {
    if (stderrOpen && !process.stderr.destroyed) process.stderr.write(line + '\n');
    file?.write(line);
  };
  const log = new Logger(sink, settings.levels);
  if (settings.logFile !== undefined) file = openLogFile(settings.logFile, (m) => log.sub('SRVR').error(m));
  if (settings.provider.policy === 'allowlist' && settings.provider.allowlist.size === 0)
    log.sub('SRVR').warn('storage policy allowlist with no --allow peers: only channel peers may store');

  const secret = readNodeKeyOf(paths);
  // Handlers go in before the node starts: a signal during start-up must still stop it cleanly
  // (without a handler, node's default would end the process with the database open).
  let running: Awaited<ReturnType<typeof startNode>> | undefined;
  let signalled: NodeJS.Signals | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    signalled ??= sig;
    if (running) void running.stop(`received ${sig}`);
  };
  // A fatal error (an exception nothing caught) still stops the node the orderly way: peers
  // closed, pending (debounced) blobs written, the database, socket and pid file closed; then
  // the command fails with that error (exit 70, one line).
  let fatal: { err: unknown } | undefined;
  const onFatal = (err: unknown) => {
    if (fatal) return;
    fatal = { err };
    log.sub('SRVR').critical(`fatal error: ${err instanceof Error ? err.message : String(err)}; writing pending blobs and stopping`);
    if (running) void running.stop('fatal error');
  };
  const onHup = () => {
    const srvr = log.sub('SRVR');
    try {
      file?.reopen();
    } catch (e) {
      srvr.error(`SIGHUP: ${e instanceof Error ? e.message : String(e)}`);
    }
    srvr.info(`SIGHUP: reading ${paths.confPath} again${file ? ' and reopening ' + file.path : ''}`);
    try {
      running?.reload(resolveSettings(flags, readConfig(paths.confPath), paths.confPath));
    } catch (e) {
      srvr.error(`SIGHUP: settings not applied, the node keeps its current ones: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onHup);
  process.on('uncaughtException', onFatal);
  process.on('unhandledRejection', onFatal);
  try {
    running = await startNode({
      paths,
      secret,
      listen: settings.listen,
      provideStorage: settings.provideStorage,
      provider: settings.provider,
      timeouts: settings.timeouts,
      retentionIntervalMs: settings.retentionIntervalMs,
      log,
      keep,
      shardMoveAfterMs: settings.shardMoveAfterMs,
      maxConnections: settings.maxConnections,
      maxConnectionsPerIp: settings.maxConnectionsPerIp,
      confirm: settings.confirm,
      raw,
      metricsListen: settings.metricsListen,
      inputs: {
        backupFile: settings.backupFile,
        backupDebounceMs: settings.backupDebounceMs,
        heightCmd: settings.heightCmd,
        heightIntervalMs: settings.heightIntervalMs,
        channelsCmd: settings.channelsCmd,
        channelsIntervalMs: settings.channelsIntervalMs,
        cmdTimeoutMs: settings.cmdTimeoutMs,
      },
    });
    if (fatal) void running.stop('fatal error');
    else if (signalled) void running.stop(`received ${signalled}`);
    await running.stopped;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('SIGHUP', onHup);
    process.off('uncaughtException', onFatal);
    process.off('unhandledRejection', onFatal);
    file?.close();
  }
  if (fatal) throw fatal.err instanceof Error ? fatal.err : new Error(String(fatal.err));
  return undefined;
}
