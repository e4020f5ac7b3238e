// Golden hex <-> JSON pairs for every message, both ways, and the codec's limits and helpers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromHex, toHex } from '../src/core/bytes.js';
import { DecodeError, InputError } from '../src/core/errors.js';
import {
  CHAIN_HASH,
  FEATURE_NAMES,
  MSG_TYPE,
  OPTION_PROVIDE_STORAGE_OPTIONAL,
  OPTION_PROVIDE_STORAGE_REQUIRED,
  chainName,
  decodeMessage,
  describeAddress,
  encodeFeatures,
  encodeMessage,
  errorMessage,
  featureBits,
  hasFeature,
  initMessage,
  messageFromJson,
  messageToJson,
  offersProvideStorage,
  peerStorage,
  peerStorageRetrieval,
  ping,
  pong,
  warningMessage,
  type Message,
} from '../src/core/wire/index.js';

const MAINNET = '6fe28c0ab6f1b372c1a6a246ae63f74f931e8365e15a089c68d6190000000000';
const REGTEST = '06226e46111a0b59caaf126043eb5bbf28c34f3a5e332a1fc7b2b73cf188910f';
const ZERO32 = '00'.repeat(32);

const GOLDEN: { what: string; hex: string; json: Record<string, unknown> }[] = [
  {
    what: 'peer_storage',
    hex: '0007' + '0003' + '010203',
    json: { type: 7, name: 'peer_storage', blob_len: 3, blob: '010203', extension: [] },
  },
  {
    what: 'peer_storage_retrieval with an odd extension record (3-byte BigSize type 257)',
    hex: '0009' + '0002' + 'cafe' + 'fd0101' + '01' + 'ff',
    json: { type: 9, name: 'peer_storage_retrieval', blob_len: 2, blob: 'cafe', extension: [{ type: '257', value: 'ff' }] },
  },
  {
    what: 'init: bit 43, networks mainnet+regtest, remote_addr 127.0.0.1:9735',
    hex: '0010' + '0000' + '0006' + '080000000000' + '01' + '40' + MAINNET + REGTEST + '03' + '07' + '017f0000012607',
    json: {
      type: 16,
      name: 'init',
      global_features: [],
      features: [43],
      feature_names: { '43': 'option_provide_storage' },
      networks: [MAINNET, REGTEST],
      network_names: ['mainnet', 'regtest'],
      remote_addr: '017f0000012607',
      remote_addr_text: '127.0.0.1:9735',
      extension: [],
    },
  },
  {
    what: 'init: padded globalfeatures, bits 3 and 9, empty networks record',
    hex: '0010' + '0002' + '0002' + '0002' + '0208' + '0100',
    json: {
      type: 16,
      name: 'init',
      global_features: [1],
      features: [3, 9],
      global_features_len: 2,
      feature_names: { '1': 'option_data_loss_protect', '3': 'unknown', '9': 'var_onion_optin' },
      networks: [],
      network_names: [],
      remote_addr: null,
      remote_addr_text: null,
      extension: [],
    },
  },
  {
    what: 'error on one channel',
    hex: '0011' + '11'.repeat(32) + '0003' + '626164',
    json: { type: 17, name: 'error', channel_id: '11'.repeat(32), all_channels: false, data: '626164', data_text: 'bad', extension: [] },
  },
  {
    what: 'warning with data that is not printable',
    hex: '0001' + ZERO32 + '0002' + '00ff',
    json: { type: 1, name: 'warning', channel_id: ZERO32, all_channels: true, data: '00ff', data_text: null, extension: [] },
  },
  {
    what: 'ping that asks for no pong',
    hex: '0012' + 'fffc' + '0002' + '0000',
    json: { type: 18, name: 'ping', num_pong_bytes: 65532, ignored_len: 2, ignored: '0000', extension: [] },
  },
  {
    what: 'pong',
    hex: '0013' + '0003' + '000000',
    json: { type: 19, name: 'pong', ignored_len: 3, ignored: '000000', extension: [] },
  },
  { what: 'unknown odd type', hex: '8001' + 'abcd', json: { type: 32769, name: 'unknown', even: false, payload: 'abcd' } },
  { what: 'unknown even type, empty payload', hex: '0020', json: { type: 32, name: 'unknown', even: true, payload: '' } },
];

