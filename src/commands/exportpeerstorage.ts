import type { Command } from 'commander';
import { streamOutputFile } from '../core/outfile.js';
import { FORCE_HELP, action, examples, globals } from './_common.js';
import { runOp } from './_db.js';
import { writeOut } from '../output.js';

export function register(program: Command): void {
  program
    .command('exportpeerstorage')
    .description('Export every stored blob as JSON lines, one peer a line ({"peer", "blob", ...metadata}), to move the storage to another machine')
    .option('--out <file>', 'write to this file (mode 0600; written whole, then renamed into place) instead of stdout')
    .option('--force', FORCE_HELP)
    .addHelpText('after', examples('lnps exportpeerstorage --out peers.jsonl', 'lnps exportpeerstorage | gzip > peers.jsonl.gz'))
    .action(
      action(async (opts: { out?: string; force?: boolean }, cmd: Command) => {
        const g = globals(cmd);
        if (opts.out === undefined) {
          await runOp(g, 'exportpeerstorage', {}, { row: (row) => writeOut(JSON.stringify(row) + '\n') });
          return undefined;
        }
        const out = opts.out;
        const r = await streamOutputFile(out, { force: opts.force === true }, (file) =>
          runOp(g, 'exportpeerstorage', {}, { row: (row) => file.write(JSON.stringify(row) + '\n') }),
        );
        return { exported: r.count, out };
      }),
    );
}
