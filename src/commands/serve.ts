// lnps serve: run the node. Flags override lnps.conf in the data directory, which overrides the
// defaults. Logs go to standard output, one line per event, in lnd's layout.
import type { Command } from 'commander';
import { Option } from 'commander';
import { UsageError } from '../core/errors.js';
import { nodePaths, readNodeKeyOf } from '../core/datadir.js';
import { parsePubkey } from '../core/keys.js';
import { toHex } from '../core/bytes.js';
import { parseBool, parseDuration, parseHostPort, parsePeerAddress, readConfig, type ConfigKey, type ConfigValues } from '../core/node/config.js';
import { Logger, parseDebugLevel } from '../core/node/log.js';
import { DEFAULT_CONFIRM, DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_CONNECTIONS_PER_IP, DEFAULT_TIMEOUTS } from '../core/node/node.js';
import { DEFAULT_SHARD_MOVE_AFTER_MS, startNode } from '../core/node/serve.js';
import { DEFAULT_SETTINGS, providerSettings, STORAGE_POLICIES, type StoragePolicy } from '../core/provider/policy.js';
import { action, examples, globals, parseIntFlag } from './_common.js';

/** Commander's camelCase name of each config key. */
const camel = (k: string) => k.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

export function register(program: Command): void {
  program
    .command('serve')
    .description(
      'Run the node: accept BOLT #8 connections, store peers\' blobs (option_provide_storage), keep our own backup with peers that store, ' +
        'and answer the other lnps commands over the control socket. Settings come from flags, then <datadir>/lnps.conf, then defaults. ' +
        'Stops cleanly on SIGINT or SIGTERM: pending blobs are written before the database closes.',
    )
    .option('--listen <host:port>', 'address to accept peers on (default 0.0.0.0:9735; port 0 picks a free port, logged at start)')
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
    .option('--debuglevel <level>', 'log level: trace, debug, info, warn, error, critical, off; or SUBSYSTEM=level pairs (PEER, SRVR, STOR, RETN, BKUP)')
    .addHelpText(
      'after',
      examples(
        'lnps serve',
        'lnps serve --listen 127.0.0.1:9736 --storage-policy any --cooldown 5s',
        'lnps serve --network regtest --debuglevel info,PEER=debug',
      ) +
        '\nlnps.conf (in the data directory) takes the same settings as key=value lines, for example:\n' +
        '  listen=0.0.0.0:9735\n  storage-policy=allowlist\n  allow=02...\n  cooldown=2s\n  connect=02...@node.example.org:9735\n',
    )
    .action(action(async (opts: Record<string, unknown>, cmd: Command) => serve(opts, cmd)));
}

