import { createWriteStream, renameSync, unlinkSync } from 'node:fs';
import { once } from 'node:events';
import type { Command } from 'commander';
import { StoreError } from '../core/errors.js';
import { action, examples, globals } from './_common.js';
import { runOp } from './_db.js';
import { writeOut } from '../output.js';

export function register(program: Command): void {
  program
    .command('exportpeerstorage')
    .description('Export every stored blob as JSON lines, one peer a line ({"peer", "blob", ...metadata}), to move the storage to another machine')
    .option('--out <file>', 'write to this file (mode 0600; written whole, then renamed into place) instead of stdout')
    .addHelpText('after', examples('lnps exportpeerstorage --out peers.jsonl', 'lnps exportpeerstorage | gzip > peers.jsonl.gz'))
    .action(
      action(async (opts: { out?: string }, cmd: Command) => {
        const g = globals(cmd);
        if (opts.out === undefined) {
          await runOp(g, 'exportpeerstorage', {}, { row: (row) => writeOut(JSON.stringify(row) + '\n') });
          return undefined;
        }
        const tmp = `${opts.out}.tmp-${process.pid}`;
        const file = createWriteStream(tmp, { mode: 0o600, flags: 'wx' });
        const failed = new Promise<never>((_, reject) =>
          file.once('error', (e: NodeJS.ErrnoException) => reject(new StoreError('unavailable', `cannot write ${opts.out}: ${e.code ?? e.message}`))),
        );
        failed.catch(() => undefined);
        try {
          const r = await Promise.race([
            runOp(g, 'exportpeerstorage', {}, {
              row: async (row) => {
                if (!file.write(JSON.stringify(row) + '\n')) await Promise.race([once(file, 'drain'), failed]);
              },
            }),
            failed,
          ]);
          file.end();
          await Promise.race([once(file, 'finish'), failed]);
          renameSync(tmp, opts.out);
          return { exported: r.count, out: opts.out };
        } catch (e) {
          file.destroy();
          try {
            unlinkSync(tmp);
          } catch {
            // Nothing was written.
          }
          throw e;
        }
      }),
    );
}
