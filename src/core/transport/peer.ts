// The BOLT #8 transport over a TCP socket: run the handshake with a deadline, then move whole
// encrypted messages both ways with backpressure in both directions.
//
// Reading: decrypted messages wait in a queue until read(). Each queued message is charged its
// length plus MESSAGE_OVERHEAD bytes (the objects that hold it: a 2-byte message costs about
// 380 bytes of heap), and the queue holds at most MAX_QUEUED_MESSAGES messages. Once the charge
// reaches `highWaterMark` or the count its cap, we stop decrypting (the rest of the socket chunk
// waits, still encrypted, in the decryptor) and pause the socket, so TCP flow control slows a
// fast sender instead of us buffering without bound. The bound per connection, by design:
//   highWaterMark (default 512 KiB, overhead included) + one message (65535 bytes)
//   + bytes not yet decrypted (at most one socket read plus one partial frame, 65569)
// where a read is 64 KiB through 'data' events and at most SHARED_READ_SIZE (four frames,
// 256 KiB) through reader.ts; so under 1 MiB with the defaults (512 + 64 + 256 + 64 KiB),
// whether a peer sends 65535-byte or 0-byte messages.
// Sockets made by connectPeer() or adoptAccepted() read into the decryptor's buffers (reader.ts),
// so that is all; a socket read through 'data' events also holds, while paused, its own read
// buffer (its readableHighWaterMark plus one read).
// Writing: send() resolves once the socket took the bytes, as long as the socket's write buffer
// holds at most `sendHighWaterMark` bytes; beyond that it waits for 'drain'. Callers that await
// each send() therefore never buffer more than sendHighWaterMark + one frame. (The socket's own
// 16 KiB mark is below one 64 KiB frame, which would make every large send wait a round trip.)
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { abytes } from '../bytes.js';
import { TransportError, type TransportErrorCode } from './errors.js';
import {
  ACT_ONE_SIZE,
  ACT_THREE_SIZE,
  ACT_TWO_SIZE,
  InitiatorHandshake,
  ResponderHandshake,
  type HandshakeResult,
  type LocalKey,
} from './handshake.js';
import { MessageDecryptor, MessageEncryptor, sharedReadBuffer, sharedSmallRead, SMALL_READ_SIZE, type SessionKeys } from './cipher.js';
import { connectRouted, readRouteOf } from './reader.js';

/** Default time allowed for connecting plus the three acts. */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;
/** Default cap on decrypted bytes queued for a slow reader (overhead included) before the socket is paused. */
export const DEFAULT_HIGH_WATER_MARK = 512 * 1024;
/**
 * Heap charged per queued message on top of its bytes: its Uint8Array and ArrayBuffer objects,
 * the backing store's bookkeeping and the queue slot (measured at about 380 bytes on Node 20).
 */
export const MESSAGE_OVERHEAD = 400;
/** At most this many messages wait in a connection's receive queue, whatever their size. */
export const MAX_QUEUED_MESSAGES = 1024;
/** Default bytes the socket may hold unwritten before send() waits for 'drain'. */
export const DEFAULT_SEND_HIGH_WATER_MARK = 256 * 1024;
/** Bytes one read may take during the handshake (the acts are 50 and 66 bytes; what follows waits). */
export const HANDSHAKE_READ_SIZE = SMALL_READ_SIZE;
/** How long close() waits for the other side to finish before destroying the socket. */
const CLOSE_GRACE_MS = 5_000;

export interface PeerOptions {
  /**
   * Our node's static key: a LocalKey prepared once per node (what a server should pass, so no
   * connection pays for it), or the 32-byte secret.
   */
  localSecret: Uint8Array | LocalKey;
  /** Milliseconds for TCP connect plus the whole handshake (default 10,000). */
  timeoutMs?: number;
  /**
   * Decrypted bytes queued before reading from the socket pauses, each message charged its
   * length plus MESSAGE_OVERHEAD (default 512 KiB).
   */
  highWaterMark?: number;
  /** Unwritten bytes the socket may hold before send() waits for 'drain' (default 256 KiB). */
  sendHighWaterMark?: number;
  /** Tests only: a fixed ephemeral secret for the handshake. */
  ephemeralSecret?: Uint8Array;
}

