import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import fc from 'fast-check';
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import {
  BUCKETS,
  MAX_BLOB,
  MAX_PLAINTEXT,
  SealKey,
  buildFrame,
  cipherBackend,
  deriveSealKey,
  open,
  paddingOf,
  seal,
  sealFrame,
  sealedLength,
  setCipherBackend,
  type Frame,
  type OpenResult,
} from '../src/core/backup/seal.js';
import { InputError } from '../src/core/errors.js';

// The pinned vector: a fixed secret, nonce, seq and plaintext.
const SECRET = Uint8Array.from({ length: 32 }, (_, i) => i + 1);
const NONCE = Uint8Array.from({ length: 24 }, (_, i) => 0x40 + i);
const SEQ = 1700000000000n;
const TEXT = new TextEncoder().encode('lnps sealed blob test vector');
const KEY = deriveSealKey(SECRET);
const fixedNonce = () => NONCE.slice();
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const unhex = (h: string) => new Uint8Array(Buffer.from(h, 'hex'));

const VECTOR_NONE =
    '01404142434445464748494a4b4c4d4e4f5051525354555657dd36594f3e1fc0935726e89382199fd3187fb072eb4fd6' +
    '0d54eaf1aaa523de6366b45ff59eb23e26dc78ca425e6f44c18800f2b1c3314a5dfe3bc6ea76b1c215c61e52e3054970' +
    'b21895752a83622fb2d0bc5a34b6e3';;
const VECTOR_BUCKET =
    '01404142434445464748494a4b4c4d4e4f5051525354555657dd36594f3e1fc0935726e89382199fd3187fb072eb4fd6' +
    '0d54eaf1aaa523de6366b45ff59eb23e26dc78ca425e6f44c18800f2b1c3314a5dfe3bc6ea76b1c215c61e52e30549bb' +
    '63a09f31feaec940d62ae39b01fe1e25ea109187dbcd05838825bf9f128ea8f137660ad3aaad41c33ac88382dd6c7707' +
    '4de7a53b3bb1060c1d09e88f29810d590e779b27e3ada64cbfc25004d60131e7474e32f27b6ae1a77651b7e6dddddfe1' +
    '4540df24acada566d132d34a2cff24ec44b7220e300b86f50f1d4d484e25abfc55d5a6a56066add423a1590792c51ab0' +
    'af5fa9e421868897c5ee412f622d6ab205865a329f24ea4c689737ca3f08a46bf4970b77b040363b7dff78055b0fd3ad' +
    '8b4319874dc0485d10fa61a201f8f1b8ee7639aeac5ebe25e2464cbdea61d44beec9f0ec25af7dfda43a805bb500dce9' +
    'c7181e360e561a727fbe075f54787a010bfda2f9be8571c849b60bb709a10e6ecb8d37dc903ee2baf5e5eaf5165f087a' +
    'e828e72f58abc5e0d1c9d9d4685bc2f6a28845606a0e2a27a7324a15cb391571c81aab6b7da6cb94f6956da7be8efb36' +
    '1e695424a919df93ded8ed7511c9290141b0d2f9ea160cdad324649d25ff90f23bc6ee7082bd180e4e4fb8dbc9f55899' +
    '103bff335a8adf3e3568895de4bc5c5b563d90c377c4df77c216b58d76f354a9496092e7bd80e7ae55b56136768ea193' +
    'f867717d8365e39f7a0c806e5d9550e58ebec28b82bf4045e16334e9450c4ae76ba2840c7cae92dfa3a2eb0dc1b7801b' +
    '1ebb5e5cd67b01a48c692e2c9ae434543e169ad03e96682c43ca72f80e4f82886c26849c7d0543aebdea6f3668199e06' +
    '18dbc2e9fa0f8e9fd62730035a515ffe0281908e1c7854a6234b4d7c87a75218c95a982f36667a90bfe90722bb137923' +
    'c9365a78965d117f257d905ded2e7fca97494bedd174b2f64a0b0dafb4ca2e1360e83520a4bee3e19677e7af728947dd' +
    '380da74a0fff626663807842d32e7089de20600d9670cbfda8fd7c21ef4ba3e8c9eeecc8ff1167a28061371c040de504' +
    'a5ba798501470da003ecd6f81adb6c5aa04f1c3775339836041694e534fa77719f84fd15adc01026cb7b8a3bfc53d2a3' +
    'a52a2c5489d90ea4ee18ae269c77fa9a4a5208901b6435e1b4cc0fa7b0033b72719f27e688441053400ab553c64ca348' +
    'fd5b631655bb22626408015f4207f90539124947e022c6f09e0c93809467a34667c6b147f480c850b73fa401cf992dc1' +
    'd66899977e90fbdc52a526fa861c39aa634545eb4b58c07e38c21e087eb2b68ae0ce42b9f739f6c8933c186e720849a2' +
    '96230587a46faa485133380c049ca24818c0697b39f0ed645db8ed28fb902590ef9110b51f4d726286473cde8ce10740' +
    'fb929fae419ed542f808b7722a1b638f';;