test('golden messages: hex -> JSON', () => {
  for (const g of GOLDEN) assert.deepEqual(messageToJson(decodeMessage(fromHex(g.hex))), g.json, g.what);
});

test('golden messages: JSON -> hex', () => {
  for (const g of GOLDEN) assert.equal(toHex(encodeMessage(messageFromJson(g.json))), g.hex, g.what);
});

test('golden messages: every registered type has at least one golden pair', () => {
  const covered = new Set(GOLDEN.map((g) => g.json.type));
  for (const type of Object.values(MSG_TYPE)) assert.ok(covered.has(type), `no golden pair for type ${type}`);
});

test('constructors build the expected bytes', () => {
  assert.equal(toHex(encodeMessage(peerStorage(fromHex('010203')))), '00070003010203');
  assert.equal(toHex(encodeMessage(peerStorageRetrieval(fromHex('0102')))), '000900020102');
  // BOLT #9: a feature vector is big-endian, bit 0 the last byte's lowest; only bit 43 set, minimally encoded, is 080000000000.
  assert.equal(toHex(encodeMessage(initMessage({ features: [43] }))), '00100000' + '0006' + '080000000000');
  assert.equal(toHex(encodeMessage(initMessage({ features: [], networks: [CHAIN_HASH.mainnet] }))), '001000000000' + '0120' + MAINNET);
  assert.equal(toHex(encodeMessage(ping(4, 2))), '0012000400020000');
  assert.equal(toHex(encodeMessage(pong(1))), '0013000100');
  assert.equal(toHex(encodeMessage(errorMessage(null, 'hi'))), '0011' + ZERO32 + '00026869');
  assert.equal(toHex(encodeMessage(warningMessage(fromHex('22'.repeat(32)), ''))), '0001' + '22'.repeat(32) + '0000');
});

test('a decoded blob is a view of the input, not a copy', () => {
  const input = fromHex('00070003010203');
  const msg = decodeMessage(input);
  assert.equal(msg.name, 'peer_storage');
  if (msg.name !== 'peer_storage') return;
  assert.equal(msg.blob.buffer, input.buffer);
  assert.equal(msg.blob.byteOffset, input.byteOffset + 4);
});

test('your_peer_storage is accepted as an alias and printed with the spec name', () => {
  const m = messageFromJson({ name: 'your_peer_storage', blob: 'aa' });
  assert.deepEqual(messageToJson(m), { type: 9, name: 'peer_storage_retrieval', blob_len: 1, blob: 'aa', extension: [] });
});

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof DecodeError, `expected DecodeError, got ${String(e)}`);
    return `${e.code} ${e.path}`;
  }
  assert.fail('decoded without error');
}

test('decoding limits: message size, blob length, truncation, networks length, trailing garbage', () => {
  assert.equal(codeOf(() => decodeMessage(new Uint8Array(65536))), 'too_large message');
  assert.equal(codeOf(() => decodeMessage(new Uint8Array(0))), 'truncated message.type');
  assert.equal(codeOf(() => decodeMessage(fromHex('00'))), 'truncated message.type');
  assert.equal(codeOf(() => decodeMessage(fromHex('0007000501'))), 'truncated peer_storage.blob');
  assert.equal(codeOf(() => decodeMessage(fromHex('0007fffc01'))), 'too_large peer_storage.blob_len');
  assert.equal(codeOf(() => decodeMessage(fromHex('000700'))), 'truncated peer_storage.blob_len');
  assert.equal(codeOf(() => decodeMessage(fromHex('00100000000001' + '21' + '00'.repeat(33)))), 'tlv_length init.tlvs.networks');
  assert.equal(codeOf(() => decodeMessage(fromHex('00070000' + '02' + '00'))), 'tlv_unknown_even peer_storage.extension[0].type');
  assert.equal(codeOf(() => decodeMessage(fromHex('00070000' + 'fd0001' + '00'))), 'non_minimal peer_storage.extension[0].type');
  assert.equal(codeOf(() => decodeMessage(fromHex('00120001'))), 'truncated ping.ignored_len');
  assert.equal(codeOf(() => decodeMessage(fromHex('0011' + '00'.repeat(31)))), 'truncated error.channel_id');
  // The largest peer_storage: 65531 bytes of blob make a 65535-byte message.
  const max = new Uint8Array(65535);
  max.set([0, 7, 0xff, 0xfb]);
  const m = decodeMessage(max);
  assert.equal(m.name === 'peer_storage' && m.blob.length, 65531);
});

