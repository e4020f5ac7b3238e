import type { Command } from 'commander';
import { examples, globals } from './_common.js';
import { heightFlag, listPrinter, progressBar, runOp } from './_db.js';

export function register(program: Command): void {
  program
    .command('prunepeerbackup')
    .description('Remove the blobs retention lets go: no open channel, and the last channel closed at least 2016 blocks ago (14 days when no close height is known). All or nothing.')
    .option('--height <h>', 'the current block height (default: the best known height, see setheight)')
    .option('--dry-run', 'only show what would be removed')
    .option('--peer <pubkey>', 'only this peer')
    .option('--force', 'with --peer: remove that peer\'s blob even inside retention or with an open channel')
    .addHelpText('after', examples('lnps prunepeerbackup --height 900000 --dry-run', 'lnps prunepeerbackup --height 900000', 'lnps prunepeerbackup --peer 02… --force'))
    .action(async (opts: { height?: string; dryRun?: boolean; peer?: string; force?: boolean }, cmd: Command) => {
      const g = globals(cmd);
      const out = await listPrinter(g.format, 'pruned', [
        { key: 'peer', width: 66 },
        { key: 'blob_len', width: 8, align: 'right' },
        { key: 'updated_at', width: 10, align: 'right' },
        { key: 'open_channels', width: 13, align: 'right' },
        { key: 'last_close_height', width: 17, align: 'right' },
      ]);
      const bar = progressBar(opts.dryRun ? 'checking' : 'pruning');
      let r: Record<string, unknown>;
      try {
        r = await runOp(g, 'prunepeerbackup', { height: heightFlag(opts.height), dry_run: opts.dryRun === true, peer: opts.peer, force: opts.force === true }, { row: (row) => out.row(row), progress: bar.progress });
      } finally {
        bar.end();
      }
      await out.finish({ kept: r.kept, dry_run: r.dry_run, height: r.height });
    });
}
