// The running node: a listener, the set of connected peers, dialling out, the liveness sweep,
// and placing our own backup with the peers that store. It knows the transport and the store
// only through the small ports in types.ts, so it runs over real sockets in `lnps serve` and
// over in-memory pipes in tests.
import { createServer, type Server, type Socket } from 'node:net';
import { toHex } from '../bytes.js';
import { InputError } from '../errors.js';
import type { Logger, SubLogger } from './log.js';
import { Peer, type PeerSettings } from './peer.js';
import type { ConsumerPort, MessageConn, NodeCodec, NodeEvents, ProviderPort } from './types.js';

export interface NodeTimeouts {
  /** The BOLT #8 handshake must finish within this. */
  handshakeMs: number;
  /** The peer's init must arrive within this after the handshake. */
  initMs: number;
  /** Consumer: wait this long for the peer's peer_storage_retrieval before sending ours. */
  retrievalMs: number;
  /** A peer silent this long gets a ping. */
  pingIntervalMs: number;
  /** And is dropped if still silent this long after the ping. */
  pongTimeoutMs: number;
  /** First delay before redialling a kept peer; it doubles per failure, up to 60 s. */
  reconnectMs: number;
}

export const DEFAULT_TIMEOUTS: NodeTimeouts = {
  handshakeMs: 10_000,
  initMs: 15_000,
  retrievalMs: 10_000,
  pingIntervalMs: 60_000,
  pongTimeoutMs: 30_000,
  reconnectMs: 1_000,
};

/** The longest wait between two attempts to reach a kept peer. */
const MAX_RECONNECT_MS = 60_000;

/**
 * Cheap rejection, before any key is computed: inbound connections past these caps are closed
 * as soon as they are accepted. Every inbound connection, handshaking or active, counts against
 * its source address; handshakes in progress also count against a global cap, since each costs
 * an ECDH or two. Memory per connection is bounded by the transport and the peer (see peer.ts),
 * so these caps bound the node's total.
 */
export const DEFAULT_MAX_CONNECTIONS = 512;
export const DEFAULT_MAX_CONNECTIONS_PER_IP = 16;
export const DEFAULT_MAX_PENDING_HANDSHAKES = 256;
/** One log line per refused address per this long; the rest are counted into the next line. */
export const REFUSAL_LOG_INTERVAL_MS = 60_000;
/** Addresses remembered for that purpose; past it, refusals of new addresses are only counted. */
const MAX_REFUSAL_LOG_ENTRIES = 4096;
/**
 * Accepted inbound connections from one source address whose lines (active, refusals, counts,
 * disconnected: a few lines of at most 1 KiB each) are logged at their level per
 * REFUSAL_LOG_INTERVAL_MS. Past it, that address's connections log at debug level only, and the
 * next line for it says how many were quieted: an address that connects and leaves in a loop
 * (each time within --max-connections-per-ip) cannot grow the log by more than about
 * 20 × 3 KiB a minute.
 */
export const CONNECTION_LOG_BUDGET = 20;

export interface Transport {
  /** Dial and run the initiator side of the handshake. */
  dial(opts: { host: string; port: number; remotePubkey: Uint8Array; timeoutMs: number }): Promise<MessageConn>;
  /** Run the responder side of the handshake on an accepted socket. */
  accept(socket: Socket, opts: { timeoutMs: number }): Promise<MessageConn>;
  /**
   * Take over a just-accepted, paused socket before anything else uses it; the node then uses
   * only the socket returned. Without it the accepted socket is used as it is.
   */
  adopt?(socket: Socket): Socket;
}

export interface NodeOptions {
  /** Counted events (metrics); labels from closed sets only. */
  events?: NodeEvents | undefined;
  chainHash: Uint8Array;
  provideStorage: boolean;
  timeouts: NodeTimeouts;
  codec: NodeCodec;
  transport: Transport;
  log: Logger;
  provider?: ProviderPort | undefined;
  consumer?: ConsumerPort | undefined;
  now?: () => number;
  /** Most inbound connections at once, handshaking or active; past it new ones are turned away. */
  maxConnections?: number;
  /** Most inbound connections from one source address at once. */
  maxConnectionsPerIp?: number;
  /** Most inbound handshakes in progress at once. */
  maxPendingHandshakes?: number;
  /** Read-back of what we sent, by reconnecting (undefined: never reconnect to confirm). */
  confirm?: ConfirmSettings | undefined;
}

