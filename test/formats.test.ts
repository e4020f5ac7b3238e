// Other implementations' peer storage blobs: known answers, round trips through independent
// builders (test/formats-build.ts), every tampered byte, and each failure reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv } from 'node:crypto';
import { hchacha20, secretstreamPullFirst } from '../src/core/backup/formats/chacha.js';
import { recoveryOutput } from '../src/core/node/restore-foreign.js';
import { clnMakeSecret, clnRootFromHsmSecret, hsmSecretKind } from '../src/core/backup/formats/kdf.js';
import { bip32PrivateKey, deriveChild, masterFromSeed, HARDENED } from '../src/core/backup/formats/bip32.js';
import { HDKey } from '@scure/bip32';
import { argon2id } from '@noble/hashes/argon2.js';
import {
  openClnBlob, openLdkBlob, openKmpBlob, openLndBlob, openForeign, openForeignAuto,
  ldkPeerStorageKey, kmpNodeKeyFromSeed, decodeLndMulti, lndKeyFromEntropy, lndKeyFromXprv, clnScbKey,
  type ForeignOpenResult,
} from '../src/core/backup/formats/index.js';
import {
  hex, toHexT, sha256T, cat, be, clnMakeSecretT, bip39SeedT, pathT, masterT, ckdT, H, secretstreamPushT,
  chachaPolyT, clnBlobT, ldkBlobT, kmpBlobT, lndBlobT, lndPackedT, lndMultiT, lndSingleT, scbT, modernChanT, ldkHolderT, CLN_DOC_LEGACY_CHAN, hchachaT,
} from './formats-build.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const padded32 = (s: string): Uint8Array => { const b = new Uint8Array(32); b.set(enc(s)); return b; };
const seq = (n: number, f: (i: number) => number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => f(i) & 0xff);
const MNEMONIC = 'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about';

/** Flip one bit at every position of `blob` and expect `reasonAt(i)` from `open`. */
function everyByteTampered(blob: Uint8Array, open: (b: Uint8Array) => ForeignOpenResult, reasonAt: (i: number) => string = () => 'auth_failed'): void {
  for (let i = 0; i < blob.length; i++) {
    const t = Uint8Array.from(blob);
    t[i]! ^= 0x01;
    const r = open(t);
    assert.equal(r.valid, false, `tampered byte ${i} still opened`);
    assert.equal(r.reason, reasonAt(i), `tampered byte ${i}`);
  }
}

// ---- known answers ------------------------------------------------------------------------

test('HChaCha20: draft-irtf-cfrg-xchacha section 2.2.1 test vector', () => {
  const out = hchacha20(seq(32, (i) => i), hex('000000090000004a0000000031415927'));
  assert.equal(toHexT(out), '82413b4227b27bfed30e42508a877d73a0f9e4d58a74a853c12ec41326d3ecdc');
  assert.equal(toHexT(hchachaT(seq(32, (i) => i), hex('000000090000004a0000000031415927'))), toHexT(out));
});

test('XChaCha20-Poly1305: draft-irtf-cfrg-xchacha A.3.1 (the AEAD lnd blobs use), ciphertext head and tag', async () => {
  const { xchacha20poly1305 } = await import('@noble/ciphers/chacha.js');
  const pt = enc("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.");
  const out = xchacha20poly1305(seq(32, (i) => 0x80 + i), seq(24, (i) => 0x40 + i), hex('50515253c0c1c2c3c4c5c6c7')).encrypt(pt);
  assert.equal(toHexT(out.subarray(0, 16)), 'bd6d179d3e83d43b9576579493c0e939');
  assert.equal(toHexT(out.subarray(out.length - 16)), 'c0875924c1c7987947deafd8780acf49');
});

test('ChaCha20-Poly1305: RFC 8439 section 2.8.2 (the AEAD LDK and Phoenix blobs use), noble and node:crypto agree', async () => {
  const { chacha20poly1305 } = await import('@noble/ciphers/chacha.js');
  const key = seq(32, (i) => 0x80 + i);
  const nonce = hex('070000004041424344454647');
  const aad = hex('50515253c0c1c2c3c4c5c6c7');
  const pt = enc("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.");
  const out = chacha20poly1305(key, nonce, aad).encrypt(pt);
  assert.equal(toHexT(out.subarray(0, 16)), 'd31a8d34648e60db7b86afbc53ef7ec2');
  assert.equal(toHexT(out.subarray(out.length - 16)), '1ae10b594f09e26a7e902ecbd0600691');
  const c = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
  c.setAAD(aad, { plaintextLength: pt.length });
  const viaNode = Buffer.concat([c.update(pt), c.final(), c.getAuthTag()]);
  assert.equal(toHexT(viaNode), toHexT(out));
});

test("Core Lightning makesecret('scb secret') for its test node hsm_secret 'lightning-1' (zero-padded) is pinned", () => {
  // From Core Lightning's makesecret documentation example and tests (node l1).
  const want = 'a9a2e742405c28f059349132923a99337ae7f71168b7485496e3365f5bc664ed';
  assert.equal(toHexT(clnMakeSecret(padded32('lightning-1'), 'scb secret')), want);
  assert.equal(toHexT(clnMakeSecretT(padded32('lightning-1'), 'scb secret')), want);
});

