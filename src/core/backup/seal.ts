// The lnps sealed blob (docs/FORMAT.md, "Sealed blob, version 1") and the sealed shard
// (version 2, same layout and crypto): size check, then checksum, then encrypt.
//
//   sealed blob (T bytes, 83 <= T <= 65531)
//     0      1  version (0x01 blob, 0x02 shard)
//     1     24  nonce
//     25  T-41  XChaCha20-Poly1305 ciphertext of the frame, AAD = the 25 header bytes
//     T-16  16  Poly1305 tag
//   frame (T-41 bytes)
//     0      8  seq, u64 BE          8  2  L, u16 BE          10  L  plaintext
//     10+L  32  SHA-256(frame[0 .. 10+L])                     42+L    zero padding
//
// Pure: bytes and keys in, bytes out. Never prints, never opens a file.
import { createCipheriv, createDecipheriv, createHash, getCiphers, hkdfSync, randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { hchacha, xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { InputError } from '../errors.js';
import { abytes } from '../bytes.js';

// ---- Types: plaintext, frame and sealed blob never mix by accident ----

declare const brand: unique symbol;
/** Bytes an operator wants kept safe. Never sent as they are. */
export type Plaintext = Uint8Array & { readonly [brand]: 'Plaintext' };
/** seq ‖ L ‖ plaintext ‖ checksum ‖ padding: the bytes that get encrypted. */
export type Frame = Uint8Array & { readonly [brand]: 'Frame' };
/** version ‖ nonce ‖ ciphertext ‖ tag: what a peer may hold. */
export type SealedBlob = Uint8Array & { readonly [brand]: 'SealedBlob' };

export type Padding = 'full' | 'none' | 'bucket';
export type SealVersion = 1 | 2;

export type OpenFailure =
  | 'bad_length' // T outside 83..65531
  | 'unknown_version' // version byte neither 0x01 nor 0x02
  | 'auth_failed' // wrong key or tampered bytes: one reason, no detail
  | 'bad_length_field' // L does not fit the frame
  | 'bad_checksum' // SHA-256 over seq ‖ L ‖ plaintext differs
  | 'nonzero_padding'; // a padding byte is not zero

export type OpenResult =
  | { ok: true; version: SealVersion; seq: bigint; plaintext: Plaintext; padding: Padding | 'other' }
  | { ok: false; reason: OpenFailure };

// ---- Sizes (docs/FORMAT.md, "Sealed blob, version 1") ----

const HEADER = 25; // version + nonce
const NONCE = 24;
const TAG = 16;
const FRAME_FIXED = 42; // seq 8 + L 2 + checksum 32
/** Bytes a sealed blob adds to its plaintext: header, tag, seq, length and checksum. */
export const OVERHEAD = HEADER + TAG + FRAME_FIXED; // 83
/** The spec's limit on a peer_storage blob. */
export const MAX_BLOB = 65531;
/** Smallest sealed blob: an empty plaintext with no padding. */
export const MIN_BLOB = OVERHEAD;
/** Largest plaintext: 65531 - 41 - 42. */
export const MAX_PLAINTEXT = MAX_BLOB - OVERHEAD; // 65448
/** Sizes `bucket` padding rounds up to; the last is the spec's limit. */
export const BUCKETS: readonly number[] = [1024, 4096, 16384, MAX_BLOB];

const MAX_SEQ = (1n << 64n) - 1n;

/** Total sealed size T for a plaintext of `plaintextLen` bytes under a padding mode. */
export function sealedLength(plaintextLen: number, pad: Padding = 'full'): number {
  if (!Number.isSafeInteger(plaintextLen) || plaintextLen < 0 || plaintextLen > MAX_PLAINTEXT)
    throw new RangeError(`"plaintextLen" expected an integer in 0..${MAX_PLAINTEXT}, got ${plaintextLen}`);
  const tight = OVERHEAD + plaintextLen;
  switch (pad) {
    case 'full':
      return MAX_BLOB;
    case 'none':
      return tight;
    case 'bucket':
      return BUCKETS.find((b) => b >= tight)!; // MAX_BLOB always fits
    default:
      throw new RangeError(`"pad" expected full, none or bucket, got ${String(pad)}`);
  }
}

// ---- The key ----

const SALT = new TextEncoder().encode('lnps peer storage');
const INFO = new TextEncoder().encode('sealed blob v1');
const REDACTED = 'SealKey [redacted]';

/** The only way to the key's bytes, and it does not leave this module. */
let keyBytes: (k: SealKey) => Uint8Array;

/**
 * The symmetric key of our sealed blobs. Its bytes live in a private field: printing,
 * logging or JSON-encoding the object shows nothing of them.
 */
export class SealKey {
  readonly #key: Uint8Array;

  /** Prefer deriveSealKey; this wraps an already derived 32-byte key (tests, tools). */
  constructor(key: Uint8Array) {
    abytes(key, 32, 'key');
    this.#key = Uint8Array.from(key);
  }

  static {
    keyBytes = (k) => k.#key;
  }

  /** Overwrite the key in memory; the object is unusable afterwards. */
  wipe(): void {
    this.#key.fill(0);
  }

  toJSON(): string {
    return REDACTED;
  }
  toString(): string {
    return REDACTED;
  }
  [inspect.custom](): string {
    return REDACTED;
  }
}

/**
 * key = HKDF-SHA256(ikm = node secret, salt = "lnps peer storage", info = "sealed blob v1", 32).
 * Version 2 shards use the same key. Derive once per process and pass the object around.
 */
export function deriveSealKey(nodeSecret: Uint8Array): SealKey {
  abytes(nodeSecret, 32, 'nodeSecret');
  const okm = new Uint8Array(hkdfSync('sha256', nodeSecret, SALT, INFO, 32));
  const key = new SealKey(okm);
  okm.fill(0);
  return key;
}

// ---- The cipher: XChaCha20-Poly1305 ----
//
// node:crypto has ChaCha20-Poly1305 (IETF, 12-byte nonce) but no XChaCha20. XChaCha20-Poly1305
// is by definition ChaCha20-Poly1305 under the subkey HChaCha20(key, nonce[0..16]) with the
// nonce 0x00000000 ‖ nonce[16..24], so deriving the subkey with noble and running node's native
// AEAD gives the same bytes as @noble/ciphers' xchacha20poly1305, several times faster
// (bench/seal.ts measures both; the tests check they agree byte for byte).

export type CipherBackend = 'native' | 'noble';

let nativeAvailable: boolean | undefined;
function hasNative(): boolean {
  if (nativeAvailable === undefined) {
    try {
      nativeAvailable = getCiphers().includes('chacha20-poly1305');
    } catch {
      nativeAvailable = false;
    }
  }
  return nativeAvailable;
}

let forced: CipherBackend | undefined;
/**
 * Choose the implementation of XChaCha20-Poly1305 (tests and benchmarks compare the two).
 * `undefined` restores the default: native when node:crypto has chacha20-poly1305.
 */
export function setCipherBackend(b: CipherBackend | undefined): void {
  if (b === 'native' && !hasNative()) throw new Error('node:crypto has no chacha20-poly1305 here');
  forced = b;
}
export function cipherBackend(): CipherBackend {
  return forced ?? (hasNative() ? 'native' : 'noble');
}

// ChaCha's constant for 32-byte keys.
const SIGMA_BYTES = new TextEncoder().encode('expand 32-byte k');

/** HChaCha20(key, nonce[0..16]) → 32-byte subkey, plus the 12-byte IETF nonce. */
function subkeyAndNonce(key: SealKey, nonce: Uint8Array): { subkey: Buffer; iv: Buffer } {
  // noble's hchacha takes word views over byte strings (it swaps on big-endian hosts), and its
  // output words, viewed as bytes, are the subkey.
  const out = new Uint32Array(8);
  const k = toHostWords(keyBytes(key));
  hchacha(SIGMA_WORDS, k, toHostWords(nonce.subarray(0, 16)), out);
  k.fill(0);
  const subkey = Buffer.from(out.buffer, out.byteOffset, 32);
  const iv = Buffer.alloc(12);
  iv.set(nonce.subarray(16, 24), 4);
  return { subkey, iv };
}

/** A word view over a copy of `bytes` (aligned, so any subarray is fine). */
function toHostWords(bytes: Uint8Array): Uint32Array {
  const w = new Uint32Array(bytes.length / 4);
  new Uint8Array(w.buffer).set(bytes);
  return w;
}
const SIGMA_WORDS = toHostWords(SIGMA_BYTES);

/** Encrypt `frame` into `out[25 .. T]`; `out[0 .. 25]` already holds the header. */
function encryptInto(key: SealKey, out: Uint8Array, frame: Frame): void {
  const header = out.subarray(0, HEADER);
  const nonce = out.subarray(1, HEADER);
  if (cipherBackend() === 'native') {
    const { subkey, iv } = subkeyAndNonce(key, nonce);
    const c = createCipheriv('chacha20-poly1305', subkey, iv, { authTagLength: TAG });
    subkey.fill(0);
    c.setAAD(header, { plaintextLength: frame.length });
    const ct = c.update(frame);
    c.final();
    out.set(ct, HEADER);
    out.set(c.getAuthTag(), HEADER + frame.length);
  } else {
    const ct = xchacha20poly1305(keyBytes(key), nonce, header).encrypt(frame);
    out.set(ct, HEADER);
  }
}

/** Decrypt and authenticate; undefined when the tag does not verify. */
function decrypt(key: SealKey, sealed: Uint8Array): Uint8Array | undefined {
  const header = sealed.subarray(0, HEADER);
  const nonce = sealed.subarray(1, HEADER);
  const T = sealed.length;
  if (cipherBackend() === 'native') {
    const { subkey, iv } = subkeyAndNonce(key, nonce);
    const d = createDecipheriv('chacha20-poly1305', subkey, iv, { authTagLength: TAG });
    subkey.fill(0);
    d.setAAD(header, { plaintextLength: T - HEADER - TAG });
    d.setAuthTag(sealed.subarray(T - TAG));
    const pt = d.update(sealed.subarray(HEADER, T - TAG));
    try {
      d.final();
    } catch {
      pt.fill(0); // unauthenticated bytes never leave this function
      return undefined;
    }
    return new Uint8Array(pt.buffer, pt.byteOffset, pt.length);
  }
  try {
    return xchacha20poly1305(keyBytes(key), nonce, header).decrypt(sealed.subarray(HEADER));
  } catch {
    return undefined;
  }
}

// ---- Frame ----

function uninitialized(n: number): Uint8Array {
  const b = Buffer.allocUnsafeSlow(n);
  return new Uint8Array(b.buffer, b.byteOffset, n);
}

function sha256(bytes: Uint8Array): Buffer {
  return createHash('sha256').update(bytes).digest();
}

/** seq ‖ L ‖ plaintext ‖ SHA-256(seq ‖ L ‖ plaintext) ‖ zeros, `frameLength` bytes in all. */
export function buildFrame(plaintext: Uint8Array, seq: bigint, frameLength: number): Frame {
  const L = abytes(plaintext, undefined, 'plaintext').length;
  if (typeof seq !== 'bigint' || seq < 0n || seq > MAX_SEQ) throw new RangeError(`"seq" expected a bigint in 0..2^64-1, got ${String(seq)}`);
  if (!Number.isSafeInteger(frameLength) || frameLength < FRAME_FIXED + L || frameLength > MAX_BLOB - HEADER - TAG)
    throw new RangeError(`"frameLength" expected ${FRAME_FIXED + L}..${MAX_BLOB - HEADER - TAG}, got ${frameLength}`);
  // Every byte is written below, so skip the allocator's zero-fill (it costs as much as the
  // copy at 64 KiB); a non-pooled buffer so the frame owns its whole ArrayBuffer.
  const frame = uninitialized(frameLength);
  const dv = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  dv.setBigUint64(0, seq, false);
  dv.setUint16(8, L, false);
  frame.set(plaintext, 10);
  frame.set(sha256(frame.subarray(0, 10 + L)), 10 + L);
  frame.fill(0, FRAME_FIXED + L); // the padding
  return frame as Frame;
}

/**
 * Encrypt a frame under a given header: the low-level step of `seal`. `version` is any byte,
 * so tests and tools can build blobs that carry a valid tag yet fail a later check.
 */
export function sealFrame(frame: Frame, opts: { key: SealKey; nonce: Uint8Array; version: number }): SealedBlob {
  if (!(opts.key instanceof SealKey)) throw new TypeError('"key" expected a SealKey (use deriveSealKey)');
  abytes(opts.nonce, NONCE, 'nonce');
  if (!Number.isInteger(opts.version) || opts.version < 0 || opts.version > 255)
    throw new RangeError(`"version" expected a byte, got ${opts.version}`);
  const out = uninitialized(HEADER + frame.length + TAG); // every byte is written
  out[0] = opts.version;
  out.set(opts.nonce, 1);
  encryptInto(opts.key, out, frame);
  return out as SealedBlob;
}

// ---- seal and open ----

export interface SealOptions {
  /** u64, larger = newer backup. */
  seq: bigint;
  /** `full` (default, the spec's SHOULD), `none` or `bucket`. */
  pad?: Padding;
  key: SealKey;
  /** Source of the 24-byte nonce; crypto.randomBytes by default. */
  random?: (n: number) => Uint8Array;
  /** 1 = sealed blob (default), 2 = sealed shard (its plaintext is a shard, see stripe). */
  version?: SealVersion;
}

function defaultRandom(n: number): Uint8Array {
  const b = randomBytes(n);
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
}

/** Seal a plaintext of at most MAX_PLAINTEXT bytes. A larger one is refused, never cut. */
export function seal(plaintext: Uint8Array, opts: SealOptions): SealedBlob {
  abytes(plaintext, undefined, 'plaintext');
  // "MUST keep the blob at or under 65531 bytes": check the plaintext against what is left of
  // the blob once every other byte is counted.
  if (plaintext.length > MAX_PLAINTEXT)
    throw new InputError(
      `plaintext is ${plaintext.length} bytes, but a sealed blob holds at most ${MAX_PLAINTEXT} bytes of plaintext (${plaintext.length - MAX_PLAINTEXT} too many): nothing was sealed`,
      'too_large',
    );
  const { seq, key } = opts;
  if (typeof seq !== 'bigint' || seq < 0n || seq > MAX_SEQ) throw new RangeError(`"seq" expected a bigint in 0..2^64-1, got ${String(seq)}`);
  if (!(key instanceof SealKey)) throw new TypeError('"key" expected a SealKey (use deriveSealKey)');
  const version = opts.version ?? 1;
  if (version !== 1 && version !== 2) throw new RangeError(`"version" expected 1 or 2, got ${String(version)}`);
  const T = sealedLength(plaintext.length, opts.pad ?? 'full');
  const nonce = abytes((opts.random ?? defaultRandom)(NONCE), NONCE, 'random(24)');
  const frame = buildFrame(plaintext, seq, T - HEADER - TAG);
  const sealed = sealFrame(frame, { key, nonce, version });
  frame.fill(0);
  return sealed;
}

/**
 * Open a sealed blob from an untrusted source. Total: any bytes give a result, never an
 * exception. Checks in the order of docs/FORMAT.md, "Reading a sealed blob", and stops at the
 * first that fails: length, version, tag, length field, checksum, padding.
 */
export function open(sealed: Uint8Array, key: SealKey): OpenResult {
  abytes(sealed, undefined, 'sealed');
  if (!(key instanceof SealKey)) throw new TypeError('"key" expected a SealKey (use deriveSealKey)');
  const T = sealed.length;
  if (T < MIN_BLOB || T > MAX_BLOB) return { ok: false, reason: 'bad_length' };
  const version = sealed[0];
  if (version !== 1 && version !== 2) return { ok: false, reason: 'unknown_version' };
  // A wrong key and a tampered byte look the same here, and must: one reason, no detail.
  const frame = decrypt(key, sealed);
  if (frame === undefined) return { ok: false, reason: 'auth_failed' };
  const dv = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const seq = dv.getBigUint64(0, false);
  const L = dv.getUint16(8, false);
  if (FRAME_FIXED + L > frame.length) return { ok: false, reason: 'bad_length_field' };
  const sum = sha256(frame.subarray(0, 10 + L));
  const stored = frame.subarray(10 + L, FRAME_FIXED + L);
  if (!sum.equals(stored)) return { ok: false, reason: 'bad_checksum' };
  // "a reader rejects non-zero padding": otherwise the padding could carry hidden bytes.
  for (let i = FRAME_FIXED + L; i < frame.length; i++) if (frame[i] !== 0) return { ok: false, reason: 'nonzero_padding' };
  const plaintext = frame.slice(10, 10 + L) as Plaintext;
  return { ok: true, version, seq, plaintext, padding: paddingOf(T, L) };
}

/**
 * Which mode gave this size. Sizes where modes coincide are named in this order: `full` for
 * 65531, then `none` (no padding bytes at all), then `bucket`; any other size is `other`.
 */
export function paddingOf(T: number, plaintextLen: number): Padding | 'other' {
  if (T === MAX_BLOB) return 'full';
  if (T === OVERHEAD + plaintextLen) return 'none';
  if (plaintextLen <= MAX_PLAINTEXT && T === sealedLength(plaintextLen, 'bucket')) return 'bucket';
  return 'other';
}
