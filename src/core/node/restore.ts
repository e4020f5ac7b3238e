// restorefrompeer: get our backup back from the peers that hold it, without a running node.
// Connect to each peer with our node key (contact.ts), take its peer_storage_retrieval (or give
// up after a timeout), verify it, and pick the newest seq that verifies. Shards of a
// striped backup (version 2) are rebuilt together: any k of a version's n shards rebuild it.
import { toHex } from '../bytes.js';
import { sha256 } from './consumer.js';
import { classifyRetrieval } from './consumer.js';
import { openShard } from '../backup/stripe.js';
import { rebuildFromPeers } from './stripe-node.js';
import type { SealKey } from '../backup/seal.js';
import { contactPeers, type Answer, type PeerCandidate, type PeerListOptions } from './contact.js';

export interface PeerAnswer {
  peer: string;
  /** host:port the answer came from; null when the graph gave no address to dial. */
  address: string | null;
  /** confirmed (the chosen newest), stale (valid but older), corrupt, foreign, none, unreachable */
  status: 'confirmed' | 'stale' | 'corrupt' | 'foreign' | 'none' | 'unreachable';
  /** What the connection gave (see Answer): returned, nothing, refused, unreachable, timed_out, no_address. */
  answer: Answer;
  /** Where the peer came from: the command line or the channel graph. */
  source: PeerCandidate['source'];
  seq: string | null;
  blob_len: number | null;
  /** The shard's index when the peer returned a shard of a striped backup, else null. */
  shard_index: number | null;
  /** Whether the restored backup came from (or was rebuilt with) this peer's blob. */
  used: boolean;
  reason?: string;
}

export interface RestoreResult {
  peers: PeerAnswer[];
  /** The newest valid backup, if any peer returned one. */
  chosen: { peer: string; seq: bigint; plaintext: Uint8Array } | undefined;
  /** When peers returned shards of a striped backup: what the rebuild did. */
  striped?: {
    ok: boolean;
    /** Whether the chosen backup is the rebuilt one. */
    chosen: boolean;
    backup_id: string | null;
    k: number | null;
    n: number | null;
    seq: string | null;
    used_peers: string[];
    /** Not ok: shards the newest version seen still needs. */
    missing: number | null;
    message: string;
  };
}

/**
 * What a returned blob is, in a few words for the progress line, and (for shards) what the
 * stop rule needs. Secrets and plaintexts never reach the text.
 */
function judgeLnps(blob: Uint8Array, key: SealKey): { text: string; seq?: bigint; shard?: { id: string; k: number; index: number } } {
  if (blob[0] === 2) {
    const o = openShard(blob, key);
    if (!o.ok) return { text: `${blob.length} bytes, not a shard of ours (${o.reason})` };
    return { text: `shard ${o.shard.index} of backup ${toHex(o.shard.backup_id).slice(0, 16)} seq ${o.seq} (${o.shard.k}-of-${o.shard.n})`, seq: o.seq, shard: { id: `${o.seq}:${toHex(o.shard.backup_id)}`, k: o.shard.k, index: o.shard.index } };
  }
  const c = classifyRetrieval(blob, key);
  c.plaintext?.fill(0);
  if (c.seq !== undefined) return { text: `lnps backup seq ${c.seq}, ${blob.length} bytes`, seq: c.seq };
  return { text: `${blob.length} bytes, ${c.status} (${c.detail ?? 'does not open'})` };
}

