// The length prefixes are sealed in JS (header.ts): byte-identical to node:crypto's
// chacha20-poly1305 with the BOLT #8 nonce, and every wrong tag or ciphertext is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv, randomBytes } from 'node:crypto';
import { toHex } from '../src/core/bytes.js';
import { poly1305 } from '@noble/ciphers/_poly1305.js';
import { keyWords, openLength, openSmall, poly1305Two, sealLength, SMALL_BODY_MAX } from '../src/core/transport/header.js';

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
      assert.equal(openLength(w, n, out.subarray(1, 19)), pt.readUInt16BE(0));
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
  assert.equal(openLength(w, 42, sealed), 0x1234);
  for (let bit = 0; bit < 18 * 8; bit++) {
    const bad = Buffer.from(sealed);
    bad[bit >> 3]! ^= 1 << (bit & 7);
    assert.equal(openLength(w, 42, bad), -1, `bit ${bit}`);
  }
  assert.equal(openLength(w, 43, sealed), -1);
  assert.equal(openLength(keyWords(randomBytes(32)), 42, sealed), -1);
  assert.equal(openLength(w, 42, sealed.subarray(0, 17)), -1);
  assert.equal(openLength(w, 42, Buffer.concat([sealed, Buffer.of(0)])), -1);
});

test('poly1305Two equals @noble/ciphers Poly1305 on random and extreme keys and blocks', () => {
  const out = new Uint8Array(16);
  const same = (key: Uint8Array, msg: Uint8Array, what: string) => {
    out.fill(0xee);
    poly1305Two(key, msg, out);
    assert.equal(toHex(out), toHex(poly1305(msg, key)), what);
  };
  for (let i = 0; i < 5000; i++) same(randomBytes(32), randomBytes(32), `random ${i}`);
  const ff = new Uint8Array(32).fill(0xff);
  const zero = new Uint8Array(32);
  same(ff, ff, 'all 0xff');
  same(zero, ff, 'zero key');
  same(ff, zero, 'zero blocks');
  // r = 1, both blocks 2^128 - 1: h = 2^130 - 2 before the final reduction, which is >= p.
  const rOne = new Uint8Array(32);
  rOne[0] = 1;
  same(rOne, ff, 'h >= 2^130 - 5 at the end');
  rOne.fill(0xff, 16);
  same(rOne, ff, 'h >= 2^130 - 5 and s = 2^128 - 1');
  // Nearly-all-0xff blocks under random keys: the largest limbs the multiplication meets.
  for (let i = 0; i < 2000; i++) {
    const m = new Uint8Array(32).fill(0xff);
    m[i & 31] = i & 0xff;
    same(randomBytes(32), m, `near 0xff ${i}`);
  }
  // The key is only read (r is clamped on a copy).
  const key = new Uint8Array(32).fill(0xff);
  poly1305Two(key, zero, out);
  assert.equal(toHex(key), toHex(ff));
});

test('openSmall opens what node:crypto sealed, for every body length 1..16, and refuses any changed byte', () => {
  assert.equal(SMALL_BODY_MAX, 16);
  for (let k = 0; k < 6; k++) {
    const key = randomBytes(32);
    const w = keyWords(key);
    for (let len = 1; len <= SMALL_BODY_MAX; len++) {
      for (const n of [0, 1, 2, 998, 999, 2 ** 32 - 1, (len * 7919 + k) >>> 0]) {
        const pt = randomBytes(len);
        const sealed = nodeSeal(key, n, pt);
        const out = openSmall(w, n, sealed);
        assert.ok(out !== undefined, `key ${k} len ${len} nonce ${n}`);
        assert.equal(toHex(out), toHex(pt));
        assert.ok(!Buffer.isBuffer(out) && out.buffer.byteLength === len, 'an array of its own, as openIv returns');
        // Another nonce, a flipped bit anywhere, or a byte more or less: refused.
        assert.equal(openSmall(w, (n + 1) >>> 0, sealed), undefined);
        for (let i = 0; i < sealed.length; i++) {
          const bad = Buffer.from(sealed);
          bad[i]! ^= 1 << (i & 7);
          assert.equal(openSmall(w, n, bad), undefined, `byte ${i} changed`);
        }
        assert.equal(openSmall(w, n, sealed.subarray(0, sealed.length - 1)), undefined, 'a byte less');
        assert.equal(openSmall(w, n, Buffer.concat([sealed, Buffer.of(0)])), undefined, 'a byte more');
      }
    }
  }
  // Sizes outside 17..32 are not its to open; an empty body (one Poly1305 block) stays on node:crypto.
  const key = randomBytes(32);
  const w = keyWords(key);
  assert.equal(openSmall(w, 0, nodeSeal(key, 0, new Uint8Array(0))), undefined);
  assert.equal(openSmall(w, 0, new Uint8Array(15)), undefined);
  assert.equal(openSmall(w, 0, new Uint8Array(33)), undefined);
});
