// The length prefixes are sealed in JS (header.ts): byte-identical to node:crypto's
// chacha20-poly1305 with the BOLT #8 nonce, and every wrong tag or ciphertext is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv, randomBytes } from 'node:crypto';
import { toHex } from '../src/core/bytes.js';
import { keyWords, openLength, sealLength } from '../src/core/transport/header.js';

function nodeSeal(key: Uint8Array, n: number, pt: Uint8Array): Buffer {
  const iv = Buffer.alloc(12);
  iv.writeUInt32LE(n, 4);
  const c = createCipheriv('chacha20-poly1305', key, iv, { authTagLength: 16 });
  const body = c.update(pt);
  c.final();
  return Buffer.concat([body, c.getAuthTag()]);
}

test('sealLength equals node:crypto on random keys, every nonce 0..999 and edge lengths', () => {
  const lengths = [0, 1, 255, 256, 4096, 65535];
  for (let k = 0; k < 8; k++) {
    const key = randomBytes(32);
    const w = keyWords(key);
    for (let n = 0; n < 1000; n++) {
      const pt = Buffer.alloc(2);
      pt.writeUInt16BE(n < lengths.length ? lengths[n]! : (n * 7919 + k) & 0xffff);
      const out = new Uint8Array(20).fill(0xee);
      sealLength(w, n, pt, out, 1);
      assert.equal(toHex(out.subarray(1, 19)), toHex(nodeSeal(key, n, pt)), `key ${k} nonce ${n}`);
      assert.equal(out[0], 0xee);
      assert.equal(out[19], 0xee);
      assert.equal(toHex(openLength(w, n, out.subarray(1, 19))!), toHex(pt));
    }
  }
});

test('sealLength: the key words of the all-0xff and all-zero keys still match node:crypto', () => {
  for (const key of [new Uint8Array(32), new Uint8Array(32).fill(255)]) {
    for (const n of [0, 1, 999, 2 ** 32 - 1]) {
      const pt = Uint8Array.of(0xff, 0xee);
      const out = new Uint8Array(18);
      sealLength(keyWords(key), n, pt, out, 0);
      assert.equal(toHex(out), toHex(nodeSeal(key, n, pt)), `nonce ${n}`);
    }
  }
});

test('openLength refuses any flipped bit, the wrong nonce, the wrong key and a wrong size', () => {
  const key = randomBytes(32);
  const w = keyWords(key);
  const sealed = nodeSeal(key, 42, Uint8Array.of(0x12, 0x34));
  assert.equal(toHex(openLength(w, 42, sealed)!), '1234');
  for (let bit = 0; bit < 18 * 8; bit++) {
    const bad = Buffer.from(sealed);
    bad[bit >> 3]! ^= 1 << (bit & 7);
    assert.equal(openLength(w, 42, bad), undefined, `bit ${bit}`);
  }
  assert.equal(openLength(w, 43, sealed), undefined);
  assert.equal(openLength(keyWords(randomBytes(32)), 42, sealed), undefined);
  assert.equal(openLength(w, 42, sealed.subarray(0, 17)), undefined);
  assert.equal(openLength(w, 42, Buffer.concat([sealed, Buffer.of(0)])), undefined);
});