export interface ConnectOptions extends PeerOptions {
  host: string;
  port: number;
  /** The node key we expect on the other side, 33 bytes compressed. */
  remotePubkey: Uint8Array;
}

/** One step of the handshake: wait for `size` bytes, feed them to `read`, write what it returns. */
interface Step {
  size: number;
  code: TransportErrorCode; // READ_FAILED code if the socket ends first
  read(bytes: Uint8Array): Uint8Array | undefined;
}

/**
 * Drive the handshake steps over `socket`: each act is sent in one write (some implementations
 * read an act with a single read). Resolves with the bytes that arrived after the last act
 * (the initiator may send its first message right behind act three).
 */
function runHandshake(
  socket: Socket,
  timeoutMs: number,
  steps: Step[],
  start: ((write: (b: Uint8Array) => void) => void) | undefined,
  describe: string,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let buf: Buffer = Buffer.alloc(0);
    let i = 0;
    let settled = false;
    const route = readRouteOf(socket);
    const cleanup = () => {
      clearTimeout(timer);
      if (route) route.detach();
      else socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
      socket.off('error', onError);
      socket.off('connect', onConnect);
    };
    const failWith = (err: Error) => {
      if (settled) return;
      settled = true;
      cleanup();
      socket.on('error', () => {}); // a late error on a socket we gave up on must not crash
      socket.destroy();
      reject(err);
    };
    const write = (b: Uint8Array) => void socket.write(b);
    const onData = (chunk: Buffer) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      try {
        while (i < steps.length && buf.length >= steps[i]!.size) {
          const step = steps[i++]!;
          const out = step.read(buf.subarray(0, step.size));
          buf = buf.subarray(step.size);
          if (out) write(out);
        }
      } catch (err) {
        failWith(err instanceof Error ? err : new Error(String(err)));
        return;
      }
      if (i === steps.length && !settled) {
        settled = true;
        cleanup();
        resolve(buf);
      }
    };
    const onEnd = () =>
      failWith(new TransportError(steps[i]?.code ?? 'CLOSED', `${describe}: connection closed during the handshake`));
    const onError = (err: NodeJS.ErrnoException) => {
      const code = socket.connecting || !connected ? 'CONNECT_FAILED' : 'SOCKET_ERROR';
      failWith(new TransportError(code, `${describe}: ${err.code ?? err.message}`, { cause: err }));
    };
    let connected = !socket.connecting;
    const onConnect = () => {
      connected = true;
      start?.(write);
    };
    const timer = setTimeout(
      () => failWith(new TransportError('HANDSHAKE_TIMEOUT', `${describe}: handshake did not finish within ${timeoutMs} ms`)),
      timeoutMs,
    );
    socket.on('end', onEnd);
    socket.on('close', onEnd);
    socket.on('error', onError);
    if (connected) start?.(write);
    else socket.on('connect', onConnect);
    if (route) {
      // Reads land in the shared buffer: the acts are small, keep copies. Before the peer is
      // authenticated a read takes at most HANDSHAKE_READ_SIZE bytes, not the whole shared
      // buffer: that is all one unauthenticated connection can make us copy at a time.
      const held = route.attach(
        (view, n) => onData(Buffer.from(view.subarray(0, n))),
        sharedSmallRead,
      );
      if (held.length > 0) onData(Buffer.concat(held));
    } else socket.on('data', onData);
    // A server made with pauseOnConnect hands over a paused socket.
    if (!settled) socket.resume();
  });
}

function checkTimeout(ms: number | undefined): number {
  if (ms === undefined) return DEFAULT_HANDSHAKE_TIMEOUT_MS;
  if (!Number.isFinite(ms) || ms <= 0) throw new RangeError(`"timeoutMs" expected a positive number, got ${ms}`);
  return ms;
}

/**
 * Open a TCP connection to `host:port` and run the handshake as initiator. Resolves when the
 * three acts are done; rejects with TransportError (CONNECT_FAILED, HANDSHAKE_TIMEOUT, ACT2_*)
 * after destroying the socket.
 */
