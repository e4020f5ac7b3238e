// Node identities derived from each implementation's wallet secret: every known answer from
// the implementations' own tests, through the same entry point restorefrompeer --as uses, and
// an independent derivation (node:crypto HKDF/HMAC in test/formats-build.ts) for each path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hkdfSync } from 'node:crypto';
import { getPublicKey } from '@noble/secp256k1';
import {
  foreignIdentity, clnNodeKey, ldkNodeKey, ldkKeysManagerSeed, lndNodeKeyFromRoot, ForeignSecretError,
  type ForeignSecrets, type ForeignFormat,
} from '../src/core/backup/formats/index.js';
import { masterFromSeed } from '../src/core/backup/formats/bip32.js';
import { hex, toHexT, sha256T, cat, bip39SeedT, masterT, ckdT, H, pathT, clnMakeSecretT } from './formats-build.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const padded32 = (s: string): Uint8Array => {
  const b = new Uint8Array(32);
  b.set(enc(s));
  return b;
};

/** hsm_secret in its mnemonic form: 32 bytes (zero, or SHA-256 of the seed with a passphrase), then the words. */
function mnemonicHsmSecret(words: string, passphrase?: string): Uint8Array {
  const prefix = passphrase === undefined ? new Uint8Array(32) : sha256T(bip39SeedT(words, passphrase));
  return cat(prefix, enc(words));
}

async function nodeId(format: ForeignFormat, secrets: ForeignSecrets): Promise<string> {
  const id = await foreignIdentity(format, secrets);
  try {
    return toHexT(id.nodeId);
  } finally {
    id.wipe();
  }
}

/** Core Lightning's node key, independently: node:crypto HKDF with the little-endian u32 counter 0 as salt. */
function clnNodeKeyT(root: Uint8Array): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', root.subarray(0, 32), Uint8Array.of(0, 0, 0, 0), enc('nodeid'), 32));
}

// ---- Core Lightning: tests/test_cln_rs.py, tests/test_wallet.py, tests/test_misc.py -------

test('cln: hsm_secret "lightning-1" padded to 32 bytes → 0266e459…3518', async () => {
  const hsm = padded32('lightning-1');
  assert.equal(await nodeId('cln', { cln: { hsmSecret: hsm } }), '0266e4598d1d3c415f572a8488830b60f7e744ed9235eb0b1ba93283b315c03518');
  assert.equal(toHexT(getPublicKey(clnNodeKeyT(hsm), true)), '0266e4598d1d3c415f572a8488830b60f7e744ed9235eb0b1ba93283b315c03518');
});

test('cln: mnemonic "abandon … about", no passphrase → 03653e90…e87d (first 32 bytes of the BIP39 seed)', async () => {
  const words = 'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about';
  assert.equal(await nodeId('cln', { cln: { hsmSecret: mnemonicHsmSecret(words) } }), '03653e90c1ce4660fd8505dd6d643356e93cfe202af109d382787639dd5890e87d');
  assert.equal(toHexT(getPublicKey(clnNodeKeyT(bip39SeedT(words)), true)), '03653e90c1ce4660fd8505dd6d643356e93cfe202af109d382787639dd5890e87d');
});

test('cln: mnemonic "ritual … wedding" with passphrase test_passphrase → 03902037…a6bd', async () => {
  const words = 'ritual idle hat sunny universe pluck key alpha wing cake have wedding';
  const secrets = { cln: { hsmSecret: mnemonicHsmSecret(words, 'test_passphrase'), passphrase: enc('test_passphrase') } };
  assert.equal(await nodeId('cln', secrets), '039020371fb803cd4ce1e9a909b502d7b0a9e0f10cccc35c3e9be959c52d3ba6bd');
  // A wrong passphrase is refused (the stored SHA-256 of the seed does not match), never another identity.
  await assert.rejects(foreignIdentity('cln', { cln: { hsmSecret: secrets.cln.hsmSecret, passphrase: enc('test_passphrasE') } }), ForeignSecretError);
});

test('cln: mnemonic "hockey enroll … account" → 038194b5…f37b', async () => {
  const words = 'hockey enroll sure trip track rescue original plate abandon abandon abandon account';
  assert.equal(await nodeId('cln', { cln: { hsmSecret: mnemonicHsmSecret(words) } }), '038194b5f32bdf0aa59812c86c4ef7ad2f294104fa027d1ace9b469bb6f88cf37b');
});

test('cln: the node key uses only the first 32 bytes of the root, and the open key is makesecret("scb secret")', async () => {
  const root = Uint8Array.from({ length: 64 }, (_, i) => i + 1);
  assert.deepEqual(clnNodeKey(root), clnNodeKey(root.subarray(0, 32)));
  assert.deepEqual(clnNodeKey(root), clnNodeKeyT(root));
  const hsm = padded32('lightning-1');
  const id = await foreignIdentity('cln', { cln: { hsmSecret: hsm } });
  assert.equal(toHexT(id.openKey), toHexT(clnMakeSecretT(hsm, 'scb secret')));
  id.wipe();
  assert.ok(id.nodeSecret.every((b) => b === 0) && id.openKey.every((b) => b === 0), 'wipe overwrote both secrets');
});