/**
 * After our blob is sent to a peer we can dial, the node closes the connection and dials again
 * `delayMs` later, so the peer's peer_storage_retrieval after init proves what it stored (the
 * only read-back the protocol has). `delayMs` should cover the provider's cooldown; a peer is
 * reconnected at most once per `intervalMs`, so frequent backups do not churn connections.
 * A peer that dialled us (no address we know) is confirmed on its own next connection.
 */
export interface ConfirmSettings {
  delayMs: number;
  intervalMs: number;
}

export const DEFAULT_CONFIRM: ConfirmSettings = { delayMs: 5_000, intervalMs: 60_000 };

/** The longest gap between two read-backs of a peer that keeps losing our blob. */
const MAX_CONFIRM_GAP_MS = 24 * 3600_000;

export interface PeerInfo {
  peer: string;
  address: string | null;
  inbound: boolean;
  state: string;
  features: number[];
  provides_storage: boolean;
  connected_at: number;
  last_received_at: number;
  blobs_received: number;
  retrieval_status: string | null;
  retrieval_seq: string | null;
  sent_seq: string | null;
  /** Why placement skips this peer (it refused our blob, or has no storage bit); null when it does not. */
  refused: string | null;
}

export class LnpsNode {
  private readonly peers = new Map<string, Peer>();
  private readonly servers: Server[] = [];
  private sweepTimer: NodeJS.Timeout | undefined;
  private readonly log: SubLogger;
  private readonly srvr: SubLogger;
  private readonly now: () => number;
  private stopping = false;
  private readonly pendingSockets = new Set<Socket>();
  /** Inbound connections (handshaking or active) per source address. */
  private readonly inboundByIp = new Map<string, number>();
  private inboundTotal = 0;
  /** Per refused address: when its last refusal was logged, and how many since. */
  private readonly refusalLog = new Map<string, { at: number; unlogged: number }>();
  /** Per source address: the start of its log window, connections logged and quieted in it. */
  private readonly connectionLog = new Map<string, { at: number; logged: number; quiet: number }>();
  /** Refusals not logged because the table of addresses was full. */
  refusedUnlogged = 0;
  /** Inbound connections turned away by the caps, since start. */
  refusedTotal = 0;
  /** Peers to keep connected: dialled at start and again whenever the connection drops. */
  private readonly kept = new Map<string, { pubkey: Uint8Array; host: string; port: number; failures: number; timer?: NodeJS.Timeout | undefined }>();
  /**
   * Where peers we dialled listen (a peer that dialled us has no address we can use). Bounded
   * by the peers the operator asks to dial; an entry goes when that peer is disconnected.
   */
  private readonly addresses = new Map<string, { host: string; port: number }>();
  /** Read-back reconnections: one timer per peer at most (so at most one per connected peer). */
  private readonly confirmTimers = new Map<string, NodeJS.Timeout>();
  private readonly lastConfirm = new Map<string, number>();
  /** Read-backs in a row that found no copy (a peer that drops our blob silently): the wait doubles. */
  private readonly confirmMisses = new Map<string, number>();
  private readonly confirming = new Set<string>();

  constructor(private readonly opts: NodeOptions) {
    this.log = opts.log.sub('PEER');
    this.srvr = opts.log.sub('SRVR');
    this.now = opts.now ?? Date.now;
    const t = opts.timeouts;
    // Check liveness often enough to honour the smaller of the two timeouts.
    const every = Math.max(20, Math.min(t.pingIntervalMs, t.pongTimeoutMs) / 4);
    this.sweepTimer = setInterval(() => this.sweep(), every);
    this.sweepTimer.unref?.();
  }

