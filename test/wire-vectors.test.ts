// The official BOLT #1 vectors (test/vectors, see its README): BigSize (Appendix A), TLV streams in the
// n1/n2 namespaces (Appendix B) and the init extension examples (Appendix C).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fromHex, toHex } from '../src/core/bytes.js';
import { DecodeError } from '../src/core/errors.js';
import { isValidPubkey } from '../src/core/keys.js';
import {
  decodeBigSize,
  decodeMessage,
  decodeTlvStream,
  encodeBigSize,
  encodeMessage,
  type TlvNamespace,
  type TlvRecord,
} from '../src/core/wire/index.js';

const load = (name: string) => JSON.parse(readFileSync(new URL(`../../test/vectors/${name}`, import.meta.url), 'utf8'));
const bigsize = load('bigsize.json');
const tlv = load('tlv.json');

function decodeErrorCode(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof DecodeError, `expected DecodeError, got ${String(e)}`);
    return e.code;
  }
  assert.fail('expected a DecodeError, decoding succeeded');
}

test('BigSize decoding vectors: values, non-canonical and short reads', () => {
  assert.equal(bigsize.decoding.length, 18);
  for (const v of bigsize.decoding) {
    const bytes = fromHex(v.bytes);
    if (v.exp_error) {
      const code = decodeErrorCode(() => decodeBigSize(bytes));
      assert.equal(code, v.exp_error.includes('canonical') ? 'non_minimal' : 'truncated', v.name);
    } else {
      assert.equal(decodeBigSize(bytes), BigInt(v.value_str), v.name);
    }
  }
});

test('BigSize encoding vectors, minimal', () => {
  assert.equal(bigsize.encoding.length, 8);
  for (const v of bigsize.encoding) assert.equal(toHex(encodeBigSize(BigInt(v.value_str))), v.bytes, v.name);
});

// ---- the two test namespaces of Appendix B, decoded by their field types ----------------------

function be(b: Uint8Array): bigint {
  let v = 0n;
  for (const x of b) v = (v << 8n) | BigInt(x);
  return v;
}

function tu(max: number, what: string) {
  return (value: Uint8Array, path: string) => {
    // "Leading zeros in truncated integers MUST be omitted"
    if (value.length > max) throw new DecodeError('tlv_length', path, `${what} longer than ${max} bytes`);
    if (value.length > 0 && value[0] === 0) throw new DecodeError('non_minimal', path, `${what} not minimal`);
  };
}

function exactly(n: number) {
  return (value: Uint8Array, path: string) => {
    if (value.length !== n) throw new DecodeError('tlv_length', path, `expected ${n} bytes, got ${value.length}`);
  };
}

const N1: TlvNamespace = new Map([
  [1n, { name: 'tlv1', check: tu(8, 'amount_msat') }],
  [2n, { name: 'tlv2', check: exactly(8) }],
  [
    3n,
    {
      name: 'tlv3',
      check: (v: Uint8Array, path: string) => {
        exactly(49)(v, path);
        if (!isValidPubkey(v.subarray(0, 33))) throw new DecodeError('bad_value', `${path}.node_id`, 'not a valid point');
      },
    },
  ],
  [254n, { name: 'tlv4', check: exactly(2) }],
]);
const N2: TlvNamespace = new Map([
  [0n, { name: 'tlv1', check: tu(8, 'amount_msat') }],
  [11n, { name: 'tlv2', check: tu(4, 'cltv_expiry') }],
]);

/** The values of an n1 record, in the spec's notation. */
function n1Values(rec: TlvRecord): { tlv: string; fields: Record<string, string> } {
  const v = rec.value;
  switch (rec.type) {
    case 1n:
      return { tlv: 'tlv1', fields: { amount_msat: be(v).toString() } };
    case 2n:
      return { tlv: 'tlv2', fields: { scid: `${be(v.subarray(0, 3))}x${be(v.subarray(3, 6))}x${be(v.subarray(6, 8))}` } };
    case 3n:
      return { tlv: 'tlv3', fields: { node_id: toHex(v.subarray(0, 33)), amount_msat_1: be(v.subarray(33, 41)).toString(), amount_msat_2: be(v.subarray(41, 49)).toString() } };
    case 254n:
      return { tlv: 'tlv4', fields: { cltv_delta: be(v).toString() } };
    default:
      throw new Error(`not an n1 record: ${rec.type}`);
  }
}

const groups = tlv.groups;

test('TLV: failures in any namespace (truncation, non-minimal type/length) fail in n1 and n2', () => {
  const expected = ['truncated', 'truncated', 'non_minimal', 'truncated', 'truncated', 'truncated', 'tlv_length', 'non_minimal', 'tlv_length'];
  assert.equal(groups.failures_any_namespace.vectors.length, expected.length);
  groups.failures_any_namespace.vectors.forEach((v: { hex: string; reason: string }, i: number) => {
    for (const ns of [N1, N2]) assert.equal(decodeErrorCode(() => decodeTlvStream(fromHex(v.hex), 'tlv', ns)), expected[i], v.reason);
  });
});

