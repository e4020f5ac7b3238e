// The encrypted message stream after the handshake: each message is sent as
//   encrypt(len as u16 BE) (18 bytes) || encrypt(message) (len + 16 bytes)
// with one nonce per encryption. Each direction keeps its own key, nonce AND chaining key and
// rotates them on its own (BOLT #8 "Key rotation is performed for each key (sk and rk)
// individually"): sharing one chaining key between directions gives wrong keys as soon as both
// directions have rotated.
import { createSecretKey, type KeyObject } from 'node:crypto';
import { abytes } from '../bytes.js';
import { TransportError } from './errors.js';
import { hkdf2, nonce96, openIv, sealIntoIv, sealPartsIv, setNonce } from './primitives.js';
import { keyWords, openLength, openSmall, sealLength, SMALL_BODY_MAX } from './header.js';

/** "The maximum size of any Lightning message MUST NOT exceed 65535 bytes." */
export const MAX_MESSAGE_SIZE = 65535;
/** Encrypted length prefix: 2 bytes + 16-byte tag. */
export const LENGTH_HEADER_SIZE = 18;
export const TAG_SIZE = 16;
/** The largest frame on the wire: 18 + 65535 + 16. */
export const MAX_FRAME_SIZE = LENGTH_HEADER_SIZE + MAX_MESSAGE_SIZE + TAG_SIZE;
/** A key is rotated when its nonce reaches this value, i.e. after 500 messages. */
export const ROTATION_NONCE = 1000;

/** The outcome of a handshake: one key per direction and the final chaining key. */
export class SessionKeys {
  constructor(
    /** Our sending key. */
    readonly sendKey: Uint8Array,
    /** Our receiving key. */
    readonly recvKey: Uint8Array,
    /** The chaining key at the end of act three; each direction starts its own copy. */
    readonly chainingKey: Uint8Array,
  ) {
    abytes(sendKey, 32, 'sendKey');
    abytes(recvKey, 32, 'recvKey');
    abytes(chainingKey, 32, 'chainingKey');
  }
  encryptor(): MessageEncryptor {
    return new MessageEncryptor(this.sendKey, this.chainingKey);
  }
  decryptor(): MessageDecryptor {
    return new MessageDecryptor(this.recvKey, this.chainingKey);
  }
  /** Never print keys: inspection and JSON show nothing secret. */
  toJSON(): string {
    return '[SessionKeys]';
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return '[SessionKeys]';
  }
}

/** One direction's key, nonce and chaining key. */
class KeyState {
  private key: Uint8Array;
  // The same key as a KeyObject, made once per key: node:crypto takes it without re-importing
  // raw bytes on every cipher (four ciphers per message).
  private keyObject: KeyObject;
  // And as words for the length prefixes, which are sealed in JS (header.ts).
  private words: Uint32Array;
  private ck: Uint8Array;
  private n = 0;
  // The 96-bit nonce for `n`, kept up to date instead of built per message (createCipheriv
  // copies it, so reusing one buffer is safe).
  private readonly iv = nonce96(0);
  constructor(key: Uint8Array, ck: Uint8Array) {
    this.key = key.slice();
    this.keyObject = createSecretKey(this.key);
    this.words = keyWords(this.key);
    this.ck = ck.slice();
  }
  /** Encrypt with the current key and nonce into `out[offset..]`, then advance. */
  sealInto(plaintext: Uint8Array, out: Uint8Array, offset: number): void {
    sealIntoIv(this.keyObject, this.iv, plaintext, out, offset);
    this.advance();
  }
  /** Encrypt a 2-byte length prefix with the current key and nonce into `out[offset..]`, then advance. */
  sealLength(len: Uint8Array, out: Uint8Array, offset: number): void {
    sealLength(this.words, this.n, len, out, offset);
    this.advance();
  }
  /** Decrypt an 18-byte length prefix with the current key and nonce (-1: the tag failed), then advance. */
  openLength(sealed: Uint8Array): number {
    const out = openLength(this.words, this.n, sealed);
    this.advance();
    return out;
  }
  /** Encrypt with the current key and nonce as [ciphertext, tag], then advance. */
  sealParts(plaintext: Uint8Array): [Buffer, Buffer] {
    const out = sealPartsIv(this.keyObject, this.iv, plaintext);
    this.advance();
    return out;
  }
  /** Decrypt `sealed` (ciphertext || tag) with the current key and nonce, then advance. */
  open(sealed: Uint8Array): Uint8Array | undefined {
    // Bodies of 1 to SMALL_BODY_MAX bytes in JS (header.ts), without a node:crypto cipher.
    const small = sealed.length > TAG_SIZE && sealed.length <= SMALL_BODY_MAX + TAG_SIZE;
    const out = small ? openSmall(this.words, this.n, sealed) : openIv(this.keyObject, this.iv, sealed);
    this.advance();
    return out;
  }
  private advance(): void {
    // "The nonce MUST be incremented after this step." Rotation: "ck', k' = HKDF(ck, k)", then
    // n = 0. The spec's vectors rotate when the nonce reaches 1000 (message 500 uses the new key).
    if (++this.n === ROTATION_NONCE) {
      [this.ck, this.key] = hkdf2(this.ck, this.key);
      this.keyObject = createSecretKey(this.key);
      this.words = keyWords(this.key);
      this.n = 0;
    }
    setNonce(this.iv, this.n);
  }
}

