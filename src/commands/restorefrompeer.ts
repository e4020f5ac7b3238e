// lnps restorefrompeer: fetch a backup from the peers that store it, verify, keep the newest.
// Without --as: lnps's own backup, as our node. With --as cln|ldk|lnd|kmp: another
// implementation's backup, as that node, from its wallet secret alone.
import { Option, type Command } from 'commander';
import { UsageError } from '../core/errors.js';
import { nodePaths, readNodeKeyOf } from '../core/datadir.js';
import { parseDuration } from '../core/node/config.js';
import { parsePeerAddress } from '../core/node/peeraddr.js';
import { toHex } from '../core/bytes.js';
import type { ProgressEvent } from '../core/node/contact.js';
import type { ForeignFormat } from '../core/backup/formats/index.js';
import { addWalletSecretOptions, givenSecretFlags, refuseRemovedSecretFlags, walletSecretsFromOptions } from './_secrets.js';
import { FORCE_HELP, action, checkOutputFree, examples, globals, writeOutputFile, type Network } from './_common.js';

const AS_CHOICES = ['cln', 'ldk', 'lnd', 'kmp'] as const;

interface Opts {
  out: string;
  timeout?: string;
  force?: boolean;
  graph?: string[];
  as?: ForeignFormat;
  [secret: string]: unknown;
}

const WARNING =
  'peers keep one connection per node id, so a node running with this id is disconnected while this runs: stop it first';

/** One stderr line per event, so an operator watching a long graph walk sees each peer. */
function progressLine(e: ProgressEvent): string {
  const who = `${e.peer}${e.address ? '@' + e.address : ''}`;
  const word = e.event === 'timed_out' ? 'timed out' : e.event === 'no_address' ? 'no address' : e.event;
  return `lnps: ${who}: ${word}${e.detail ? (e.event === 'returned' ? ' ' : ' (') + e.detail + (e.event === 'returned' ? '' : ')') : ''}\n`;
}

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

export function register(program: Command): void {
  // The wallet-secret flags come from the shared helper, defined once for every command.
  addWalletSecretOptions(
    program
    .command('restorefrompeer')
    .description(
      'Connect to each peer as a node (no running node needed), take the peer_storage_retrieval it sends after init, verify it, and write the newest to --out. ' +
        'Nothing is ever sent to the peers but init (no storage bits) and pongs, so their copies stay as they are. ' +
        `WARNING: ${WARNING}. ` +
        'Without --as: our own lnps backup, as our node: the plaintext of the newest valid seq, and what each peer returned (confirmed = chosen, stale, corrupt, foreign, none, unreachable); ' +
        'shards of a striped backup (`backup --stripe K-of-N`) are rebuilt from any K of them (striped: true, used_peers, each peer row its shard_index), and the walk stops once K shards of the newest version are in. ' +
        'With --as cln|ldk|lnd|kmp and that implementation\'s secret: its backup, as that node (the node key its implementation derives from the secret), written as its own recovery reads it ' +
        '(cln: emergency.recover; lnd: channel.backup; ldk: the channel holders, plus FILE.json; kmp: the plaintext with its version byte), with the steps to take next. ' +
        '--graph FILE (lncli describegraph, or Core Lightning listchannels/listnodes JSON; repeat it for two files) adds every node sharing a channel with ours, after the peers given. ' +
        'Progress goes to stderr, one line per peer; the JSON lists every peer tried. Exit 1 when no peer returned a valid backup.',
    )
    .argument('[peers...]', 'PUBKEY@HOST:PORT of each peer (port default 9737, the lnps port); tried first')
    .requiredOption('--out <file>', 'where to write the restored backup (mode 0600; written whole, then renamed into place)')
    .option('--force', FORCE_HELP)
    .option('--timeout <duration>', 'how long to wait for each peer at each step (default 15s)')
    .option('--graph <file>', 'channel graph JSON: lncli describegraph, or Core Lightning listchannels / listnodes (repeatable)', collect)
    .addOption(new Option('--as <implementation>', "restore another implementation's backup, as that node, from its secret").choices([...AS_CHOICES]))
    .addHelpText(
      'after',
      examples(
        'lnps restorefrompeer 02eec7…@node-a.example.org:9737 03a1b2…@peer.example.org --out channel.backup',
        'lnps restorefrompeer --as cln --hsm-secret hsm_secret --graph channels.json --graph nodes.json --out emergency.recover',
        'lnps restorefrompeer --as lnd --lnd-seed-file entropy.hex --graph describegraph.json --out channel.backup',
      ),
    )
    .action(
      action(async (peerArgs: string[], opts: Opts, cmd: Command) => {
        const g = globals(cmd);
        const targets = peerArgs.map((a) => parsePeerAddress(a));
        const seen = new Set<string>();
        for (const t of targets) {
          const k = toHex(t.pubkey);
          if (seen.has(k)) throw new UsageError(`peer ${k} is given twice`);
          seen.add(k);
        }
        const graphFiles = opts.graph ?? [];
        if (targets.length === 0 && graphFiles.length === 0) throw new UsageError('no peers to ask: give PUBKEY@HOST:PORT arguments, --graph FILE, or both');
        const timeoutMs = opts.timeout === undefined ? 15_000 : parseDuration(opts.timeout, '--timeout');
        // Refuse an existing --out before asking any peer.
        const force = opts.force === true;
        checkOutputFree(opts.out, { force });
        if (opts.as !== undefined) return restoreAs(opts.as, targets, graphFiles, timeoutMs, opts, g.network, cmd);
        refuseRemovedSecretFlags(opts);
        if (givenSecretFlags(opts).length > 0) throw new UsageError('wallet secret flags go with --as cln|ldk|lnd|kmp');
        return restoreOwn(targets, graphFiles, timeoutMs, opts, cmd);
      }),
    ),
  );
}

