// Asking peers for what they hold, as a given node, with no node running: connect over BOLT #8
// with that node's key, send an init that advertises no storage bits, take the
// peer_storage_retrieval the storer sends right after init, and disconnect. Nothing is ever sent
// to the peer but init (and pongs to its pings, which BOLT #1 asks for): no peer_storage, no
// answer to channel messages, so the copies peers hold stay as they are.
//
// The restore commands (lnps's own backups and other implementations') share this: the list of
// peers to try (the command line first, then the channel graph), a bounded number of
// connections at a time, one progress event per peer, and a stop once the caller has enough.
import { toHex } from '../bytes.js';
import { TransportError } from '../transport/errors.js';
import type { SubLogger } from './log.js';
import { Peer } from './peer.js';
import type { Transport } from './node.js';
import type { ConsumerPort, NodeCodec } from './types.js';
import { channelPeersFromGraph, readGraphFile, type DialAddress, type GraphPeer } from './graph.js';

/** A peer to ask, with the addresses to try in order until one connects. */
export interface PeerCandidate {
  pubkey: Uint8Array;
  id: string;
  addresses: DialAddress[];
  /** Where it came from: the command line is tried first. */
  source: 'command_line' | 'graph';
  /** Announced addresses that cannot be dialled (Tor, websocket), for the report. */
  undialable?: string[];
}

/**
 * What asking one peer gave:
 * - returned: it sent a peer_storage_retrieval (the blob is in `blob`)
 * - nothing: connected and exchanged init, but no retrieval came (it holds nothing for this
 *   node id, or did not send it within the timeout, or closed the connection)
 * - refused: the TCP connection opened but the peer ended the handshake or the init exchange
 * - unreachable: no TCP connection (refused by the host, no route, no such name)
 * - timed_out: the handshake or the init exchange did not finish within the timeout
 * - no_address: the graph names no address lnps can dial
 */
export type Answer = 'returned' | 'nothing' | 'refused' | 'unreachable' | 'timed_out' | 'no_address';

export interface Contact {
  candidate: PeerCandidate;
  answer: Answer;
  /** host:port of the address the answer came from (the last one tried), null when none. */
  address: string | null;
  blob?: Uint8Array;
  /** Why, in words, for every answer but returned. */
  reason?: string;
}

export interface ProgressEvent {
  peer: string;
  address: string | null;
  event: 'connecting' | Answer;
  /** For returned: what the blob is (the caller's judgement); otherwise the reason. */
  detail?: string;
}

export interface ContactOptions {
  transport: Transport;
  codec: NodeCodec;
  chainHash: Uint8Array;
  /** Bound on each step with one peer: TCP and handshake, the init exchange, the wait for the retrieval. */
  timeoutMs: number;
  log: SubLogger;
  /**
   * Connections open at once. Bounds what a long peer list (a graph) costs us: this many
   * sockets and, per peer, one retrieval of at most 65535 bytes kept until judged.
   */
  concurrency?: number;
  /** Judge a returned blob as soon as it arrives; the text goes into the progress event. */
  judge?: (c: Contact) => string | undefined;
  onProgress?: (e: ProgressEvent) => void;
  /** Checked before each new peer is tried: true stops the list (peers in flight finish). */
  enough?: () => boolean;
}

/** What a caller asking a list of peers for its own kind of backup gives; the judging and the stop rule are its own. */
export type PeerListOptions = Omit<ContactOptions, 'judge' | 'enough'>;

export const DEFAULT_CONCURRENCY = 8;

export const addressText = (a: DialAddress): string => `${a.host.includes(':') ? '[' + a.host + ']' : a.host}:${a.port}`;

/**
 * The peers to try: those given on the command line first, in their order, then the graph's
 * (in its stable order), each node id once. A graph peer also given on the command line adds its
 * announced addresses after the one given.
 */
export function mergeCandidates(commandLine: { pubkey: Uint8Array; host: string; port: number }[], graph: GraphPeer[]): PeerCandidate[] {
  const out: PeerCandidate[] = [];
  const byId = new Map<string, PeerCandidate>();
  for (const t of commandLine) {
    const id = toHex(t.pubkey);
    const c: PeerCandidate = { pubkey: t.pubkey, id, addresses: [{ host: t.host, port: t.port }], source: 'command_line' };
    byId.set(id, c);
    out.push(c);
  }
  for (const g of graph) {
    const have = byId.get(g.id);
    if (have) {
      for (const a of g.addresses) if (!have.addresses.some((x) => x.host === a.host && x.port === a.port)) have.addresses.push(a);
      continue;
    }
    const c: PeerCandidate = { pubkey: g.pubkey, id: g.id, addresses: [...g.addresses], source: 'graph', undialable: g.undialable };
    byId.set(g.id, c);
    out.push(c);
  }
  return out;
}

