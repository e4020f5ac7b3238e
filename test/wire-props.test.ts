// Properties over every registered message (a registry completeness check keeps a new type from
// being skipped) and over arbitrary bytes: decoding throws DecodeError or re-encodes exactly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { toHex } from '../src/core/bytes.js';
import { DecodeError } from '../src/core/errors.js';
import {
  MSG_TYPE,
  REGISTRY,
  decodeBigSize,
  decodeMessage,
  decodeTlvStream,
  encodeBigSize,
  encodeMessage,
  encodeTlvStream,
  messageFromJson,
  messageToJson,
  type KnownName,
  type Message,
  type TlvRecord,
} from '../src/core/wire/index.js';

const RUNS = { numRuns: 300, interruptAfterTimeLimit: 4000 };

const bytes = (max: number) => fc.uint8Array({ maxLength: max });

/** Odd TLV types above `after` (known records of a stream excluded), strictly increasing. */
function extension(exclude: bigint[] = []): fc.Arbitrary<TlvRecord[] | undefined> {
  const type = fc.oneof(fc.bigInt({ min: 0n, max: 300n }), fc.bigInt({ min: 0n, max: 0xffff_ffff_ffff_ffffn }));
  return fc
    .uniqueArray(type.map((t) => t | 1n), { maxLength: 4 })
    .chain((types) => {
      const sorted = types.filter((t) => !exclude.includes(t)).sort((a, b) => (a < b ? -1 : 1));
      return fc.tuple(...sorted.map((t) => bytes(40).map((value) => ({ type: t, value }))));
    })
    .map((recs) => (recs.length > 0 ? recs : undefined));
}

function withExt<M extends object>(arb: fc.Arbitrary<M>, exclude?: bigint[]): fc.Arbitrary<M> {
  // fc.record builds objects without a prototype: spread into plain objects to compare with decode's.
  return fc.tuple(arb, extension(exclude)).map(([m, ext]) => (ext ? { ...m, extension: ext } : { ...m }));
}

/** A generator for each known message; the completeness test checks every MSG_TYPE has one. */
const ARBITRARY: Record<KnownName, fc.Arbitrary<Message>> = {
  warning: withExt(fc.record({ type: fc.constant(1 as const), name: fc.constant('warning' as const), channelId: fc.uint8Array({ minLength: 32, maxLength: 32 }), data: bytes(200) })),
  error: withExt(fc.record({ type: fc.constant(17 as const), name: fc.constant('error' as const), channelId: fc.uint8Array({ minLength: 32, maxLength: 32 }), data: bytes(200) })),
  peer_storage: withExt(fc.record({ type: fc.constant(7 as const), name: fc.constant('peer_storage' as const), blob: bytes(600) })),
  peer_storage_retrieval: withExt(fc.record({ type: fc.constant(9 as const), name: fc.constant('peer_storage_retrieval' as const), blob: bytes(600) })),
  ping: withExt(fc.record({ type: fc.constant(18 as const), name: fc.constant('ping' as const), numPongBytes: fc.integer({ min: 0, max: 65535 }), ignored: bytes(100) })),
  pong: withExt(fc.record({ type: fc.constant(19 as const), name: fc.constant('pong' as const), ignored: bytes(100) })),
  init: withExt(
    fc.record(
      {
        type: fc.constant(16 as const),
        name: fc.constant('init' as const),
        globalFeatures: bytes(8),
        features: bytes(12),
        networks: fc.array(fc.uint8Array({ minLength: 32, maxLength: 32 }), { maxLength: 3 }),
        remoteAddr: bytes(40),
      },
      { requiredKeys: ['type', 'name', 'globalFeatures', 'features'] },
    ),
    [1n, 3n],
  ),
};

test('registry completeness: every MSG_TYPE has a codec, a name that matches, and a generator here', () => {
  const types = Object.values(MSG_TYPE).sort((a, b) => a - b);
  assert.deepEqual([...REGISTRY.keys()].sort((a, b) => a - b), types);
  for (const [name, type] of Object.entries(MSG_TYPE)) {
    assert.equal(REGISTRY.get(type)!.def.name, name);
    assert.ok(name in ARBITRARY, `no generator for ${name}`);
  }
  assert.deepEqual(Object.keys(ARBITRARY).sort(), Object.keys(MSG_TYPE).sort());
});

