// restorefrompeer: get our backup back from the peers that hold it, without a running node.
// Connect to each peer with our node key, exchange init, take its peer_storage_retrieval (or
// give up after a timeout), verify it, and pick the newest seq that verifies. Shards of a
// striped backup (version 2) are rebuilt together: any k of a version's n shards rebuild it.
import { toHex } from '../bytes.js';
import { sha256 } from './consumer.js';
import { classifyRetrieval } from './consumer.js';
import { openShard } from '../backup/stripe.js';
import { rebuildFromPeers } from './stripe-node.js';
import type { SealKey } from '../backup/seal.js';
import type { SubLogger } from './log.js';
import { Peer } from './peer.js';
import type { Transport } from './node.js';
import type { ConsumerPort, NodeCodec } from './types.js';

export interface RestoreTarget {
  pubkey: Uint8Array;
  host: string;
  port: number;
}

export interface PeerAnswer {
  peer: string;
  address: string;
  /** confirmed (the chosen newest), stale (valid but older), corrupt, foreign, none, unreachable */
  status: 'confirmed' | 'stale' | 'corrupt' | 'foreign' | 'none' | 'unreachable';
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

/** Ask one peer for its peer_storage_retrieval; resolves with the blob, or undefined on timeout. */
async function askPeer(
  t: RestoreTarget,
  opts: { transport: Transport; codec: NodeCodec; chainHash: Uint8Array; timeoutMs: number; log: SubLogger },
): Promise<Uint8Array | undefined> {
  const conn = await opts.transport.dial({ host: t.host, port: t.port, remotePubkey: t.pubkey, timeoutMs: opts.timeoutMs });
  let got: ((b: Uint8Array) => void) | undefined;
  const blob = new Promise<Uint8Array>((resolve) => (got = resolve));
  // A consumer that only listens: it never sends our blob, so a restore cannot overwrite the
  // copy the peer holds.
  const listener: ConsumerPort = {
    newest: () => undefined,
    onRetrieval: async (_p, b) => {
      got!(b);
      return { status: 'confirmed' };
    },
    recordSent: () => undefined,
  };
  const peer = new Peer(conn, false, { chainHash: opts.chainHash, provideStorage: false, initTimeoutMs: opts.timeoutMs, retrievalTimeoutMs: opts.timeoutMs }, {
    codec: opts.codec,
    log: opts.log,
    now: Date.now,
    consumer: listener,
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await peer.start();
    // The spec has the storer send it right after init; wait a bounded time for it.
    return await Promise.race([
      blob,
      peer.closed.then(() => undefined),
      new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), opts.timeoutMs))),
    ]);
  } finally {
    if (timer) clearTimeout(timer);
    peer.close('restore done');
  }
}

export async function restoreFromPeers(
  targets: RestoreTarget[],
  opts: { key: SealKey; transport: Transport; codec: NodeCodec; chainHash: Uint8Array; timeoutMs: number; log: SubLogger },
): Promise<RestoreResult> {
  // All peers at once: the wait is the slowest peer's, not the sum.
  const answers = await Promise.all(
    targets.map(async (t) => {
      const address = `${t.host.includes(':') ? '[' + t.host + ']' : t.host}:${t.port}`;
      try {
        return { t, address, blob: await askPeer(t, opts) };
      } catch (e) {
        return { t, address, error: e instanceof Error ? e.message : String(e) };
      }
    }),
  );
  const peers: PeerAnswer[] = [];
  const valid: { i: number; seq: bigint; plaintext: Uint8Array }[] = [];
  const shards: { i: number; seq: bigint; peer: string; blob: Uint8Array }[] = [];
  for (const a of answers) {
    const peer = toHex(a.t.pubkey);
    if ('error' in a) {
      peers.push({ peer, address: a.address, status: 'unreachable', seq: null, blob_len: null, shard_index: null, used: false, reason: a.error! });
      continue;
    }
    if (a.blob === undefined) {
      peers.push({ peer, address: a.address, status: 'none', seq: null, blob_len: null, shard_index: null, used: false, reason: 'no peer_storage_retrieval: the peer holds nothing for us, or did not answer in time' });
      continue;
    }
    if (a.blob[0] === 2) {
      // A version 2 blob: one shard of a striped backup, rebuilt below with the others.
      const o = openShard(a.blob, opts.key);
      if (o.ok) {
        shards.push({ i: peers.length, seq: o.seq, peer, blob: a.blob });
        peers.push({ peer, address: a.address, status: 'confirmed', seq: o.seq.toString(), blob_len: a.blob.length, shard_index: o.shard.index, used: false });
      } else {
        peers.push({ peer, address: a.address, status: o.reason === 'not_sealed' ? 'foreign' : 'corrupt', seq: null, blob_len: a.blob.length, shard_index: null, used: false, reason: o.detail });
      }
      continue;
    }
    const c = classifyRetrieval(a.blob, opts.key);
    const row: PeerAnswer = { peer, address: a.address, status: c.status, seq: c.seq?.toString() ?? null, blob_len: a.blob.length, shard_index: null, used: false };
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
