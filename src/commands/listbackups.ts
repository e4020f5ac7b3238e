// lnps listbackups: where our own backup stands with each peer we sent it to.
import type { Command } from 'commander';
import { nodePaths, readNodeKey } from '../core/datadir.js';
import { callNodeIfRunning } from '../core/node/control.js';
import { examples, globals } from './_common.js';
import { listPrinter, openContext } from './_db.js';

export function register(program: Command): void {
  program
    .command('listbackups')
    .description(
      'Our own backup, per peer we sent it to: seq sent, seq confirmed (what the peer returned and verified), status of its last retrieval ' +
        '(unconfirmed, confirmed, stale, corrupt, foreign) and when it was last seen; then the peers that returned a backup we never sent from this ' +
        'database (seq_sent null: a restored node finds its copies here). Works with or without a running node.',
    )
    .addHelpText('after', examples('lnps listbackups', 'lnps listbackups --format table'))
    .action(async (_opts: unknown, cmd: Command) => {
      const g = globals(cmd);
      const paths = nodePaths(g);
      const out = await listPrinter(g.format, 'backups', [
        { key: 'peer', width: 66 },
        { key: 'seq_sent', width: 14, align: 'right' },
        { key: 'seq_confirmed', width: 14, align: 'right' },
        { key: 'status', width: 11 },
        { key: 'last_seen', width: 10, align: 'right' },
      ]);
      const viaNode = await callNodeIfRunning(paths.socketPath, 'listbackups', {}, (row) => out.row(row));
      if (viaNode) {
        await out.finish({ newest_seq: viaNode.result.newest_seq });
        return;
      }
      const [{ deriveSealKey }, { OwnBackupFile }, { listBackups }] = await Promise.all([
        import('../core/backup/seal.js'),
        import('../core/node/consumer.js'),
        import('../core/node/backup.js'),
      ]);
      const { ctx, close } = await openContext(g);
      try {
        await listBackups(ctx.store, (r) => out.row(r));
      } finally {
        await close();
      }
      // The newest backup's seq needs the key to open the sealed file; without a key, null.
      let newest: string | null = null;
      try {
        const secret = readNodeKey(paths.keyPath);
        const key = deriveSealKey(secret);
        secret.fill(0);
        newest = new OwnBackupFile(paths.networkDir, key).load()?.seq.toString() ?? null;
        key.wipe();
      } catch {
        newest = null;
      }
      await out.finish({ newest_seq: newest });
    });
}
