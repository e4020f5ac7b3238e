// ChaCha20-Poly1305 (RFC 8439, empty AD) for the 2-byte length prefix of every message.
// Byte-identical to node:crypto's AEAD (a differential test checks), but a node:crypto cipher
// costs about 5 us to set up, which is most of the cost for 2 bytes and two of them per message
// and direction (bench/transport.ts). Here: two ChaCha20 blocks (the Poly1305 key and the key
// stream), then Poly1305 over the 32 bytes the AEAD authenticates, written for exactly those two
// blocks into scratch that is reused, so a message header allocates nothing (a general
// Poly1305 object cost about 2 KiB of heap per header). The block function is add-rotate-xor on
// 32-bit words and Poly1305 is arithmetic on fixed limbs, so timing does not depend on the key;
// the tag check compares all 16 bytes. Message bodies of 1 to 16 bytes are opened the same way
// (openSmall: for them too the AEAD's input is two blocks); the others stay on node:crypto.

/** A 32-byte key as eight little-endian 32-bit words, the form the block function takes. */
export function keyWords(key: Uint8Array): Uint32Array {
  const w = new Uint32Array(8);
  for (let i = 0; i < 8; i++) w[i] = (key[4 * i]! | (key[4 * i + 1]! << 8) | (key[4 * i + 2]! << 16) | (key[4 * i + 3]! << 24)) >>> 0;
  return w;
}

const rotl = (x: number, n: number): number => (x << n) | (x >>> (32 - n));

/**
 * One ChaCha20 block (RFC 8439 section 2.3) for key words `k`, block counter `counter` and the
 * BOLT #8 nonce "32 zero bits, then the 64-bit little-endian n" with n < 2^32, written to
 * `out` as 16 words.
 */
function chachaBlock(k: Uint32Array, counter: number, n: number, out: Uint32Array): void {
  // State: constants "expand 32-byte k", key, counter, nonce words (0, n, 0).
  const s0 = 0x61707865, s1 = 0x3320646e, s2 = 0x79622d32, s3 = 0x6b206574;
  const s4 = k[0]!, s5 = k[1]!, s6 = k[2]!, s7 = k[3]!, s8 = k[4]!, s9 = k[5]!, s10 = k[6]!, s11 = k[7]!;
  const s12 = counter, s13 = 0, s14 = n, s15 = 0;
  let x0 = s0, x1 = s1, x2 = s2, x3 = s3, x4 = s4, x5 = s5, x6 = s6, x7 = s7;
  let x8 = s8, x9 = s9, x10 = s10, x11 = s11, x12 = s12, x13 = s13, x14 = s14, x15 = s15;
  for (let i = 0; i < 10; i++) {
    // Column round.
    x0 = (x0 + x4) | 0; x12 = rotl(x12 ^ x0, 16); x8 = (x8 + x12) | 0; x4 = rotl(x4 ^ x8, 12);
    x0 = (x0 + x4) | 0; x12 = rotl(x12 ^ x0, 8); x8 = (x8 + x12) | 0; x4 = rotl(x4 ^ x8, 7);
    x1 = (x1 + x5) | 0; x13 = rotl(x13 ^ x1, 16); x9 = (x9 + x13) | 0; x5 = rotl(x5 ^ x9, 12);
    x1 = (x1 + x5) | 0; x13 = rotl(x13 ^ x1, 8); x9 = (x9 + x13) | 0; x5 = rotl(x5 ^ x9, 7);
    x2 = (x2 + x6) | 0; x14 = rotl(x14 ^ x2, 16); x10 = (x10 + x14) | 0; x6 = rotl(x6 ^ x10, 12);
    x2 = (x2 + x6) | 0; x14 = rotl(x14 ^ x2, 8); x10 = (x10 + x14) | 0; x6 = rotl(x6 ^ x10, 7);
    x3 = (x3 + x7) | 0; x15 = rotl(x15 ^ x3, 16); x11 = (x11 + x15) | 0; x7 = rotl(x7 ^ x11, 12);
    x3 = (x3 + x7) | 0; x15 = rotl(x15 ^ x3, 8); x11 = (x11 + x15) | 0; x7 = rotl(x7 ^ x11, 7);
    // Diagonal round.
    x0 = (x0 + x5) | 0; x15 = rotl(x15 ^ x0, 16); x10 = (x10 + x15) | 0; x5 = rotl(x5 ^ x10, 12);
    x0 = (x0 + x5) | 0; x15 = rotl(x15 ^ x0, 8); x10 = (x10 + x15) | 0; x5 = rotl(x5 ^ x10, 7);
    x1 = (x1 + x6) | 0; x12 = rotl(x12 ^ x1, 16); x11 = (x11 + x12) | 0; x6 = rotl(x6 ^ x11, 12);
    x1 = (x1 + x6) | 0; x12 = rotl(x12 ^ x1, 8); x11 = (x11 + x12) | 0; x6 = rotl(x6 ^ x11, 7);
    x2 = (x2 + x7) | 0; x13 = rotl(x13 ^ x2, 16); x8 = (x8 + x13) | 0; x7 = rotl(x7 ^ x8, 12);
    x2 = (x2 + x7) | 0; x13 = rotl(x13 ^ x2, 8); x8 = (x8 + x13) | 0; x7 = rotl(x7 ^ x8, 7);
    x3 = (x3 + x4) | 0; x14 = rotl(x14 ^ x3, 16); x9 = (x9 + x14) | 0; x4 = rotl(x4 ^ x9, 12);
    x3 = (x3 + x4) | 0; x14 = rotl(x14 ^ x3, 8); x9 = (x9 + x14) | 0; x4 = rotl(x4 ^ x9, 7);
  }
  out[0] = x0 + s0; out[1] = x1 + s1; out[2] = x2 + s2; out[3] = x3 + s3;
  out[4] = x4 + s4; out[5] = x5 + s5; out[6] = x6 + s6; out[7] = x7 + s7;
  out[8] = x8 + s8; out[9] = x9 + s9; out[10] = x10 + s10; out[11] = x11 + s11;
  out[12] = x12 + s12; out[13] = x13 + s13; out[14] = x14 + s14; out[15] = x15 + s15;
}