/** Encrypts outgoing messages into whole frames, in order. */
export class MessageEncryptor {
  private readonly ks: KeyState;
  /** The plaintext length prefix, reused: the cipher reads it before encrypt() returns. */
  private readonly len = Buffer.alloc(2);
  constructor(key: Uint8Array, chainingKey: Uint8Array) {
    this.ks = new KeyState(abytes(key, 32, 'key'), abytes(chainingKey, 32, 'chainingKey'));
  }
  /** The whole frame for `msg` (a Buffer, ready for socket.write). RangeError over 65535 bytes. */
  encrypt(msg: Uint8Array): Buffer {
    abytes(msg, undefined, 'message');
    if (msg.length > MAX_MESSAGE_SIZE)
      throw new RangeError(`"message" expected at most ${MAX_MESSAGE_SIZE} bytes, got ${msg.length}`);
    const frame = Buffer.allocUnsafe(LENGTH_HEADER_SIZE + msg.length + TAG_SIZE);
    this.len.writeUInt16BE(msg.length, 0);
    this.ks.sealLength(this.len, frame, 0);
    this.ks.sealInto(msg, frame, LENGTH_HEADER_SIZE);
    return frame;
  }

  /**
   * The same frame as encrypt(), as buffers to write in order (one writev). Large messages skip
   * copying the ciphertext into one frame buffer; small ones come back as one buffer.
   */
  encryptParts(msg: Uint8Array): Buffer[] {
    abytes(msg, undefined, 'message');
    if (msg.length < 4096) return [this.encrypt(msg)];
    if (msg.length > MAX_MESSAGE_SIZE)
      throw new RangeError(`"message" expected at most ${MAX_MESSAGE_SIZE} bytes, got ${msg.length}`);
    const header = Buffer.allocUnsafe(LENGTH_HEADER_SIZE);
    this.len.writeUInt16BE(msg.length, 0);
    this.ks.sealLength(this.len, header, 0);
    const [body, tag] = this.ks.sealParts(msg);
    return [header, body, tag];
  }
}

/**
 * Decrypts an incoming byte stream into whole messages. Push bytes in pieces of any size; pull
 * messages with next(). Chunk boundaries never matter: the state only advances when a whole
 * length header or a whole body is present, so each nonce is used exactly once.
 *
 * A socket can also read straight into the decryptor's memory (Node's `onread` option, see
 * reader.ts): readBuffer() says where the next read goes, wrote() says what landed there. While
 * no frame is pending, reads go to one buffer shared by the whole process (up to four full
 * frames after a full-size message, 64 KiB after a smaller one) and whole frames are decrypted
 * where they landed; a partial frame left over is copied into this decryptor's receive buffer
 * (MAX_FRAME_SIZE bytes, allocated then), and the next read lands right behind it, so the frame
 * completes in place (a full-size one exactly fills the receive buffer, and the read after it
 * is on a frame boundary again). The receive buffer is given back when a read ends a small
 * message on a frame boundary, short of its room (the peer has stopped sending): a peer that
 * sends small messages, pings included, holds none between them. Never more than one partial
 * frame plus one read is pending.
 */
export class MessageDecryptor {
  private readonly ks: KeyState;
  private chunks: Buffer[] = [];
  private head = 0; // bytes of chunks[0] already consumed
  private buffered = 0;
  private bodyLength = -1; // length of the pending body once its header was decrypted
  private failed: TransportError | undefined;
  private rx: Buffer | undefined; // receive buffer while a frame is pending (see readBuffer())
  private lastShort = false; // the last read filled less than the room it was given
  private lastBody = 0; // length of the last body whose header was decrypted

  constructor(key: Uint8Array, chainingKey: Uint8Array) {
    this.ks = new KeyState(abytes(key, 32, 'key'), abytes(chainingKey, 32, 'chainingKey'));
  }

