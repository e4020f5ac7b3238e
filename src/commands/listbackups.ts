// lnps listbackups: where our own backup stands with each peer we sent it to.
import type { Command } from 'commander';
import { nodePaths, readNodeKeyOf } from '../core/datadir.js';
import { callNodeIfRunning } from '../core/node/control.js';
import { examples, globals } from './_common.js';
import { checkKeyOfRunningNode, listPrinter, openContext, type ListPrinter } from './_db.js';
import { palette, writeOut } from '../output.js';

export function register(program: Command): void {
  program
    .command('listbackups')
    .description(
      'Where our backup stands, from evidence only. Per peer: what we sent (seq, when) apart from what it proved (its last peer_storage_retrieval: ' +
        'confirmed, stale, corrupt, foreign, none) and whether it refused. Per version (plain, striped, replicated): the peers whose copy is confirmed ' +
        '(a retrieval gave exactly it back after we sent it), unconfirmed (sent, no reconnection since), refused, missing (reconnected and gave nothing or ' +
        'something else), pending or replaced; recoverable when the confirmed copies rebuild it (1, or k striped); can_lose = confirmed - needed, null when ' +
        'not recoverable. health: ok / at_risk / lost from the newest recoverable version. The table adds a shard-by-peer grid for striped versions. ' +
        'Works with or without a running node.',
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
      await checkKeyOfRunningNode(g);
      const viaNode = await callNodeIfRunning(paths.socketPath, 'listbackups', {}, (row) => out.row(row));
      if (viaNode) {
        await finish(out, g.format, { newest_seq: viaNode.result.newest_seq as string | null, health: viaNode.result.health as Record<string, unknown>, versions: (viaNode.result.versions ?? []) as Record<string, unknown>[] });
        return;
      }
      const [{ deriveSealKey }, { OwnBackupFile }, { listBackups }, { StripeStore }, { backupStatus }] = await Promise.all([
        import('../core/backup/seal.js'),
        import('../core/node/consumer.js'),
        import('../core/node/backup.js'),
        import('../core/node/stripe-store.js'),
        import('../core/node/status.js'),
      ]);
      // The newest unstriped backup's seq needs the key to open the sealed file; without a key, unknown.
      let plainSeq: bigint | undefined;
      try {
        const secret = readNodeKeyOf(paths);
        const key = deriveSealKey(secret);
        secret.fill(0);
        try {
          plainSeq = new OwnBackupFile(paths.networkDir, key).load()?.seq;
        } finally {
          key.wipe();
        }
      } catch {
        plainSeq = undefined;
      }
      const { ctx, close } = await openContext(g);
      let status: Awaited<ReturnType<typeof backupStatus>>;
      try {
        // No node: nobody is connected, so `connected` is null (unknown) for every holder.
        status = await ctx.store.atSnapshot(async (snap) => {
          await listBackups(snap, (r) => out.row(r));
          return backupStatus(snap, new StripeStore(snap), plainSeq, () => null);
        });
      } finally {
        await close();
      }
      // The newest of our backups, striped or not (a plain seq seen only at peers does not count).
      const seqs = status.versions.filter((v) => v.mode !== 'plain').map((v) => BigInt(v.seq));
      if (plainSeq !== undefined) seqs.push(plainSeq);
      const newest = seqs.length === 0 ? null : seqs.reduce((a, b) => (a > b ? a : b)).toString();
      await finish(out, g.format, { newest_seq: newest, health: { ...status.health }, versions: status.versions.map((v) => ({ ...v })) });
    });
}

type Status = { newest_seq: string | null; health: Record<string, unknown>; versions: Record<string, unknown>[] };

/** JSON: `health` and `versions` beside `backups`. Table: the health line, each version, a grid per striped one. */
async function finish(out: ListPrinter, format: 'json' | 'table', st: Status): Promise<void> {
  if (format === 'json') {
    await out.finish({ newest_seq: st.newest_seq, health: st.health, versions: st.versions });
    return;
  }
  await out.finish({ newest_seq: st.newest_seq });
  const p = await palette();
  await writeOut('\n' + healthLine(st.health, p) + '\n');
  for (const v of st.versions) await writeOut(versionBlock(v, p));
}

