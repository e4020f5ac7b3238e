// The cryptographic functions BOLT #8 names: SHA-256, HKDF, ECDH and ChaCha20-Poly1305 with the
// spec's 96-bit nonce. Node's OpenSSL chacha20-poly1305 is byte-compatible with RFC 8439 and
// measures several times faster than the pure-JS one on 64 KiB messages (bench/transport.ts), so
// the AEAD runs there, except for the 2-byte length prefixes (header.ts: a native cipher's
// set-up costs more than the work); SHA-256 of short inputs uses noble (faster than a native
// hash object there), HKDF node:crypto's hkdfSync (several times faster than noble's, and four
// run per handshake side). ECDH is in ecdh.ts.
import { createCipheriv, createDecipheriv, hkdfSync, type KeyObject } from 'node:crypto';
import { sha256 } from '@noble/hashes/sha2.js';

export { sha256 };

const EMPTY = new Uint8Array(0);

/** `HKDF(salt, ikm)` of BOLT #8: HKDF-SHA256, empty info, 64 bytes split into two 32-byte keys. */
export function hkdf2(salt: Uint8Array, ikm: Uint8Array): [Uint8Array, Uint8Array] {
  const out = new Uint8Array(hkdfSync('sha256', ikm, salt, EMPTY, 64));
  return [out.subarray(0, 32), out.subarray(32, 64)];
}

/**
 * The 96-bit nonce: "32 bits of leading zeroes followed by a 64-bit value" in little-endian.
 * Nonces never pass 1000 (keys rotate there), so the low 32 bits carry the whole value.
 */
export function nonce96(n: number): Buffer {
  const iv = Buffer.alloc(12);
  iv.writeUInt32LE(n, 4);
  return iv;
}

/** Set the counter of a nonce made by nonce96() to `n`. */
export function setNonce(iv: Buffer, n: number): void {
  iv.writeUInt32LE(n, 4);
}

/** encryptWithAD(k, n, ad, plaintext) → ciphertext || 16-byte tag. */
export function encryptWithAD(key: Uint8Array, n: number, ad: Uint8Array, plaintext: Uint8Array): Uint8Array {
  const out = new Uint8Array(plaintext.length + 16);
  const c = createCipheriv('chacha20-poly1305', key, nonce96(n), { authTagLength: 16 });
  if (ad.length > 0) c.setAAD(ad, { plaintextLength: plaintext.length });
  out.set(c.update(plaintext), 0);
  c.final();
  out.set(c.getAuthTag(), plaintext.length);
  return out;
}

/** Encrypt `plaintext` (empty AD) with nonce `iv` and write ciphertext || tag at `out[offset..]`. */
export function sealIntoIv(key: Uint8Array | KeyObject, iv: Buffer, plaintext: Uint8Array, out: Uint8Array, offset: number): void {
  const c = createCipheriv('chacha20-poly1305', key, iv, { authTagLength: 16 });
  const body = c.update(plaintext);
  c.final();
  out.set(body, offset);
  out.set(c.getAuthTag(), offset + body.length);
}

/** Encrypt with empty AD and nonce `iv`; ciphertext and tag come back as separate buffers (no copy). */
export function sealPartsIv(key: Uint8Array | KeyObject, iv: Buffer, plaintext: Uint8Array): [Buffer, Buffer] {
  const c = createCipheriv('chacha20-poly1305', key, iv, { authTagLength: 16 });
  const body = c.update(plaintext);
  c.final();
  return [body, c.getAuthTag()];
}

/**
 * decryptWithAD(k, n, ad, ciphertext || tag) → plaintext, or undefined when the tag does not
 * verify. The caller picks the error code, since the same check means different things per act.
 */
export function decryptWithAD(
  key: Uint8Array,
  n: number,
  ad: Uint8Array,
  sealed: Uint8Array,
): Uint8Array | undefined {
  return openIv(key, nonce96(n), sealed, ad);
}

/**
 * Decrypt ciphertext || tag with nonce `iv` into a fresh buffer (never a view of `sealed`), or
 * undefined when the tag does not verify.
 */
export function openIv(key: Uint8Array | KeyObject, iv: Buffer, sealed: Uint8Array, ad: Uint8Array = EMPTY): Uint8Array | undefined {
  if (sealed.length < 16) return undefined;
  const d = createDecipheriv('chacha20-poly1305', key, iv, { authTagLength: 16 });
  d.setAuthTag(sealed.subarray(sealed.length - 16));
  if (ad.length > 0) d.setAAD(ad, { plaintextLength: sealed.length - 16 });
  const body = d.update(sealed.subarray(0, sealed.length - 16));
  try {
    d.final();
  } catch {
    return undefined;
  }
  return new Uint8Array(body.buffer, body.byteOffset, body.length);
}