export async function connectPeer(opts: ConnectOptions): Promise<PeerConnection> {
  const timeoutMs = checkTimeout(opts.timeoutMs);
  const hs = new InitiatorHandshake(opts);
  const socket = connectRouted({ host: opts.host, port: opts.port, noDelay: true });
  let result: HandshakeResult | undefined;
  const where = `${opts.host}:${opts.port}`;
  const leftover = await runHandshake(
    socket,
    timeoutMs,
    [
      {
        size: ACT_TWO_SIZE,
        code: 'ACT2_READ_FAILED',
        read: (m) => {
          const r = hs.readActTwo(m);
          result = r.result;
          return r.actThree;
        },
      },
    ],
    (write) => write(hs.actOne()),
    `handshake with ${where}`,
  );
  return new PeerConnection(socket, result!, true, leftover, opts);
}

/**
 * Run the handshake as responder on an accepted socket (a net.Server 'connection'). Resolves
 * with the connection once act three checks out; on any failure the socket is destroyed and the
 * promise rejects with TransportError (ACT1_*, ACT3_*, HANDSHAKE_TIMEOUT). Other sockets are
 * untouched.
 */
export async function acceptPeer(socket: Socket, opts: PeerOptions): Promise<PeerConnection> {
  let timeoutMs: number;
  let hs: ResponderHandshake;
  try {
    timeoutMs = checkTimeout(opts.timeoutMs);
    hs = new ResponderHandshake(opts);
  } catch (err) {
    socket.destroy(); // our misuse must not leave a stranger's socket open
    throw err;
  }
  socket.setNoDelay(true);
  let result: HandshakeResult | undefined;
  const where = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
  const leftover = await runHandshake(
    socket,
    timeoutMs,
    [
      { size: ACT_ONE_SIZE, code: 'ACT1_READ_FAILED', read: (m) => hs.readActOne(m) },
      {
        size: ACT_THREE_SIZE,
        code: 'ACT3_READ_FAILED',
        read: (m) => {
          result = hs.readActThree(m);
          return undefined;
        },
      },
    ],
    undefined,
    `handshake from ${where}`,
  );
  return new PeerConnection(socket, result!, false, leftover, opts);
}

interface Waiter {
  resolve(v: Uint8Array | null): void;
}
interface DrainWaiter {
  resolve(): void;
  reject(e: Error): void;
}

export interface PeerConnectionEvents {
  /** Emitted once when the socket has closed; `reason` is set when it ended on an error. */
  close: [reason: Error | undefined];
}

/**
 * An authenticated, encrypted connection to one peer, moving whole messages (at most 65535
 * bytes each). Made by connectPeer() or acceptPeer().
 *
 * - `send(msg)`: resolves when the socket accepted the frame (after 'drain' under
 *   backpressure); rejects with TransportError CLOSED once the connection is closed.
 * - `read()` / `for await (const msg of conn)`: the next whole message, or null once the
 *   connection is closed for any reason. read() never rejects: the reason (a failed MAC, a
 *   socket error, undefined for a clean close) is `closeReason` and the 'close' event's argument.
 *   Messages that arrived intact before a failure are still delivered first.
 * - `close()`: a graceful close (pending writes are flushed); `destroy(reason)`: immediate.
 */
export class PeerConnection extends EventEmitter<PeerConnectionEvents> {
  /** The other node's static public key (33 bytes), authenticated by the handshake. */
  readonly remotePubkey: Uint8Array;
  /** Our node's static public key (33 bytes). */
  readonly localPubkey: Uint8Array;
  /** True when we opened the connection. */
  readonly initiator: boolean;
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;

  private readonly socket: Socket;
  private readonly enc: MessageEncryptor;
  private readonly dec: MessageDecryptor;
  private readonly highWaterMark: number;
  private readonly sendHighWaterMark: number;
  private queue: Uint8Array[] = [];
  private queueHead = 0;
  private queuedBytes = 0; // payload bytes in the queue
  private queuedCost = 0; // payload plus MESSAGE_OVERHEAD per message: what highWaterMark caps
  private decFailed = false; // the decryptor hit a bad MAC: nothing more is decrypted
  private readers: Waiter[] = [];
  private drainers: DrainWaiter[] = [];
  private ended = false; // no more messages will arrive
  private closing = false; // we closed or destroyed: nothing more may be sent
  private closedFlag = false;
  private reason: Error | undefined;
  private readonly closedPromise: Promise<void>;