test('secretstream: blobs made by libsodium 1.0.18 open to their exact plaintext (lengths 0, 1, 15, 16, 17, 100)', () => {
  // Made once with libsodium's crypto_secretstream_xchacha20poly1305_push (tag 0, no AD),
  // key = 00 01 .. 1f, message byte i = (7 i + 3) mod 256.
  const vectors: Record<number, string> = {
    0: '463bc78ffe4f12ef38248ce7588f8be336b3011f7a70b2affa6886d37e71aa5178aadc68a497c2ce3f',
    1: '843b924aa2b31b0f5a4888e814a998af2306013344ebb05033b5d4751d01753c43361d98222f0565f6c5',
    15: '8089de38a4c1d49301d1e8df4f81a18ca11e2400ae8d624eec969f23ecfac44d178dcec479e6c827b3e643d471888e417268cf0aa9c54092',
    16: '0de9c1791d1db26b772197892cc1b5f866f2d7e2b8df71f85bcc9ebe50f3821e1cddbf14f92ecddef8dae78875f82c71b1b4110c5d4b935a47',
    17: '182ca0b74e736cac177d649def00fe10c9193debf83d1b603ef0e48efed1aa45f7bcfe5f7295cce2fcc555a0294567ebe9b6b458cf2344001714',
    100: '8ece8469268c35c17be40ef5d2eb39a87c95a228c2b3271d4cf9cdece9a4332507cc3837b7cfe106e83d071b0c1c9ae8d1420094afb1b8e7e4380b4c20c28abb7f0519ad094651ec0f9b50062627650f7044aec165a0bf0242801e975d13503e828d7a586bcb6d495ce82df531d2174004de0646c40e90de1272143aaed7e3adbe7deb592c04d00f9ff9fdd3e8',
  };
  const key = seq(32, (i) => i);
  for (const [n, box] of Object.entries(vectors)) {
    const r = secretstreamPullFirst(key, hex(box));
    assert.ok(r, `libsodium box of length ${n} did not open`);
    assert.equal(toHexT(r.plaintext), toHexT(seq(Number(n), (i) => 7 * i + 3)));
    assert.equal(r.tag, 0);
    // The test's own push, given libsodium's header, rebuilds libsodium's bytes exactly.
    assert.equal(toHexT(secretstreamPushT(key, hex(box).subarray(0, 24), seq(Number(n), (i) => 7 * i + 3))), box);
  }
});

test('encrypted 73-byte hsm_secret made by libsodium (Argon2id MODERATE: t=3, 256 MiB) opens with its passphrase', async () => {
  const file = hex('ed6a04c333d4630f9af452be469354b14f556b3299dd220cbb80373f9796033a22e31152213f770787c87aa81d2ea9c6c5ca1310d1e2463b277cf01337aae6c1c96aacba4156b34a0b');
  assert.equal(hsmSecretKind(file), 'encrypted');
  const root = await clnRootFromHsmSecret(file, enc('lnps test passphrase'));
  assert.equal(toHexT(root), toHexT(sha256T(enc('lnps test root'))));
});

test('BIP32 test vector 1: scure and our CKDpriv give m/0H/1/2H/2/1000000000', () => {
  const seed = hex('000102030405060708090a0b0c0d0e0f');
  assert.equal(toHexT(bip32PrivateKey(seed, "m/0'")), 'edb2e14f9ee77d26dd93b4ecede8d16ed408ce149b6cd80b0715a2d911a0afea');
  const want = '471b76e389e528d6de6d816857e012c5455051cad6660850e58372a6c3e6e7c8';
  assert.equal(toHexT(bip32PrivateKey(seed, "m/0'/1/2'/2/1000000000")), want);
  let k = masterFromSeed(seed);
  for (const i of [HARDENED, 1, 2 + HARDENED, 2, 1000000000]) k = deriveChild(k, i);
  assert.equal(toHexT(k.key), want);
  assert.equal(toHexT(pathT(seed, [H(0), 1, H(2), 2, 1000000000])), want);
});

test("btcwallet's legacy derivation: btcutil's leading-zero vector (seed 399, m/0H/0H) is pinned both ways", () => {
  const seed = new Uint8Array(32);
  new DataView(seed.buffer).setUint32(28, 399);
  const child0 = deriveChild(masterFromSeed(seed), HARDENED, true);
  assert.equal(child0.key[0], 0, 'm/0H should start with a zero byte');
  assert.equal(toHexT(deriveChild(child0, HARDENED, true).key), 'ea46d8f58eb863a2d371a938396af8b0babe85c01920f59a8044412e70e837ee');
  assert.equal(toHexT(deriveChild(child0, HARDENED, false).key), 'a9b6b30a5b90b56ed48728c73af1d8a7ef1e9cc372ec21afcc1d9bdf269b0988');
  assert.equal(toHexT(HDKey.fromMasterSeed(seed).derive("m/0'/0'").privateKey!), 'a9b6b30a5b90b56ed48728c73af1d8a7ef1e9cc372ec21afcc1d9bdf269b0988');
  assert.equal(toHexT(ckdT(ckdT(masterT(seed), H(0)), H(0), true).k), 'ea46d8f58eb863a2d371a938396af8b0babe85c01920f59a8044412e70e837ee');
});

// ---- Core Lightning ------------------------------------------------------------------------

