// The shard plaintext layout (docs/FORMAT.md, "Sealed shard, version 2"), both ways.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DecodeError } from '../src/core/errors.js';
import {
  buildShardPlaintext,
  MAX_SHARD_DATA,
  maxStripedBackup,
  parseShardHeader,
  SHARD_HEADER_LEN,
  shardDataLength,
  type Shard,
} from '../src/core/backup/shard.js';

const ID = Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i);
const SHA = Uint8Array.from({ length: 32 }, (_, i) => i);

function shard(over: Partial<Shard> = {}): Shard {
  return { backup_id: ID, k: 3, n: 5, index: 4, total_len: 7, backup_sha256: SHA, data: Uint8Array.of(9, 8, 7), ...over };
}

test('layout to the byte: id, k, n, index, total_len big-endian, sha256, data', () => {
  const pt = buildShardPlaintext(shard({ total_len: 0x010203, data: new Uint8Array(22017) }));
  assert.equal(pt.length, 55 + 22017);
  assert.equal(Buffer.from(pt.subarray(19, 23)).toString('hex'), '00010203');
  const small = buildShardPlaintext(shard());
  assert.equal(
    Buffer.from(small).toString('hex'),
    'a0a1a2a3a4a5a6a7a8a9aaabacadaeaf' + '03' + '05' + '04' + '00000007' +
      '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f' + '090807',
  );
  const back = parseShardHeader(small);
  assert.deepEqual(back, shard());
});

test('limits: S = ceil(total_len / k), largest backup k * 65393', () => {
  assert.equal(MAX_SHARD_DATA, 65393);
  assert.equal(maxStripedBackup(16), 1_046_288);
  assert.equal(shardDataLength(7, 3), 3);
  assert.equal(shardDataLength(6, 3), 2);
  assert.equal(shardDataLength(0, 3), 0);
  const big = buildShardPlaintext(shard({ k: 2, n: 2, index: 1, total_len: 2 * 65393, data: new Uint8Array(65393) }));
  assert.equal(big.length, 65448);
  assert.throws(() => buildShardPlaintext(shard({ k: 2, n: 2, index: 1, total_len: 2 * 65393 + 1, data: new Uint8Array(65394) })), RangeError);
});

test('building refuses our own misuse with TypeError/RangeError', () => {
  assert.throws(() => buildShardPlaintext(shard({ k: 0 })), RangeError);
  assert.throws(() => buildShardPlaintext(shard({ k: 17, n: 17 })), RangeError);
  assert.throws(() => buildShardPlaintext(shard({ n: 2 })), RangeError);
  assert.throws(() => buildShardPlaintext(shard({ n: 33 })), RangeError);
  assert.throws(() => buildShardPlaintext(shard({ index: 5 })), RangeError);
  assert.throws(() => buildShardPlaintext(shard({ data: new Uint8Array(4) })), RangeError);
  assert.throws(() => buildShardPlaintext(shard({ backup_id: new Uint8Array(15) })), RangeError);
  assert.throws(() => buildShardPlaintext(shard({ backup_sha256: 'x' as unknown as Uint8Array })), TypeError);
});

test('parsing hostile headers: each fails with DecodeError naming the field', () => {
  const good = buildShardPlaintext(shard());
  const cases: [string, Uint8Array, string, string][] = [
    ['short', good.slice(0, 54), 'truncated', 'shard'],
    ['k = 0', patch(good, 16, 0), 'bad_value', 'shard.k'],
    ['k = 17', patch(patch(good, 16, 17), 17, 20), 'bad_value', 'shard.k'],
    ['n < k', patch(good, 17, 2), 'bad_value', 'shard.n'],
    ['n = 33', patch(good, 17, 33), 'bad_value', 'shard.n'],
    ['index = n', patch(good, 18, 5), 'bad_value', 'shard.index'],
    ['data short', good.slice(0, good.length - 1), 'truncated', 'shard.data'],
    ['data long', Uint8Array.from([...good, 0]), 'trailing', 'shard.data'],
    ['total_len huge', patch(good, 19, 0xff), 'truncated', 'shard.data'],
  ];
  for (const [name, bytes, code, path] of cases) {
    assert.throws(
      () => parseShardHeader(bytes),
      (e: unknown) => e instanceof DecodeError && e.code === code && e.path === path,
      name,
    );
  }
});

test('property: arbitrary bytes either fail with DecodeError or rebuild to exactly the input', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 0, maxLength: 120 }), (bytes) => {
      let s: Shard;
      try {
        s = parseShardHeader(bytes);
      } catch (e) {
        assert.ok(e instanceof DecodeError, String(e));
        return;
      }
      assert.deepEqual(buildShardPlaintext(s), bytes);
    }),
    { numRuns: 500, seed: 7 },
  );
  // Valid headers are rare among random bytes, so also round-trip generated shards.
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 16 }),
      fc.integer({ min: 0, max: 16 }),
      fc.integer({ min: 0, max: 31 }),
      fc.integer({ min: 0, max: 200 }),
      (k, extra, idx, total) => {
        const n = Math.min(32, k + extra);
        const s = shard({ k, n, index: idx % n, total_len: total, data: new Uint8Array(shardDataLength(total, k)).fill(total & 0xff) });
        assert.deepEqual(parseShardHeader(buildShardPlaintext(s)), s);
      },
    ),
    { numRuns: 200, seed: 8 },
  );
});

function patch(b: Uint8Array, at: number, v: number): Uint8Array {
  const c = b.slice();
  c[at] = v;
  return c;
}
