// The handshake's ECDH (ecdh.ts, libsecp256k1 in WebAssembly) against @noble/secp256k1's
// getSharedSecret: byte-identical compressed shared points on random keys and on edge cases
// (P = ±G, K = ±G, P = ±K), plus key and point validation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { Point, getPublicKey, getSharedSecret } from '@noble/secp256k1';
import { sha256 } from '@noble/hashes/sha2.js';
import { toHex } from '../src/core/bytes.js';
import { isValidPubkey } from '../src/core/keys.js';
import { EcdhKey, parsePublicKey } from '../src/core/transport/ecdh.js';

const N = Point.CURVE().n;
const scalar = (k: bigint): Uint8Array => Buffer.from(k.toString(16).padStart(64, '0'), 'hex');
const pointOf = (k: bigint): Uint8Array => Point.BASE.multiply(k).toBytes(true);

function check(secret: Uint8Array, pub: Uint8Array, what: string): void {
  const P = parsePublicKey(pub);
  assert.ok(P, `${what}: valid point`);
  const key = EcdhKey.fromSecret(secret);
  assert.equal(toHex(key.sharedPoint(P)), toHex(getSharedSecret(secret, pub, true)), what);
  assert.equal(toHex(key.ecdh(P)), toHex(sha256(getSharedSecret(secret, pub, true))), what);
  assert.equal(toHex(key.publicKey), toHex(getPublicKey(secret, true)), `${what}: public key`);
}

test('random keys: the same compressed shared point as @noble/secp256k1 (120 pairs, both parities)', () => {
  const parities = new Set<number>();
  for (let i = 0; i < 120; i++) {
    const secret = randomSecret();
    const pub = getPublicKey(randomSecret(), true);
    check(secret, pub, `pair ${i}`);
    parities.add(getSharedSecret(secret, pub, true)[0]!);
  }
  assert.deepEqual([...parities].sort(), [2, 3]);
});

function randomSecret(): Uint8Array {
  for (;;) {
    const s = randomBytes(32);
    const k = BigInt('0x' + s.toString('hex'));
    if (k > 0n && k < N) return s;
  }
}

test('edge cases of the parity recovery: P = ±G, K = ±G, P = ±K, P = 2G', () => {
  const k = randomSecret();
  const kk = BigInt('0x' + toHex(k));
  const cases: [string, Uint8Array, Uint8Array][] = [
    ['P = G', k, pointOf(1n)],
    ['P = -G', k, pointOf(N - 1n)],
    ['P = 2G', k, pointOf(2n)],
    ['P = K', k, pointOf(kk)],
    ['P = -K', k, pointOf(N - kk)],
    ['k = 1', scalar(1n), getPublicKey(randomSecret(), true)],
    ['k = n - 1', scalar(N - 1n), getPublicKey(randomSecret(), true)],
    ['k = 1, P = G', scalar(1n), pointOf(1n)],
    ['k = 1, P = -G', scalar(1n), pointOf(N - 1n)],
    ['k = n - 1, P = G', scalar(N - 1n), pointOf(1n)],
    ['k = 2, P = G', scalar(2n), pointOf(1n)],
    ['k = 2, P = 2G', scalar(2n), pointOf(2n)],
  ];
  for (const [what, secret, pub] of cases) check(secret, pub, what);
});

test('secret keys out of range are a RangeError; generated keys are fresh and valid', () => {
  assert.throws(() => EcdhKey.fromSecret(new Uint8Array(32)), RangeError);
  assert.throws(() => EcdhKey.fromSecret(scalar(N)), RangeError);
  assert.throws(() => EcdhKey.fromSecret(new Uint8Array(31)), RangeError);
  const a = EcdhKey.generate();
  const b = EcdhKey.generate();
  assert.notEqual(toHex(a.publicKey), toHex(b.publicKey));
  assert.ok(isValidPubkey(a.publicKey));
  // Each side's shared point with the other's public key agrees.
  const pa = parsePublicKey(a.publicKey)!;
  const pb = parsePublicKey(b.publicKey)!;
  assert.equal(toHex(a.ecdh(pb)), toHex(b.ecdh(pa)));
});

test('parsePublicKey accepts exactly what isValidPubkey accepts', () => {
  const good = getPublicKey(randomSecret(), true);
  const p = Point.CURVE().p;
  const samples: Uint8Array[] = [
    good,
    Uint8Array.from([good[0] === 2 ? 3 : 2, ...good.subarray(1)]),
    Uint8Array.from([4, ...good.subarray(1)]),
    good.subarray(0, 32),
    getPublicKey(randomSecret(), false),
    new Uint8Array(33),
    Uint8Array.from([2, ...scalar(p)]), // x = p: out of range
    Uint8Array.from([2, ...scalar(p + 1n)]),
    Uint8Array.from([2, ...new Uint8Array(32).fill(255)]),
    Uint8Array.from([3, ...scalar(0n)]),
    Uint8Array.from([2, ...scalar(5n)]), // 5^3 + 7 = 132: not a square mod p, so not on the curve
  ];
  for (let i = 0; i < 40; i++) samples.push(Uint8Array.from([2 + (i & 1), ...randomBytes(32)]));
  for (const s of samples) assert.equal(parsePublicKey(s) !== undefined, isValidPubkey(s), toHex(s));
});

test('an ECDH key never prints', () => {
  const key = EcdhKey.fromSecret(randomSecret());
  assert.equal(JSON.stringify({ key }), '{"key":"[EcdhKey]"}');
  assert.equal(inspect(key), '[EcdhKey]');
});