  /** @internal Use connectPeer() or acceptPeer(). */
  constructor(socket: Socket, hs: HandshakeResult, initiator: boolean, leftover: Buffer, opts: PeerOptions) {
    super();
    this.socket = socket;
    this.remotePubkey = hs.remotePubkey;
    this.localPubkey = hs.localPubkey; // from the handshake: no second key derivation
    this.initiator = initiator;
    this.remoteAddress = socket.remoteAddress;
    this.remotePort = socket.remotePort;
    const keys: SessionKeys = hs.keys;
    this.enc = keys.encryptor();
    this.dec = keys.decryptor();
    const hwm = opts.highWaterMark ?? DEFAULT_HIGH_WATER_MARK;
    if (!Number.isInteger(hwm) || hwm < 1) throw new RangeError(`"highWaterMark" expected a positive integer, got ${hwm}`);
    this.highWaterMark = hwm;
    const shwm = opts.sendHighWaterMark ?? DEFAULT_SEND_HIGH_WATER_MARK;
    if (!Number.isInteger(shwm) || shwm < 0) throw new RangeError(`"sendHighWaterMark" expected a non-negative integer, got ${shwm}`);
    // Never below the socket's own mark: then a full buffer always means write() returned false
    // and a 'drain' will come.
    this.sendHighWaterMark = Math.max(shwm, socket.writableHighWaterMark);
    this.closedPromise = new Promise((resolve) => this.once('close', () => resolve()));

    const route = readRouteOf(socket);
    let held: Buffer[] = [];
    if (route) {
      // Reads land where the decryptor says (its own buffer or the shared one); nothing is
      // kept for a connection that is closing.
      held = route.attach(
        (view, n) => this.onRead(view, n),
        () => (this.closing || this.ended || this.decFailed ? sharedReadBuffer() : this.dec.readBuffer()),
      );
    } else socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => this.onEnd());
    socket.on('error', (err: NodeJS.ErrnoException) => {
      this.reason ??= new TransportError('SOCKET_ERROR', `connection to peer failed: ${err.code ?? err.message}`, { cause: err });
    });
    socket.on('drain', () => this.flushDrainers());
    socket.on('close', () => this.onClose());
    if (leftover.length > 0) this.onData(leftover);
    for (const b of held) this.onData(b); // held reads paused the socket; fill() resumed it
  }

  /** Why the connection closed: undefined while open or after a clean close. */
  get closeReason(): Error | undefined {
    return this.reason;
  }
  /** Received bytes not yet read: queued messages plus at most one partial frame. */
  get bufferedBytes(): number {
    return this.queuedBytes + this.dec.bufferedBytes;
  }
  /** Decrypted messages waiting for read() (at most MAX_QUEUED_MESSAGES). */
  get queuedMessages(): number {
    return this.queue.length - this.queueHead;
  }
  get isClosed(): boolean {
    return this.closedFlag;
  }
  /** Resolves once the socket has closed. */
  get closed(): Promise<void> {
    return this.closedPromise;
  }

  /**
   * Encrypt and write one message (at most 65535 bytes; larger is a RangeError, our misuse).
   * Messages go out in call order. Await it: it stays pending while the socket is backed up.
   */
  send(msg: Uint8Array): Promise<void> {
    if (this.closing || this.closedFlag || this.socket.destroyed)
      return Promise.reject(new TransportError('CLOSED', 'cannot send: the connection is closed'));
    let parts: Buffer[];
    try {
      parts = this.enc.encryptParts(abytes(msg, undefined, 'message'));
    } catch (err) {
      return Promise.reject(err);
    }
    let ok = true;
    if (parts.length === 1) ok = this.socket.write(parts[0]!);
    else {
      // Corked writes leave as one writev: one frame, one syscall, no copy into a frame buffer.
      this.socket.cork();
      for (const p of parts) ok = this.socket.write(p);
      this.socket.uncork();
    }
    if (ok || this.socket.writableLength <= this.sendHighWaterMark) return Promise.resolve();
    return new Promise((resolve, reject) => this.drainers.push({ resolve, reject }));
  }

  /** The next whole message, or null once the connection is closed (see closeReason). */
  read(): Promise<Uint8Array | null> {
    if (this.queueHead < this.queue.length) return Promise.resolve(this.shift());
    if (this.ended || this.closing) return Promise.resolve(null);
    return new Promise((resolve) => this.readers.push({ resolve }));
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    for (;;) {
      const m = await this.read();
      if (m === null) return;
      yield m;
    }
  }

  /** Close gracefully: flush what was sent, then end; destroys after a grace period. */
  close(): Promise<void> {
    if (!this.closing && !this.closedFlag) {
      this.closing = true;
      this.releaseReaders();
      this.socket.end();
      // Keep reading (and discarding) so the other side's FIN is seen and 'close' follows.
      this.socket.resume();
      const grace = setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS).unref();
      this.socket.once('close', () => clearTimeout(grace));
    }
    return this.closedPromise;
  }

  /** Close now. `reason`, if given, becomes closeReason and the 'close' event's argument. */
  destroy(reason?: Error): void {
    if (this.closedFlag) return;
    if (reason) this.reason ??= reason;
    this.closing = true;
    this.releaseReaders();
    this.socket.destroy();
  }

  private shift(): Uint8Array {
    const m = this.queue[this.queueHead]!;
    this.queue[this.queueHead++] = undefined as unknown as Uint8Array;
    if (this.queueHead === this.queue.length) {
      this.queue = [];
      this.queueHead = 0;
    }
    this.queuedBytes -= m.length;
    this.queuedCost -= m.length + MESSAGE_OVERHEAD;
    // Room again: decrypt what already arrived, then let the socket go on.
    if (!this.closing) this.fill();
    return m;
  }

  private onData(chunk: Buffer): void {
    if (this.closing || this.ended) return; // after close() or a failure, input is ignored
    this.dec.push(chunk);
    this.fill();
  }

  /** A read into the buffer the decryptor chose (see reader.ts). */
  private onRead(view: Uint8Array, n: number): void {
    if (this.closing || this.ended) return;
    this.dec.wrote(view, n);
    this.fill();
  }

  private full(): boolean {
    return this.queuedCost >= this.highWaterMark || this.queue.length - this.queueHead >= MAX_QUEUED_MESSAGES;
  }

  /**
   * Decrypt buffered bytes into the queue (or straight to waiting readers) until the queue is
   * full or no whole frame is left, then pause or resume the socket to match. Afterwards either
   * the queue is full or the decryptor holds no whole frame, so read() on an empty queue never
   * misses a message.
   */
  private fill(): void {
    if (this.decFailed) return;
    try {
      while (this.queuedCost < this.highWaterMark && this.queue.length - this.queueHead < MAX_QUEUED_MESSAGES) {
        const m = this.dec.next();
        if (m === undefined) break;
        const r = this.readers.shift();
        if (r) r.resolve(m);
        else {
          this.queue.push(m);
          this.queuedBytes += m.length;
          this.queuedCost += m.length + MESSAGE_OVERHEAD;
        }
      }
    } catch (err) {
      // A failed MAC: "MUST terminate the connection". Intact earlier messages stay readable.
      this.decFailed = true;
      this.reason ??= err as Error;
      this.ended = true;
      this.releaseReaders();
      this.socket.destroy();
      return;
    }
    if (this.full()) {
      if (!this.socket.isPaused()) this.socket.pause();
    } else if (this.socket.isPaused() && !this.closing && !this.socket.destroyed) this.socket.resume();
  }

  private onEnd(): void {
    this.ended = true;
    this.releaseReaders();
  }

  private onClose(): void {
    this.closedFlag = true;
    this.ended = true;
    this.releaseReaders();
    if (this.drainers.length > 0) {
      // Made only when someone waits: an Error captures a stack, which a busy server should not
      // pay on every close.
      const err = new TransportError('CLOSED', 'the connection closed before the message was written');
      for (const d of this.drainers.splice(0)) d.reject(err);
    }
    this.emit('close', this.reason);
  }

  private releaseReaders(): void {
    // Pending readers exist only when the queue is empty, so they all get null.
    for (const r of this.readers.splice(0)) r.resolve(null);
  }

  private flushDrainers(): void {
    for (const d of this.drainers.splice(0)) d.resolve();
  }
}