test('TLV: unknown even types fail in either namespace', () => {
  assert.equal(groups.failures_either_namespace.vectors.length, 4);
  for (const v of groups.failures_either_namespace.vectors) {
    for (const ns of [N1, N2]) assert.equal(decodeErrorCode(() => decodeTlvStream(fromHex(v.hex), 'tlv', ns)), 'tlv_unknown_even', v.reason);
  }
});

test('TLV: n1 failures (wrong lengths, non-minimal tu64, invalid point, unknown even)', () => {
  assert.equal(groups.failures_n1.vectors.length, 20);
  for (const v of groups.failures_n1.vectors) {
    const code = decodeErrorCode(() => decodeTlvStream(fromHex(v.hex), 'tlv', N1));
    const want = /not minimal/.test(v.reason) ? 'non_minimal' : /valid point/.test(v.reason) ? 'bad_value' : /unknown even/.test(v.reason) ? 'tlv_unknown_even' : 'tlv_length';
    assert.equal(code, want, v.reason);
  }
});

test('TLV: streams of unknown odd records decode in both namespaces and are kept verbatim', () => {
  assert.equal(groups.successes_either_namespace_ignored.vectors.length, 7);
  for (const v of groups.successes_either_namespace_ignored.vectors) {
    for (const ns of [N1, N2]) {
      const recs = decodeTlvStream(fromHex(v.hex), 'tlv', ns);
      assert.equal(recs.length, v.hex === '' ? 0 : 1, v.explanation);
      for (const r of recs) assert.equal(r.type & 1n, 1n);
    }
  }
});

test('TLV: n1 successes decode to the spec values', () => {
  assert.equal(groups.successes_n1.vectors.length, 12);
  for (const v of groups.successes_n1.vectors) {
    const recs = decodeTlvStream(fromHex(v.hex), 'tlv', N1);
    assert.equal(recs.length, 1, v.values);
    const got = n1Values(recs[0]!);
    assert.deepEqual(got, v.parsed, v.values);
  }
});

test('TLV: ordering and duplicates fail (n1 and n2 stream failures)', () => {
  const codes = groups.stream_failures_n1.vectors.map((v: { hex: string }) => decodeErrorCode(() => decodeTlvStream(fromHex(v.hex), 'tlv', N1)));
  assert.deepEqual(codes, ['tlv_order', 'tlv_order', 'tlv_order', 'tlv_order']);
  for (const v of groups.stream_failures_n2.vectors) assert.equal(decodeErrorCode(() => decodeTlvStream(fromHex(v.hex), 'tlv', N2)), 'tlv_order');
});

test('TLV stream rules: a higher valid stream after a lower one decodes; an invalid one appended fails', () => {
  const valid: { hex: string; first: bigint; last: bigint }[] = [];
  for (const v of [...groups.successes_n1.vectors, ...groups.successes_either_namespace_ignored.vectors]) {
    const recs = decodeTlvStream(fromHex(v.hex), 'tlv', N1);
    if (recs.length > 0) valid.push({ hex: v.hex, first: recs[0]!.type, last: recs[recs.length - 1]!.type });
  }
  let pairs = 0;
  for (const a of valid) {
    for (const b of valid) {
      if (a.last < b.first) {
        assert.equal(decodeTlvStream(fromHex(a.hex + b.hex), 'tlv', N1).length, 2, `${a.hex} + ${b.hex}`);
        pairs++;
      }
    }
    for (const bad of [...groups.failures_any_namespace.vectors, ...groups.failures_either_namespace.vectors, ...groups.failures_n1.vectors]) {
      assert.throws(() => decodeTlvStream(fromHex(a.hex + bad.hex), 'tlv', N1), DecodeError, `${a.hex} + ${bad.hex}`);
    }
  }
  assert.ok(pairs > 50, `only ${pairs} ordered pairs`);
});

test('message extension (Appendix C): init examples, valid re-encode exactly, invalid fail', () => {
  const ext = tlv.message_extension;
  assert.equal(ext.base_init, '0x001000000000');
  const valid = ext.valid.map((v: { hex: string }) => decodeMessage(fromHex(v.hex)));
  assert.deepEqual(valid[0], { type: 16, name: 'init', globalFeatures: new Uint8Array(0), features: new Uint8Array(0) });
  assert.deepEqual(valid[1].extension, [
    { type: 0xc9n, value: fromHex('2a') },
    { type: 0xcbn, value: fromHex('04') },
  ]);
  ext.valid.forEach((v: { hex: string }, i: number) => assert.equal(toHex(encodeMessage(valid[i])), v.hex));
  const codes = ext.invalid.map((v: { hex: string }) => decodeErrorCode(() => decodeMessage(fromHex(v.hex))));
  assert.deepEqual(codes, ['truncated', 'tlv_unknown_even', 'tlv_order']);
});
