import type { Command } from 'commander';
import { fromHex } from '../core/bytes.js';
import { FORCE_HELP, action, checkOutputFree, examples, globals, writeOutputFile } from './_common.js';
import { runOp } from './_db.js';

export function register(program: Command): void {
  program
    .command('getpeerstorage')
    .description('Show the blob stored for one peer (hex in JSON), or write its raw bytes to a file')
    .argument('<pubkey>', 'the peer (66 hex digits)')
    .option('--out <file>', 'write the raw blob to this file (mode 0600) instead of printing it')
    .option('--force', FORCE_HELP)
    .addHelpText('after', examples('lnps getpeerstorage 02…', 'lnps getpeerstorage 02… --out blob.bin'))
    .action(
      action(async (pubkey: string, opts: { out?: string; force?: boolean }, cmd: Command) => {
        const force = opts.force === true;
        if (opts.out !== undefined) checkOutputFree(opts.out, { force });
        const r = await runOp(globals(cmd), 'getpeerstorage', { peer: pubkey });
        if (opts.out === undefined) return r;
        const { blob, ...rest } = r;
        writeOutputFile(opts.out, fromHex(blob as string, 'blob'), { force });
        return { ...rest, out: opts.out };
      }),
    );
}
