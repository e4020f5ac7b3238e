// lnps listbackups: where our own backup stands with each peer we sent it to.
import type { Command } from 'commander';
import { nodePaths, readNodeKeyOf } from '../core/datadir.js';
import { callNodeIfRunning } from '../core/node/control.js';
import { examples, globals } from './_common.js';
import { listPrinter, openContext, type ListPrinter } from './_db.js';
import { renderTable, writeOut } from '../output.js';

export function register(program: Command): void {
  program
    .command('listbackups')
    .description(
      'Our own backup, per peer we sent it to: seq sent, seq confirmed (what the peer returned and verified), status of its last retrieval ' +
        '(unconfirmed, confirmed, stale, corrupt, foreign) and when it was last seen; then the peers that returned a backup we never sent from this ' +
        'database (seq_sent null: a restored node finds its copies here). Then `versions`: per version of a striped backup (`backup --stripe`), where every shard is ' +
        '(state unplaced, pending, sent, confirmed by a retrieval, or replaced by a newer blob), whether its holder is connected, and can_lose: how many more holders ' +
        'can vanish before the backup cannot be rebuilt from peers (can_lose_confirmed counts only shards confirmed by a retrieval). Works with or without a running node.',
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
        await finish(out, g.format, viaNode.result.newest_seq, viaNode.result.versions ?? []);
        return;
      }
      const [{ deriveSealKey }, { OwnBackupFile }, { listBackups }, { StripeStore }] = await Promise.all([
        import('../core/backup/seal.js'),
        import('../core/node/consumer.js'),
        import('../core/node/backup.js'),
        import('../core/node/stripe-store.js'),
      ]);
      const { ctx, close } = await openContext(g);
      let versions: Record<string, unknown>[];
      try {
        await listBackups(ctx.store, (r) => out.row(r));
        // No node: nobody is connected, so `connected` is null (unknown) for every holder.
        versions = await new StripeStore(ctx.store).describe(() => null);
      } finally {
        await close();
      }
      // The newest backup's seq needs the key to open the sealed file; without a key, null.
      let newest: string | null = null;
      try {
        const secret = readNodeKeyOf(paths);
        const key = deriveSealKey(secret);
        secret.fill(0);
        newest = new OwnBackupFile(paths.networkDir, key).load()?.seq.toString() ?? null;
        key.wipe();
      } catch {
        newest = null;
      }
      // A striped version newer than the unstriped backup is the newest.
      const top = versions[0]?.seq as string | undefined;
      if (top !== undefined && (newest === null || BigInt(top) > BigInt(newest))) newest = top;
      await finish(out, g.format, newest, versions);
    });
}

/** JSON: `versions` beside `backups`. Table: one line per version, then one row per shard. */
async function finish(out: ListPrinter, format: 'json' | 'table', newest: string | null, versions: Record<string, unknown>[]): Promise<void> {
  if (format === 'json') {
    await out.finish({ newest_seq: newest, versions });
    return;
  }
  await out.finish({ newest_seq: newest });
  for (const v of versions) {
    const lines = [
      `\nstriped backup ${String(v.backup_id).slice(0, 16)} seq ${v.seq}: ${v.k}-of-${v.n} ${v.mode}, ${v.total_len} bytes; ` +
        `${v.held} held, ${v.confirmed} confirmed; can lose ${v.can_lose} more (${v.can_lose_confirmed} counting confirmed only)\n`,
    ];
    await writeOut(lines.join(''));
    const rows = (v.shards as Record<string, unknown>[]).map((s) => ({ ...s, connected: s.connected === null ? '-' : s.connected ? 'yes' : 'no' }));
    await writeOut((await renderTable(rows, ['index', 'peer', 'state', 'connected', 'sent_at', 'confirmed_at', 'moves'])) + '\n');
  }
}