const CLN_ROOT = padded32('lightning-1');
const CLN_KEY = clnMakeSecretT(CLN_ROOT, 'scb secret');
const HEADER = seq(24, (i) => 0xa0 + i);
const NODE = hex('022d223620a359a47ff7f7ac447c85c46c923da53389221a0054c11c1e3ca31d59');
const TXID = seq(32, (i) => 0x30 + i);
const modernScb = (): Uint8Array =>
  scbT(6137, 1n, 1_700_000_000, [
    modernChanT({ id: 7, cid: seq(32, (i) => 0x11 + i), node: NODE, addr: hex('017f000001b2e3'), txid: TXID, n: 1, sats: 250_000n, type: hex('101000'), tlvs: hex('050101070200900b00') }),
    modernChanT({ id: 8, cid: seq(32, (i) => 0x51 + i), node: NODE, addr: cat(hex('050b'), enc('example.com'), be(9735, 2)), txid: TXID, n: 2, sats: 1n, type: new Uint8Array(0), tlvs: new Uint8Array(0) }),
  ]);

test('cln: a static_chan_backup_with_tlvs blob opens and lists its channels', () => {
  const scb = modernScb();
  const r = openClnBlob(clnBlobT(CLN_KEY, HEADER, scb), clnScbKey(CLN_ROOT));
  assert.equal(r.valid, true);
  assert.equal(toHexT(r.plaintext!), toHexT(scb));
  assert.deepEqual(r.details, { scb_version: 1n, scb_version_compatible: true, scb_timestamp: 1_700_000_000, scb_type: 'with_tlvs' });
  assert.deepEqual(r.channels, [
    {
      id: 7n, channel_id: toHexT(seq(32, (i) => 0x11 + i)), peer_id: toHexT(NODE), address: '127.0.0.1:45795',
      funding_txid: toHexT(Uint8Array.from(TXID).reverse()), funding_outnum: 1, funding_sat: 250_000n, channel_type: '101000',
      tlv_types: [5, 7, 11], opener: 'remote', remote_to_self_delay: 144,
    },
    {
      id: 8n, channel_id: toHexT(seq(32, (i) => 0x51 + i)), peer_id: toHexT(NODE), address: 'example.com:9735',
      funding_txid: toHexT(Uint8Array.from(TXID).reverse()), funding_outnum: 2, funding_sat: 1n, channel_type: '', tlv_types: [],
    },
  ]);
});

test("cln: a legacy static_chan_backup holding Core Lightning's documented example channel decodes to its fields", () => {
  const scb = scbT(6135, 1n, 42, [hex(CLN_DOC_LEGACY_CHAN)]);
  const r = openClnBlob(clnBlobT(CLN_KEY, HEADER, scb), CLN_KEY);
  assert.equal(r.valid, true);
  assert.deepEqual(r.details, { scb_version: 1n, scb_version_compatible: true, scb_timestamp: 42, scb_type: 'legacy' });
  assert.deepEqual(r.channels, [
    {
      id: 1n,
      channel_id: 'c707da9b230e1655b0a6c082b8daf4fa44d9d1f68163ed4d531d45cf453dc651',
      peer_id: '022d223620a359a47ff7f7ac447c85c46c923da53389221a0054c11c1e3ca31d59',
      address: '127.0.0.1:45795',
      funding_txid: '51c63d45cf451d534ded6381f6d1d944faf4dab882c0a6b055160e239bda07c7',
      funding_outnum: 0,
      funding_sat: 100000n,
      channel_type: '1000',
    },
  ]);
});

test('cln: bytes after the message are accepted as upstream does and counted in trailing_bytes', () => {
  const scb = modernScb();
  const r = openClnBlob(clnBlobT(CLN_KEY, HEADER, cat(scb, hex('00ff00'))), CLN_KEY);
  assert.equal(r.valid, true);
  assert.equal(r.content_error, undefined);
  assert.deepEqual(r.details, { scb_version: 1n, scb_version_compatible: true, scb_timestamp: 1_700_000_000, scb_type: 'with_tlvs', trailing_bytes: 3 });
  assert.equal(r.channels!.length, 2);
});

test("cln: scb_version_compatible is Core Lightning's own check: the even bits of the version equal those of 1", () => {
  const v = (version: bigint): unknown => openClnBlob(clnBlobT(CLN_KEY, HEADER, scbT(6137, version, 7, [])), CLN_KEY).details?.scb_version_compatible;
  // 0x5555555555555555 keeps bits 0, 2, 4, ...: 1, 3 (bit 1 is odd) and 1 | 2^63 pass; 0, 2 (bit 0 missing), 4, 5 (bit 2 set) do not.
  assert.deepEqual([1n, 3n, 0xan | 1n, (1n << 63n) | 1n].map(v), [true, true, true, true]);
  assert.deepEqual([0n, 2n, 4n, 5n, 0xffffffffffffffffn].map(v), [false, false, false, false, false]);
});

test('cln: an authentic blob whose content is not a backup is valid, with content_error naming the field', () => {
  const r = openClnBlob(clnBlobT(CLN_KEY, HEADER, hex('17f90000')), CLN_KEY);
  assert.equal(r.valid, true);
  assert.equal(r.channels, undefined);
  assert.equal(r.content_error, 'static_chan_backup.version: needs 8 bytes, 2 left');
});