  private settings(): PeerSettings {
    return {
      chainHash: this.opts.chainHash,
      provideStorage: this.opts.provideStorage,
      initTimeoutMs: this.opts.timeouts.initMs,
      retrievalTimeoutMs: this.opts.timeouts.retrievalMs,
    };
  }

  /** Start listening; resolves with the bound address (port 0 picks a free one). */
  listen(host: string, port: number): Promise<{ host: string; port: number }> {
    // Paused until onInbound admits it and moves it onto its own reads (adoptAccepted).
    const server = createServer({ noDelay: true, pauseOnConnect: true }, (socket) => void this.onInbound(socket));
    this.servers.push(server);
    return new Promise((resolve, reject) => {
      server.once('error', (e: NodeJS.ErrnoException) => {
        reject(new InputError(`cannot listen on ${host}:${port}: ${e.code === 'EADDRINUSE' ? 'address already in use' : e.code === 'EACCES' ? 'permission denied' : (e.code ?? e.message)}`, 'listen_failed'));
      });
      server.listen(port, host, () => {
        const a = server.address();
        const bound = typeof a === 'object' && a ? { host: a.address, port: a.port } : { host, port };
        this.srvr.info(`Server listening on ${bound.host.includes(':') ? '[' + bound.host + ']' : bound.host}:${bound.port}`);
        resolve(bound);
      });
    });
  }

  private async onInbound(accepted: Socket): Promise<void> {
    if (this.stopping) {
      accepted.destroy();
      return;
    }
    accepted.on('error', () => {});
    const ip = accepted.remoteAddress ?? '?';
    const addr = `${ip}:${accepted.remotePort}`;
    const refusal = this.admitInbound(ip);
    if (refusal !== undefined) {
      this.refuse(ip, refusal);
      accepted.destroy();
      return;
    }
    const socket = this.opts.transport.adopt?.(accepted) ?? accepted;
    if (socket !== accepted) socket.on('error', () => {});
    this.inboundTotal++;
    this.inboundByIp.set(ip, (this.inboundByIp.get(ip) ?? 0) + 1);
    socket.once('close', () => {
      this.inboundTotal--;
      const n = (this.inboundByIp.get(ip) ?? 1) - 1;
      if (n <= 0) this.inboundByIp.delete(ip);
      else this.inboundByIp.set(ip, n);
    });
    this.pendingSockets.add(socket);
    let conn: MessageConn;
    try {
      conn = await this.opts.transport.accept(socket, { timeoutMs: this.opts.timeouts.handshakeMs });
      this.opts.events?.handshake('inbound', true);
    } catch (e) {
      this.opts.events?.handshake('inbound', false);
      this.srvr.debug(`handshake with ${addr} failed: ${e instanceof Error ? e.message : String(e)}`);
      socket.destroy();
      return;
    } finally {
      this.pendingSockets.delete(socket);
    }
    await this.adopt(conn, true, this.logFor(ip)).catch((e) => this.log.debug(`inbound ${addr}: ${e instanceof Error ? e.message : String(e)}`));
  }

  /** The logger of a new inbound connection from `ip`: the usual one within CONNECTION_LOG_BUDGET, quiet past it. */
  private logFor(ip: string): SubLogger {
    const now = this.now();
    let e = this.connectionLog.get(ip);
    if (!e || now - e.at >= REFUSAL_LOG_INTERVAL_MS) {
      if (e && e.quiet > 0) this.srvr.info(`${e.quiet} more connections from ${ip} in the minute before were logged at debug level only (more than ${CONNECTION_LOG_BUDGET} a minute)`);
      if (!e && this.connectionLog.size >= MAX_REFUSAL_LOG_ENTRIES) {
        for (const [k, v] of this.connectionLog) if (now - v.at >= REFUSAL_LOG_INTERVAL_MS && v.quiet === 0) this.connectionLog.delete(k);
        if (this.connectionLog.size >= MAX_REFUSAL_LOG_ENTRIES) return this.log.quiet();
      }
      e = { at: now, logged: 0, quiet: 0 };
      this.connectionLog.set(ip, e);
    }
    if (e.logged < CONNECTION_LOG_BUDGET) {
      e.logged++;
      return this.log;
    }
    if (e.quiet++ === 0) this.srvr.info(`more than ${CONNECTION_LOG_BUDGET} connections from ${ip} this minute: the rest of this minute's are logged at debug level only`);
    return this.log.quiet();
  }