// Scratch, reused: everything here runs synchronously and is overwritten on every call.
const block = new Uint32Array(16);
const polyKey = new Uint8Array(32);
const macData = new Uint8Array(32);
const tag = new Uint8Array(16);
const rBytes = new Uint8Array(16);
// Poly1305 state as ten 13-bit limbs (130 bits), held in doubles: every product and sum below
// stays under 2^34, far inside the 2^53 a double holds exactly, and carries use division, so no
// 32-bit truncation can occur.
const r = new Float64Array(10);
const h = new Float64Array(10);
const d = new Float64Array(10);
const LIMB = 8192; // 2^13

/** Byte k of the 17-byte little-endian number bytes[off..off+16] || top (0 beyond it). */
function byteAt(bytes: Uint8Array, off: number, top: number, k: number): number {
  return k < 16 ? bytes[off + k]! : k === 16 ? top : 0;
}

/** Bits [13i, 13i + 13) of the number bytes[off..off+16] || top, as ten limbs. */
function limbs(bytes: Uint8Array, off: number, top: number, out: Float64Array): void {
  for (let i = 0; i < 10; i++) {
    const bit = 13 * i;
    const at = bit >>> 3;
    const v = byteAt(bytes, off, top, at) | (byteAt(bytes, off, top, at + 1) << 8) | (byteAt(bytes, off, top, at + 2) << 16);
    out[i] = (v >>> (bit & 7)) & 0x1fff;
  }
}

/** Carry every limb into the next; what leaves limb 9 (2^130) comes back times 5 (mod 2^130 - 5). */
function carry(x: Float64Array): void {
  let c = 0;
  for (let i = 0; i < 10; i++) {
    const v = x[i]! + c;
    c = Math.floor(v / LIMB);
    x[i] = v - c * LIMB;
  }
  x[0] = x[0]! + 5 * c;
  c = Math.floor(x[0] / LIMB);
  x[0] = x[0] - c * LIMB;
  x[1] = x[1]! + c; // at most 2^13 + 1: the next carry() or the final reduction takes it
}

/**
 * Poly1305 (RFC 8439 section 2.5) of the first 32 bytes of `msg` (two full blocks) under the
 * 32-byte one-time `key`, written to `out[0..16]`. Allocates nothing.
 */
export function poly1305Two(key: Uint8Array, msg: Uint8Array, out: Uint8Array): void {
  // r, clamped: the top four bits of bytes 3, 7, 11, 15 and the low two of bytes 4, 8, 12 cleared.
  rBytes.set(key.subarray(0, 16));
  rBytes[3]! &= 15; rBytes[7]! &= 15; rBytes[11]! &= 15; rBytes[15]! &= 15;
  rBytes[4]! &= 252; rBytes[8]! &= 252; rBytes[12]! &= 252;
  limbs(rBytes, 0, 0, r);
  h.fill(0);
  for (let off = 0; off < 32; off += 16) {
    // h = (h + block + 2^128) * r mod 2^130 - 5; 2^130 = 5 (mod p) folds the high products down.
    limbs(msg, off, 1, d);
    for (let i = 0; i < 10; i++) h[i] = h[i]! + d[i]!;
    for (let i = 0; i < 10; i++) {
      let s = 0;
      for (let j = 0; j < 10; j++) s += h[j]! * (j <= i ? r[i - j]! : 5 * r[i + 10 - j]!);
      d[i] = s;
    }
    carry(d);
    h.set(d);
  }
  carry(h);
  // Now h < 2^130 + small; h mod p is h, or h + 5 - 2^130 when h >= p. Both computed, one
  // chosen by a mask, so the choice takes the same time either way.
  let c = 5;
  for (let i = 0; i < 10; i++) {
    const v = h[i]! + c;
    c = Math.floor(v / LIMB); // 0 or 1: limbs are below 2^13 + 2 here
    d[i] = v - c * LIMB;
  }
  const mask = -c; // -1 (keep g) when h + 5 reached 2^130, else 0
  for (let i = 0; i < 10; i++) h[i] = (d[i]! & mask) | (h[i]! & ~mask);
  // (h + s) mod 2^128, byte by byte; h's bits above 128 drop out.
  let acc = 0;
  let bits = 0;
  let limb = 0;
  let sum = 0;
  for (let i = 0; i < 16; i++) {
    while (bits < 8) {
      acc += h[limb++]! * (1 << bits); // bits is 0..7 here
      bits += 13;
    }
    sum += (acc & 0xff) + key[16 + i]!;
    out[i] = sum & 0xff;
    sum >>>= 8;
    acc = Math.floor(acc / 256);
    bits -= 8;
  }
}