test('cln: every tampered byte (header, tag byte, ciphertext, MAC) is auth_failed', () => {
  const blob = clnBlobT(CLN_KEY, HEADER, modernScb());
  everyByteTampered(blob, (b) => openClnBlob(b, CLN_KEY));
});

test('cln: wrong key, other formats, too short and empty each give their reason', () => {
  const blob = clnBlobT(CLN_KEY, HEADER, modernScb());
  assert.equal(openClnBlob(blob, clnMakeSecretT(padded32('lightning-2'), 'scb secret')).reason, 'auth_failed');
  assert.equal(openClnBlob(ldkBlobT(CLN_KEY, seq(32, (i) => i), modernScb()), CLN_KEY).reason, 'auth_failed');
  assert.equal(openClnBlob(blob.subarray(0, 40), CLN_KEY).reason, 'too_short');
  assert.equal(openClnBlob(blob.subarray(0, 41), CLN_KEY).reason, 'auth_failed');
  assert.equal(openClnBlob(new Uint8Array(0), CLN_KEY).reason, 'empty');
});

test('cln hsm_secret: mnemonic without and with passphrase give the BIP39 seed as root; a wrong passphrase is bad_secret', async () => {
  const plainFile = cat(new Uint8Array(32), enc(MNEMONIC));
  const seed = bip39SeedT(MNEMONIC);
  assert.equal(toHexT(await clnRootFromHsmSecret(plainFile, undefined)), toHexT(seed));
  const seedP = bip39SeedT(MNEMONIC, 'TREZOR');
  const passFile = cat(sha256T(seedP), enc(MNEMONIC));
  assert.equal(hsmSecretKind(passFile), 'mnemonic_with_passphrase');
  assert.equal(toHexT(await clnRootFromHsmSecret(passFile, enc('TREZOR'))), toHexT(seedP));
  await assert.rejects(clnRootFromHsmSecret(passFile, enc('trezor')), { name: 'ForeignSecretError', message: 'wrong passphrase for this hsm_secret' });
  await assert.rejects(clnRootFromHsmSecret(passFile, undefined), { name: 'ForeignSecretError' });
  // The key is makesecret over the whole 64-byte seed.
  const blob = clnBlobT(clnMakeSecretT(seedP, 'scb secret'), HEADER, modernScb());
  const r = await openForeign('cln', blob, { cln: { hsmSecret: passFile, passphrase: enc('TREZOR') } });
  assert.equal(r.valid, true);
  const bad = await openForeign('cln', blob, { cln: { hsmSecret: passFile, passphrase: enc('nope') } });
  assert.deepEqual(bad, { valid: false, format: 'cln', reason: 'bad_secret', secret_error: 'wrong passphrase for this hsm_secret' });
});

test('cln hsm_secret: encrypted form (small Argon2id for speed) opens; wrong passphrase, short file, bad mnemonic are bad_secret', async () => {
  const argon = { t: 1, m: 64 };
  const root = sha256T(enc('another root'));
  const salt = cat(enc('c-lightning'), new Uint8Array(5));
  const k = argon2id(enc('pw'), salt, { t: 1, m: 64, p: 1, dkLen: 32 });
  const file = secretstreamPushT(k, seq(24, (i) => 3 * i), root);
  assert.equal(file.length, 73);
  assert.equal(toHexT(await clnRootFromHsmSecret(file, enc('pw'), argon)), toHexT(root));
  const blob = clnBlobT(clnMakeSecretT(root, 'scb secret'), HEADER, modernScb());
  assert.equal((await openForeign('cln', blob, { cln: { hsmSecret: file, passphrase: enc('pw'), argon } })).valid, true);
  assert.equal((await openForeign('cln', blob, { cln: { hsmSecret: file, passphrase: enc('pW'), argon } })).reason, 'bad_secret');
  assert.equal((await openForeign('cln', blob, { cln: { hsmSecret: new Uint8Array(31) } })).reason, 'bad_secret');
  const badMnemonic = cat(new Uint8Array(32), enc('abandon abandon abandon'));
  assert.equal((await openForeign('cln', blob, { cln: { hsmSecret: badMnemonic } })).reason, 'bad_secret');
});

// ---- LDK -----------------------------------------------------------------------------------

const LDK_SEED = new Uint8Array(32).fill(1);
const LDK_K = pathT(LDK_SEED, [H(6)]);
const ldkPlain = (): Uint8Array =>
  cat(be(2, 2), ldkHolderT(seq(32, (i) => i), NODE, 281474976710655n, enc('monitor one')), ldkHolderT(seq(32, (i) => 200 + i), NODE, 5n, new Uint8Array(0), hex('0b0101')));

test('ldk: the m/6\' key from the KeysManager seed opens the blob and lists the channel holders', () => {
  assert.equal(toHexT(ldkPeerStorageKey(LDK_SEED)), toHexT(LDK_K));
  const pt = ldkPlain();
  const r = openLdkBlob(ldkBlobT(LDK_K, seq(32, (i) => 0xc8), pt), ldkPeerStorageKey(LDK_SEED));
  assert.equal(r.valid, true);
  assert.equal(toHexT(r.plaintext!), toHexT(pt));
  assert.deepEqual(r.channels, [
    { channel_id: toHexT(seq(32, (i) => i)), peer_id: toHexT(NODE), min_seen_secret: 281474976710655n, monitor_len: 11, monitor_sha256: toHexT(sha256T(enc('monitor one'))) },
    { channel_id: toHexT(seq(32, (i) => 200 + i)), peer_id: toHexT(NODE), min_seen_secret: 5n, monitor_len: 0, monitor_sha256: toHexT(sha256T(new Uint8Array(0))) },
  ]);
});

