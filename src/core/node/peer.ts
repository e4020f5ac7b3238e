// One connected peer, after the BOLT #8 handshake: the init exchange, ping/pong, the BOLT #1
// rules for unknown and malformed messages, and both sides of peer storage.
//
// Each peer reads its messages one at a time and awaits the work each one causes (the provider's
// write, a verification), so a peer that sends faster than we process is slowed by TCP through
// the transport, never buffered without bound. A failure closes this connection only.
//
// What one connection can make the node spend, by design:
// - memory: the transport's receive queue (its own bound), plus what we send and the peer has
//   not read: the read loop never waits on the peer reading. At most one pong is owed at a
//   time (further pings are ignored until it is written), and any send the socket has not
//   taken within the pong timeout drops the peer (`tick`). So unsent data is at most the
//   transport's send high-water mark plus one pong (65535 bytes) plus our own blob.
// - bandwidth: pongs beyond the size of the ping that asked for them draw on a budget of
//   PONG_BUDGET_BYTES per PONG_BUDGET_WINDOW_MS; a ping asking for more than is left is ignored
//   (never a reason to drop the peer). A ping no smaller than its pong costs nothing, so
//   round-trip liveness pings are always answered.
// - database: a refused peer_storage is refused again without asking the provider for
//   REFUSAL_HOLD_MS, so a flood of refused blobs costs no lookup per message.
// - log: one line per event kind per connection at most (a refusal, a warning text up to
//   MAX_LOGGED_WARNINGS), the rest counted and summed up in one line when the connection closes;
//   the logger caps every line at 1 KiB.
import { toHex } from '../bytes.js';
import { FEATURE_NAMES } from '../wire/features.js';
import { DecodeError } from '../errors.js';
import type { SubLogger } from './log.js';
import type { ConsumerPort, MessageConn, NodeCodec, NodeEvents, NodeMsg, OwnBlob, ProviderPort, RetrievalStatus } from './types.js';

/** BOLT #9 option_provide_storage: even = required, odd = optional. */
export const OPTION_PROVIDE_STORAGE_REQUIRED = 42;
export const OPTION_PROVIDE_STORAGE_OPTIONAL = 43;

/** BOLT #1: a ping asking for this many pong bytes or more MUST be ignored. */
export const PONG_LIMIT = 65532;

/** Warnings from one connection written to the log before the rest are dropped. */
const MAX_LOGGED_WARNINGS = 10;

/** Pong bytes a peer may draw beyond the size of its pings, per window: a few full-size pongs. */
export const PONG_BUDGET_BYTES = 256 * 1024;
export const PONG_BUDGET_WINDOW_MS = 30_000;
/** A ping is 6 bytes plus its ignored bytes; a pong 4 plus the bytes asked for. */
const PING_OVERHEAD = 6;
const PONG_OVERHEAD = 4;

/** After the provider refuses a blob, later ones on this connection are refused unasked this long. */
export const REFUSAL_HOLD_MS = 1000;

export interface PeerSettings {
  chainHash: Uint8Array;
  /** Advertise option_provide_storage and keep peers' blobs. */
  provideStorage: boolean;
  /** How long the peer has to send its init after the handshake. */
  initTimeoutMs: number;
  /** How long we wait for the peer's peer_storage_retrieval before sending our newest blob. */
  retrievalTimeoutMs: number;
}

export interface PeerDeps {
  codec: NodeCodec;
  log: SubLogger;
  now: () => number;
  provider?: ProviderPort | undefined;
  consumer?: ConsumerPort | undefined;
  /** Called after our blob was sent and recorded (the node schedules its read-back). */
  onSent?: ((peer: Peer) => void) | undefined;
  /** Counted events (metrics). */
  events?: NodeEvents | undefined;
}

export type PeerState = 'init' | 'active' | 'closed';