async function serve(opts: Record<string, unknown>, cmd: Command): Promise<undefined> {
  const g = globals(cmd);
  const paths = nodePaths(g);
  const conf: ConfigValues = readConfig(paths.confPath);

  // A flag given on the command line wins; else the config file; else the default.
  const fromCli = (k: ConfigKey) => cmd.getOptionValueSource(camel(k)) === 'cli';
  const one = (k: ConfigKey): string | undefined => {
    if (fromCli(k)) return opts[camel(k)] as string;
    const v = conf[k];
    return v === undefined ? undefined : v[v.length - 1];
  };

  const int = (k: ConfigKey, max?: number) => {
    const v = one(k);
    return v === undefined ? undefined : parseIntFlag(v, `--${k}`, max);
  };
  const dur = (k: ConfigKey, dflt: number) => {
    const v = one(k);
    return v === undefined ? dflt : parseDuration(v, `--${k}`);
  };

  const levels = parseDebugLevel(one('debuglevel') ?? 'info');
  const log = new Logger((line) => process.stdout.write(line + '\n'), levels);

  let listen: { host: string; port: number } | null;
  if (fromCli('listen')) listen = opts.listen === false ? null : parseHostPort(String(opts.listen), '--listen', 9735);
  else {
    const l = conf.listen?.[0];
    // lnd's convention: an empty listen= (or false) means do not listen.
    listen = l === undefined ? { host: '0.0.0.0', port: 9735 } : l === '' || l === 'false' ? null : parseHostPort(l, 'listen', 9735);
  }

  const allowCli = fromCli('allow') ? ((opts.allow as string[]) ?? []) : (conf.allow ?? []);
  const allowlist = new Set(allowCli.map((a) => toHex(parsePubkey(a.trim(), '--allow'))));
  const policy = one('storage-policy');
  if (policy !== undefined && !STORAGE_POLICIES.includes(policy as StoragePolicy))
    throw new UsageError(`--storage-policy must be one of ${STORAGE_POLICIES.join(', ')}, got ${JSON.stringify(policy)}`);
  const cooldown = one('cooldown');
  const settings = providerSettings({
    policy: policy as StoragePolicy | undefined,
    allowlist,
    maxPeers: int('max-peers'),
    maxBytes: int('max-bytes'),
    maxBlobLen: int('max-blob-bytes'),
    cooldownMs: cooldown === undefined ? undefined : parseDuration(cooldown, '--cooldown'),
    retentionBlocks: int('retention-blocks'),
  });
  if (settings.policy === 'allowlist' && allowlist.size === 0)
    log.sub('SRVR').warn('storage policy allowlist with no --allow peers: only channel peers may store');

  let provideStorage = true;
  if (fromCli('provide-storage')) provideStorage = opts.provideStorage !== false;
  else if (conf['provide-storage']) provideStorage = parseBool(conf['provide-storage'][0]!, 'provide-storage');

  const handshake = dur('handshake-timeout', DEFAULT_TIMEOUTS.handshakeMs);
  const timeouts = {
    handshakeMs: handshake,
    initMs: handshake,
    retrievalMs: dur('retrieval-timeout', DEFAULT_TIMEOUTS.retrievalMs),
    pingIntervalMs: dur('ping-interval', DEFAULT_TIMEOUTS.pingIntervalMs),
    pongTimeoutMs: dur('pong-timeout', DEFAULT_TIMEOUTS.pongTimeoutMs),
    reconnectMs: dur('reconnect-delay', DEFAULT_TIMEOUTS.reconnectMs),
  };
  const keep = (fromCli('connect') ? ((opts.connect as string[]) ?? []) : (conf.connect ?? [])).map((a) => parsePeerAddress(a.trim()));
  for (const [k, v] of Object.entries(timeouts)) if (v <= 0) throw new UsageError(`${k} must be more than 0`);
  const shardMoveAfterMs = dur('shard-move-after', DEFAULT_SHARD_MOVE_AFTER_MS);
  if (shardMoveAfterMs < 100) throw new UsageError('--shard-move-after must be at least 100ms');
  const confirm = { delayMs: dur('confirm-delay', DEFAULT_CONFIRM.delayMs), intervalMs: dur('confirm-interval', DEFAULT_CONFIRM.intervalMs) };
  if (confirm.delayMs < 100) throw new UsageError('--confirm-delay must be at least 100ms');
  const retentionIntervalMs = dur('retention-interval', 10 * 60_000);
  if (retentionIntervalMs < 100) throw new UsageError('--retention-interval must be at least 100ms');

  const maxConnections = int('max-connections');
  const maxConnectionsPerIp = int('max-connections-per-ip');
  if (maxConnections === 0 || maxConnectionsPerIp === 0) throw new UsageError('--max-connections and --max-connections-per-ip must be at least 1');

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
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('uncaughtException', onFatal);
  process.on('unhandledRejection', onFatal);
  try {
    running = await startNode({ paths, secret, listen, provideStorage, provider: settings, timeouts, retentionIntervalMs, log, keep, shardMoveAfterMs, maxConnections, maxConnectionsPerIp, confirm });
    if (fatal) void running.stop('fatal error');
    else if (signalled) void running.stop(`received ${signalled}`);
    await running.stopped;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('uncaughtException', onFatal);
    process.off('unhandledRejection', onFatal);
  }
  if (fatal) throw fatal.err instanceof Error ? fatal.err : new Error(String(fatal.err));
  return undefined;
}