test('ldk: an empty holder list and a malformed one (unknown even TLV) are handled', () => {
  const r0 = openLdkBlob(ldkBlobT(LDK_K, seq(32, () => 1), be(0, 2)), LDK_K);
  assert.deepEqual([r0.valid, r0.channels], [true, []]);
  const bad = cat(be(1, 2), ldkHolderT(seq(32, () => 0), NODE, 1n, new Uint8Array(0), hex('080100')));
  const r1 = openLdkBlob(ldkBlobT(LDK_K, seq(32, () => 1), bad), LDK_K);
  assert.equal(r1.valid, true);
  assert.equal(r1.content_error, 'peer_storage_monitors.holders[0].tlv: unknown even type 8');
});

test('ldk: bytes after the holder list are accepted as LDK does and counted in trailing_bytes', () => {
  const r = openLdkBlob(ldkBlobT(LDK_K, seq(32, () => 3), cat(ldkPlain(), hex('abcd'))), LDK_K);
  assert.equal(r.valid, true);
  assert.equal(r.content_error, undefined);
  assert.deepEqual(r.details, { trailing_bytes: 2 });
  assert.equal(r.channels!.length, 2);
  assert.equal(openLdkBlob(ldkBlobT(LDK_K, seq(32, () => 3), ldkPlain()), LDK_K).details, undefined);
});

test('ldk: every tampered byte (ciphertext, tag, R) is auth_failed; wrong key, other format, short, empty', () => {
  const blob = ldkBlobT(LDK_K, seq(32, (i) => 0xc8 + i), ldkPlain());
  everyByteTampered(blob, (b) => openLdkBlob(b, LDK_K));
  assert.equal(openLdkBlob(blob, pathT(new Uint8Array(32).fill(2), [H(6)])).reason, 'auth_failed');
  assert.equal(openLdkBlob(clnBlobT(LDK_K, HEADER, ldkPlain()), LDK_K).reason, 'auth_failed');
  assert.equal(openLdkBlob(blob.subarray(blob.length - 47), LDK_K).reason, 'too_short');
  assert.equal(openLdkBlob(ldkBlobT(LDK_K, seq(32, () => 9), new Uint8Array(0)), LDK_K).valid, true); // 48 bytes: empty plaintext
  assert.equal(openLdkBlob(new Uint8Array(0), LDK_K).reason, 'empty');
});

// ---- Phoenix (lightning-kmp) ---------------------------------------------------------------

const KMP_SEED = bip39SeedT(MNEMONIC);

test("kmp: the node key is m/50'/0' on mainnet and m/48'/0' on test networks, and opens the blob", () => {
  const main = pathT(KMP_SEED, [H(50), H(0)]);
  const test3 = pathT(KMP_SEED, [H(48), H(0)]);
  assert.equal(toHexT(kmpNodeKeyFromSeed(KMP_SEED, 'mainnet')), toHexT(main));
  assert.equal(toHexT(kmpNodeKeyFromSeed(KMP_SEED, 'testnet')), toHexT(test3));
  assert.equal(toHexT(kmpNodeKeyFromSeed(KMP_SEED, 'regtest')), toHexT(test3));
  const pt = enc('phoenix channel states');
  const r = openKmpBlob(kmpBlobT(main, 0x05, pt), main);
  assert.deepEqual({ ...r, plaintext: toHexT(r.plaintext!) }, { valid: true, format: 'kmp', plaintext: toHexT(pt), details: { version: 5 } });
  assert.equal(openKmpBlob(kmpBlobT(main, 0x05, pt), test3).reason, 'auth_failed');
});

test('kmp: the version byte is read after decryption (4 and 5 open, 6 is unknown_version), any other byte auth_failed; short and empty', () => {
  const key = pathT(KMP_SEED, [H(50), H(0)]);
  const blob = kmpBlobT(key, 0x05, enc('phoenix channel states'));
  // Every byte but the version: flipping one bit fails the tag.
  everyByteTampered(blob.subarray(1), (b) => openKmpBlob(Uint8Array.from([0x05, ...b]), key));
  // The version byte is not authenticated: 4 opens as version 4, 6 opens but is unknown.
  const v4 = openKmpBlob(Uint8Array.from([0x04, ...blob.subarray(1)]), key);
  assert.deepEqual([v4.valid, v4.details], [true, { version: 4 }]);
  assert.deepEqual(openKmpBlob(Uint8Array.from([0x06, ...blob.subarray(1)]), key), { valid: false, format: 'kmp', reason: 'unknown_version', details: { version: 6 } });
  // Another format's blob is auth_failed whatever its first byte.
  assert.equal(openKmpBlob(clnBlobT(key, seq(24, (i) => 0x05 + i), enc('x')), key).reason, 'auth_failed');
  assert.equal(openKmpBlob(clnBlobT(key, seq(24, (i) => 0x06 + i), enc('x')), key).reason, 'auth_failed');
  assert.equal(openKmpBlob(blob.subarray(0, 28), key).reason, 'too_short');
  assert.equal(openKmpBlob(new Uint8Array(0), key).reason, 'empty');
});