// 65531 bytes: pinned by its first 64 bytes, its tag and the SHA-256 of the whole.
const VECTOR_FULL_HEAD =
  '01404142434445464748494a4b4c4d4e4f5051525354555657dd36594f3e1fc0935726e89382199fd3187fb072eb4fd60d54eaf1aaa523de6366b45ff59eb23e';
const VECTOR_FULL_TAG = 'a31fa6fdfc02f0cd64a093f1d3d14564';
const VECTOR_FULL_SHA256 = 'c6f6cba562e2c267efdac72027b12434f189ba3adb5cb2708f4d43aa08756950';

/** docs/FORMAT.md, "Sealed blob, version 1", rebuilt from noble parts alone, sharing no code with seal.ts. */
function independentSeal(secret: Uint8Array, nonce: Uint8Array, seq: bigint, pt: Uint8Array, T: number, version = 1): Uint8Array {
  const key = hkdf(sha256, secret, new TextEncoder().encode('lnps peer storage'), new TextEncoder().encode('sealed blob v1'), 32);
  const frame = new Uint8Array(T - 41);
  for (let i = 0; i < 8; i++) frame[i] = Number((seq >> BigInt(56 - 8 * i)) & 0xffn);
  frame[8] = pt.length >> 8;
  frame[9] = pt.length & 0xff;
  frame.set(pt, 10);
  frame.set(sha256(frame.subarray(0, 10 + pt.length)), 10 + pt.length);
  const header = new Uint8Array(25);
  header[0] = version;
  header.set(nonce, 1);
  const ct = xchacha20poly1305(key, nonce, header).encrypt(frame);
  const out = new Uint8Array(T);
  out.set(header);
  out.set(ct, 25);
  return out;
}

function bothBackends(name: string, fn: () => void): void {
  for (const b of ['native', 'noble'] as const) {
    test(`${name} [${b}]`, () => {
      setCipherBackend(b);
      try {
        fn();
      } finally {
        setCipherBackend(undefined);
      }
    });
  }
}

const ok = (r: OpenResult) => {
  assert.equal(r.ok, true, r.ok ? '' : `expected a valid blob, got ${r.reason}`);
  return r as Extract<OpenResult, { ok: true }>;
};

test('the default backend is node:crypto when it has chacha20-poly1305', () => {
  assert.equal(cipherBackend(), 'native');
});

bothBackends('pinned vector, pad none: exact bytes', () => {
  const b = seal(TEXT, { seq: SEQ, pad: 'none', key: KEY, random: fixedNonce });
  assert.equal(b.length, 83 + TEXT.length);
  assert.equal(hex(b), VECTOR_NONE);
  assert.equal(hex(b), hex(independentSeal(SECRET, NONCE, SEQ, TEXT, 83 + TEXT.length)));
});

bothBackends('pinned vector, pad bucket: exact bytes', () => {
  const b = seal(TEXT, { seq: SEQ, pad: 'bucket', key: KEY, random: fixedNonce });
  assert.equal(b.length, 1024);
  assert.equal(hex(b), VECTOR_BUCKET);
  assert.equal(hex(b), hex(independentSeal(SECRET, NONCE, SEQ, TEXT, 1024)));
});

bothBackends('pinned vector, pad full (the default): exact bytes', () => {
  const b = seal(TEXT, { seq: SEQ, key: KEY, random: fixedNonce });
  assert.equal(b.length, 65531);
  assert.equal(hex(b.subarray(0, 64)), VECTOR_FULL_HEAD);
  assert.equal(hex(b.subarray(b.length - 16)), VECTOR_FULL_TAG);
  assert.equal(hex(sha256(b)), VECTOR_FULL_SHA256);
  assert.equal(hex(b), hex(independentSeal(SECRET, NONCE, SEQ, TEXT, 65531)));
});

bothBackends('pinned vectors open to the exact plaintext, seq and padding', () => {
  for (const [h, padding] of [[VECTOR_NONE, 'none'], [VECTOR_BUCKET, 'bucket']] as const) {
    const r = ok(open(unhex(h), KEY));
    assert.deepEqual({ ...r, plaintext: hex(r.plaintext) }, { ok: true, version: 1, seq: SEQ, plaintext: hex(TEXT), padding });
  }
});