  /** Why a new inbound connection from `ip` is turned away, or undefined to accept it. */
  private admitInbound(ip: string): string | undefined {
    const max = this.opts.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
    const perIp = this.opts.maxConnectionsPerIp ?? DEFAULT_MAX_CONNECTIONS_PER_IP;
    const pending = this.opts.maxPendingHandshakes ?? DEFAULT_MAX_PENDING_HANDSHAKES;
    if (this.inboundTotal >= max) return `${this.inboundTotal} inbound connections (limit ${max}, --max-connections)`;
    const fromIp = this.inboundByIp.get(ip) ?? 0;
    if (fromIp >= perIp) return `${fromIp} connections from this address (limit ${perIp}, --max-connections-per-ip)`;
    if (this.pendingSockets.size >= pending) return `${this.pendingSockets.size} handshakes in progress (limit ${pending})`;
    return undefined;
  }

  /** Log a refusal once per address per REFUSAL_LOG_INTERVAL_MS, counting the rest. */
  private refuse(ip: string, why: string): void {
    this.refusedTotal++;
    this.opts.events?.inboundRefused();
    const now = this.now();
    let e = this.refusalLog.get(ip);
    if (!e) {
      if (this.refusalLog.size >= MAX_REFUSAL_LOG_ENTRIES) {
        for (const [k, v] of this.refusalLog) if (now - v.at >= REFUSAL_LOG_INTERVAL_MS) this.refusalLog.delete(k);
        if (this.refusalLog.size >= MAX_REFUSAL_LOG_ENTRIES) {
          this.refusedUnlogged++;
          return;
        }
      }
      e = { at: -Infinity, unlogged: 0 };
      this.refusalLog.set(ip, e);
    }
    if (now - e.at < REFUSAL_LOG_INTERVAL_MS) {
      e.unlogged++;
      return;
    }
    const more = e.unlogged > 0 ? `; ${e.unlogged} more refused since the last line` : '';
    e.at = now;
    e.unlogged = 0;
    this.srvr.warn(`refused inbound connection from ${ip}: ${why}${more}; further refusals of this address are counted for a minute`);
  }

  /** Take over an authenticated connection: replace any older one with the same peer. */
  async adopt(conn: MessageConn, inbound: boolean, log: SubLogger = this.log): Promise<Peer> {
    if (this.stopping) {
      conn.close();
      throw new Error('node is stopping');
    }
    const id = toHex(conn.remotePubkey);
    const old = this.peers.get(id);
    if (old) {
      log.info(`${old.label} reconnected: replacing the older connection`);
      old.close('replaced by a new connection');
    }
    const peer = new Peer(conn, inbound, this.settings(), {
      codec: this.opts.codec,
      log,
      now: this.now,
      provider: this.opts.provider,
      consumer: this.opts.consumer,
      onSent: (p) => this.scheduleConfirm(p),
      events: this.opts.events,
    });
    this.peers.set(id, peer);
    void peer.closed.then((reason) => {
      const current = this.peers.get(id) === peer;
      if (current) this.peers.delete(id);
      log.info(`${peer.label} disconnected: ${reason}`);
      // A read-back reconnection dials by itself (and falls back to the redial when it fails).
      if (current && this.kept.has(id) && !this.stopping && !this.confirming.has(id)) this.scheduleRedial(id);
    });
    await peer.start();
    return peer;
  }