/** BOLT #1 BigSize, written here on its own. */
const bigSizeT = (n: number): Uint8Array => (n < 0xfd ? new Uint8Array([n]) : n <= 0xffff ? cat(new Uint8Array([0xfd]), be(n, 2)) : cat(new Uint8Array([0xfe]), be(n, 4)));
/** One item of lightning-kmp's legacy list: [2 version bytes] || ciphertext || nonce(12) || tag(16). */
function kmpLegacyItemT(key: Uint8Array, pt: Uint8Array, prefix: Uint8Array): Uint8Array {
  const nonce = sha256T(pt).subarray(0, 12);
  const { ct, tag } = chachaPolyT(key, nonce, pt);
  return cat(prefix, ct, nonce, tag);
}

test('kmp: the legacy list layout (BigSize count, length-prefixed items, each with or without its 2-byte prefix) opens; items that do not open are ignored', () => {
  const key = pathT(KMP_SEED, [H(50), H(0)]);
  const other = pathT(KMP_SEED, [H(48), H(0)]);
  const s1 = cat(new Uint8Array([4]), seq(300, (i) => i)); // a v4 channel state: version byte first
  const s2 = cat(new Uint8Array([4]), enc('second channel'));
  const items = [kmpLegacyItemT(key, s1, hex('0400')), kmpLegacyItemT(key, s2, new Uint8Array(0)), kmpLegacyItemT(other, enc('not ours'), hex('0400'))];
  const blob = cat(bigSizeT(items.length), ...items.flatMap((it) => [bigSizeT(it.length), it]));
  const r = openKmpBlob(blob, key);
  assert.equal(r.valid, true, r.reason);
  assert.deepEqual(r.details, { layout: 'legacy_list', items: 3, items_opened: 2, item_versions: [4, 4] });
  assert.equal(toHexT(r.plaintext!), toHexT(cat(bigSizeT(2), bigSizeT(s1.length), s1, bigSizeT(s2.length), s2)));
  // restorefrompeer --as kmp writes the opened states in that framing (no version byte in front).
  assert.equal(toHexT(recoveryOutput('kmp', blob, r).main), toHexT(r.plaintext!));
  // Older states began with a u32 version (2 or 3).
  const v3 = cat(be(3, 4), enc('v3 state'));
  const old = openKmpBlob(cat(bigSizeT(1), bigSizeT(kmpLegacyItemT(key, v3, hex('0000')).length), kmpLegacyItemT(key, v3, hex('0000'))), key);
  assert.deepEqual(old.details, { layout: 'legacy_list', items: 1, items_opened: 1, item_versions: [3] });
  // Under the other key only the third item opens (its content begins with 'n').
  assert.deepEqual(openKmpBlob(blob, other).details, { layout: 'legacy_list', items: 3, items_opened: 1, item_versions: [0x6e] });
  // No item opens with this key, a count the items do not fill, a cut item: auth_failed.
  assert.equal(openKmpBlob(cat(bigSizeT(1), bigSizeT(items[2]!.length), items[2]!), key).reason, 'auth_failed');
  assert.equal(openKmpBlob(cat(bigSizeT(200), blob.subarray(1)), key).reason, 'auth_failed');
  assert.equal(openKmpBlob(blob.subarray(0, blob.length - 1), key).reason, 'auth_failed');
});

// ---- lnd (experimental) --------------------------------------------------------------------

const LND_ENTROPY = seq(16, (i) => 0x42 + i);
const lndKeyT = (coin: number): Uint8Array => sha256T(getPubT(pathT(LND_ENTROPY, [H(1017), H(coin), H(7), 0, 0])));
import { getPublicKey as getPubT } from '@noble/secp256k1';

/** Two channels as lnd's single.go writes them: an anchors channel (version 2) and a taproot one with close-tx inputs (5 | 0x80). */
const LND_REMOTE_A = getPubT(new Uint8Array(32).fill(0x21), true);
const LND_REMOTE_B = getPubT(new Uint8Array(32).fill(0x22), true);
const LND_MULTI = lndMultiT([
  lndSingleT({ version: 2, initiator: true, chain: seq(32, (i) => 0xa0 + i), txid: seq(32, (i) => i), index: 1, scid: (800_000n << 40n) | (12n << 16n) | 1n, remote: LND_REMOTE_A, addrs: hex('017f00000126ad'), capacity: 1_000_000n, rest: seq(120, (i) => i) }),
  lndSingleT({ version: 0x85, initiator: false, chain: seq(32, (i) => 0xa0 + i), txid: seq(32, (i) => 0x40 + i), index: 0, scid: 5n << 40n, remote: LND_REMOTE_B, addrs: new Uint8Array(0), capacity: 250_000n, rest: seq(300, (i) => 7 * i) }),
]);
const LND_CHANNELS = [
  {
    version: 2, type: 'anchors', funding_outpoint: `${toHexT(seq(32, (i) => 31 - i))}:1`, remote_node_pub: toHexT(LND_REMOTE_A), short_channel_id: '800000x12x1',
    capacity_sat: 1_000_000n, initiator: true, chain_hash: toHexT(seq(32, (i) => 0xa0 + 31 - i)), has_close_tx: false,
  },
  {
    version: 5, type: 'simple_taproot', funding_outpoint: `${toHexT(seq(32, (i) => 0x40 + 31 - i))}:0`, remote_node_pub: toHexT(LND_REMOTE_B), short_channel_id: '5x0x0',
    capacity_sat: 250_000n, initiator: false, chain_hash: toHexT(seq(32, (i) => 0xa0 + 31 - i)), has_close_tx: true,
  },
];