for (const name of Object.keys(MSG_TYPE) as KnownName[]) {
  test(`round trip: ${name} encodes, decodes to the same value, and its JSON gives the same bytes`, () => {
    fc.assert(
      fc.property(ARBITRARY[name], (msg) => {
        const wire = encodeMessage(msg);
        const back = decodeMessage(wire);
        assert.deepEqual(back, msg);
        const json = JSON.parse(JSON.stringify(messageToJson(back)));
        assert.equal(toHex(encodeMessage(messageFromJson(json))), toHex(wire));
      }),
      RUNS,
    );
  });
}

test('round trip: unknown types keep their payload and even/odd flag', () => {
  const unknownType = fc.integer({ min: 0, max: 0xffff }).filter((t) => !REGISTRY.has(t));
  fc.assert(
    fc.property(unknownType, bytes(300), (type, payload) => {
      const msg: Message = { type, name: 'unknown', even: type % 2 === 0, payload };
      const wire = encodeMessage(msg);
      assert.deepEqual(decodeMessage(wire), msg);
      assert.equal(toHex(encodeMessage(messageFromJson(JSON.parse(JSON.stringify(messageToJson(msg)))))), toHex(wire));
    }),
    RUNS,
  );
});

/** Decoding must throw DecodeError (nothing else) or give a value that re-encodes to exactly the input. */
function decodesExactlyOrFails(input: Uint8Array): void {
  let msg: Message;
  try {
    msg = decodeMessage(input);
  } catch (e) {
    if (!(e instanceof DecodeError)) throw e;
    assert.ok(e.path.length > 0 && e.code.length > 0);
    return;
  }
  assert.equal(toHex(encodeMessage(msg)), toHex(input));
  // The JSON form is exact too (padded feature vectors included).
  assert.equal(toHex(encodeMessage(messageFromJson(JSON.parse(JSON.stringify(messageToJson(msg)))))), toHex(input));
}

test('arbitrary bytes: DecodeError or an exact re-encoding', () => {
  fc.assert(fc.property(bytes(300), (b) => decodesExactlyOrFails(b)), RUNS);
});

test('arbitrary payloads after every known type: DecodeError or an exact re-encoding', () => {
  const types = Object.values(MSG_TYPE);
  fc.assert(
    fc.property(fc.constantFrom(...types), bytes(300), (type, payload) => {
      const input = new Uint8Array(2 + payload.length);
      input[0] = type >> 8;
      input[1] = type & 0xff;
      input.set(payload, 2);
      decodesExactlyOrFails(input);
    }),
    { numRuns: 1500, interruptAfterTimeLimit: 4000 },
  );
});

test('mutations of valid messages: DecodeError or an exact re-encoding', () => {
  const anyMsg = fc.oneof(...Object.values(ARBITRARY));
  fc.assert(
    fc.property(anyMsg, fc.nat(), fc.nat(255), fc.nat(8), (msg, pos, byte, cut) => {
      const wire = encodeMessage(msg);
      const flipped = wire.slice();
      flipped[pos % wire.length] = byte;
      decodesExactlyOrFails(flipped);
      decodesExactlyOrFails(wire.subarray(0, Math.max(0, wire.length - cut)));
    }),
    RUNS,
  );
});

test('BigSize and TLV streams: arbitrary bytes fail with DecodeError or round trip', () => {
  fc.assert(
    fc.property(bytes(12), (b) => {
      try {
        const v = decodeBigSize(b);
        assert.equal(toHex(encodeBigSize(v)), toHex(b));
      } catch (e) {
        if (!(e instanceof DecodeError)) throw e;
      }
      try {
        const recs = decodeTlvStream(b);
        assert.equal(toHex(encodeTlvStream(recs)), toHex(b));
      } catch (e) {
        if (!(e instanceof DecodeError)) throw e;
      }
    }),
    { numRuns: 2000, interruptAfterTimeLimit: 4000 },
  );
  fc.assert(
    fc.property(fc.bigInt({ min: 0n, max: 0xffff_ffff_ffff_ffffn }), (v) => assert.equal(decodeBigSize(encodeBigSize(v)), v)),
    RUNS,
  );
});