  /** Bytes received but not yet returned as a message (at most one partial frame after next()). */
  get bufferedBytes(): number {
    return this.buffered;
  }
  /** True between frames: no partial frame is pending. */
  get atBoundary(): boolean {
    return this.buffered === 0 && this.bodyLength < 0;
  }

  push(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.chunks.push(Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length));
    this.buffered += bytes.length;
  }

  /**
   * Where the next socket read should put its bytes: the function of Node's `onread.buffer`,
   * called once after each read (and once before the first). Bytes of the last read that are
   * still pending and sit in the shared buffer are moved to this decryptor's own buffer first,
   * since the next read on any socket may overwrite the shared one. Never an empty buffer.
   */
  readBuffer(): Uint8Array {
    const p = this.buffered;
    if (p === 0) {
      this.chunks.length = 0;
      this.head = 0;
      // The peer stopped after a small message: give the receive buffer back. After a large
      // one it is kept for the next partial frame (a peer streaming full-size messages leaves
      // one at the end of most reads), until a small message ends a read.
      if (this.lastShort && this.lastBody < SMALL_BODY) this.rx = undefined;
      // On a frame boundary: after a full-size message, up to four whole frames in one read,
      // decrypted where they land. After a smaller one, 64 KiB: a read of small frames is
      // thousands of messages, more than a stopped reader's queue takes, and what it cannot
      // take is copied and kept, so small messages keep reads at the size they always had.
      return this.lastBody >= SMALL_BODY ? sharedReadBuffer() : sharedSmallRead();
    }
    if (p > MAX_FRAME_SIZE) {
      // Only when more than a frame waits undecrypted (the reader's queue is full): keep copies
      // of whatever sits in the shared buffer and read into it again, 64 KiB at a time, so a
      // connection that stays in this state copies no more per read than it always did.
      const shared = sharedReadBuffer();
      for (let i = 0; i < this.chunks.length; i++) {
        const c = this.chunks[i]!;
        if (c.buffer === shared.buffer) this.chunks[i] = Buffer.from(c);
      }
      return sharedSmallRead();
    }
    const rx = (this.rx ??= Buffer.allocUnsafeSlow(MAX_FRAME_SIZE));
    const first = this.chunks[0]!;
    let end: number; // pending bytes end here in rx
    if (this.chunks.length === 1 && first.buffer === rx.buffer) {
      // Already in the receive buffer: leave it where it is when the frame can complete there.
      const start = first.byteOffset + this.head;
      end = first.byteOffset + first.length;
      const frame = this.bodyLength >= 0 ? this.bodyLength + TAG_SIZE : MAX_FRAME_SIZE;
      if (start + frame > rx.length) {
        rx.copyWithin(0, start, end);
        end -= start;
        this.chunks[0] = rx.subarray(0, end);
        this.head = 0;
      }
    } else {
      // Gather the pending bytes at the front of rx. Only the first chunk can already be in rx
      // (every gather leaves one chunk, and a later read appends to it or comes after it); were
      // one behind others, they are first joined into a buffer of their own.
      if (this.chunks.some((c, i) => i > 0 && c.buffer === rx.buffer)) {
        const joined = Buffer.concat(this.chunks.map((c, i) => (i === 0 ? c.subarray(this.head) : c)));
        this.chunks.length = 0;
        this.chunks.push(joined);
        this.head = 0;
      }
      let off = 0;
      for (let i = 0; i < this.chunks.length; i++) {
        const c = this.chunks[i]!;
        const from = i === 0 ? this.head : 0;
        if (c.buffer === rx.buffer) rx.copyWithin(off, c.byteOffset + from, c.byteOffset + c.length);
        else c.copy(rx, off, from);
        off += c.length - from;
      }
      end = off;
      this.chunks.length = 0;
      this.chunks.push(rx.subarray(0, end));
      this.head = 0;
    }
    // Full only when a whole frame waits undecrypted (the reader's queue is full and the socket
    // paused); by the next read it has been decrypted, so that read can go to the shared buffer.
    return end < rx.length ? rx.subarray(end) : sharedReadBuffer();
  }

  /** `n` bytes were read into `view`, a buffer readBuffer() returned. */
  wrote(view: Uint8Array, n: number): void {
    if (!Number.isInteger(n) || n < 0 || n > view.length) throw new RangeError(`"n" expected an integer in 0..${view.length}, got ${n}`);
    this.lastShort = n < view.length;
    if (n === 0) return;
    const rx = this.rx;
    const last = this.chunks[this.chunks.length - 1];
    if (rx !== undefined && view.buffer === rx.buffer && last !== undefined && last.buffer === rx.buffer && last.byteOffset + last.length === view.byteOffset) {
      // Right behind the pending bytes: one chunk grows (its start, and so `head`, stay put).
      this.chunks[this.chunks.length - 1] = Buffer.from(rx.buffer, last.byteOffset, last.length + n);
    } else {
      this.chunks.push(Buffer.from(view.buffer, view.byteOffset, n));
    }
    this.buffered += n;
  }

  /**
   * The next whole message, or undefined when more bytes are needed. Throws TransportError
   * MSG_LENGTH_BAD_TAG / MSG_BAD_TAG on a failed MAC; after that the stream is dead ("MUST
   * terminate the connection") and every call throws the same error.
   */
  next(): Uint8Array | undefined {
    if (this.failed) throw this.failed;
    if (this.bodyLength < 0) {
      if (this.buffered < LENGTH_HEADER_SIZE) return undefined;
      const lc = this.take(LENGTH_HEADER_SIZE);
      const l = this.ks.openLength(lc);
      if (l < 0) throw (this.failed = new TransportError('MSG_LENGTH_BAD_TAG', 'message length prefix: MAC check failed'));
      this.bodyLength = l;
      this.lastBody = l;
    }
    if (this.buffered < this.bodyLength + TAG_SIZE) return undefined;
    const c = this.take(this.bodyLength + TAG_SIZE);
    this.bodyLength = -1;
    const m = this.ks.open(c);
    if (m === undefined) throw (this.failed = new TransportError('MSG_BAD_TAG', 'message body: MAC check failed'));
    return m;
  }

  /**
   * Remove exactly n buffered bytes (n <= buffered). No copy when one chunk holds them;
   * otherwise they are gathered into a scratch buffer shared by every decryptor, so a frame that
   * spans socket reads (a 64 KiB message always does) costs no allocation. The result is only
   * valid until the next take() anywhere: next() decrypts it at once into a fresh buffer.
   */
  private take(n: number): Uint8Array {
    this.buffered -= n;
    const first = this.chunks[0]!;
    if (first.length - this.head >= n) {
      const out = first.subarray(this.head, this.head + n);
      this.head += n;
      if (this.head === first.length) {
        this.chunks.shift();
        this.head = 0;
      }
      return out;
    }
    const out = (scratch ??= Buffer.allocUnsafe(MAX_FRAME_SIZE)).subarray(0, n);
    let off = 0;
    while (off < n) {
      const c = this.chunks[0]!;
      const k = Math.min(c.length - this.head, n - off);
      c.copy(out, off, this.head, this.head + k);
      off += k;
      this.head += k;
      if (this.head === c.length) {
        this.chunks.shift();
        this.head = 0;
      }
    }
    return out;
  }
}