type Paint = Awaited<ReturnType<typeof palette>>;

const short = (peer: string): string => `${peer.slice(0, 6)}…${peer.slice(-4)}`;

function paintState(state: string, p: Paint): (s: string) => string {
  if (state === 'confirmed') return p.good;
  if (state === 'refused' || state === 'missing') return p.bad;
  if (state === 'unconfirmed' || state === 'pending') return p.warn;
  return p.dim;
}

/** `health: ok`, coloured, with what it rests on. */
export function healthLine(h: Record<string, unknown>, p: Paint): string {
  const status = h.status as string | null;
  if (status === null) return `health: ${p.dim('none')} (no backup made yet)`;
  if (status === 'lost') return `health: ${p.bad('lost')}: no version of the backup can be rebuilt from confirmed copies`;
  const paint = status === 'ok' ? p.good : p.warn;
  const spare = h.can_lose === 0 ? 'no confirmed copy to spare' : `can lose ${h.can_lose} confirmed cop${h.can_lose === 1 ? 'y' : 'ies'}`;
  return `health: ${paint(status)}: seq ${h.seq} is recoverable, ${spare}${h.newest_recoverable ? '' : ' (the newest version is not recoverable yet)'}`;
}

function versionBlock(v: Record<string, unknown>, p: Paint): string {
  const list = (k: string) => v[k] as string[];
  const counts = ['confirmed', 'unconfirmed', 'refused', 'missing', 'pending', 'replaced']
    .filter((k) => list(k).length > 0)
    .map((k) => paintState(k, p)(`${list(k).length} ${k}`));
  const shape = v.mode === 'plain' ? 'plain' : `${v.k}-of-${v.n} ${v.mode}${v.total_len !== null ? `, ${v.total_len} bytes` : ''}`;
  const rec = v.recoverable ? p.good(`recoverable, can lose ${v.can_lose}`) : p.bad('not recoverable');
  let text = `\nseq ${v.seq} (${shape}${v.backup_id ? ', backup ' + String(v.backup_id).slice(0, 16) : ''}): ${counts.join(', ') || 'no copies'}; ${rec} (needs ${v.needed} confirmed)\n`;
  const shards = v.shards as { index: number; peer: string | null; state: string; connected: boolean | null }[] | undefined;
  if (shards && shards.length > 0) {
    // The grid: one row per peer, one column per shard; the cell of the shard a peer holds shows its state.
    const peers = [...new Set(shards.map((s) => s.peer).filter((x): x is string => x !== null))];
    const width = Math.max(11, ...shards.map((s) => String(s.index).length + 6));
    const head = 'PEER'.padEnd(13) + '  ' + shards.map((s) => `shard ${s.index}`.padEnd(width)).join(' ');
    text += p.head(head.trimEnd()) + '\n';
    for (const peer of peers) {
      const cells = shards.map((s) => {
        if (s.peer !== peer) return p.dim('·'.padEnd(width));
        return paintState(s.state, p)(s.state.padEnd(width));
      });
      const conn = shards.find((s) => s.peer === peer)?.connected;
      text += `${short(peer)}${conn === false ? '!' : ' '} ${cells.join(' ')}`.trimEnd() + '\n';
    }
    const unplaced = shards.filter((s) => s.peer === null).map((s) => s.index);
    if (unplaced.length > 0) text += p.warn(`unplaced shards: ${unplaced.join(', ')}`) + '\n';
  } else {
    for (const k of ['confirmed', 'unconfirmed', 'refused', 'missing', 'replaced']) {
      for (const peer of list(k)) text += `  ${short(peer)}  ${paintState(k, p)(k)}\n`;
    }
  }
  return text;
}