test('lnd: SHA-256 of the m/1017\'/coin\'/7\'/0/0 public key opens a draft blob (PackedMulti, zeros after it) and lists its channels', () => {
  const key = lndKeyT(0);
  assert.equal(toHexT(lndKeyFromEntropy(LND_ENTROPY, 0)), toHexT(key));
  assert.notEqual(toHexT(lndKeyFromEntropy(LND_ENTROPY, 1)), toHexT(key));
  const nonce = seq(24, (i) => 0x70 + i);
  const packed = lndPackedT(key, nonce, LND_MULTI);
  const blob = lndBlobT(key, nonce, LND_MULTI);
  assert.equal(blob.length, 65531);
  const r = openLndBlob(blob, key);
  assert.equal(r.valid, true, r.reason);
  assert.equal(r.experimental, true);
  assert.equal(toHexT(r.plaintext!), toHexT(LND_MULTI));
  // The sealed bytes without the padding: exactly what lnd writes to channel.backup.
  assert.equal(toHexT(r.sealed!), toHexT(packed));
  assert.equal(toHexT(recoveryOutput('lnd', blob, r).main), toHexT(packed));
  assert.deepEqual(r.details, { sealed_len: packed.length, padding_len: 65531 - packed.length, multi_version: 0, channel_count: 2 });
  assert.deepEqual(r.channels, LND_CHANNELS);
  assert.equal(r.content_error, undefined);
  // The PackedMulti alone (a channel.backup file, no padding) opens the same way.
  const bare = openLndBlob(packed, key);
  assert.deepEqual([bare.valid, bare.details?.sealed_len, bare.details?.padding_len], [true, packed.length, 0]);
});

test('lnd: a blob whose tag ends in zero bytes opens at its true end', () => {
  const key = lndKeyT(0);
  const content = lndMultiT([]);
  // Search nonces until the tag's last byte is 0: 1 in 256 each, so 5000 tries all but surely find one.
  let nonce: Uint8Array | undefined;
  for (let i = 0; i < 5000 && !nonce; i++) {
    const n = cat(be(i, 4), new Uint8Array(20).fill(0x5a));
    if (lndPackedT(key, n, content).at(-1) === 0) nonce = n;
  }
  assert.ok(nonce, 'no nonce in 5000 gave a tag ending in 0x00');
  const packed = lndPackedT(key, nonce, content);
  let zeros = 0;
  while (packed[packed.length - 1 - zeros] === 0) zeros++;
  assert.ok(zeros >= 1);
  const r = openLndBlob(lndBlobT(key, nonce, content), key);
  assert.equal(r.valid, true, r.reason);
  assert.equal(toHexT(r.sealed!), toHexT(packed));
  assert.deepEqual(r.details, { sealed_len: packed.length, padding_len: 65531 - packed.length, multi_version: 0, channel_count: 0 });
  assert.deepEqual(r.channels, []);
});

test('lnd: a non-zero byte in the padding is auth_failed; a PackedMulti cut at 65531 bytes is truncated', () => {
  const key = lndKeyT(0);
  const blob = lndBlobT(key, seq(24, (i) => 0x70 + i), LND_MULTI);
  const packedLen = lndPackedT(key, seq(24, (i) => 0x70 + i), LND_MULTI).length;
  for (const at of [packedLen, packedLen + 1, packedLen + 16, packedLen + 17, 40_000, 65529]) {
    const t = Uint8Array.from(blob);
    t[at] = 0x01;
    assert.deepEqual(openLndBlob(t, key), { valid: false, format: 'lnd', reason: 'auth_failed', experimental: true }, `padding byte ${at}`);
  }
  // The last byte of 65531 non-zero means no zero tail: that is the shape of a cut PackedMulti.
  const last = Uint8Array.from(blob);
  last[65530] = 0x01;
  assert.equal(openLndBlob(last, key).reason, 'truncated');
  // A multi too large for the draft's buffer: Go's copy keeps the first 65531 bytes, so it can never open.
  let cut: Uint8Array | undefined;
  for (let i = 0; i < 50 && !cut; i++) {
    const b = lndBlobT(key, cat(be(i, 4), new Uint8Array(20)), cat(LND_MULTI, new Uint8Array(65531)));
    if (b[65530] !== 0) cut = b;
  }
  assert.ok(cut);
  assert.equal(cut.length, 65531);
  assert.deepEqual(openLndBlob(cut, key), { valid: false, format: 'lnd', reason: 'truncated', experimental: true });
  // Not 65531 bytes, or ending in zeros: auth_failed, not truncated.
  assert.equal(openLndBlob(cut.subarray(0, 65530), key).reason, 'auth_failed');
  assert.equal(openLndBlob(new Uint8Array(65531), key).reason, 'auth_failed');
});

