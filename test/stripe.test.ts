// stripe() and rebuild(): the "Done when" list of issue 7 for the core.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { InputError } from '../src/core/errors.js';
import { open, seal, SealKey } from '../src/core/backup/seal.js';
import { buildShardPlaintext, parseShardHeader, shardDataLength } from '../src/core/backup/shard.js';
import { openShard, rebuild, stripe, type RebuildResult } from '../src/core/backup/stripe.js';

const KEY = new SealKey(Uint8Array.from({ length: 32 }, (_, i) => i + 1));
const OTHER_KEY = new SealKey(Uint8Array.from({ length: 32 }, (_, i) => 200 - i));

/** Deterministic randomness: a counter stream, so ids and nonces are reproducible. */
function counterRandom(start = 0): (n: number) => Uint8Array {
  let c = start;
  return (n) => Uint8Array.from({ length: n }, () => c++ & 0xff);
}
function backupOf(len: number, seed = 1): Uint8Array {
  return Uint8Array.from({ length: len }, (_, i) => (i * 131 + seed * 17 + (i >> 8)) & 0xff);
}
function sha(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}
function hex(b: Uint8Array | undefined): string {
  return b === undefined ? '' : Buffer.from(b).toString('hex');
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
function reasons(r: RebuildResult): string[] {
  return r.ignored.map((i) => `${i.input}:${i.index ?? '-'}:${i.reason}`);
}

const B = backupOf(100_001);
const S35 = stripe(B, { k: 3, n: 5, seq: 7n, pad: 'none', key: KEY, random: counterRandom() });

test('stripe lays out n version 2 shards: header fields, data slices, seq in every frame', () => {
  assert.equal(S35.shards.length, 5);
  assert.equal(hex(S35.backup_id), '000102030405060708090a0b0c0d0e0f');
  assert.equal(S35.total_len, 100_001);
  assert.equal(hex(S35.backup_sha256), sha(B));
  const S = shardDataLength(100_001, 3);
  assert.equal(S, 33_334);
  S35.shards.forEach((blob, index) => {
    assert.equal(blob[0], 0x02);
    assert.equal(blob.length, 83 + 55 + S); // pad none
    const r = open(blob, KEY);
    assert.ok(r.ok);
    assert.equal(r.version, 2);
    assert.equal(r.seq, 7n);
    const s = parseShardHeader(r.plaintext);
    assert.deepEqual([s.k, s.n, s.index, s.total_len], [3, 5, index, 100_001]);
    assert.equal(hex(s.backup_id), hex(S35.backup_id));
    assert.equal(hex(s.backup_sha256), sha(B));
    if (index < 3) {
      const want = new Uint8Array(S);
      want.set(B.subarray(index * S, Math.min((index + 1) * S, B.length)));
      assert.equal(hex(s.data), hex(want), `data shard ${index}`);
    }
  });
  // The last data shard is zero-filled: 3 * 33334 - 100001 = 1 byte.
  const last = parseShardHeader((open(S35.shards[2]!, KEY) as { plaintext: Uint8Array }).plaintext);
  assert.equal(last.data[S - 1], 0);
  // Full padding (the default): every shard is exactly 65531 bytes.
  const full = stripe(backupOf(10), { k: 2, n: 3, seq: 1n, key: KEY });
  assert.deepEqual(full.shards.map((s) => s.length), [65531, 65531, 65531]);
});

test('every 3-subset (and every larger subset) of a 3-of-5 stripe rebuilds', () => {
  let count = 0;
  for (const size of [3, 4, 5]) {
    for (const subset of subsets(5, size)) {
      const r = rebuild(subset.map((i) => S35.shards[i]!), KEY);
      assert.equal(r.ok, true, `subset ${subset}: ${r.message}`);
      assert.equal(hex(r.backup), hex(B));
      assert.equal(r.seq, 7n);
      assert.equal(r.newest, true);
      assert.deepEqual(r.used.map((u) => u.index), subset);
      assert.deepEqual(r.used.map((u) => u.input), subset.map((_, j) => j));
      assert.deepEqual(r.ignored, []);
      assert.equal(r.message, `rebuilt backup 0001020304050607 seq 7 (100001 bytes) from 3 of 5 shards`);
      count++;
    }
  }
  assert.equal(count, 10 + 5 + 1);
});

test('k - 1 shards fail with a clear message naming how many are missing', () => {
  for (const subset of subsets(5, 2)) {
    const r = rebuild(subset.map((i) => S35.shards[i]!), KEY);
    assert.equal(r.ok, false);
    assert.equal(r.backup, undefined);
    assert.equal(r.missing, 1);
    assert.equal(r.k, 3);
    assert.equal(r.message, 'cannot rebuild backup 0001020304050607 seq 7: 2 of 3 shards needed are present, 1 missing');
    assert.deepEqual(r.found, subset.map((index, input) => ({ input, index })));
    assert.deepEqual(r.used, []);
    assert.deepEqual(r.ignored, []);
  }
  const none = rebuild([], KEY);
  assert.equal(none.ok, false);
  assert.equal(none.message, 'no shard opened with this key (0 blobs given, none usable)');
});

test('a corrupted shard is excluded and reported while the rest rebuild', () => {
  const bad = S35.shards[1]!.slice();
  bad[500] ^= 0x01;
  const r = rebuild([S35.shards[0]!, bad, S35.shards[2]!, S35.shards[4]!], KEY);
  assert.equal(r.ok, true, r.message);
  assert.equal(hex(r.backup), hex(B));
  assert.deepEqual(r.used, [{ input: 0, index: 0 }, { input: 2, index: 2 }, { input: 3, index: 4 }]);
  assert.deepEqual(reasons(r), ['1:-:wrong_key_or_corrupt']);
  // With the corrupt one, only 2 good: fail, and still say why the third was ignored.
  const r2 = rebuild([S35.shards[0]!, bad, S35.shards[2]!], KEY);
  assert.equal(r2.ok, false);
  assert.equal(r2.missing, 1);
  assert.deepEqual(reasons(r2), ['1:-:wrong_key_or_corrupt']);
});

test('a shard that opens cleanly but carries wrong data is found and named', () => {
  // Only a holder of the key can make one (a bug, or another tool): the backup_sha256 check
  // catches it, other k-subsets are tried, and the odd one out is reported.
  const pt = (open(S35.shards[0]!, KEY) as { plaintext: Uint8Array }).plaintext;
  const s = parseShardHeader(pt);
  s.data[10] ^= 0xff;
  const forged = seal(buildShardPlaintext(s), { seq: 7n, pad: 'none', key: KEY, version: 2 });
  const r = rebuild([forged, ...S35.shards.slice(1)], KEY);
  assert.equal(r.ok, true, r.message);
  assert.equal(hex(r.backup), hex(B));
  assert.deepEqual(r.used.map((u) => u.index), [1, 2, 3, 4]);
  assert.deepEqual(reasons(r), ['0:0:bad_data']);
  // 16-of-24, the forged shard first among all 24: found in a few tries, not by brute force.
  const st = stripe(backupOf(5000), { k: 16, n: 24, seq: 2n, pad: 'none', key: KEY });
  const s0 = parseShardHeader((open(st.shards[0]!, KEY) as { plaintext: Uint8Array }).plaintext);
  s0.data[0] ^= 1;
  const forged0 = seal(buildShardPlaintext(s0), { seq: 2n, pad: 'none', key: KEY, version: 2 });
  const r3 = rebuild([forged0, ...st.shards.slice(1)], KEY);
  assert.equal(r3.ok, true, r3.message);
  assert.equal(hex(r3.backup), hex(backupOf(5000)));
  assert.deepEqual(reasons(r3), ['0:0:bad_data']);
  assert.equal(r3.used.length, 23);
  // k shards including the forged one: nothing rebuilds to the checksum.
  const r2 = rebuild([forged, S35.shards[1]!, S35.shards[2]!], KEY);
  assert.equal(r2.ok, false);
  assert.equal(r2.missing, 0);
  assert.equal(r2.versions[0]!.status, 'bad_checksum');
  assert.match(r2.message, /do not rebuild to its backup_sha256/);
});

test('two backup versions are never mixed: the newer wins when complete', () => {
  const B2 = backupOf(90_000, 2);
  const V8 = stripe(B2, { k: 3, n: 5, seq: 8n, pad: 'none', key: KEY, random: counterRandom(100) });
  const r = rebuild([...S35.shards, ...V8.shards.slice(0, 3)], KEY);
  assert.equal(r.ok, true);
  assert.equal(r.seq, 8n);
  assert.equal(r.newest, true);
  assert.equal(hex(r.backup), hex(B2));
  assert.deepEqual(r.used.map((u) => u.input), [5, 6, 7]);
  assert.deepEqual(reasons(r), ['0:0:other_backup', '1:1:other_backup', '2:2:other_backup', '3:3:other_backup', '4:4:other_backup']);
  assert.deepEqual(r.versions.map((v) => [v.seq, v.have, v.status]), [[8n, 3, 'rebuilt'], [7n, 5, 'not_tried']]);
});

test('two backup versions: an incomplete newer one falls back to the older complete one, and says so', () => {
  const B2 = backupOf(90_000, 2);
  const V8 = stripe(B2, { k: 3, n: 5, seq: 8n, pad: 'none', key: KEY, random: counterRandom(100) });
  // Two of the newer and three of the older: five shards, but never mixed into one rebuild.
  const r = rebuild([V8.shards[0]!, S35.shards[3]!, V8.shards[4]!, S35.shards[0]!, S35.shards[4]!], KEY);
  assert.equal(r.ok, true);
  assert.equal(r.seq, 7n);
  assert.equal(r.newest, false);
  assert.equal(hex(r.backup), hex(B));
  assert.deepEqual(r.used.map((u) => u.index), [0, 3, 4]);
  assert.deepEqual(reasons(r), ['0:0:other_backup', '2:4:other_backup']);
  assert.equal(
    r.message,
    'rebuilt backup 0001020304050607 seq 7 (100001 bytes) from 3 of 5 shards; it is NOT the newest: backup 6465666768696a6b seq 8 has only 2 of the 3 shards it needs',
  );
  // Two and two: neither complete, so nothing, and the newest one's shortfall is named.
  const r2 = rebuild([V8.shards[0]!, S35.shards[3]!, V8.shards[4]!, S35.shards[0]!], KEY);
  assert.equal(r2.ok, false);
  assert.equal(r2.seq, 8n);
  assert.equal(r2.missing, 1);
  assert.equal(r2.message, 'cannot rebuild backup 6465666768696a6b seq 8: 2 of 3 shards needed are present, 1 missing; the other version seen does not rebuild either');
  assert.deepEqual(r2.found, [{ input: 0, index: 0 }, { input: 2, index: 4 }]);
  assert.deepEqual(reasons(r2), ['1:3:other_backup', '3:0:other_backup']);
});

test('same seq, another backup_id or another header: never mixed, reported', () => {
  const other = stripe(B, { k: 3, n: 5, seq: 7n, pad: 'none', key: KEY, random: counterRandom(50) });
  const r = rebuild([S35.shards[0]!, other.shards[1]!, S35.shards[2]!, other.shards[3]!], KEY);
  assert.equal(r.ok, false);
  assert.equal(r.missing, 1);
  // A shard with the same backup_id and seq but a different total_len is not mixed in.
  const pt = (open(S35.shards[1]!, KEY) as { plaintext: Uint8Array }).plaintext;
  const s = parseShardHeader(pt);
  const odd = seal(buildShardPlaintext({ ...s, total_len: s.total_len - 1 }), { seq: 7n, pad: 'none', key: KEY, version: 2 });
  const r2 = rebuild([S35.shards[0]!, odd, S35.shards[2]!, S35.shards[3]!], KEY);
  assert.equal(r2.ok, true);
  assert.equal(hex(r2.backup), hex(B));
  assert.deepEqual(reasons(r2), ['1:1:inconsistent_header']);
});

test('wrong key, version 1 blobs, random bytes and duplicates are ignored with their reason', () => {
  const v1 = seal(backupOf(50), { seq: 9n, pad: 'none', key: KEY });
  const junk = backupOf(20);
  const r = rebuild([junk, S35.shards[0]!, v1, S35.shards[0]!, S35.shards[1]!, S35.shards[4]!], KEY);
  assert.equal(r.ok, true);
  assert.deepEqual(reasons(r), ['0:-:not_sealed', '2:-:not_a_shard', '3:0:duplicate']);
  assert.deepEqual(r.used, [{ input: 1, index: 0 }, { input: 4, index: 1 }, { input: 5, index: 4 }]);
  const wrong = rebuild(S35.shards, OTHER_KEY);
  assert.equal(wrong.ok, false);
  assert.equal(wrong.missing, undefined);
  assert.equal(wrong.message, 'no shard opened with this key (5 blobs given, none usable)');
  assert.deepEqual(wrong.ignored.map((i) => i.reason), Array(5).fill('wrong_key_or_corrupt'));
});

test('sizes at the limits: k * 65393 bytes stripes into full 65531-byte shards, one byte more is refused', () => {
  for (const [k, n] of [[1, 2], [4, 6], [16, 17]] as const) {
    const max = k * 65393;
    const big = backupOf(max, k);
    const st = stripe(big, { k, n, seq: 1n, pad: 'none', key: KEY });
    assert.deepEqual(new Set(st.shards.map((s) => s.length)), new Set([65531]), `${k}-of-${n}`);
    const r = rebuild(st.shards.slice(n - k), KEY); // parity first: forces real decoding
    assert.equal(r.ok, true, r.message);
    assert.equal(sha(r.backup!), sha(big));
    assert.throws(
      () => stripe(backupOf(max + 1), { k, n, seq: 1n, key: KEY }),
      (e: unknown) =>
        e instanceof InputError &&
        e.code === 'too_large' &&
        e.message.startsWith(`backup is ${max + 1} bytes, but ${k} data shards hold at most ${max} bytes (${k} x 65393; 1 too many): `),
    );
  }
  assert.throws(() => stripe(backupOf(16 * 65393 + 1), { k: 16, n: 16, seq: 1n, key: KEY }), /even k = 16 holds only 1046288 bytes/);
  assert.throws(() => stripe(backupOf(65394), { k: 1, n: 1, seq: 1n, key: KEY }), /use k >= 2/);
});

test('small and odd sizes: empty, one byte, sizes not divisible by k; shape checks', () => {
  for (const len of [0, 1, 2, 3, 4, 5, 17]) {
    const b = backupOf(len, 3);
    const st = stripe(b, { k: 4, n: 7, seq: 2n, pad: 'bucket', key: KEY });
    assert.deepEqual(new Set(st.shards.map((s) => s.length)), new Set([1024]));
    const r = rebuild(st.shards.slice(3), KEY);
    assert.equal(r.ok, true, r.message);
    assert.equal(hex(r.backup), hex(b));
  }
  assert.throws(() => stripe(B, { k: 0, n: 3, seq: 1n, key: KEY }), RangeError);
  assert.throws(() => stripe(B, { k: 17, n: 20, seq: 1n, key: KEY }), RangeError);
  assert.throws(() => stripe(B, { k: 3, n: 2, seq: 1n, key: KEY }), RangeError);
  assert.throws(() => stripe(B, { k: 3, n: 33, seq: 1n, key: KEY }), RangeError);
  assert.throws(() => stripe(B, { k: 3, n: 5, seq: -1n, key: KEY }), RangeError);
  assert.throws(() => stripe(B, { k: 3, n: 5, seq: 1n, key: {} as SealKey }), TypeError);
  // 1-of-n: every shard carries the whole backup.
  const one = stripe(backupOf(10), { k: 1, n: 3, seq: 1n, pad: 'none', key: KEY });
  for (const s of one.shards) assert.equal(rebuild([s], KEY).ok, true);
});

test('property: any k of n shards of a random backup rebuild it, extra junk and all', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 0, maxLength: 3000 }),
      fc.integer({ min: 1, max: 8 }),
      fc.integer({ min: 0, max: 6 }),
      fc.integer(),
      (backup, k, extra, seed) => {
        const n = k + extra;
        const st = stripe(backup, { k, n, seq: 3n, pad: 'none', key: KEY });
        // Pick k shards by a seeded shuffle, in a shuffled order, plus one foreign blob.
        const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => ((a * 7919 + seed) % 101) - ((b * 7919 + seed) % 101));
        const blobs = [...order.slice(0, k).map((i) => st.shards[i]!), backupOf(90)];
        const r = rebuild(blobs, KEY);
        assert.equal(r.ok, true, r.message);
        assert.equal(hex(r.backup), hex(backup));
        assert.deepEqual(reasons(r), [`${k}:-:not_sealed`]);
      },
    ),
    { numRuns: 100, seed: 11 },
  );
});