test('native and noble agree byte for byte, and each opens what the other sealed', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 2000 }),
      fc.uint8Array({ minLength: 24, maxLength: 24 }),
      fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
      fc.constantFrom('full', 'none', 'bucket' as const),
      fc.constantFrom(1, 2 as const),
      (pt, nonce, seq, pad, version) => {
        const opts = { seq, pad, key: KEY, random: () => nonce, version } as const;
        try {
          setCipherBackend('native');
          const a = seal(pt, opts);
          setCipherBackend('noble');
          const b = seal(pt, opts);
          assert.equal(hex(a), hex(b));
          const rb = ok(open(a, KEY));
          setCipherBackend('native');
          const ra = ok(open(b, KEY));
          assert.equal(hex(ra.plaintext), hex(pt));
          assert.equal(hex(rb.plaintext), hex(pt));
          assert.equal(ra.seq, seq);
          assert.equal(ra.version, version);
          assert.equal(a.length, sealedLength(pt.length, pad));
          assert.equal(hex(a), hex(independentSeal(SECRET, nonce, seq, pt, a.length, version)));
        } finally {
          setCipherBackend(undefined);
        }
      },
    ),
    { numRuns: 60 },
  );
});

test('size limits: 65448 bytes seal into 65531, 65449 are refused naming both sizes', () => {
  assert.equal(MAX_PLAINTEXT, 65448);
  assert.equal(MAX_BLOB, 65531);
  const max = new Uint8Array(65448).fill(0xab);
  for (const pad of ['full', 'none', 'bucket'] as const) {
    const b = seal(max, { seq: 1n, pad, key: KEY });
    assert.equal(b.length, 65531);
    const r = ok(open(b, KEY));
    assert.equal(r.plaintext.length, 65448);
    assert.equal(r.padding, 'full');
  }
  assert.throws(
    () => seal(new Uint8Array(65449), { seq: 1n, key: KEY }),
    (e: unknown) => e instanceof InputError && /65449 bytes/.test(e.message) && /65448 bytes/.test(e.message),
  );
});

test('pad none on an empty plaintext gives 83 bytes; full gives 65531', () => {
  const b = seal(new Uint8Array(0), { seq: 0n, pad: 'none', key: KEY });
  assert.equal(b.length, 83);
  const r = ok(open(b, KEY));
  assert.equal(r.plaintext.length, 0);
  assert.equal(r.padding, 'none');
  assert.equal(seal(new Uint8Array(0), { seq: 0n, key: KEY }).length, 65531);
});

test('bucket picks the smallest of 1024, 4096, 16384, 65531 that fits', () => {
  assert.deepEqual(BUCKETS, [1024, 4096, 16384, 65531]);
  const cases: [number, number][] = [
    [0, 1024], [941, 1024], [942, 4096], [4013, 4096], [4014, 16384], [16301, 16384], [16302, 65531], [65448, 65531],
  ];
  for (const [len, T] of cases) {
    assert.equal(sealedLength(len, 'bucket'), T, `L=${len}`);
    const b = seal(new Uint8Array(len), { seq: 5n, pad: 'bucket', key: KEY });
    assert.equal(b.length, T, `L=${len}`);
    assert.equal(ok(open(b, KEY)).plaintext.length, len);
  }
});

test('padding is reported by size: full, then none, then bucket, else other', () => {
  assert.equal(paddingOf(65531, 10), 'full');
  assert.equal(paddingOf(93, 10), 'none');
  assert.equal(paddingOf(1024, 941), 'none'); // no padding bytes at all, though it is also a bucket
  assert.equal(paddingOf(1024, 10), 'bucket');
  assert.equal(paddingOf(500, 10), 'other');
  // A valid blob of a size no mode gives: still valid, padding "other".
  const frame = buildFrame(TEXT, 3n, 500 - 41);
  const r = ok(open(sealFrame(frame, { key: KEY, nonce: NONCE, version: 1 }), KEY));
  assert.equal(r.padding, 'other');
  assert.equal(hex(r.plaintext), hex(TEXT));
});

test('seq 0 and 2^64-1 round-trip; 2^64 and negatives are refused', () => {
  for (const seq of [0n, (1n << 64n) - 1n, 0x0102030405060708n]) {
    assert.equal(ok(open(seal(TEXT, { seq, pad: 'none', key: KEY }), KEY)).seq, seq);
  }
  assert.throws(() => seal(TEXT, { seq: 1n << 64n, key: KEY }), RangeError);
  assert.throws(() => seal(TEXT, { seq: -1n, key: KEY }), RangeError);
});