test('lnd: a blob made by libsodium (XChaCha20-Poly1305 IETF, nonce as AD) opens exactly; content that is no multi is content_error', () => {
  const r = openLndBlob(
    hex('6465666768696a6b6c6d6e6f707172737475767778797a7b78ef24ea010f410dec0edbb96c6286f0606b23689942a170e8b7b1691f4cb3074d31cf1df492cbaef595348d85e9f09e2cac4231ffdfe46ea526936dcea3ec49bcd1ca'),
    hex('78311f3aaaa19c6a5484c0f1196ff4133086b5b661c86093595533aa849170a6'),
  );
  assert.equal(r.valid, true);
  assert.equal(toHexT(r.plaintext!), toHexT(cat(enc('lnd peer storage test plaintext'), new Uint8Array(20))));
  assert.match(r.content_error!, /^multi\.version: multi backup version 108, lnd knows only 0$/);
});

test('lnd: the multi decoder: unknown single versions are skipped by length, trailing bytes counted, lies refused', () => {
  const unknown = cat(new Uint8Array([0x07]), be(3, 2), hex('aabbcc'));
  const m = decodeLndMulti(cat(lndMultiT([unknown]), hex('0000')));
  assert.deepEqual(m, { version: 0, count: 1, channels: [{ version: 7, decoded: false, length: 3 }], trailing: 2 });
  assert.throws(() => decodeLndMulti(hex('00ffffffff000000')), { name: 'DecodeError', code: 'too_large' });
  assert.throws(() => decodeLndMulti(hex('01')), { name: 'DecodeError', code: 'bad_value' });
  // A body too short for the fields every version has.
  assert.throws(() => decodeLndMulti(cat(hex('0000000001'), hex('020002'), hex('0100'))), { name: 'DecodeError', code: 'truncated' });
});

test('lnd: the root key as xprv gives the same key as the entropy', () => {
  const m = masterT(LND_ENTROPY);
  const node = new HDKey({ privateKey: m.k, chainCode: m.c });
  assert.equal(toHexT(lndKeyFromXprv(node.privateExtendedKey, 0)), toHexT(lndKeyT(0)));
});

test('lnd: every tampered byte (nonce, ciphertext, tag, padding) of a small padded blob is auth_failed; wrong coin, short, empty', () => {
  const key = lndKeyT(0);
  const blob = lndBlobT(key, seq(24, (i) => i), lndMultiT([]), 24 + 16 + 5 + 40);
  assert.equal(openLndBlob(blob, key).valid, true);
  everyByteTampered(blob, (b) => openLndBlob(b, key));
  assert.equal(openLndBlob(blob, lndKeyT(1)).reason, 'auth_failed');
  assert.equal(openLndBlob(blob.subarray(0, 39), key).reason, 'too_short');
  assert.equal(openLndBlob(new Uint8Array(0), key).reason, 'empty');
});

// ---- auto ----------------------------------------------------------------------------------

test('auto: tries every format the secrets allow and names the one that opened; otherwise lists each reason', async () => {
  const secrets = {
    cln: { hsmSecret: CLN_ROOT },
    ldk: { seed: LDK_SEED },
    kmp: { seed: KMP_SEED, network: 'mainnet' as const },
    lnd: { coin: 0, entropy: LND_ENTROPY },
  };
  const kmpBlob = kmpBlobT(pathT(KMP_SEED, [H(50), H(0)]), 5, enc('forty bytes of phoenix channel state...'));
  const hit = await openForeignAuto(kmpBlob, secrets);
  assert.equal(hit.result?.format, 'kmp');
  assert.deepEqual(hit.tried, [{ format: 'cln', reason: 'auth_failed' }, { format: 'ldk', reason: 'auth_failed' }]);
  const miss = await openForeignAuto(new Uint8Array(10), secrets);
  assert.equal(miss.result, undefined);
  assert.deepEqual(miss.tried.map((t) => t.reason), ['too_short', 'too_short', 'too_short', 'too_short']);
});

// ---- totality on hostile bytes -------------------------------------------------------------

test('decoders and openers are total: arbitrary bytes give DecodeError or an invalid result, nothing else', async () => {
  const fc = (await import('fast-check')).default;
  const { decodeStaticChanBackup, decodeMonitorHolders, decodeLndMulti: decodeMulti } = await import('../src/core/backup/formats/index.js');
  const { DecodeError } = await import('../src/core/errors.js');
  const key = new Uint8Array(32).fill(9);
  // Prefixes that reach deep into each layout, so the fields after the header are exercised.
  const scbPrefix = fc.constantFrom(hex('17f9'), hex('17f7'), hex('17f90000000000000001000000010001'), hex('0000000001'), hex('000000000102'), new Uint8Array(0));
  fc.assert(
    fc.property(scbPrefix, fc.uint8Array({ maxLength: 400 }), (p, tail) => {
      for (const decode of [decodeStaticChanBackup, decodeMonitorHolders, decodeMulti]) {
        try {
          decode(cat(p, tail));
        } catch (e) {
          if (!(e instanceof DecodeError)) throw e;
        }
      }
      const b = cat(p, tail);
      for (const r of [openClnBlob(b, key), openLdkBlob(b, key), openKmpBlob(b, key), openLndBlob(b, key)]) assert.equal(r.valid, false);
    }),
    { numRuns: 300, seed: 8 },
  );
  // A holder count far beyond the bytes present is refused before any loop runs.
  assert.throws(() => decodeMonitorHolders(hex('ffff00000000ffffffff')), { name: 'DecodeError', code: 'too_large' });
});