  /** Dial a peer and exchange init. */
  async connect(remotePubkey: Uint8Array, host: string, port: number): Promise<PeerInfo> {
    const id = toHex(remotePubkey);
    const existing = this.peers.get(id);
    if (existing && existing.state === 'active') return info(existing);
    let conn: MessageConn;
    try {
      conn = await this.opts.transport.dial({ host, port, remotePubkey, timeoutMs: this.opts.timeouts.handshakeMs });
      this.opts.events?.handshake('outbound', true);
    } catch (e) {
      this.opts.events?.handshake('outbound', false);
      throw new InputError(`cannot connect to ${id}@${host}:${port}: ${e instanceof Error ? e.message : String(e)}`, 'connect_failed');
    }
    let peer: Peer;
    try {
      peer = await this.adopt(conn, false);
    } catch (e) {
      throw new InputError(`connected to ${id}@${host}:${port} but the init exchange failed: ${e instanceof Error ? e.message : String(e)}`, 'connect_failed');
    }
    this.addresses.set(id, { host, port });
    return info(peer);
  }

  /** Our blob went to `peer`: reconnect to it later to read the blob back (see ConfirmSettings). */
  private scheduleConfirm(peer: Peer): void {
    const c = this.opts.confirm;
    if (!c || this.stopping || this.confirmTimers.has(peer.id)) return;
    // A peer that dialled us is confirmed when it comes back by itself.
    if (!this.addresses.has(peer.id)) return;
    // A send right after a read-back that did not find our copy: the peer drops it without a
    // word. Read back less and less often (up to once a day), never in a tight loop.
    const misses = this.lastConfirm.has(peer.id) && peer.retrievalStatus !== 'confirmed' ? Math.min(16, (this.confirmMisses.get(peer.id) ?? 0) + 1) : 0;
    this.confirmMisses.set(peer.id, misses);
    const gap = Math.min(MAX_CONFIRM_GAP_MS, c.intervalMs * 2 ** misses);
    const earliest = (this.lastConfirm.get(peer.id) ?? -Infinity) + gap;
    const delay = Math.max(c.delayMs, earliest - this.now());
    const t = setTimeout(() => void this.confirmNow(peer.id), delay);
    t.unref?.();
    this.confirmTimers.set(peer.id, t);
  }

  private async confirmNow(id: string): Promise<void> {
    this.confirmTimers.delete(id);
    const peer = this.peers.get(id);
    const addr = this.addresses.get(id);
    if (!peer || peer.state !== 'active' || !addr || this.stopping) return;
    this.lastConfirm.set(id, this.now());
    this.confirming.add(id);
    this.log.info(`${peer.label} reconnecting to read back our backup seq ${peer.sentSeq ?? '?'}`);
    try {
      peer.close('reconnecting to read back our backup');
      await peer.closed;
      await this.connect(peer.pubkey, addr.host, addr.port);
    } catch (e) {
      this.srvr.debug(`read-back reconnection to ${id}@${addr.host}:${addr.port} failed: ${e instanceof Error ? e.message : String(e)}`);
      if (this.kept.has(id) && !this.peers.has(id)) this.scheduleRedial(id);
    } finally {
      this.confirming.delete(id);
    }
  }

  /** Close the connection to a peer (and stop keeping it connected); false when not connected. */
  disconnect(remotePubkey: Uint8Array): boolean {
    const id = toHex(remotePubkey);
    const k = this.kept.get(id);
    if (k) {
      clearTimeout(k.timer);
      this.kept.delete(id);
    }
    const peer = this.peers.get(id);
    const t = this.confirmTimers.get(id);
    if (t) clearTimeout(t);
    this.confirmTimers.delete(id);
    this.addresses.delete(id);
    this.lastConfirm.delete(id);
    this.confirmMisses.delete(id);
    if (!peer) return k !== undefined;
    peer.close('disconnect requested by the operator');
    return true;
  }

  /**
   * Keep a peer connected: dial it now, and redial whenever the connection drops or a dial
   * fails, with a delay that doubles per failure (bounded), so our backup finds its providers
   * again after either side restarts.
   */
  keepConnected(remotePubkey: Uint8Array, host: string, port: number): void {
    const id = toHex(remotePubkey);
    const old = this.kept.get(id);
    if (old) clearTimeout(old.timer);
    this.kept.set(id, { pubkey: remotePubkey, host, port, failures: 0 });
    void this.dialKept(id);
  }