test('version 2 (sealed shard) uses the same layout with version byte 0x02', () => {
  const b = seal(TEXT, { seq: SEQ, pad: 'none', key: KEY, random: fixedNonce, version: 2 });
  assert.equal(b[0], 2);
  assert.equal(hex(b), hex(independentSeal(SECRET, NONCE, SEQ, TEXT, b.length, 2)));
  const r = ok(open(b, KEY));
  assert.equal(r.version, 2);
  // The version is authenticated: relabelling a v1 blob as v2 (or back) breaks the tag.
  const relabel = unhex(VECTOR_NONE);
  relabel[0] = 2;
  assert.deepEqual(open(relabel, KEY), { ok: false, reason: 'auth_failed' });
});

test('each sealed blob gets a fresh nonce by default', () => {
  const a = seal(TEXT, { seq: 1n, pad: 'none', key: KEY });
  const b = seal(TEXT, { seq: 1n, pad: 'none', key: KEY });
  assert.notEqual(hex(a.subarray(1, 25)), hex(b.subarray(1, 25)));
});

// ---- open: every check reached on its own ----

const fail = (reason: string) => ({ ok: false, reason });

bothBackends('a bit flipped anywhere (version, nonce, ciphertext, tag) is refused', () => {
  const good = unhex(VECTOR_NONE);
  for (let i = 0; i < good.length; i++) {
    for (let bit = 0; bit < 8; bit++) {
      const b = good.slice();
      b[i]! ^= 1 << bit;
      const r = open(b, KEY);
      // Byte 0 is the version: 0x01 with bit 1 flipped is 0x03 (unknown), bit 0 gives 0x00;
      // only 0x02 is a known version, and then the tag (which covers the header) fails.
      const want = i === 0 && b[0] !== 2 ? 'unknown_version' : 'auth_failed';
      assert.deepEqual(r, fail(want), `byte ${i} bit ${bit}`);
    }
  }
});

test('a bit flip in each region of a full blob is refused as auth_failed', () => {
  const good = seal(TEXT, { seq: SEQ, key: KEY, random: fixedNonce });
  for (const i of [1, 12, 24, 25, 26, 30000, 65514, 65515, 65520, 65530]) {
    const b = good.slice();
    b[i]! ^= 0x80;
    assert.deepEqual(open(b, KEY), fail('auth_failed'), `byte ${i}`);
  }
});

test('a wrong key and a tampered ciphertext give the same auth_failed', () => {
  const other = deriveSealKey(Uint8Array.from({ length: 32 }, (_, i) => 32 - i));
  assert.deepEqual(open(unhex(VECTOR_NONE), other), fail('auth_failed'));
  assert.deepEqual(open(unhex(VECTOR_BUCKET), other), fail('auth_failed'));
});

test('lengths: out of bounds is bad_length, cut or extended within bounds is auth_failed', () => {
  const good = unhex(VECTOR_NONE);
  assert.deepEqual(open(new Uint8Array(0), KEY), fail('bad_length'));
  assert.deepEqual(open(new Uint8Array(82), KEY), fail('bad_length'));
  assert.deepEqual(open(good.subarray(0, 82), KEY), fail('bad_length'));
  assert.deepEqual(open(good.subarray(0, good.length - 1), KEY), fail('auth_failed'));
  assert.deepEqual(open(Uint8Array.of(...good, 0), KEY), fail('auth_failed'));
  const full = seal(TEXT, { seq: SEQ, key: KEY });
  assert.deepEqual(open(Uint8Array.of(...full, 0), KEY), fail('bad_length'));
  assert.deepEqual(open(new Uint8Array(65532).fill(1), KEY), fail('bad_length'));
  // The length check comes first: an unknown version at a bad length is still bad_length.
  assert.deepEqual(open(new Uint8Array(82).fill(9), KEY), fail('bad_length'));
});

/** Encrypt a hand-made frame with a valid tag, so the checks after the tag are reached. */
function withValidTag(frame: Uint8Array, version = 1): Uint8Array {
  return sealFrame(frame as Frame, { key: KEY, nonce: NONCE, version });
}

test('unknown version with a valid tag: unknown_version (checked before the tag)', () => {
  for (const v of [0, 3, 0x81, 255]) {
    const b = withValidTag(buildFrame(TEXT, 1n, TEXT.length + 42), v);
    assert.deepEqual(open(b, KEY), fail('unknown_version'), `version ${v}`);
  }
});

