// The Reed-Solomon module against an independent slow path: field arithmetic by shift-and-
// reduce, parity as evaluations of the interpolating polynomial (Lagrange), never the
// module's tables or matrices. E = V * inverse(V_top) means parity shard r is p(r), where p
// is the polynomial of degree < k with p(i) = data[i] for i < k; so the two paths agree
// only if the module builds exactly the Backblaze / klauspost matrix.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  encodeParity,
  encodingMatrix,
  gfDiv,
  gfInv,
  gfMul,
  gfPow,
  matInvert,
  matMul,
  reconstructData,
  vandermonde,
} from '../src/core/backup/rs.js';

// ---- the independent slow path ----
function slowMul(a: number, b: number): number {
  let r = 0;
  while (b) {
    if (b & 1) r ^= a;
    b >>= 1;
    a <<= 1;
    if (a & 0x100) a ^= 0x11d;
  }
  return r;
}
function slowInv(a: number): number {
  for (let b = 1; b < 256; b++) if (slowMul(a, b) === 1) return b;
  throw new Error('no inverse');
}
/** Lagrange: the value at x of the polynomial through (xs[i], ys[i]). Subtraction is XOR. */
function interpolateAt(xs: number[], ys: number[], x: number): number {
  let sum = 0;
  for (let i = 0; i < xs.length; i++) {
    let num = 1;
    let den = 1;
    for (let j = 0; j < xs.length; j++) {
      if (j === i) continue;
      num = slowMul(num, x ^ xs[j]!);
      den = slowMul(den, xs[i]! ^ xs[j]!);
    }
    sum ^= slowMul(ys[i]!, slowMul(num, slowInv(den)));
  }
  return sum;
}
/** Shard r of a systematic code through points 0..k-1, byte by byte. */
function slowShard(data: Uint8Array[], r: number): Uint8Array {
  const k = data.length;
  const xs = Array.from({ length: k }, (_, i) => i);
  const out = new Uint8Array(data[0]!.length);
  for (let j = 0; j < out.length; j++) out[j] = interpolateAt(xs, data.map((d) => d[j]!), r);
  return out;
}

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}
function fixedData(k: number, size: number, seed: number): Uint8Array[] {
  return Array.from({ length: k }, (_, i) => Uint8Array.from({ length: size }, (_, j) => (seed + i * 31 + j * 7 + ((i * j) >> 1)) & 0xff));
}
function* subsets(n: number, k: number, start = 0, acc: number[] = []): Generator<number[]> {
  if (acc.length === k) {
    yield acc.slice();
    return;
  }
  for (let i = start; i < n; i++) {
    acc.push(i);
    yield* subsets(n, k, i + 1, acc);
    acc.pop();
  }
}

test('field multiplication, inverse and division match shift-and-reduce for every pair', () => {
  for (let a = 0; a < 256; a++) {
    for (let b = 0; b < 256; b++) assert.equal(gfMul(a, b), slowMul(a, b), `${a} * ${b}`);
    if (a > 0) {
      assert.equal(gfInv(a), slowInv(a), `1 / ${a}`);
      assert.equal(gfDiv(a, 7), slowMul(a, slowInv(7)));
    }
  }
  assert.equal(gfMul(2, 0x80), 0x1d); // x * x^7 = x^8 = x^4 + x^3 + x^2 + 1
  assert.equal(gfPow(0, 0), 1);
  assert.equal(gfPow(0, 3), 0);
  assert.equal(gfPow(2, 8), 0x1d);
  assert.equal(gfPow(3, 255), 1);
  assert.throws(() => gfInv(0), RangeError);
  assert.throws(() => gfDiv(1, 0), RangeError);
  assert.throws(() => gfMul(256, 1), RangeError);
});

test('known answer shared with klauspost/reedsolomon: 5 data + 5 parity', () => {
  // klauspost/reedsolomon's TestOneEncode publishes these parity bytes for this input.
  const data = [[0, 1], [4, 5], [2, 3], [6, 7], [8, 9]].map((d) => Uint8Array.from(d));
  const parity = encodeParity(data, 10).map((p) => Array.from(p));
  assert.deepEqual(parity, [[12, 13], [10, 11], [14, 15], [90, 91], [94, 95]]);
});

