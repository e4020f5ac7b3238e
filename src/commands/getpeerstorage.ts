import type { Command } from 'commander';
import { fromHex } from '../core/bytes.js';
import { FORCE_HELP, action, checkOutputFree, examples, globals, onePeer, writeOutputFile } from './_common.js';
import { renderRecord } from '../output.js';
import { runOp } from './_db.js';

export function register(program: Command): void {
  program
    .command('getpeerstorage')
    .description('Show the blob stored for one peer (hex in JSON), or write its raw bytes to a file')
    .argument('[pubkey]', 'the peer (66 hex digits)')
    .option('--peer <pubkey>', 'the peer, as a flag')
    .option('--out <file>', 'write the raw blob to this file (mode 0600) instead of printing it')
    .option('--force', FORCE_HELP)
    .addHelpText('after', examples('lnps getpeerstorage 02…', 'lnps getpeerstorage --peer 02… --format table', 'lnps getpeerstorage 02… --out blob.bin'))
    .action(
      action(async (pubkey: string | undefined, opts: { peer?: string; out?: string; force?: boolean }, cmd: Command) => {
        const peer = onePeer(pubkey, opts.peer, 'lnps getpeerstorage PUBKEY, or --peer PUBKEY');
        const force = opts.force === true;
        if (opts.out !== undefined) checkOutputFree(opts.out, { force });
        const r = await runOp(globals(cmd), 'getpeerstorage', { peer });
        if (opts.out === undefined) return r;
        const { blob, ...rest } = r;
        writeOutputFile(opts.out, fromHex(blob as string, 'blob'), { force });
        return { ...rest, out: opts.out };
      }, getpeerstorageTable),
    );
}

/** For people: what is known of the blob and its SHA-256, never its bytes (up to 131 KB of hex). */
function getpeerstorageTable(r: Record<string, unknown>): Promise<string> {
  const { blob: _blob, ...rest } = r;
  return renderRecord(rest);
}