export class Peer {
  readonly pubkey: Uint8Array;
  readonly id: string;
  state: PeerState = 'init';
  features: ReadonlySet<number> = new Set();
  readonly connectedAt: number;
  lastReceivedAt: number;
  /** When we sent a ping still unanswered. */
  pingSentAt: number | undefined;
  /** Consumer side: what the peer's last retrieval was, and the seq it held. */
  retrievalStatus: RetrievalStatus | undefined;
  retrievalSeq: bigint | undefined;
  /** The seq of our blob we sent on this connection. */
  sentSeq: bigint | undefined;
  /** Provider side: blobs received on this connection. */
  blobsReceived = 0;
  /**
   * Consumer side: why placement skips this peer (it refused our blob, or does not advertise
   * storage), while no newer evidence says otherwise; undefined when it may be used.
   */
  refused: string | undefined;
  /** Provider side: a refusal was already explained to this peer in a warning on this connection. */
  private refusalWarned = false;
  closeReason: string | undefined;
  readonly closed: Promise<string>;
  private retrievalsSeen = 0;
  private warningsSeen = 0;
  /** A pong handed to the transport and not yet taken by the socket. */
  private pongOwed = false;
  /** Pong bytes drawn in the current budget window, and when the window began. */
  private pongBudgetUsed = 0;
  private pongWindowStart = 0;
  /** Pings ignored (pong owed, or over budget), reported when the connection closes. */
  pingsIgnored = 0;
  /** Sends not yet taken by the socket, and since when the oldest has waited. */
  private unsent = 0;
  private unsentSince: number | undefined;
  /** Refusals of this connection: the first is logged, the rest counted. */
  private refusals = 0;
  private lastRefusal: { at: number; status: string; reason: string | undefined; detail: string | undefined } | undefined;

  private resolveClosed!: (reason: string) => void;
  /** Consumer gate: opens when the peer's retrieval arrived or the wait timed out. */
  private gateOpen = false;
  private gateTimer: NodeJS.Timeout | undefined;
  private sending: Promise<void> = Promise.resolve();

  constructor(
    readonly conn: MessageConn,
    readonly inbound: boolean,
    private readonly settings: PeerSettings,
    private readonly deps: PeerDeps,
  ) {
    this.pubkey = conn.remotePubkey;
    this.id = toHex(conn.remotePubkey);
    this.connectedAt = deps.now();
    this.lastReceivedAt = this.connectedAt;
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
  }

  get label(): string {
    return `Peer(${this.id}${this.conn.remoteAddress ? '@' + this.conn.remoteAddress : ''})`;
  }

  /** True when the peer advertised option_provide_storage (bit 42 or 43). */
  get providesStorage(): boolean {
    return this.features.has(OPTION_PROVIDE_STORAGE_REQUIRED) || this.features.has(OPTION_PROVIDE_STORAGE_OPTIONAL);
  }

  /**
   * Exchange init, then run the message loop in the background. Resolves once the peer is
   * active; rejects (after closing) when the init exchange fails.
   */
  async start(): Promise<void> {
    const { codec, log } = this.deps;
    const features = this.settings.provideStorage ? [OPTION_PROVIDE_STORAGE_OPTIONAL] : [];
    // BOLT #1: each node MUST send init as its first message after the handshake.
    await this.send(codec.init({ features, chainHash: this.settings.chainHash }));
    const first = await this.readWithTimeout(this.settings.initTimeoutMs);
    if (first === null) {
      this.close('no init from peer');
      throw new Error(`${this.label} sent no init`);
    }
    let msg: NodeMsg;
    try {
      msg = codec.decode(first);
    } catch (e) {
      await this.fail(`malformed init: ${e instanceof Error ? e.message : String(e)}`);
      throw new Error(`${this.label} sent a malformed init`);
    }
    if (msg.kind !== 'init') {
      // BOLT #1: a node MUST wait to receive init before sending any other messages.
      await this.fail(`first message must be init, got ${msg.kind === 'unknown' || msg.kind === 'other' ? 'type ' + msg.type : msg.kind}`);
      throw new Error(`${this.label} did not start with init`);
    }
    if (msg.networks !== undefined && !msg.networks.some((h) => toHex(h) === toHex(this.settings.chainHash))) {
      // BOLT #1: with networks given and none in common, the receiver MAY close the connection.
      await this.fail('no network in common');
      throw new Error(`${this.label} is on another network`);
    }
    // BOLT #1 asks to fail on unknown even feature bits; lnps opens no channels, and the even
    // bits real nodes set (channel features) govern channels it never opens, so it logs them.
    // The codec keeps the bits up to 1023 only (and counts all), so this costs little.
    if (log.enabled('debug')) {
      const unknownEven = [...msg.features].filter((b) => b % 2 === 0 && b !== OPTION_PROVIDE_STORAGE_REQUIRED);
      if (unknownEven.length > 0) log.debug(`${this.label} requires ${unknownEven.length} even feature bits, first ${unknownEven.slice(0, 8).join(',')} (channel features, not used here)`);
    }
    this.features = msg.features;
    // Consumer: a refusal on record is looked up before the peer counts as connected, so
    // listpeers and backup placement never see it active and not yet known to have refused.
    // It sends nothing: the retrieval still goes out first (afterInit).
    await this.lookUpRefusal();
    if (this.state !== 'init') throw new Error(`${this.label} closed before it was active`);
    this.state = 'active';
    this.deps.events?.connection(this.inbound ? 'inbound' : 'outbound');
    this.lastReceivedAt = this.deps.now();
    // A feature count and the names we know, never the raw bit list: a peer may set every bit.
    const known = [...new Set([...msg.features].sort((a, b) => a - b).flatMap((b) => (FEATURE_NAMES[b] !== undefined ? [FEATURE_NAMES[b]!] : [])))];
    const count = msg.featureCount ?? msg.features.size;
    log.info(`${this.label} ${this.inbound ? 'inbound' : 'outbound'} connection active, ${count} feature bit${count === 1 ? '' : 's'}${known.length > 0 ? ' (' + known.join(', ') + ')' : ''}${this.providesStorage ? ', provides storage' : ''}`);

    void this.loop();
    await this.afterInit();
  }

