// Where our backup stands, earned from evidence only. For each version of our backup and each
// peer it was given to, the state of that peer's copy comes from what we recorded:
//
// - what we sent the peer (the per-peer sent record: seq and when that seq was first sent; a
//   striped shard's placement: when it was first sent, and when a retrieval confirmed it);
// - what the peer proved it holds: its last peer_storage_retrieval after init (seq, verdict,
//   when), or `none` when it sent none within the wait;
// - whether it refused: a warning about peer_storage after our blob, or no storage bit.
//
// The states of one copy, checked in this order:
//   replaced    we later sent this peer a newer blob and it did not refuse it: it keeps one
//               blob per peer, so it no longer holds this version (not counted);
//   confirmed   its retrieval opened with our key and gave this very version (this shard),
//               after we sent it;
//   refused     it refused our blob after we sent it (or stopped advertising storage);
//   pending     assigned to it, not sent yet (it was not connected, or inside its wait);
//   missing     it reconnected after we sent it and gave nothing back, or something else
//               (an older seq, a blob that does not open), and has not proved it since;
//   unconfirmed sent, and no retrieval since: not proved either way.
//
// A version is recoverable when its confirmed copies can rebuild it (1 for a plain blob, k for
// a k-of-n striped one); can_lose is confirmed minus needed, null when not recoverable. The
// backup's health is its newest recoverable version: ok (it can lose a copy), at_risk (nothing
// to spare) or lost (no version is recoverable).
import { toHex } from '../bytes.js';
import type { LnpsStore } from '../store/store.js';
import type { StripeStore, ShardPlacement } from './stripe-store.js';

export type CopyState = 'confirmed' | 'unconfirmed' | 'refused' | 'missing' | 'pending' | 'replaced';

/** What we know about one peer. Times in ms. */
export interface Evidence {
  sent?: { seq: bigint; at: number } | undefined;
  retrieval?: { seq: bigint | undefined; status: string; at: number } | undefined;
  refusal?: { at: number; reason: string } | undefined;
}

/**
 * The state of one peer's copy of version `seq`. `sentAt`: when this version (this shard) was
 * first sent to the peer, undefined when we never sent it from this database (a restored node
 * learns of its copies from retrievals) or not yet. `placement`: the shard's record, for a
 * striped or replicated version (its confirmed_at is set by the retrieval that returned it).
 */
export function copyState(e: Evidence, seq: bigint, sentAt: number | undefined, placement?: ShardPlacement): CopyState {
  if (e.sent && e.sent.seq > seq && !(e.refusal && e.refusal.at >= e.sent.at)) return 'replaced';
  const r = e.retrieval;
  const proved = placement
    ? placement.confirmed_at !== undefined && (r === undefined || placement.confirmed_at >= r.at) && (sentAt === undefined || placement.confirmed_at >= sentAt)
    : r !== undefined && r.seq === seq && (r.status === 'confirmed' || r.status === 'stale') && (sentAt === undefined || r.at >= sentAt);
  if (proved) return 'confirmed';
  if (e.refusal && e.refusal.at >= (sentAt ?? 0)) return 'refused';
  if (sentAt === undefined) return placement ? 'pending' : 'missing';
  if (r && r.at > sentAt) return 'missing';
  return 'unconfirmed';
}

export interface ShardStatus {
  index: number;
  peer: string | null;
  state: CopyState | 'unplaced';
  connected: boolean | null;
  sent_at: number | null;
  confirmed_at: number | null;
  moves: number;
}

export interface VersionStatus {
  seq: string;
  mode: 'plain' | 'striped' | 'replicated';
  backup_id: string | null;
  k: number;
  n: number;
  /** Copies a rebuild needs: 1 for a plain or replicated blob, k for a striped one. */
  needed: number;
  total_len: number | null;
  created_at: number | null;
  confirmed: string[];
  unconfirmed: string[];
  refused: string[];
  missing: string[];
  pending: string[];
  replaced: string[];
  recoverable: boolean;
  can_lose: number | null;
  shards?: ShardStatus[];
}

export interface Health {
  /** ok / at_risk / lost, from the newest recoverable version; null when there is no backup at all. */
  status: 'ok' | 'at_risk' | 'lost' | null;
  /** The newest recoverable version's seq. */
  seq: string | null;
  can_lose: number | null;
  /** Whether the newest version is the recoverable one. */
  newest_recoverable: boolean;
}

const sec = (ms: number | undefined): number | null => (ms === undefined ? null : Math.floor(ms / 1000));

/** Health from versions sorted newest first. */
export function healthOf(versions: readonly VersionStatus[]): Health {
  if (versions.length === 0) return { status: null, seq: null, can_lose: null, newest_recoverable: false };
  const i = versions.findIndex((v) => v.recoverable);
  if (i < 0) return { status: 'lost', seq: null, can_lose: null, newest_recoverable: false };
  const v = versions[i]!;
  return { status: v.can_lose! > 0 ? 'ok' : 'at_risk', seq: v.seq, can_lose: v.can_lose, newest_recoverable: i === 0 };
}