test('openShard reads one shard header, or says plainly why not', () => {
  const r = openShard(S35.shards[3]!, KEY);
  assert.ok(r.ok);
  assert.equal(r.seq, 7n);
  assert.deepEqual([r.shard.k, r.shard.n, r.shard.index, r.shard.total_len], [3, 5, 3, 100_001]);
  assert.equal(hex(r.shard.backup_id), hex(S35.backup_id));
  assert.deepEqual(openShard(S35.shards[3]!, OTHER_KEY), { ok: false, reason: 'wrong_key_or_corrupt', detail: "does not open with this node's key: another node's blob, or bytes changed" });
  assert.equal((openShard(seal(backupOf(5), { seq: 1n, pad: 'none', key: KEY }), KEY) as { reason: string }).reason, 'not_a_shard');
  assert.equal((openShard(new Uint8Array(10), KEY) as { reason: string }).reason, 'not_sealed');
  assert.equal((openShard(seal(new Uint8Array(54), { seq: 1n, pad: 'none', key: KEY, version: 2 }), KEY) as { reason: string }).reason, 'corrupt');
});

test('pinned: the plaintext of every shard of a small 2-of-3 stripe, parity by hand', () => {
  // p(x) = d0 + (d0 + d1) * x over GF(2^8) goes through (0, d0) and (1, d1); parity shard 2 is p(2).
  const mul2 = (a: number) => ((a << 1) ^ (a & 0x80 ? 0x11d : 0)) & 0xff;
  const text = new TextEncoder().encode('hello striped world'); // 19 bytes: S = 10, one zero byte of fill
  const st = stripe(text, { k: 2, n: 3, seq: 0x0102n, pad: 'none', key: KEY, random: counterRandom(0x40) });
  const d0 = Array.from(text.subarray(0, 10));
  const d1 = [...Array.from(text.subarray(10)), 0];
  const p2 = d0.map((a, j) => a ^ mul2(a ^ d1[j]!));
  const header = (index: number) =>
    '404142434445464748494a4b4c4d4e4f' + '02' + '03' + index.toString(16).padStart(2, '0') + '00000013' + sha(text);
  const want = [d0, d1, p2].map((d, i) => header(i) + Buffer.from(d).toString('hex'));
  const got = st.shards.map((b) => {
    const r = open(b, KEY);
    assert.ok(r.ok);
    assert.equal(r.seq, 0x0102n);
    return hex(r.plaintext);
  });
  assert.deepEqual(got, want);
  assert.equal(got[2], header(2) + '58657cf45fbe71445ebb');
});