test('length field too large with a valid tag: bad_length_field', () => {
  const frame = buildFrame(TEXT, 1n, TEXT.length + 42 + 5);
  // L may claim up to 5 more bytes (eating the padding) and still fit; one more does not.
  const fits = frame.slice();
  fits[9] = TEXT.length + 5;
  const r = open(withValidTag(fits), KEY);
  assert.deepEqual(r, fail('bad_checksum')); // fits, so the checksum is what fails
  const over = frame.slice();
  over[9] = TEXT.length + 6;
  assert.deepEqual(open(withValidTag(over), KEY), fail('bad_length_field'));
  const huge = frame.slice();
  huge[8] = 0xff;
  huge[9] = 0xff;
  assert.deepEqual(open(withValidTag(huge), KEY), fail('bad_length_field'));
});

test('wrong checksum with a valid tag: bad_checksum', () => {
  const frame = buildFrame(TEXT, 1n, TEXT.length + 42 + 10);
  for (const i of [0, 7, 10, 10 + TEXT.length - 1, 10 + TEXT.length, 10 + TEXT.length + 31]) {
    const f = frame.slice();
    f[i]! ^= 1;
    assert.deepEqual(open(withValidTag(f), KEY), fail('bad_checksum'), `frame byte ${i}`);
  }
});

test('non-zero padding with a valid tag: nonzero_padding', () => {
  const frame = buildFrame(TEXT, 1n, TEXT.length + 42 + 10);
  for (const i of [TEXT.length + 42, frame.length - 1]) {
    const f = frame.slice();
    f[i] = 0x01;
    assert.deepEqual(open(withValidTag(f), KEY), fail('nonzero_padding'), `frame byte ${i}`);
  }
  // And the untouched frame, same size, is valid.
  assert.equal(open(withValidTag(frame), KEY).ok, true);
});

test('open is total: arbitrary bytes give a reason, never an exception', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 400 }), fc.constantFrom(0, 1, 2, 3), (bytes, v) => {
      if (bytes.length > 0) bytes[0] = v;
      const r = open(bytes, KEY);
      assert.equal(r.ok, false);
      if (!r.ok) assert.ok(['bad_length', 'unknown_version', 'auth_failed'].includes(r.reason));
    }),
    { numRuns: 300 },
  );
});

// ---- misuse and key hygiene ----

test('wrong-typed arguments throw TypeError or RangeError naming the argument', () => {
  const cases: [() => unknown, RegExp][] = [
    [() => seal('text' as unknown as Uint8Array, { seq: 1n, key: KEY }), /"plaintext" expected Uint8Array/],
    [() => seal(TEXT, { seq: 1 as unknown as bigint, key: KEY }), /"seq" expected a bigint/],
    [() => seal(TEXT, { seq: 1n, key: SECRET as unknown as SealKey }), /"key" expected a SealKey/],
    [() => seal(TEXT, { seq: 1n, key: KEY, random: () => new Uint8Array(12) }), /"random\(24\)" expected 24 bytes, got 12/],
    [() => seal(TEXT, { seq: 1n, key: KEY, pad: 'huge' as 'full' }), /"pad" expected full, none or bucket/],
    [() => seal(TEXT, { seq: 1n, key: KEY, version: 3 as 1 }), /"version" expected 1 or 2/],
    [() => open('00' as unknown as Uint8Array, KEY), /"sealed" expected Uint8Array/],
    [() => open(new Uint8Array(100), SECRET as unknown as SealKey), /"key" expected a SealKey/],
    [() => deriveSealKey(new Uint8Array(31)), /"nodeSecret" expected 32 bytes, got 31/],
  ];
  for (const [fn, msg] of cases) assert.throws(fn, (e: unknown) => (e instanceof TypeError || e instanceof RangeError) && msg.test((e as Error).message));
});

test('the key never shows its bytes: inspect, JSON, String', () => {
  const raw = hkdf(sha256, SECRET, new TextEncoder().encode('lnps peer storage'), new TextEncoder().encode('sealed blob v1'), 32);
  const shown = [inspect(KEY, { showHidden: true, depth: 5 }), JSON.stringify({ KEY }), String(KEY), `${KEY}`, inspect({ nested: KEY })].join('\n');
  assert.ok(!shown.includes(hex(raw)), 'key bytes leaked');
  assert.ok(!shown.includes(hex(SECRET)), 'secret leaked');
  assert.match(shown, /SealKey \[redacted\]/);
  assert.deepEqual(Object.keys(KEY), []);
});

test('wipe makes the key unusable for opening', () => {
  const k = deriveSealKey(SECRET);
  const b = seal(TEXT, { seq: 1n, pad: 'none', key: k });
  k.wipe();
  assert.deepEqual(open(b, k), fail('auth_failed'));
});