function tally(v: Omit<VersionStatus, 'confirmed' | 'unconfirmed' | 'refused' | 'missing' | 'pending' | 'replaced' | 'recoverable' | 'can_lose'>, states: { peer: string; state: CopyState }[]): VersionStatus {
  const of = (s: CopyState) => states.filter((x) => x.state === s).map((x) => x.peer);
  const confirmed = of('confirmed');
  const recoverable = confirmed.length >= v.needed;
  return {
    ...v,
    confirmed,
    unconfirmed: of('unconfirmed'),
    refused: of('refused'),
    missing: of('missing'),
    pending: of('pending'),
    replaced: of('replaced'),
    recoverable,
    can_lose: recoverable ? confirmed.length - v.needed : null,
  };
}

/**
 * Every version of our backup with the state of each copy, newest first, and the health. It
 * reads several kinds of record one after another: give it a snapshot (`store.atSnapshot`) when
 * the node may be writing, so they agree.
 * `plainSeq`: the seq of our newest unstriped backup (undefined when none, or unknown without
 * the key). Reads per-peer records (one per peer we dealt with) and the striped versions
 * (at most MAX_VERSIONS): bounded by the peers, not by the number of backups ever made.
 */
export async function backupStatus(
  store: LnpsStore,
  stripes: StripeStore,
  plainSeq: bigint | undefined,
  connected: (peer: string) => boolean | null,
): Promise<{ versions: VersionStatus[]; health: Health }> {
  const ev = new Map<string, Evidence>();
  const at = (peer: Uint8Array): Evidence => {
    const id = toHex(peer);
    let e = ev.get(id);
    if (!e) ev.set(id, (e = {}));
    return e;
  };
  for await (const s of store.sentEntries()) at(s.peer).sent = { seq: s.sent.seq, at: s.sent.sent_at };
  for await (const r of store.retrievals()) at(r.peer).retrieval = { seq: r.rec.seq, status: r.rec.status, at: r.rec.last_seen };
  for await (const f of store.refusals()) at(f.peer).refusal = { at: f.rec.at, reason: new TextDecoder().decode(f.rec.reason) };

  const out: VersionStatus[] = [];
  const stripedSeqs = new Set<bigint>();
  for (const v of await stripes.versions()) {
    stripedSeqs.add(v.seq);
    const states: { peer: string; state: CopyState }[] = [];
    const shards: ShardStatus[] = v.placements.map((p, index) => {
      const peer = p.peer ? toHex(p.peer) : null;
      let state: ShardStatus['state'] = 'unplaced';
      if (peer !== null) {
        state = copyState(ev.get(peer) ?? {}, v.seq, p.sent_at, p);
        states.push({ peer, state });
      }
      return { index, peer, state, connected: peer === null ? null : connected(peer), sent_at: sec(p.sent_at), confirmed_at: sec(p.confirmed_at), moves: p.moves };
    });
    out.push({
      ...tally(
        {
          seq: v.seq.toString(),
          mode: v.mode,
          backup_id: toHex(v.backup_id),
          k: v.k,
          n: v.n,
          needed: v.mode === 'replicated' ? 1 : v.k,
          total_len: v.total_len,
          created_at: sec(v.created_at),
        },
        states,
      ),
      shards,
    });
  }

  // Plain versions: the newest one, and every seq a peer was sent or proved (each peer keeps
  // one blob, so there are at most as many as peers).
  const plain = new Set<bigint>();
  if (plainSeq !== undefined) plain.add(plainSeq);
  for (const e of ev.values()) {
    if (e.sent && !stripedSeqs.has(e.sent.seq)) plain.add(e.sent.seq);
    const r = e.retrieval;
    if (r && r.seq !== undefined && (r.status === 'confirmed' || r.status === 'stale') && !stripedSeqs.has(r.seq)) plain.add(r.seq);
  }
  for (const seq of plain) {
    const states: { peer: string; state: CopyState }[] = [];
    for (const [peer, e] of ev) {
      if (e.sent?.seq === seq) states.push({ peer, state: copyState(e, seq, e.sent.at) });
      else if (e.retrieval?.seq === seq && (e.retrieval.status === 'confirmed' || e.retrieval.status === 'stale')) states.push({ peer, state: copyState(e, seq, undefined) });
    }
    states.sort((a, b) => (a.peer < b.peer ? -1 : a.peer > b.peer ? 1 : 0));
    out.push(tally({ seq: seq.toString(), mode: 'plain', backup_id: null, k: 1, n: states.length, needed: 1, total_len: null, created_at: null }, states));
  }
  out.sort((a, b) => (BigInt(a.seq) === BigInt(b.seq) ? 0 : BigInt(a.seq) > BigInt(b.seq) ? -1 : 1));
  return { versions: out, health: healthOf(out) };
}