test('pinned bytes: parity of a fixed 3-of-5 and 4-of-6 input, equal to the Lagrange path', () => {
  const d35 = fixedData(3, 12, 1);
  const p35 = encodeParity(d35, 5);
  assert.deepEqual(p35.map(hex), [slowShard(d35, 3), slowShard(d35, 4)].map(hex));
  assert.deepEqual(p35.map(hex), ['1e686f777c0609111aa4a3ab', '90d28f90899cb9a6bfedb05f']);
  const d46 = fixedData(4, 8, 200);
  const p46 = encodeParity(d46, 6);
  assert.deepEqual(p46.map(hex), [slowShard(d46, 4), slowShard(d46, 5)].map(hex));
  assert.deepEqual(p46.map(hex), ['c34e7170db8e41d7', 'c46351501d5ab09a']);
});

test('parity equals the Lagrange path at the limits: 1-of-1, 1-of-3, 16-of-32', () => {
  for (const [k, n] of [[1, 1], [1, 3], [2, 2], [16, 32], [16, 24]] as const) {
    const data = fixedData(k, 5, k * 13 + n);
    const parity = encodeParity(data, n);
    assert.equal(parity.length, n - k);
    for (let r = k; r < n; r++) assert.equal(hex(parity[r - k]!), hex(slowShard(data, r)), `${k}-of-${n} shard ${r}`);
  }
});

test('encoding matrix is systematic: identity on top, and V * inverse(V_top) below', () => {
  const e = encodingMatrix(3, 5);
  assert.deepEqual(e.slice(0, 3).map((r) => Array.from(r)), [[1, 0, 0], [0, 1, 0], [0, 0, 1]]);
  const v = vandermonde(5, 3);
  assert.deepEqual(Array.from(v[0]!), [1, 0, 0]);
  assert.deepEqual(Array.from(v[2]!), [1, 2, 4]);
  const prod = matMul(v.slice(0, 3), matInvert(v.slice(0, 3)));
  assert.deepEqual(prod.map((r) => Array.from(r)), [[1, 0, 0], [0, 1, 0], [0, 0, 1]]);
  assert.throws(() => matInvert([Uint8Array.of(1, 2), Uint8Array.of(2, 4)]), /singular/);
  assert.throws(() => encodingMatrix(0, 3), RangeError);
  assert.throws(() => encodingMatrix(4, 3), RangeError);
});

test('every 3-subset of a 3-of-5 rebuilds the data, and matches the Lagrange path from that subset', () => {
  const data = fixedData(3, 64, 9);
  const all = [...data, ...encodeParity(data, 5)];
  let count = 0;
  for (const subset of subsets(5, 3)) {
    const shards = all.map((s, i) => (subset.includes(i) ? s.slice() : undefined));
    const got = reconstructData(shards, 3, 5);
    assert.deepEqual(got.map(hex), data.map(hex), `subset ${subset}`);
    // Independent: interpolate through the subset's points, evaluate at 0..k-1.
    for (let d = 0; d < 3; d++) {
      const j = 17;
      assert.equal(interpolateAt(subset, subset.map((i) => all[i]![j]!), d), data[d]![j]);
    }
    count++;
  }
  assert.equal(count, 10);
});

test('fewer than k shards throw, and shards of unequal length are refused', () => {
  const data = fixedData(3, 4, 0);
  const all = [...data, ...encodeParity(data, 5)];
  assert.throws(() => reconstructData([all[0], undefined, undefined, all[3], undefined], 3, 5), /2 shards present, 3 needed/);
  assert.throws(() => reconstructData([all[0], all[1], new Uint8Array(3), undefined, undefined], 3, 5), RangeError);
  assert.throws(() => encodeParity([new Uint8Array(2), new Uint8Array(3)], 3), RangeError);
});

test('property: any k of n shards rebuild the data (k <= 16, n <= 32)', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 16 }).chain((k) =>
        fc.tuple(
          fc.constant(k),
          fc.integer({ min: k, max: 32 }).chain((n) =>
            fc.tuple(fc.constant(n), fc.shuffledSubarray(Array.from({ length: n }, (_, i) => i), { minLength: k, maxLength: k })),
          ),
          fc.integer({ min: 0, max: 40 }),
          fc.integer({ min: 0, max: 255 }),
        ),
      ),
      ([k, [n, keep], size, seed]) => {
        const data = fixedData(k, size, seed);
        const all = [...data, ...encodeParity(data, n)];
        const shards = all.map((s, i) => (keep.includes(i) ? s : undefined));
        assert.deepEqual(reconstructData(shards, k, n).map(hex), data.map(hex));
      },
    ),
    { numRuns: 200, seed: 42 },
  );
});