async function restoreOwn(targets: ReturnType<typeof parsePeerAddress>[], graphFiles: string[], timeoutMs: number, opts: Opts, cmd: Command): Promise<unknown> {
  const paths = nodePaths(globals(cmd));
  const force = opts.force === true;
  const [{ deriveSealKey }, { restoreFromPeers, plaintextSummary }, { restoreCandidates }, { bolt8Transport }, { wireCodec }, { CHAIN_HASH }, { silentLogger }, { publicKeyOf }] =
    await Promise.all([
      import('../core/backup/seal.js'),
      import('../core/node/restore.js'),
      import('../core/node/contact.js'),
      import('../core/node/serve.js'),
      import('../core/node/codec.js'),
      import('../core/wire/registry.js'),
      import('../core/node/log.js'),
      import('../core/keys.js'),
    ]);
  const secret = readNodeKeyOf(paths);
  const key = deriveSealKey(secret);
  let r;
  let graph;
  try {
    const ourId = publicKeyOf(secret);
    const c = restoreCandidates(targets, graphFiles, ourId);
    graph = c.graph;
    process.stderr.write(`lnps: connecting as node ${toHex(ourId)}: ${WARNING}\n`);
    r = await restoreFromPeers(c.candidates, {
      key,
      transport: bolt8Transport(secret),
      codec: wireCodec,
      chainHash: CHAIN_HASH[paths.network],
      timeoutMs,
      log: silentLogger.sub('PEER'),
      onProgress: (e) => process.stderr.write(progressLine(e)),
    });
  } finally {
    key.wipe();
    secret.fill(0);
  }
  if (r.chosen) {
    try {
      writeOutputFile(opts.out, r.chosen.plaintext, { force });
    } catch (e) {
      r.chosen.plaintext.fill(0);
      throw e;
    }
  } else {
    process.exitCode = 1;
    // Shards came back but too few (or they do not rebuild): say so plainly, naming how
    // many are missing; the JSON below still tells what each peer returned.
    if (r.striped && !r.striped.ok) process.stderr.write(`lnps: ${r.striped.message}\n`);
  }
  const st = r.striped;
  const result = {
    restored: r.chosen !== undefined,
    out: r.chosen ? opts.out : null,
    seq: r.chosen ? r.chosen.seq.toString() : null,
    from: st?.chosen ? null : (r.chosen?.peer ?? null),
    striped: st?.chosen ?? false,
    ...(st ? { backup_id: st.backup_id, k: st.k, n: st.n, used_peers: st.used_peers, missing: st.missing, message: st.message } : {}),
    ...(r.chosen ? plaintextSummary(r.chosen.plaintext) : { plaintext_len: null, plaintext_sha256: null }),
    ...(graph ? { graph } : {}),
    peers: r.peers,
  };
  r.chosen?.plaintext.fill(0);
  return result;
}

async function restoreAs(format: ForeignFormat, targets: ReturnType<typeof parsePeerAddress>[], graphFiles: string[], timeoutMs: number, opts: Opts, network: Network, cmd: Command): Promise<unknown> {
  const force = opts.force === true;
  for (const f of givenSecretFlags(opts)) if (f.format !== format) throw new UsageError(`${f.flag} is a secret for --as ${f.format}, not --as ${format}`);
  const secrets = await walletSecretsFromOptions(opts, cmd);
  const [{ runForeignRestore }] = await Promise.all([import('../core/node/restore-foreign.js')]);
  const r = await runForeignRestore({
    format,
    secrets,
    network,
    targets,
    graphFiles,
    timeoutMs,
    onStart: (nodeId) => process.stderr.write(`lnps: connecting as ${format} node ${nodeId}: ${WARNING}\n`),
    onProgress: (e) => process.stderr.write(progressLine(e)),
  });
  const chosen = r.result.chosen;
  let steps: string[] = [];
  if (chosen) {
    try {
      writeOutputFile(opts.out, chosen.output.main, { force });
      if (chosen.output.sidecar) writeOutputFile(opts.out + chosen.output.sidecar.suffix, chosen.output.sidecar.bytes, { force });
    } finally {
      chosen.opened.plaintext?.fill(0);
    }
    steps = r.steps(opts.out);
    if (r.result.ambiguous) process.stderr.write(`lnps: warning: ${r.result.ambiguous}\n`);
    process.stderr.write(`lnps: wrote ${opts.out}: ${chosen.output.what}. Next:\n${steps.map((s, i) => `  ${i + 1}. ${s}\n`).join('')}`);
  } else {
    process.exitCode = 1;
  }
  return {
    restored: chosen !== undefined,
    implementation: format,
    node_id: r.result.node_id,
    out: chosen ? opts.out : null,
    ...(chosen?.output.sidecar ? { out_json: opts.out + chosen.output.sidecar.suffix } : {}),
    what: chosen?.output.what ?? null,
    from: chosen?.peer ?? null,
    ...r.summary,
    ...(r.result.ambiguous ? { ambiguous: r.result.ambiguous } : {}),
    graph: r.graph,
    peers: r.result.peers,
    next_steps: steps,
  };
}