export async function restoreFromPeers(
  candidates: PeerCandidate[],
  opts: PeerListOptions & { key: SealKey },
): Promise<RestoreResult> {
  // Stop rule: a striped backup is complete with k shards of the newest version seen; any
  // other backup needs every peer's answer (a later peer may hold a newer seq).
  let newestSeen = -1n;
  const shardSets = new Map<string, { seq: bigint; k: number; indexes: Set<number> }>();
  const contacts = await contactPeers(candidates, {
    ...opts,
    judge: (c) => {
      const j = judgeLnps(c.blob!, opts.key);
      if (j.seq !== undefined && j.seq > newestSeen) newestSeen = j.seq;
      if (j.shard && j.seq !== undefined) {
        const set = shardSets.get(j.shard.id) ?? { seq: j.seq, k: j.shard.k, indexes: new Set<number>() };
        set.indexes.add(j.shard.index);
        shardSets.set(j.shard.id, set);
      }
      return j.text;
    },
    enough: () => [...shardSets.values()].some((s) => s.seq === newestSeen && s.indexes.size >= s.k),
  });
  const peers: PeerAnswer[] = [];
  const valid: { i: number; seq: bigint; plaintext: Uint8Array }[] = [];
  const shards: { i: number; seq: bigint; peer: string; blob: Uint8Array }[] = [];
  for (const ct of contacts) {
    const base = { peer: ct.candidate.id, address: ct.address, answer: ct.answer, source: ct.candidate.source, seq: null, blob_len: null, shard_index: null, used: false };
    if (ct.answer !== 'returned') {
      peers.push({ ...base, status: ct.answer === 'nothing' ? 'none' : 'unreachable', ...(ct.reason ? { reason: ct.reason } : {}) });
      continue;
    }
    const blob = ct.blob!;
    if (blob[0] === 2) {
      // A version 2 blob: one shard of a striped backup, rebuilt below with the others.
      const o = openShard(blob, opts.key);
      if (o.ok) {
        shards.push({ i: peers.length, seq: o.seq, peer: ct.candidate.id, blob });
        peers.push({ ...base, status: 'confirmed', seq: o.seq.toString(), blob_len: blob.length, shard_index: o.shard.index });
      } else {
        peers.push({ ...base, status: o.reason === 'not_sealed' ? 'foreign' : 'corrupt', blob_len: blob.length, reason: o.detail });
      }
      continue;
    }
    const c = classifyRetrieval(blob, opts.key);
    const row: PeerAnswer = { ...base, status: c.status, seq: c.seq?.toString() ?? null, blob_len: blob.length };
    if (c.detail) row.reason = c.detail;
    if (c.seq !== undefined && c.plaintext) valid.push({ i: peers.length, seq: c.seq, plaintext: c.plaintext });
    peers.push(row);
  }
  let best: (typeof valid)[number] | undefined;
  for (const v of valid) if (!best || v.seq > best.seq) best = v;

  // Shards: rebuild the newest version that has k of them; it wins over a whole blob unless
  // that blob is newer.
  let striped: RestoreResult['striped'];
  let rebuilt: { seq: bigint; plaintext: Uint8Array } | undefined;
  if (shards.length > 0) {
    const rb = rebuildFromPeers(shards, opts.key);
    const r = rb.result;
    const wins = r.ok && r.backup !== undefined && r.seq !== undefined && (!best || r.seq >= best.seq);
    striped = {
      ok: r.ok,
      chosen: wins,
      backup_id: r.backup_id ? toHex(r.backup_id) : null,
      k: r.k ?? null,
      n: r.n ?? null,
      seq: r.seq?.toString() ?? null,
      used_peers: r.ok ? rb.usedPeers : [],
      missing: r.ok ? null : (r.missing ?? null),
      message: r.message,
    };
    for (const sh of shards) {
      const row = peers[sh.i]!;
      const pp = rb.perPeer.get(sh.peer);
      if (wins && pp?.used) row.used = true;
      else if (pp?.reason) row.reason = pp.reason;
      // A shard of an older version than the one restored is stale.
      const restoredSeq = wins ? r.seq! : best?.seq;
      if (restoredSeq !== undefined && sh.seq < restoredSeq) row.status = 'stale';
    }
    if (wins) rebuilt = { seq: r.seq!, plaintext: r.backup! };
    else r.backup?.fill(0);
  }

  // Every valid copy older than the newest is stale: that peer missed our last update.
  const newestSeq = rebuilt ? rebuilt.seq : best?.seq;
  for (const v of valid) if (newestSeq !== undefined && v.seq < newestSeq) peers[v.i]!.status = 'stale';
  for (const v of valid) if (rebuilt || v !== best) v.plaintext.fill(0);
  if (rebuilt) {
    const first = striped!.used_peers[0] ?? null;
    return { peers, chosen: { peer: first ?? '', seq: rebuilt.seq, plaintext: rebuilt.plaintext }, striped };
  }
  if (best) peers[best.i]!.used = true;
  return { peers, chosen: best ? { peer: peers[best.i]!.peer, seq: best.seq, plaintext: best.plaintext } : undefined, ...(striped ? { striped } : {}) };
}

export function plaintextSummary(p: Uint8Array): { plaintext_len: number; plaintext_sha256: string } {
  return { plaintext_len: p.length, plaintext_sha256: toHex(sha256(p)) };
}