function connectAnswer(e: unknown): { answer: Answer; reason: string } {
  const msg = e instanceof Error ? e.message : String(e);
  if (e instanceof TransportError) {
    if (e.code === 'CONNECT_FAILED') return { answer: 'unreachable', reason: msg };
    if (e.code === 'HANDSHAKE_TIMEOUT') return { answer: 'timed_out', reason: msg };
  }
  return { answer: 'refused', reason: msg };
}

/** One address of one peer: connect, exchange init, wait for the retrieval. */
async function askAt(c: PeerCandidate, a: DialAddress, opts: ContactOptions): Promise<Omit<Contact, 'candidate' | 'address'>> {
  let conn;
  try {
    conn = await opts.transport.dial({ host: a.host, port: a.port, remotePubkey: c.pubkey, timeoutMs: opts.timeoutMs });
  } catch (e) {
    return connectAnswer(e);
  }
  let got: ((b: Uint8Array) => void) | undefined;
  const blob = new Promise<Uint8Array>((resolve) => (got = resolve));
  // A consumer that only listens: it never has a blob to send (newest() is always undefined).
  const listener: ConsumerPort = {
    newest: () => undefined,
    onRetrieval: async (_p, b) => {
      got!(b);
      return { status: 'confirmed' };
    },
    recordSent: () => undefined,
  };
  // provideStorage false: our init advertises no storage bits, and a peer_storage sent to us is dropped.
  const peer = new Peer(conn, false, { chainHash: opts.chainHash, provideStorage: false, initTimeoutMs: opts.timeoutMs, retrievalTimeoutMs: opts.timeoutMs }, {
    codec: opts.codec,
    log: opts.log,
    now: Date.now,
    consumer: listener,
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    try {
      await peer.start();
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      return /sent no init/.test(why) ? { answer: 'timed_out', reason: `no init within ${opts.timeoutMs} ms` } : { answer: 'refused', reason: peer.closeReason ?? why };
    }
    // Spec: the storer sends it right after init. Wait a bounded time for it.
    const r = await Promise.race([
      blob,
      peer.closed.then((why) => `closed the connection without a peer_storage_retrieval (${why})`),
      new Promise<string>((resolve) => (timer = setTimeout(() => resolve(`no peer_storage_retrieval within ${opts.timeoutMs} ms after init`), opts.timeoutMs))),
    ]);
    if (typeof r === 'string') return { answer: 'nothing', reason: r };
    return { answer: 'returned', blob: r };
  } finally {
    if (timer) clearTimeout(timer);
    peer.close('restore done');
  }
}

/** Ask one peer, trying its addresses in order until one connects. */
async function ask(c: PeerCandidate, opts: ContactOptions): Promise<Contact> {
  if (c.addresses.length === 0) {
    const why = c.undialable && c.undialable.length > 0 ? `only addresses lnps cannot dial: ${c.undialable.join(', ')}` : 'no address announced';
    return { candidate: c, answer: 'no_address', address: null, reason: why };
  }
  let last: Contact | undefined;
  for (const a of c.addresses) {
    const address = addressText(a);
    opts.onProgress?.({ peer: c.id, address, event: 'connecting' });
    const r = await askAt(c, a, opts);
    last = { candidate: c, address, ...r };
    // Another address helps only when this one could not be reached at all.
    if (r.answer !== 'unreachable' && r.answer !== 'timed_out') break;
  }
  return last!;
}

/**
 * Ask every candidate (at most `concurrency` at a time, started in list order) and return one
 * Contact per candidate tried, in list order. Candidates not started because `enough()` said
 * so are left out.
 */
export async function contactPeers(candidates: PeerCandidate[], opts: ContactOptions): Promise<Contact[]> {
  const limit = Math.max(1, opts.concurrency ?? DEFAULT_CONCURRENCY);
  const results: (Contact | undefined)[] = new Array(candidates.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < candidates.length && !(opts.enough?.() ?? false)) {
      const i = next++;
      const c = await ask(candidates[i]!, opts);
      results[i] = c;
      const detail = c.answer === 'returned' ? opts.judge?.(c) : c.reason;
      opts.onProgress?.({ peer: c.candidate.id, address: c.address, event: c.answer, ...(detail !== undefined ? { detail } : {}) });
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, candidates.length) }, worker));
  return results.filter((r): r is Contact => r !== undefined);
}

/**
 * The candidates of a restore: the peers given on the command line, then the channel peers of
 * `ourId` in the graph files (each read with its size bound). Also what the graph said.
 */
export function restoreCandidates(
  commandLine: { pubkey: Uint8Array; host: string; port: number }[],
  graphFiles: string[],
  ourId: Uint8Array,
): { candidates: PeerCandidate[]; graph: { kind: 'lnd' | 'cln'; channel_peers: number; dropped: number } | null } {
  if (graphFiles.length === 0) return { candidates: mergeCandidates(commandLine, []), graph: null };
  const g = channelPeersFromGraph(graphFiles.map((f) => readGraphFile(f)), ourId);
  return { candidates: mergeCandidates(commandLine, g.peers), graph: { kind: g.kind, channel_peers: g.peers.length + g.dropped, dropped: g.dropped } };
}
