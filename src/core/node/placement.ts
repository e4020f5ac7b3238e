// Where the shards of a striped backup go, and when one must move. Pure: the node hands in what
// it sees (connected peers, who holds which shard, how long a holder has been away) and gets a
// decision back, so every rule here is tested without sockets or a clock.
//
// The rules (issue "k-of-n striping across peers"):
// - storage peers are connected peers that advertise option_provide_storage (bit 42 or 43);
// - among them, peers we have channels with come first (the spec makes them store our blob:
//   "MUST store it when it has an open channel with the sender"), then the longest connected
//   (a peer that stays is a better keeper than one that just arrived), then by key so the
//   choice is reproducible;
// - one shard per peer: two shards on one peer would make that peer count twice when it goes;
// - a holder away longer than the move time has its shard moved to a free storage peer; when
//   no peer is free, the backup is re-striped over the peers that are there, when that makes
//   it survive more losses than waiting does.
import { InputError, UsageError } from '../errors.js';
import { MAX_K, MAX_N, MAX_SHARD_DATA } from '../backup/shard.js';
import { MAX_PLAINTEXT } from '../backup/seal.js';

/** A connected peer, as far as placement cares. `peer` is the hex node key. */
export interface StoragePeer {
  peer: string;
  /** It advertised option_provide_storage (bit 42 or 43). */
  providesStorage: boolean;
  /** We have at least one open channel with it. */
  hasChannel: boolean;
  /** When this connection became active (ms). */
  connectedAt: number;
  /** It refused our blob (placement skips it until it comes back with other features). */
  refused?: boolean | undefined;
}

/** `K-of-N` as the operator writes it, checked against the shard format's limits. */
export function parseStripeSpec(spec: string): { k: number; n: number } {
  const m = /^\s*(\d{1,3})\s*-?of-?\s*(\d{1,3})\s*$/i.exec(spec);
  if (!m) throw new UsageError(`--stripe expects K-of-N, like 4-of-6, got ${JSON.stringify(spec)}`);
  const k = Number(m[1]);
  const n = Number(m[2]);
  if (k < 1 || k > MAX_K) throw new UsageError(`--stripe ${spec}: K must be 1 to ${MAX_K}`);
  if (n < k || n > MAX_N) throw new UsageError(`--stripe ${spec}: N must be from K to ${MAX_N}`);
  return { k, n };
}

/**
 * The shape a backup of `len` bytes takes at k-of-n: `replicated` when k = 1 and it fits one
 * sealed blob (the same version 1 blob kept by n peers), else `striped` (version 2 shards).
 */
export function stripeMode(len: number, k: number): 'replicated' | 'striped' {
  return k === 1 && len <= MAX_PLAINTEXT ? 'replicated' : 'striped';
}

/** Smallest k whose data shards hold `len` bytes (replication holds a whole blob). */
export function minK(len: number): number {
  if (len <= MAX_PLAINTEXT) return 1;
  return Math.max(1, Math.ceil(len / MAX_SHARD_DATA));
}

/** Storage peers in the order we prefer them: channel peers, then longest connected, then key. */
export function rankStoragePeers(peers: readonly StoragePeer[]): StoragePeer[] {
  return peers
    .filter((p) => p.providesStorage && p.refused !== true)
    .sort((a, b) => {
      if (a.hasChannel !== b.hasChannel) return a.hasChannel ? -1 : 1;
      if (a.connectedAt !== b.connectedAt) return a.connectedAt - b.connectedAt;
      return a.peer < b.peer ? -1 : a.peer > b.peer ? 1 : 0;
    });
}

/**
 * Pick n distinct storage peers for a new k-of-n backup. Fewer than n available is an operator
 * error naming how many there are: nothing is sent then, so an old backup is never replaced by
 * one that cannot be placed as asked.
 */
export function choosePeers(peers: readonly StoragePeer[], k: number, n: number): string[] {
  const ranked = rankStoragePeers(peers);
  if (ranked.length < n) {
    const some = ranked.length === 0 ? 'no connected peer advertises' : `only ${ranked.length} connected peer${ranked.length === 1 ? '' : 's'} advertise${ranked.length === 1 ? 's' : ''}`;
    throw new InputError(
      `a ${k}-of-${n} backup needs ${n} storage peers, but ${some} option_provide_storage: connect more with \`lnps connect\`, or lower N; nothing was sent`,
      'not_enough_peers',
    );
  }
  return ranked.slice(0, n).map((p) => p.peer);
}