// One process-wide buffer for frames that span reads (see take()); decryption is synchronous,
// so no two decryptors ever use it at the same time.
let scratch: Buffer | undefined;

/**
 * Bytes of the process-wide read buffer: four full frames. A connection streaming full-size
 * messages then makes one read, and one trip through the event loop, per up to four messages
 * instead of one per message (bench/serve-cpu.ts: about 5% less CPU per flood). It is also how
 * much one read can leave undecrypted in a connection whose reader stopped (peer.ts). After a
 * smaller message a read takes SMALL_READ_SIZE of it (see readBuffer()).
 */
export const SHARED_READ_SIZE = 4 * MAX_FRAME_SIZE;
/** A read on a frame boundary after a message shorter than SMALL_BODY (see readBuffer()). */
export const SMALL_READ_SIZE = 65536;
/** A body this short comes whole in one SMALL_READ_SIZE read with its header (see readBuffer()). */
const SMALL_BODY = SMALL_READ_SIZE - LENGTH_HEADER_SIZE - TAG_SIZE;
let sharedRead: Buffer | undefined;

/**
 * The buffer every socket without a pending frame reads into (see MessageDecryptor.readBuffer).
 * Sharing is safe because a read's bytes are used, or copied out, before that socket's next
 * buffer is chosen, and Node runs one read callback at a time.
 */
export function sharedReadBuffer(): Buffer {
  return (sharedRead ??= Buffer.allocUnsafeSlow(SHARED_READ_SIZE));
}

let sharedSmall: Buffer | undefined;
/** The first SMALL_READ_SIZE bytes of the shared read buffer. */
export function sharedSmallRead(): Buffer {
  return (sharedSmall ??= sharedReadBuffer().subarray(0, SMALL_READ_SIZE));
}
