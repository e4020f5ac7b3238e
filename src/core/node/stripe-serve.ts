// Glue between the running node and striped backups: which blob a given peer should hold, the
// keeper wired to the node's peers, and the JSON the control socket returns for a striped
// backup. Kept apart so serve.ts and consumer.ts change by a few lines only.
import { toHex } from '../bytes.js';
import { UsageError } from '../errors.js';
import type { SealKey } from '../backup/seal.js';
import type { LnpsStore } from '../store/store.js';
import type { SubLogger } from './log.js';
import type { LnpsNode } from './node.js';
import { parseStripeSpec, type StoragePeer } from './placement.js';
import { StripeKeeper, type PlacedShard } from './stripe-node.js';
import type { StripeStore, StripeVersion } from './stripe-store.js';
import type { OwnBlob } from './types.js';

/** An OwnBlob that is one shard of a striped version (or one copy of a replicated one). */
export type ShardBlob = OwnBlob & { shard?: { backup_id: Uint8Array; index: number } | undefined };

/**
 * What `peer` should hold now: when the newest striped version is newer than our unstriped
 * backup, the shard assigned to that peer (nothing for a peer that holds no shard, so a
 * non-holder is never sent the whole backup by mistake, and never overwrites what it holds);
 * otherwise the unstriped backup, as before striping existed.
 */
export async function newestFor(stripes: StripeStore, plain: OwnBlob | undefined, peer: Uint8Array | undefined): Promise<ShardBlob | undefined> {
  const cur = await stripes.current();
  if (cur === undefined || (plain !== undefined && plain.seq >= cur.seq)) return plain;
  if (peer === undefined) return undefined;
  const a = await stripes.assignedTo(peer);
  if (!a) return undefined;
  return { seq: a.seq, sealed: a.sealed, sha256: a.sha256, shard: { backup_id: a.backup_id, index: a.index } };
}

/** The node's connected, active peers, with whether we have an open channel with each. */
export async function storagePeers(node: LnpsNode, store: LnpsStore): Promise<StoragePeer[]> {
  const out: StoragePeer[] = [];
  for (const p of node.listPeers()) {
    if (p.state !== 'active') continue;
    const ch = await store.peerChannels(Buffer.from(p.peer, 'hex'));
    out.push({ peer: p.peer, providesStorage: p.provides_storage, hasChannel: (ch?.open ?? 0) > 0, connectedAt: p.connected_at, refused: p.refused !== null });
  }
  return out;
}

export function makeKeeper(opts: {
  node: LnpsNode;
  store: LnpsStore;
  stripes: StripeStore;
  key: SealKey;
  log: SubLogger;
  moveAfterMs: number;
  plainSeq: () => bigint | undefined;
}): StripeKeeper {
  const { node, store } = opts;
  return new StripeKeeper({
    stripes: opts.stripes,
    key: opts.key,
    log: opts.log,
    now: Date.now,
    moveAfterMs: opts.moveAfterMs,
    peers: () => storagePeers(node, store),
    offer: async (peer) => {
      const p = node.peer(Buffer.from(peer, 'hex'));
      if (!p || p.state !== 'active') return undefined;
      return p.offerBackup();
    },
    plainSeq: opts.plainSeq,
  });
}

/** How often the move timer looks: often enough to honour the move time, at most once a minute. */
export function moveCheckInterval(moveAfterMs: number): number {
  return Math.max(100, Math.min(60_000, Math.floor(moveAfterMs / 4)));
}

/** `stripe` in the control method `backup`'s params: K-of-N, or absent. */
export function stripeParam(params: Record<string, unknown>): { k: number; n: number } | undefined {
  const s = params.stripe;
  if (s === undefined || s === null) return undefined;
  if (typeof s !== 'string') throw new UsageError('--stripe expects K-of-N, like 4-of-6');
  return parseStripeSpec(s);
}

/** The JSON result of a striped backup. */
export function stripedSummary(v: StripeVersion, placed: PlacedShard[]): Record<string, unknown> {
  return {
    seq: v.seq.toString(),
    backup_id: toHex(v.backup_id),
    mode: v.mode,
    k: v.k,
    n: v.n,
    total_len: v.total_len,
    backup_sha256: toHex(v.backup_sha256),
    shards: placed.map((p) => ({
      index: p.index,
      peer: p.peer,
      sealed_sha256: toHex(v.placements[p.index]!.sealed_sha256),
      sent: p.sent,
      ...(p.reason !== undefined ? { reason: p.reason } : {}),
    })),
  };
}