/** One shard of the current backup version, as the node tracks it. */
export interface ShardSlot {
  index: number;
  /** Hex key of the peer meant to hold it; undefined while no peer was found. */
  peer: string | undefined;
}

export interface PlanInput {
  k: number;
  n: number;
  /** Length of the whole backup (bounds how small k may get on a re-stripe). */
  totalLen: number;
  shards: readonly ShardSlot[];
  /** Connected peers (storage or not). */
  connected: readonly StoragePeer[];
  /** Since when a peer that is not connected has been away (ms); undefined = unknown. */
  awaySince(peer: string): number | undefined;
  now: number;
  /** A holder away this long loses its shard to another peer. */
  moveAfterMs: number;
}

export interface Move {
  index: number;
  from: string | undefined;
  to: string;
  reason: string;
}

export interface Plan {
  moves: Move[];
  /** Re-stripe the backup over these peers at k-of-n (n = peers.length). */
  restripe?: { k: number; n: number; peers: string[]; reason: string } | undefined;
  /** Shards that should move but cannot yet: nowhere to go and re-striping would not help. */
  waiting: { index: number; peer: string | undefined; reason: string }[];
}

/**
 * Decide what to do about the current version's shards: move the ones whose holder stayed away
 * too long (or that never found a holder) to free storage peers; if some cannot move, re-stripe
 * over the storage peers present when that leaves the backup able to lose more peers than
 * waiting does; else wait.
 */
export function planMaintenance(input: PlanInput): Plan {
  const { k, n, shards, now, moveAfterMs } = input;
  const storage = rankStoragePeers(input.connected);
  const connected = new Set(input.connected.map((p) => p.peer));
  const holders = new Set(shards.map((s) => s.peer).filter((p): p is string => p !== undefined));

  const due: { slot: ShardSlot; reason: string }[] = [];
  for (const s of shards) {
    if (s.peer === undefined) {
      due.push({ slot: s, reason: 'no holder yet' });
      continue;
    }
    if (connected.has(s.peer)) continue;
    const since = input.awaySince(s.peer);
    if (since !== undefined && now - since >= moveAfterMs) due.push({ slot: s, reason: `holder away for ${Math.round((now - since) / 1000)} s` });
  }
  const plan: Plan = { moves: [], waiting: [] };
  if (due.length === 0) return plan;

  const free = storage.filter((p) => !holders.has(p.peer)).map((p) => p.peer);
  const stuck: typeof due = [];
  for (const d of due) {
    const to = free.shift();
    if (to === undefined) stuck.push(d);
    else plan.moves.push({ index: d.slot.index, from: d.slot.peer, to, reason: d.reason });
  }
  if (stuck.length === 0) return plan;

  // Nowhere to move them. Shards still with a holder that is not overdue keep the backup alive:
  // it can lose (kept - k) more. A re-stripe over the storage peers present keeps the number of
  // spare shards the operator asked for (n - k) when the size allows, so it can lose up to
  // (present - k') more; it is worth doing only when that is more.
  const dueIdx = new Set(due.map((d) => d.slot.index));
  const kept = shards.filter((s) => s.peer !== undefined && !dueIdx.has(s.index)).length + plan.moves.length;
  const present = storage.slice(0, MAX_N).map((p) => p.peer);
  const smallest = minK(input.totalLen);
  const k2 = Math.min(k, Math.max(smallest, present.length - (n - k)));
  if (k2 >= 1 && present.length >= k2 && present.length - k2 > kept - k) {
    return {
      moves: [],
      waiting: [],
      restripe: {
        k: k2,
        n: present.length,
        peers: present,
        reason: `${stuck.length} shard${stuck.length === 1 ? '' : 's'} cannot move (no free storage peer); ${k2}-of-${present.length} over the ${present.length} storage peers present can lose ${present.length - k2} instead of ${kept - k}`,
      },
    };
  }
  for (const d of stuck) plan.waiting.push({ index: d.slot.index, peer: d.slot.peer, reason: `${d.reason}; no free storage peer to move it to` });
  return plan;
}