test('encoding limits: blob over 65531, message over 65535, bad extensions are refused', () => {
  const tooLarge = (fn: () => unknown, re: RegExp) =>
    assert.throws(fn, (e: unknown) => e instanceof InputError && re.test(e.message));
  tooLarge(() => encodeMessage(peerStorage(new Uint8Array(65532))), /peer_storage\.blob is 65532 bytes, at most 65531/);
  tooLarge(() => encodeMessage({ ...peerStorage(new Uint8Array(65531)), extension: [{ type: 1n, value: new Uint8Array(0) }] }), /65537 bytes; a message is at most 65535/);
  tooLarge(() => encodeMessage(pong(65532)), /65536 bytes/);
  tooLarge(() => encodeMessage({ ...peerStorage(new Uint8Array(1)), extension: [{ type: 3n, value: new Uint8Array(0) }, { type: 1n, value: new Uint8Array(0) }] }), /strictly increasing/);
  tooLarge(() => encodeMessage({ ...peerStorage(new Uint8Array(1)), extension: [{ type: 2n, value: new Uint8Array(0) }] }), /unknown even TLV type 2/);
  // init's own records may not be repeated in its extension.
  tooLarge(() => encodeMessage({ ...initMessage({ features: [], networks: [] }), extension: [{ type: 1n, value: new Uint8Array(0) }] }), /record type 1 is init's networks/);
  tooLarge(() => encodeMessage({ ...initMessage({ features: [] }), extension: [{ type: 3n, value: new Uint8Array(0) }] }), /record type 3 is init's remote_addr; set it through that field/);
  tooLarge(() => encodeMessage(errorMessage(new Uint8Array(31), '')), /channel_id must be 32 bytes/);
  assert.throws(() => encodeMessage({ type: 7, name: 'ping' } as unknown as Message), TypeError);
});

test('features: names for both bits of every pair, bit order, minimal encoding', () => {
  assert.equal(FEATURE_NAMES[OPTION_PROVIDE_STORAGE_REQUIRED], 'option_provide_storage');
  assert.equal(FEATURE_NAMES[OPTION_PROVIDE_STORAGE_OPTIONAL], 'option_provide_storage');
  for (const [bit, name] of Object.entries(FEATURE_NAMES)) assert.equal(FEATURE_NAMES[Number(bit) ^ 1], name, `pair of bit ${bit}`);
  assert.equal(FEATURE_NAMES[3], undefined); // initial_routing_sync left BOLT #9
  assert.equal(Object.keys(FEATURE_NAMES).length, 46);
  assert.deepEqual(featureBits(fromHex('080000000000')), [43]);
  assert.deepEqual(featureBits(fromHex('0100000000000202')), [1, 9, 56]);
  assert.equal(toHex(encodeFeatures([43])), '080000000000');
  assert.equal(toHex(encodeFeatures([])), '');
  assert.equal(toHex(encodeFeatures([0, 8, 9])), '0301');
  assert.equal(toHex(encodeFeatures([1], 3)), '000002');
  assert.ok(hasFeature(fromHex('080000000000'), 43));
  assert.ok(!hasFeature(fromHex('080000000000'), 42));
  assert.ok(!hasFeature(fromHex('08'), 43));
  assert.throws(() => encodeFeatures([-1]), InputError);
});

test('offersProvideStorage: bit 42 or 43, in features or globalfeatures (the two are ORed)', () => {
  assert.ok(offersProvideStorage(initMessage({ features: [43] })));
  assert.ok(offersProvideStorage(initMessage({ features: [42] })));
  assert.ok(!offersProvideStorage(initMessage({ features: [41, 44, 45] })));
  assert.ok(offersProvideStorage({ features: new Uint8Array(0), globalFeatures: encodeFeatures([43]) }));
});

test('chain hashes are in wire order, and name back', () => {
  assert.equal(toHex(CHAIN_HASH.mainnet), MAINNET);
  assert.equal(toHex(CHAIN_HASH.regtest), REGTEST);
  assert.equal(toHex(CHAIN_HASH.testnet), '43497fd7f826957108f4a30fd9cec3aeba79972084e90ead01ea330900000000');
  assert.equal(toHex(CHAIN_HASH.signet), 'f61eee3b63a380a477a063af32b2bbc97c9ff9f01f2c4225e973988108000000');
  for (const name of ['mainnet', 'testnet', 'signet', 'regtest'] as const) assert.equal(chainName(CHAIN_HASH[name]), name);
  assert.equal(chainName(new Uint8Array(32)), undefined);
});

test('messageFromJson names the offending key', () => {
  const inputErr = (v: unknown, re: RegExp) => assert.throws(() => messageFromJson(v), (e: unknown) => e instanceof InputError && re.test(e.message));
  inputErr({ name: 'peer_storage', blob: '00', blobb: '00' }, /message\.blobb: not a field of peer_storage/);
  inputErr({ name: 'peer_storage', type: 9, blob: '00' }, /peer_storage is type 7, not 9/);
  inputErr({ name: 'nope' }, /unknown message name "nope"/);
  inputErr({ name: 'ping', num_pong_bytes: 70000 }, /num_pong_bytes: expected an integer in 0\.\.65535/);
  inputErr({ name: 'init', features: [43], features_len: 1 }, /1 bytes cannot hold feature bit 43/);
  inputErr({ name: 'init', extension: [{ type: '18446744073709551616', value: '' }] }, /at most 2\^64-1/);
  inputErr({ type: 7, name: 'unknown', payload: '' }, /type 7 is peer_storage/);
  assert.throws(() => messageFromJson({ name: 'peer_storage', blob: 'abc' }), (e: unknown) => e instanceof DecodeError && e.code === 'bad_hex');
});

test('remote_addr descriptors read as addresses (BOLT #7 types 1, 2, 4, 5); anything else is not one', () => {
  assert.equal(describeAddress(fromHex('01cb0071072607')), '203.0.113.7:9735');
  assert.equal(describeAddress(fromHex('02' + '20010db8000000000000000000000001' + '2607')), '[2001:db8:0:0:0:0:0:1]:9735');
  const onion = '04' + toHex(Uint8Array.from({ length: 35 }, (_, i) => i)) + '2607';
  // RFC 4648 base32 of bytes 0..34 (checked against Python's base64.b32encode).
  assert.equal(describeAddress(fromHex(onion)), 'aaaqeayeaudaocajbifqydiob4ibceqtcqkrmfyydenbwha5dypsaijc.onion:9735');
  assert.equal(describeAddress(fromHex('0509' + toHex(new TextEncoder().encode('localhost')) + '2607')), 'localhost:9735');
  assert.equal(describeAddress(fromHex('01cb00710726')), undefined);
  assert.equal(describeAddress(fromHex('0503ab2607')), undefined);
  assert.equal(describeAddress(fromHex('09')), undefined);
  assert.equal(describeAddress(new Uint8Array(0)), undefined);
});
