// restorefrompeer: get our backup back from the peers that hold it, without a running node.
// Connect to each peer with our node key, exchange init, take its peer_storage_retrieval (or
// give up after a timeout), verify it, and pick the newest seq that verifies.
import { toHex } from '../bytes.js';
import { sha256 } from './consumer.js';
import { classifyRetrieval } from './consumer.js';
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
  reason?: string;
}

export interface RestoreResult {
  peers: PeerAnswer[];
  /** The newest valid backup, if any peer returned one. */
  chosen: { peer: string; seq: bigint; plaintext: Uint8Array } | undefined;
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
  for (const a of answers) {
    const peer = toHex(a.t.pubkey);
    if ('error' in a) {
      peers.push({ peer, address: a.address, status: 'unreachable', seq: null, blob_len: null, reason: a.error! });
      continue;
    }
    if (a.blob === undefined) {
      peers.push({ peer, address: a.address, status: 'none', seq: null, blob_len: null, reason: 'no peer_storage_retrieval: the peer holds nothing for us, or did not answer in time' });
      continue;
    }
    const c = classifyRetrieval(a.blob, opts.key);
    const row: PeerAnswer = { peer, address: a.address, status: c.status, seq: c.seq?.toString() ?? null, blob_len: a.blob.length };
    if (c.detail) row.reason = c.detail;
    if (c.seq !== undefined && c.plaintext) valid.push({ i: peers.length, seq: c.seq, plaintext: c.plaintext });
    peers.push(row);
  }
  let best: (typeof valid)[number] | undefined;
  for (const v of valid) if (!best || v.seq > best.seq) best = v;
  // Every valid copy older than the newest is stale: that peer missed our last update.
  for (const v of valid) if (best && v.seq < best.seq) peers[v.i]!.status = 'stale';
  for (const v of valid) if (v !== best) v.plaintext.fill(0);
  return { peers, chosen: best ? { peer: peers[best.i]!.peer, seq: best.seq, plaintext: best.plaintext } : undefined };
}

export function plaintextSummary(p: Uint8Array): { plaintext_len: number; plaintext_sha256: string } {
  return { plaintext_len: p.length, plaintext_sha256: toHex(sha256(p)) };
}
