// lnps restorefrompeer: fetch our backup from peers that store it, verify, keep the newest.
import type { Command } from 'commander';
import { UsageError } from '../core/errors.js';
import { nodePaths, readNodeKeyOf } from '../core/datadir.js';
import { parseDuration, parsePeerAddress } from '../core/node/config.js';
import { FORCE_HELP, action, checkOutputFree, examples, globals, writeOutputFile } from './_common.js';

export function register(program: Command): void {
  program
    .command('restorefrompeer')
    .description(
      'Connect to each peer with our node key (no running node needed), take the peer_storage_retrieval it sends after init, verify it, ' +
        'write the plaintext of the newest valid seq to --out, and print what each peer returned (confirmed = chosen, stale, corrupt, foreign, none, unreachable). ' +
        'Nothing is ever sent to the peers, so their copies stay as they are. Exit 1 when no peer returned a valid backup. ' +
        'Shards of a striped backup (`backup --stripe K-of-N`) are rebuilt from any K of them (striped: true, used_peers names the peers used, each peer row its shard_index); ' +
        'with fewer than K, exit 1 and a message naming how many shards are missing.',
    )
    .argument('<peers...>', 'PUBKEY@HOST:PORT of each peer (port default 9735)')
    .requiredOption('--out <file>', 'where to write the restored backup (mode 0600; written whole, then renamed into place)')
    .option('--force', FORCE_HELP)
    .option('--timeout <duration>', 'how long to wait for each peer (default 15s)')
    .addHelpText('after', examples('lnps restorefrompeer 02eec7…@node-a.example.org:9735 03a1b2…@peer.example.org --out channel.backup'))
    .action(
      action(async (peerArgs: string[], opts: { out: string; timeout?: string; force?: boolean }, cmd: Command) => {
        const g = globals(cmd);
        const paths = nodePaths(g);
        const targets = peerArgs.map((a) => parsePeerAddress(a));
        const seen = new Set<string>();
        for (const a of peerArgs) {
          const k = a.slice(0, 66).toLowerCase();
          if (seen.has(k)) throw new UsageError(`peer ${k} is given twice`);
          seen.add(k);
        }
        const timeoutMs = opts.timeout === undefined ? 15_000 : parseDuration(opts.timeout, '--timeout');
        // Refuse an existing --out before asking any peer.
        const force = opts.force === true;
        checkOutputFree(opts.out, { force });
        const [{ deriveSealKey }, { restoreFromPeers, plaintextSummary }, { bolt8Transport }, { wireCodec }, { CHAIN_HASH }, { silentLogger }] = await Promise.all([
          import('../core/backup/seal.js'),
          import('../core/node/restore.js'),
          import('../core/node/serve.js'),
          import('../core/node/codec.js'),
          import('../core/wire/registry.js'),
          import('../core/node/log.js'),
        ]);
        const secret = readNodeKeyOf(paths);
        const key = deriveSealKey(secret);
        let r;
        try {
          r = await restoreFromPeers(targets, {
            key,
            transport: bolt8Transport(secret),
            codec: wireCodec,
            chainHash: CHAIN_HASH[paths.network],
            timeoutMs,
            log: silentLogger.sub('PEER'),
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
          ...(st
            ? { backup_id: st.backup_id, k: st.k, n: st.n, used_peers: st.used_peers, missing: st.missing, message: st.message }
            : {}),
          ...(r.chosen ? plaintextSummary(r.chosen.plaintext) : { plaintext_len: null, plaintext_sha256: null }),
          peers: r.peers,
        };
        r.chosen?.plaintext.fill(0);
        return result;
      }),
    );
}