test('a bad shard that shares its index with a good one is named bad_data, in either order', async () => {
  const { deriveSealKey } = await import('../src/core/backup/seal.js');
  const key = deriveSealKey(new Uint8Array(32).fill(9));
  const backup = Uint8Array.from({ length: 3000 }, (_, i) => (i * 13) & 0xff);
  const s = stripe(backup, { k: 2, n: 4, seq: 8n, pad: 'none', key });
  const r1 = open(s.shards[1]!, key);
  assert.ok(r1.ok);
  const pt = r1.plaintext.slice();
  pt[100]! ^= 0x40; // shard data, header intact
  const bad1 = seal(pt, { seq: 8n, pad: 'none', key, version: 2 });
  for (const blobs of [[bad1, s.shards[1]!, s.shards[2]!], [s.shards[1]!, bad1, s.shards[2]!]]) {
    const r = rebuild(blobs, key);
    assert.equal(r.ok, true);
    assert.deepEqual(r.backup, backup);
    const badInput = blobs.indexOf(bad1);
    assert.deepEqual(r.ignored.map((x) => [x.input, x.reason]), [[badInput, 'bad_data']]);
    assert.deepEqual(r.used.map((u) => u.input).sort(), [blobs.indexOf(s.shards[1]!), 2].sort());
  }
});