// ---- LDK: lightning/src/sign/mod.rs, ldk-node builder.rs ----------------------------------

test('ldk: KeysManager seed of 32 × 0x01 → 0355f8d2…6c23 (m/0\')', async () => {
  const seed = new Uint8Array(32).fill(1);
  assert.equal(await nodeId('ldk', { ldk: { seed } }), '0355f8d2238a322d16b602bd0ceaad5b01019fb055971eaadcc9b29226a4da6c23');
  assert.equal(toHexT(getPublicKey(pathT(seed, [H(0)]), true)), '0355f8d2238a322d16b602bd0ceaad5b01019fb055971eaadcc9b29226a4da6c23');
  assert.deepEqual(ldkNodeKey(seed), pathT(seed, [H(0)]));
});

test('ldk: a 64-byte ldk-node seed gives KeysManager the master private key of it', async () => {
  const walletSeed = Uint8Array.from({ length: 64 }, (_, i) => (i * 7 + 3) & 0xff);
  const km = masterT(walletSeed).k;
  assert.deepEqual(ldkKeysManagerSeed(walletSeed), km);
  assert.equal(await nodeId('ldk', { ldk: { seed: walletSeed } }), toHexT(getPublicKey(pathT(km, [H(0)]), true)));
  assert.throws(() => ldkKeysManagerSeed(new Uint8Array(48)), RangeError);
});

// ---- lnd: lnwallet/btcwallet/signer_test.go -----------------------------------------------

test('lnd: entropy 4a7611b6…2973, coin 1 → node key 3d94e6c7…8296, node id 02b775fe…e3d1', async () => {
  const entropy = hex('4a7611b6979ba7c4bc5c5cd2239b2973');
  const root = masterFromSeed(entropy);
  assert.equal(toHexT(lndNodeKeyFromRoot(root, 1)), '3d94e6c7ef482351780269eff000b57c1ac6ccaaf58d4bd433ef2014cf858296');
  assert.equal(await nodeId('lnd', { lnd: { coin: 1, entropy } }), '02b775fec11a589d0554f240b7d9720f3d242c37e313908565c974983619fee3d1');
  // Independently: m/1017'/1'/6'/0/0 with btcutil's legacy step from m/1017' to the coin key.
  const m = masterT(entropy);
  const purpose = ckdT(m, H(1017));
  const leaf = ckdT(ckdT(ckdT(ckdT(purpose, H(1), true), H(6)), 0), 0);
  assert.equal(toHexT(leaf.k), '3d94e6c7ef482351780269eff000b57c1ac6ccaaf58d4bd433ef2014cf858296');
});

test('lnd: a root whose m/1017\' secret starts with a zero byte takes btcwallet\'s legacy step', async () => {
  // Search a small bounded range for such a root (about 1 in 256 roots), then compare.
  let found: Uint8Array | undefined;
  for (let i = 0; i < 4096 && !found; i++) {
    const e = Uint8Array.from({ length: 16 }, (_, j) => (j < 4 ? (i >> (8 * j)) & 0xff : 0x5a));
    if (ckdT(masterT(e), H(1017)).k[0] === 0) found = e;
  }
  assert.ok(found, 'a root with a short m/1017\' key exists in the range');
  const m = masterT(found);
  const purpose = ckdT(m, H(1017));
  const legacy = ckdT(ckdT(ckdT(ckdT(purpose, H(0), true), H(6)), 0), 0).k;
  const strict = ckdT(ckdT(ckdT(ckdT(purpose, H(0)), H(6)), 0), 0).k;
  assert.notDeepEqual(legacy, strict);
  const id = await foreignIdentity('lnd', { lnd: { coin: 0, entropy: found } });
  assert.deepEqual(id.nodeSecret, legacy);
  id.wipe();
});

// ---- lightning-kmp: LocalKeyManager.kt ----------------------------------------------------

test('kmp: seed 17b086b2…0c1501 on regtest → 0392ea6e…2522 (m/48\'/0\'); mainnet uses m/50\'/0\'', async () => {
  const seed = hex('17b086b228025fa8f4416324b6ba2ec36e68570ae2fc3d392520969f2a9d0c1501');
  assert.equal(await nodeId('kmp', { kmp: { seed, network: 'regtest' } }), '0392ea6e914abcee840dc8a763b02ba5ac47e0ac3fadcd5294f9516fe353882522');
  assert.equal(toHexT(getPublicKey(pathT(seed, [H(48), H(0)]), true)), '0392ea6e914abcee840dc8a763b02ba5ac47e0ac3fadcd5294f9516fe353882522');
  assert.equal(await nodeId('kmp', { kmp: { seed, network: 'mainnet' } }), toHexT(getPublicKey(pathT(seed, [H(50), H(0)]), true)));
  // The node key is also the blob key.
  const id = await foreignIdentity('kmp', { kmp: { seed, network: 'regtest' } });
  assert.deepEqual(id.openKey, id.nodeSecret);
  id.wipe();
});