/**
 * The Poly1305 tag, keyed by block 0 for nonce `n`, over a ciphertext of 1 to 16 bytes at
 * `ct[off..off+len]`: pad16(ct) || le64(0) || le64(len), two blocks. Into scratch, reused.
 */
function tagOf(k: Uint32Array, n: number, ct: Uint8Array, off: number, len: number): Uint8Array {
  chachaBlock(k, 0, n, block);
  for (let i = 0; i < 8; i++) {
    const w = block[i]!;
    polyKey[4 * i] = w;
    polyKey[4 * i + 1] = w >>> 8;
    polyKey[4 * i + 2] = w >>> 16;
    polyKey[4 * i + 3] = w >>> 24;
  }
  macData.fill(0);
  for (let i = 0; i < len; i++) macData[i] = ct[off + i]!;
  macData[24] = len; // le64(ciphertext length), under 256; the AD length before it is 0
  poly1305Two(polyKey, macData, tag);
  polyKey.fill(0); // a one-time key, but no reason to leave it lying around
  return tag;
}

/** Whether `sealed` = ciphertext (1 to 16 bytes) || tag carries the right tag; all 16 bytes are compared. */
function tagValid(k: Uint32Array, n: number, sealed: Uint8Array): boolean {
  const len = sealed.length - 16;
  const t = tagOf(k, n, sealed, 0, len);
  let diff = 0;
  for (let i = 0; i < 16; i++) diff |= t[i]! ^ sealed[len + i]!;
  return diff === 0;
}

/** Message bodies of 1 to this many bytes are opened here too (openSmall): the AEAD's input is then two blocks. */
export const SMALL_BODY_MAX = 16;

/**
 * Decrypt a sealed message body of 1 to SMALL_BODY_MAX bytes (`sealed` = ciphertext || tag, 17
 * to 32 bytes) with nonce `n`: a new array with the plaintext, or undefined when the tag fails
 * or `sealed` is not that size. For such a body Poly1305 covers two blocks, as for the length
 * prefix (an empty body has no padding block, so one block: not here). node:crypto would spend
 * a cipher's set-up (about 5 us) on it, which under a flood of tiny messages is most of their
 * cost.
 */
export function openSmall(k: Uint32Array, n: number, sealed: Uint8Array): Uint8Array | undefined {
  const len = sealed.length - 16;
  if (len < 1 || len > SMALL_BODY_MAX || !tagValid(k, n, sealed)) return undefined;
  chachaBlock(k, 1, n, block);
  // A plain array of its own, as openIv returns: never a slice of a shared pool, which a kept
  // message would keep alive.
  const out = new Uint8Array(len);
  for (let i = 0; i < len; i++) out[i] = (sealed[i]! ^ (block[i >>> 2]! >>> (8 * (i & 3)))) & 0xff;
  return out;
}

/** The first keystream word (block 1): its low two bytes encrypt the length. */
function keystream2(k: Uint32Array, n: number): number {
  chachaBlock(k, 1, n, block);
  return block[0]!;
}

/** Encrypt a 2-byte `plaintext` with nonce `n`: ciphertext (2) || tag (16) at `out[offset..]`. */
export function sealLength(k: Uint32Array, n: number, plaintext: Uint8Array, out: Uint8Array, offset: number): void {
  const ks = keystream2(k, n);
  const c0 = (plaintext[0]! ^ ks) & 0xff;
  const c1 = (plaintext[1]! ^ (ks >>> 8)) & 0xff;
  out[offset] = c0;
  out[offset + 1] = c1;
  out.set(tagOf(k, n, out, offset, 2), offset + 2);
}

/**
 * Decrypt an 18-byte sealed length with nonce `n`: the length (the 2 plaintext bytes, big-endian),
 * or -1 when the tag fails or `sealed` is not 18 bytes.
 */
export function openLength(k: Uint32Array, n: number, sealed: Uint8Array): number {
  if (sealed.length !== 18 || !tagValid(k, n, sealed)) return -1;
  const ks = keystream2(k, n);
  return (((sealed[0]! ^ ks) & 0xff) << 8) | ((sealed[1]! ^ (ks >>> 8)) & 0xff);
}
