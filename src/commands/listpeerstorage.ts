import type { Command } from 'commander';
import { examples, globals } from './_common.js';
import { heightFlag, listPrinter, runOp } from './_db.js';

export function register(program: Command): void {
  program
    .command('listpeerstorage')
    .description('List the blobs stored for peers, with their channels and whether retention lets them go (streams: memory stays flat)')
    .option('--peer <pubkey>', 'only this peer (66 hex digits)')
    .option('--height <h>', 'block height for the prunable column (default: the best known height, see setheight)')
    .addHelpText('after', examples('lnps listpeerstorage', 'lnps listpeerstorage --format table', 'lnps listpeerstorage --peer 02…'))
    .action(async (opts: { peer?: string; height?: string }, cmd: Command) => {
      const g = globals(cmd);
      const params = { peer: opts.peer, height: heightFlag(opts.height) };
      const out = await listPrinter(g.format, 'peers', [
        { key: 'peer', width: 66 },
        { key: 'blob_len', width: 8, align: 'right' },
        { key: 'update_count', width: 12, align: 'right' },
        { key: 'updated_at', width: 10, align: 'right' },
        { key: 'open_channels', width: 13, align: 'right' },
        { key: 'last_close_height', width: 17, align: 'right' },
        { key: 'prunable', width: 8 },
      ]);
      const r = await runOp(g, 'listpeerstorage', params, out);
      // The count is in the list itself; the JSON object is exactly {"peers": [...]}.
      await out.finish(g.format === 'table' ? { height: r.height } : {});
    });
}