  private async dialKept(id: string): Promise<void> {
    const k = this.kept.get(id);
    if (!k || this.stopping) return;
    k.timer = undefined;
    if (this.peers.get(id)?.state === 'active') return;
    try {
      await this.connect(k.pubkey, k.host, k.port);
      k.failures = 0;
    } catch (e) {
      this.srvr.debug(`cannot reach kept peer ${id}@${k.host}:${k.port}: ${e instanceof Error ? e.message : String(e)}`);
      if (this.kept.get(id) === k && !this.peers.has(id)) this.scheduleRedial(id);
    }
  }

  private scheduleRedial(id: string): void {
    const k = this.kept.get(id);
    if (!k || k.timer || this.stopping) return;
    const delay = Math.min(MAX_RECONNECT_MS, this.opts.timeouts.reconnectMs * 2 ** Math.min(k.failures, 16));
    k.failures++;
    this.srvr.debug(`redialling ${id}@${k.host}:${k.port} in ${delay} ms`);
    k.timer = setTimeout(() => void this.dialKept(id), delay);
    k.timer.unref?.();
  }

  listPeers(): PeerInfo[] {
    return [...this.peers.values()].map(info).sort((a, b) => (a.peer < b.peer ? -1 : a.peer > b.peer ? 1 : 0));
  }

  peer(remotePubkey: Uint8Array): Peer | undefined {
    return this.peers.get(toHex(remotePubkey));
  }

  /**
   * Offer our newest backup to every connected peer that stores. Peers still inside their
   * retrieval wait get it when the wait ends. Returns, per peer, what happened now.
   */
  async placeBackup(): Promise<{ peer: string; sent: boolean; reason?: string }[]> {
    const out: { peer: string; sent: boolean; reason?: string }[] = [];
    for (const peer of this.peers.values()) {
      if (peer.state !== 'active') continue;
      if (!peer.providesStorage) {
        out.push({ peer: peer.id, sent: false, reason: 'does not advertise option_provide_storage' });
        continue;
      }
      if (peer.refused !== undefined) {
        out.push({ peer: peer.id, sent: false, reason: `refused our backup before (${peer.refused}); skipped until it reconnects with other features, or backup --force` });
        continue;
      }
      if (!peer.retrievalGateOpen) {
        out.push({ peer: peer.id, sent: false, reason: 'waiting for its peer_storage_retrieval; sent when the wait ends' });
        continue;
      }
      try {
        const seq = await peer.offerBackup();
        out.push(seq !== undefined ? { peer: peer.id, sent: true } : { peer: peer.id, sent: false, reason: 'already holds this backup or a newer one' });
      } catch (e) {
        out.push({ peer: peer.id, sent: false, reason: e instanceof Error ? e.message : String(e) });
      }
    }
    return out;
  }

  private sweep(): void {
    const now = this.now();
    const t = this.opts.timeouts;
    for (const peer of this.peers.values()) peer.tick(now, t.pingIntervalMs, t.pongTimeoutMs);
  }

  /** Stop accepting, close every connection. The caller flushes the provider afterwards. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    for (const k of this.kept.values()) clearTimeout(k.timer);
    for (const t of this.confirmTimers.values()) clearTimeout(t);
    this.confirmTimers.clear();
    const closing = Promise.all(this.servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    for (const s of this.pendingSockets) s.destroy();
    const peers = [...this.peers.values()];
    for (const p of peers) p.close('node shutting down');
    await Promise.all(peers.map((p) => p.closed));
    await closing;
  }
}

function info(p: Peer): PeerInfo {
  return {
    peer: p.id,
    address: p.conn.remoteAddress ?? null,
    inbound: p.inbound,
    state: p.state,
    features: [...p.features].sort((a, b) => a - b),
    provides_storage: p.providesStorage,
    connected_at: p.connectedAt,
    last_received_at: p.lastReceivedAt,
    blobs_received: p.blobsReceived,
    retrieval_status: p.retrievalStatus ?? null,
    retrieval_seq: p.retrievalSeq !== undefined ? p.retrievalSeq.toString() : null,
    sent_seq: p.sentSeq !== undefined ? p.sentSeq.toString() : null,
    refused: p.providesStorage ? (p.refused ?? null) : null,
  };
}
