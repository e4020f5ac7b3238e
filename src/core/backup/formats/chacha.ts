// The two ChaCha constructions other implementations use that noble does not expose as such:
// HChaCha20 (the XChaCha subkey step, draft-irtf-cfrg-xchacha section 2.2) and libsodium's
// crypto_secretstream_xchacha20poly1305, which Core Lightning uses for its static channel
// backup and its encrypted hsm_secret. Stream and MAC come from @noble/ciphers.
import { chacha20 } from '@noble/ciphers/chacha.js';
import { poly1305 } from '@noble/ciphers/_poly1305.js';
import { abytes, equalBytes } from '../../bytes.js';

const SIGMA = [0x61707865, 0x3320646e, 0x79622d32, 0x6b206574]; // "expand 32-byte k"

function rotl(x: number, n: number): number {
  return (x << n) | (x >>> (32 - n));
}

function le32(b: Uint8Array, i: number): number {
  return (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0;
}

/** HChaCha20(key, 16-byte input): 20 ChaCha rounds without the final addition; words 0-3 and 12-15. */
export function hchacha20(key: Uint8Array, input16: Uint8Array): Uint8Array {
  abytes(key, 32, 'key');
  abytes(input16, 16, 'input');
  const x = new Uint32Array(16);
  for (let i = 0; i < 4; i++) x[i] = SIGMA[i]!;
  for (let i = 0; i < 8; i++) x[4 + i] = le32(key, 4 * i);
  for (let i = 0; i < 4; i++) x[12 + i] = le32(input16, 4 * i);
  const qr = (a: number, b: number, c: number, d: number): void => {
    x[a] = (x[a]! + x[b]!) | 0; x[d] = rotl(x[d]! ^ x[a]!, 16);
    x[c] = (x[c]! + x[d]!) | 0; x[b] = rotl(x[b]! ^ x[c]!, 12);
    x[a] = (x[a]! + x[b]!) | 0; x[d] = rotl(x[d]! ^ x[a]!, 8);
    x[c] = (x[c]! + x[d]!) | 0; x[b] = rotl(x[b]! ^ x[c]!, 7);
  };
  for (let r = 0; r < 10; r++) {
    qr(0, 4, 8, 12); qr(1, 5, 9, 13); qr(2, 6, 10, 14); qr(3, 7, 11, 15);
    qr(0, 5, 10, 15); qr(1, 6, 11, 12); qr(2, 7, 8, 13); qr(3, 4, 9, 14);
  }
  const out = new Uint8Array(32);
  const words = [x[0]!, x[1]!, x[2]!, x[3]!, x[12]!, x[13]!, x[14]!, x[15]!];
  for (let i = 0; i < 8; i++) {
    const w = words[i]!;
    out[4 * i] = w & 0xff; out[4 * i + 1] = (w >>> 8) & 0xff; out[4 * i + 2] = (w >>> 16) & 0xff; out[4 * i + 3] = w >>> 24;
  }
  x.fill(0);
  return out;
}

/** libsodium's crypto_secretstream_xchacha20poly1305 sizes. */
export const SECRETSTREAM_HEADER = 24;
export const SECRETSTREAM_ABYTES = 17; // 1 encrypted tag byte + 16-byte MAC

function u64le(n: number): Uint8Array {
  const b = new Uint8Array(8);
  let v = n;
  for (let i = 0; i < 8; i++) { b[i] = v % 256; v = Math.floor(v / 256); }
  return b;
}

/**
 * Open the first (and, for Core Lightning, only) message of a secretstream:
 * `header(24) || encrypted tag(1) || ciphertext || MAC(16)`, no associated data.
 * Returns the plaintext and the stream tag, or null when the MAC does not verify.
 *
 * The construction, from libsodium's secretstream (since 1.0.15):
 * - subkey = HChaCha20(key, header[0..16]); nonce = le32(counter = 1) || header[16..24]
 * - Poly1305 key = first 32 bytes of the ChaCha20 block 0
 * - the tag byte is XORed with block 1 and the whole 64-byte block 1 is MACed
 * - the message is XORed from block 2 on
 * - after the ciphertext, the MAC input is padded by (mlen mod 16) zero bytes: libsodium
 *   computes (0x10 - 64 + mlen) & 0xf, not the usual (16 - mlen mod 16) mod 16
 * - then le64(adlen = 0) and le64(64 + mlen)
 */
export function secretstreamPullFirst(key: Uint8Array, box: Uint8Array): { plaintext: Uint8Array; tag: number } | null {
  abytes(key, 32, 'key');
  if (box.length < SECRETSTREAM_HEADER + SECRETSTREAM_ABYTES) return null;
  const header = box.subarray(0, SECRETSTREAM_HEADER);
  const subkey = hchacha20(key, header.subarray(0, 16));
  const nonce = new Uint8Array(12);
  nonce[0] = 1;
  nonce.set(header.subarray(16, 24), 4);
  try {
    const mlen = box.length - SECRETSTREAM_HEADER - SECRETSTREAM_ABYTES;
    const encTag = box[SECRETSTREAM_HEADER]!;
    const c = box.subarray(SECRETSTREAM_HEADER + 1, SECRETSTREAM_HEADER + 1 + mlen);
    const storedMac = box.subarray(SECRETSTREAM_HEADER + 1 + mlen);

    const block0 = chacha20(subkey, nonce, new Uint8Array(64), undefined, 0);
    const mac = poly1305.create(block0.subarray(0, 32));
    const block1 = chacha20(subkey, nonce, new Uint8Array(64), undefined, 1);
    const tag = (block1[0]! ^ encTag) & 0xff;
    block1[0] = encTag; // the MAC covers the encrypted tag byte and the rest of the keystream block
    mac.update(block1);
    mac.update(c);
    mac.update(new Uint8Array(mlen & 0xf));
    mac.update(u64le(0));
    mac.update(u64le(64 + mlen));
    const computed = mac.digest();
    block0.fill(0);
    if (!equalBytes(computed, storedMac)) return null;
    const plaintext = chacha20(subkey, nonce, c, undefined, 2);
    return { plaintext, tag };
  } finally {
    subkey.fill(0);
  }
}