  /** Consumer: whether this peer refused our backup before, with the features it has now. */
  private async lookUpRefusal(): Promise<void> {
    const { consumer, log } = this.deps;
    if (!consumer?.onInit) return;
    try {
      this.refused = (await consumer.onInit(this.pubkey, [...this.features].sort((a, b) => a - b), this.providesStorage, this.deps.now())).refused;
      if (this.refused !== undefined && this.providesStorage) log.info(`${this.label} refused our backup before (${this.refused}) and its features are the same: not placing with it`);
    } catch (e) {
      log.error(`${this.label} cannot read its refusal record: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /** Provider: send what we hold for this peer. Consumer: start the wait for its retrieval. */
  private async afterInit(): Promise<void> {
    const { provider, consumer, codec, log } = this.deps;
    if (this.settings.provideStorage && provider) {
      try {
        const blob = await provider.retrieval(this.pubkey);
        // Spec: the storer MUST send peer_storage_retrieval after each reconnection, right
        // after init (never after channel_reestablish).
        if (blob !== undefined && this.state === 'active') {
          await this.send(codec.peerStorageRetrieval(blob));
          log.info(`${this.label} sent peer_storage_retrieval (${blob.length} bytes)`);
        }
      } catch (e) {
        log.error(`${this.label} cannot read its stored blob: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    if (consumer && this.providesStorage) {
      // A restored node must not overwrite the good copy its peer holds: wait for the peer's
      // retrieval, or this timeout, before sending our newest blob.
      this.gateTimer = setTimeout(() => {
        this.gateTimer = undefined;
        if (this.gateOpen || this.state !== 'active') return;
        log.debug(`${this.label} sent no peer_storage_retrieval within ${this.settings.retrievalTimeoutMs} ms`);
        this.gateOpen = true;
        if (this.retrievalsSeen === 0) this.retrievalStatus = 'none';
        // Evidence too: a peer that reconnects and gives nothing back does not hold our blob.
        void (async () => {
          try {
            if (this.retrievalsSeen === 0) await consumer.onNoRetrieval?.(this.pubkey, this.deps.now(), this.connectedAt);
          } catch (e) {
            log.error(`${this.label} cannot record the missing retrieval: ${e instanceof Error ? e.message : String(e)}`);
          }
          await this.offerBackup();
        })();
      }, this.settings.retrievalTimeoutMs);
      this.gateTimer.unref?.();
    } else {
      this.gateOpen = true;
    }
  }

  /**
   * Send our newest backup if this peer stores, the retrieval gate is open, and the peer does
   * not already hold that seq or a newer one. Returns the seq sent, if any.
   */
  offerBackup(): Promise<bigint | undefined> {
    const run = async (): Promise<bigint | undefined> => {
      const { consumer, codec, log } = this.deps;
      if (!consumer || this.state !== 'active' || !this.providesStorage || !this.gateOpen || this.refused !== undefined) return undefined;
      const newest = await consumer.newest(this.pubkey);
      if (newest === undefined) return undefined;
      if (this.sentSeq !== undefined && this.sentSeq >= newest.seq) return undefined;
      if (this.retrievalStatus === 'confirmed' && this.retrievalSeq !== undefined && this.retrievalSeq >= newest.seq) return undefined;
      await this.sendOwn(newest);
      log.info(`${this.label} sent peer_storage seq ${newest.seq} (${newest.sealed.length} bytes)`);
      return newest.seq;
    };
    // Serialize: two triggers (timeout and a `backup` call) never send twice.
    const p = this.sending.then(run, run);
    this.sending = p.then(
      () => undefined,
      () => undefined,
    );
    return p;
  }

  private async sendOwn(blob: OwnBlob): Promise<void> {
    await this.send(this.deps.codec.peerStorage(blob.sealed));
    this.sentSeq = blob.seq;
    await this.deps.consumer!.recordSent(this.pubkey, blob, this.deps.now());
    this.deps.onSent?.(this);
  }

  /** Whether the consumer gate is open (tests and listpeers). */
  get retrievalGateOpen(): boolean {
    return this.gateOpen;
  }

  private async loop(): Promise<void> {
    try {
      while (this.state === 'active') {
        const raw = await this.conn.read();
        if (raw === null) break;
        this.lastReceivedAt = this.deps.now();
        this.pingSentAt = undefined;
        await this.handle(raw);
      }
      this.close(this.closeReason ?? 'connection closed by peer');
    } catch (e) {
      this.close(`connection error: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  private async handle(raw: Uint8Array): Promise<void> {
    const { codec, log, provider } = this.deps;
    let msg: NodeMsg;
    try {
      msg = codec.decode(raw);
    } catch (e) {
      if (e instanceof DecodeError) {
        // A malformed known message: warn and close this connection only.
        const type = raw.length >= 2 ? (raw[0]! << 8) | raw[1]! : -1;
        await this.fail(`malformed message type ${type}: ${e.message}`);
        return;
      }
      throw e;
    }
    switch (msg.kind) {
      case 'ping':
        this.onPing(msg.numPongBytes, raw.length);
        return;
      case 'pong':
        return;
      case 'peer_storage':
        if (!this.settings.provideStorage || !provider) {
          // Spec: storage is only expected from a node that advertised option_provide_storage.
          log.debug(`${this.label} sent peer_storage (${msg.blob.length} bytes), ignored: not providing storage`);
          return;
        }
        this.blobsReceived++;
        try {
          const now = this.deps.now();
          const held = this.lastRefusal;
          // Refused a moment ago (policy or quota): refuse again without a database lookup.
          const out = held && now - held.at < REFUSAL_HOLD_MS ? held : await provider.receive(this.pubkey, msg.blob, now);
          this.deps.events?.peerStorage(out.status, out.reason);
          // A write is worth a line; a blob held behind the cooldown is not (a flood would
          // fill the log). A refusal is the operator's business, once per connection: the
          // rest are counted and reported when the connection closes. The line is only built
          // when it is written: a flood of held blobs makes none.
          if (out.status === 'refused') {
            if (out !== held && out.reason !== 'too_large') this.lastRefusal = { at: now, status: out.status, reason: out.reason, detail: out.detail };
            if (this.refusals++ === 0) log.warn(this.storageLine(msg.blob.length, out) + '; further refusals on this connection are counted, not logged');
          } else if (out.status === 'stored') log.info(this.storageLine(msg.blob.length, out));
          else if (log.enabled('debug')) log.debug(this.storageLine(msg.blob.length, out));
          // The sender hears why, in a warning naming the reason, once per connection (a peer
          // that keeps sending gets no more: one warning costs it nothing to provoke).
          if (out.status === 'refused' && !this.refusalWarned) {
            this.refusalWarned = true;
            // Not awaited: the read loop never waits on the peer reading.
            this.send(codec.warning(`peer_storage refused (${out.reason ?? 'refused'})${out.detail ? ': ' + out.detail : ''}`)).catch(() => undefined);
          }
        } catch (e) {
          this.deps.events?.peerStorage('error');
          log.error(`${this.label} peer_storage not stored: ${e instanceof Error ? e.message : String(e)}`);
        }
        return;
      case 'peer_storage_retrieval':
        await this.onRetrieval(msg.blob);
        return;
      case 'warning':
        await this.onWarning(msg.text);
        // A peer's text goes to our log: a few lines per connection, not a flood.
        if (++this.warningsSeen <= MAX_LOGGED_WARNINGS) log.warn(`${this.label} sent warning: ${msg.text}`);
        else if (this.warningsSeen === MAX_LOGGED_WARNINGS + 1) log.warn(`${this.label} keeps sending warnings; no more are logged for this connection`);
        return;
      case 'error':
        log.warn(`${this.label} sent error: ${msg.text}; closing`);
        this.close('peer sent error');
        return;
      case 'init':
        log.debug(`${this.label} sent a second init, ignored`);
        return;
      case 'other':
        log.trace(`${this.label} sent ${msg.name}, ignored`);
        return;
      case 'unknown':
        // BOLT #1: "it's OK to be odd": ignore an unknown odd type; an unknown even type
        // MUST close the connection.
        if (msg.type % 2 === 1) {
          log.trace(`${this.label} sent unknown odd message type ${msg.type}, ignored`);
          return;
        }
        await this.fail(`unknown even message type ${msg.type}`);
        return;
    }
  }

  /** The log line for a peer_storage we received and what became of it. */
  private storageLine(len: number, out: { status: string; reason?: string; detail?: string }): string {
    const why = out.detail ?? out.reason;
    return `${this.label} peer_storage ${len} bytes: ${out.status}${why ? ' (' + why + ')' : ''}`;
  }

  /**
   * A warning about peer_storage after we sent our blob on this connection is the peer's
   * refusal of it: recorded once per connection, and placement skips the peer from now on.
   */
  private async onWarning(text: string): Promise<void> {
    const { consumer, log } = this.deps;
    if (!consumer?.onRefusal || this.sentSeq === undefined || this.refused !== undefined) return;
    if (!/peer_storage/i.test(text)) return;
    // Stored and shown to the operator: bounded, and only printable text (the codec's peerText).
    this.refused = text.length > 200 ? text.slice(0, 200) + '…' : text;
    log.warn(`${this.label} refused our backup seq ${this.sentSeq}: ${this.refused}`);
    try {
      await consumer.onRefusal(this.pubkey, this.refused, [...this.features].sort((a, b) => a - b), this.deps.now());
    } catch (e) {
      log.error(`${this.label} cannot record the refusal: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /** The operator asks to place with this peer again (`backup --force`). */
  async forgetRefusal(): Promise<void> {
    this.refused = undefined;
    await this.deps.consumer?.forgetRefusal?.(this.pubkey);
  }

  private async onRetrieval(blob: Uint8Array): Promise<void> {
    const { consumer, log, codec } = this.deps;
    if (!consumer) {
      log.debug(`${this.label} sent peer_storage_retrieval (${blob.length} bytes), no consumer`);
      return;
    }
    // The storer sends it once, right after init. Judging more of them would let a peer drive a
    // verification and a database write per message, so only the first counts.
    if (this.retrievalsSeen++ > 0) {
      if (this.retrievalsSeen === 2) log.debug(`${this.label} sent another peer_storage_retrieval on this connection, ignored (and any further)`);
      return;
    }
    const r = await consumer.onRetrieval(this.pubkey, blob, this.deps.now());
    this.retrievalStatus = r.status;
    this.retrievalSeq = r.seq;
    const seqText = r.seq !== undefined ? ` seq ${r.seq}` : '';
    const line = `${this.label} peer_storage_retrieval ${blob.length} bytes: ${r.status}${seqText}${r.detail ? ' (' + r.detail + ')' : ''}`;
    if (r.status === 'confirmed') log.info(line);
    else log.warn(line);
    if (r.recorded === false) log.debug(`${this.label} was never sent a blob by us: its retrieval is counted, not recorded`);
    if (this.gateTimer) {
      clearTimeout(this.gateTimer);
      this.gateTimer = undefined;
    }
    this.gateOpen = true;
    if (r.status === 'stale') {
      // Spec: the receiver of peer_storage_retrieval MAY send a warning when it is outdated.
      // Not awaited: the read loop never waits on the peer reading (see the header).
      this.send(codec.warning(`peer_storage_retrieval holds seq ${r.seq}, older than our newest backup; sending the newest`)).catch(() => undefined);
    }
    this.offerBackup().catch((e) => log.debug(`${this.label} backup not sent: ${e instanceof Error ? e.message : String(e)}`));
  }

  /**
   * BOLT #1: answer with num_pong_bytes bytes if it is less than 65532, else ignore. Within
   * that: one pong owed at a time, and the pong budget (see the header). Never awaited by the
   * read loop.
   */
  private onPing(numPongBytes: number, pingLen: number): void {
    if (numPongBytes >= PONG_LIMIT) return;
    if (this.pongOwed) {
      this.pingsIgnored++;
      return;
    }
    const now = this.deps.now();
    if (now - this.pongWindowStart >= PONG_BUDGET_WINDOW_MS) {
      this.pongWindowStart = now;
      this.pongBudgetUsed = 0;
    }
    // Only the amplification counts: what the pong is larger than the ping.
    const cost = Math.max(0, PONG_OVERHEAD + numPongBytes - pingLen);
    if (this.pongBudgetUsed + cost > PONG_BUDGET_BYTES) {
      this.pingsIgnored++;
      return;
    }
    this.pongBudgetUsed += cost;
    this.pongOwed = true;
    this.send(this.deps.codec.pong(numPongBytes)).then(
      () => (this.pongOwed = false),
      () => undefined,
    );
  }

  /** Record liveness checks; called by the node's sweep. Returns true when the peer was dropped. */
  tick(now: number, pingIntervalMs: number, pongTimeoutMs: number): boolean {
    if (this.state !== 'active') return false;
    if (this.unsentSince !== undefined && now - this.unsentSince >= pongTimeoutMs) {
      // What we sent has waited this long for the peer to read it: it is not reading.
      this.deps.log.info(`${this.label} has not read what we sent for ${now - this.unsentSince} ms: disconnecting`);
      this.close('not reading: send not drained');
      return true;
    }
    if (this.pingSentAt !== undefined) {
      if (now - this.pingSentAt >= pongTimeoutMs) {
        this.deps.log.info(`${this.label} silent for ${now - this.lastReceivedAt} ms, no pong: disconnecting`);
        this.close('ping timeout');
        return true;
      }
      return false;
    }
    if (now - this.lastReceivedAt >= pingIntervalMs) {
      this.pingSentAt = now;
      this.deps.log.debug(`${this.label} silent for ${now - this.lastReceivedAt} ms: sending ping`);
      this.send(this.deps.codec.ping(8, 0)).catch(() => this.close('send failed'));
    }
    return false;
  }

  /**
   * Send a warning naming the problem, then close: only this connection is affected. The
   * close is graceful (the warning is flushed first), and never waits on the peer reading.
   */
  private async fail(reason: string): Promise<void> {
    this.deps.log.warn(`${this.label} ${reason}: sending warning and disconnecting`);
    this.closeReason = reason;
    if (this.state !== 'closed') this.send(this.deps.codec.warning(reason)).catch(() => undefined);
    this.close(reason);
  }

  /** Send one message; resolves when the socket took it. Sends still waiting are watched by `tick`. */
  async send(msg: Uint8Array): Promise<void> {
    if (this.state === 'closed') throw new Error('connection closed');
    if (this.unsent++ === 0) this.unsentSince = this.deps.now();
    try {
      await this.conn.send(msg);
    } finally {
      if (--this.unsent === 0) this.unsentSince = undefined;
    }
  }

  private readWithTimeout(ms: number): Promise<Uint8Array | null> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => resolve(null), ms);
      this.conn.read().then(
        (m) => {
          clearTimeout(timer);
          resolve(m);
        },
        (e) => {
          clearTimeout(timer);
          reject(e);
        },
      );
    });
  }

  close(reason: string): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.closeReason ??= reason;
    if (this.gateTimer) clearTimeout(this.gateTimer);
    // The sums of what was counted instead of logged, one line for the whole connection.
    const counted: string[] = [];
    if (this.refusals > 1) counted.push(`${this.refusals - 1} more peer_storage refused`);
    if (this.warningsSeen > MAX_LOGGED_WARNINGS) counted.push(`${this.warningsSeen - MAX_LOGGED_WARNINGS} more warnings`);
    if (this.pingsIgnored > 0) counted.push(`${this.pingsIgnored} pings ignored (pong owed or over the pong budget)`);
    if (this.retrievalsSeen > 1) counted.push(`${this.retrievalsSeen - 1} more peer_storage_retrieval ignored`);
    if (counted.length > 0) this.deps.log.info(`${this.label} on this connection: ${counted.join(', ')}`);
    try {
      this.conn.close();
    } catch {
      /* already closed */
    }
    this.resolveClosed(this.closeReason);
  }
}
