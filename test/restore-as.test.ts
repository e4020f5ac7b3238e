// restorefrompeer --as: another implementation's backup back from its peers, from the wallet
// secret alone. Real `lnps serve` providers over 127.0.0.1 hold blobs that a test peer stored
// while connected as the node's derived identity; each blob and each identity is built by an
// independent path here (test/formats-build.ts on node:crypto), never by the code under test.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { hkdfSync, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { getPublicKey } from '@noble/secp256k1';
import { cleanup, cli, NET, sha, storedSha, tempDir, type CliResult } from './node-harness.js';
import { addr, deadPort, providersForFile, storeAs } from './restore-helpers.js';
import { cat, be, clnMakeSecretT, clnBlobT, scbT, modernChanT, toHexT, pathT, H, kmpBlobT, ldkBlobT, ldkHolderT, masterT, ckdT, sha256T, lndBlobT, lndPackedT, lndMultiT, lndSingleT } from './formats-build.js';
import { HDKey } from '@scure/bip32';

after(cleanup);

const providers = providersForFile(3);

/**
 * The command restored `implementation`'s backup: exit 0, `expected` written to `out` byte for
 * byte with mode 0600, and a record saying so. Returns the record.
 */
function restored(r: CliResult, implementation: string, out: string, expected: Uint8Array): any {
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(new Uint8Array(readFileSync(out)), expected);
  assert.equal(statSync(out).mode & 0o777, 0o600);
  const j = JSON.parse(r.stdout);
  assert.equal(j.restored, true);
  assert.equal(j.implementation, implementation);
  return j;
}

// ---- Core Lightning ------------------------------------------------------------------------

/** Core Lightning's node key, independently: HKDF-SHA256(salt = le32 counter 0, ikm = hsm_secret, "nodeid"). */
const clnNodeKeyT = (hsm: Uint8Array): Uint8Array => new Uint8Array(hkdfSync('sha256', hsm, new Uint8Array(4), Buffer.from('nodeid'), 32));

function clnScb(timestamp: number, channels: number): Uint8Array {
  const chans = Array.from({ length: channels }, (_, i) =>
    modernChanT({
      id: i + 1,
      cid: new Uint8Array(32).fill(i + 1),
      node: getPublicKey(new Uint8Array(32).fill(0x40 + i), true),
      addr: cat(new Uint8Array([1, 127, 0, 0, 1]), be(9735, 2)),
      txid: new Uint8Array(32).fill(0x70 + i),
      n: i,
      sats: 100_000n * BigInt(i + 1),
      type: new Uint8Array([0x10]),
      tlvs: new Uint8Array(0),
    }),
  );
  return scbT(6137, 0n, timestamp, chans);
}

function clnSecretFile(dir: string): { file: string; hsm: Uint8Array; nodeKey: Uint8Array; nodeId: string; scbKey: Uint8Array } {
  const hsm = new Uint8Array(randomBytes(32));
  const file = join(dir, 'hsm_secret');
  writeFileSync(file, hsm, { mode: 0o600 });
  const nodeKey = clnNodeKeyT(hsm);
  return { file, hsm, nodeKey, nodeId: toHexT(getPublicKey(nodeKey, true)), scbKey: clnMakeSecretT(hsm, 'scb secret') };
}

test('--as cln: from the hsm_secret alone, the blob a peer holds is written byte for byte as emergency.recover', async () => {
  const dir = tempDir();
  const s = clnSecretFile(dir);
  const blob = clnBlobT(s.scbKey, new Uint8Array(randomBytes(24)), clnScb(1_700_000_000, 2));
  const [p] = providers;
  await storeAs(p!, s.nodeKey, blob);
  const out = join(dir, 'emergency.recover');
  const r = await cli(['restorefrompeer', '--as', 'cln', '--hsm-secret', s.file, addr(p!), '--out', out, '--timeout', '3s', ...NET]);
  const j = restored(r, 'cln', out, blob);
  assert.equal(j.node_id, s.nodeId);
  assert.equal(j.from, p!.pubkey);
  assert.equal(j.scb_timestamp, 1_700_000_000);
  assert.equal(j.channels, 2);
  assert.equal(j.out_sha256, sha(blob));
  assert.deepEqual(j.peers.map((x: any) => [x.peer, x.answer, x.status, x.used, x.blob_len]), [[p!.pubkey, 'returned', 'chosen', true, blob.length]]);
  assert.match(j.next_steps.join('\n'), /emergency\.recover[\s\S]*lightning-cli emergencyrecover/);
  // The first line warns about the one connection per node id; progress is one line per event.
  const lines = r.stderr.trimEnd().split('\n');
  assert.match(lines[0]!, new RegExp(`^lnps: connecting as cln node ${s.nodeId}: peers keep one connection per node id`));
  assert.match(lines[1]!, new RegExp(`^lnps: ${p!.pubkey}@127\\.0\\.0\\.1:${p!.serve.port}: connecting$`));
  assert.match(lines[2]!, new RegExp(`^lnps: ${p!.pubkey}@127\\.0\\.0\\.1:${p!.serve.port}: returned Core Lightning backup, ${blob.length} bytes, timestamp 1700000000 \\(2023-11-14T22:13:20\\.000Z\\), 2 channels$`));
  assert.match(r.stderr, /lightning-cli emergencyrecover/);
  // Nothing was sent to the provider: it still holds exactly the same blob.
  assert.equal(await storedSha(p!.dir, s.nodeId), sha(blob));
  // An existing --out is refused before any peer is asked.
  const again = await cli(['restorefrompeer', '--as', 'cln', '--hsm-secret', s.file, addr(p!), '--out', out, ...NET]);
  assert.equal(again.status, 3);
  assert.doesNotMatch(again.stderr, /connecting/);
});

test('--as cln --graph: four channel peers (one unreachable, one holding nothing, one an older backup) give the newest, and each row says what it gave', async () => {
  const dir = tempDir();
  const s = clnSecretFile(dir);
  const [newest, older, empty] = providers;
  const newBlob = clnBlobT(s.scbKey, new Uint8Array(randomBytes(24)), clnScb(1_750_000_000, 3));
  const oldBlob = clnBlobT(s.scbKey, new Uint8Array(randomBytes(24)), clnScb(1_740_000_000, 1));
  await storeAs(newest!, s.nodeKey, newBlob);
  await storeAs(older!, s.nodeKey, oldBlob);
  const deadId = toHexT(getPublicKey(new Uint8Array(32).fill(0x33), true));
  const dead = await deadPort();
  const other = toHexT(getPublicKey(new Uint8Array(32).fill(0x34), true)); // a node with no channel to ours
  const chan = (a: string, b: string, scid: string) => [{ source: a, destination: b, short_channel_id: scid }, { source: b, destination: a, short_channel_id: scid }];
  const channels = {
    channels: [...chan(s.nodeId, newest!.pubkey, '1x1x0'), ...chan(older!.pubkey, s.nodeId, '2x1x0'), ...chan(s.nodeId, empty!.pubkey, '3x1x0'), ...chan(deadId, s.nodeId, '4x1x0'), ...chan(other, newest!.pubkey, '5x1x0')],
  };
  const ipv4 = (port: number) => [{ type: 'ipv4', address: '127.0.0.1', port }];
  const nodes = {
    nodes: [
      { nodeid: newest!.pubkey, addresses: ipv4(newest!.serve.port) },
      { nodeid: older!.pubkey, addresses: [{ type: 'torv3', address: 'vww6ybal4bd7szmgncyruucpgfkqahzddi37ktceo3ah7ngmcopnpyyd.onion', port: 9735 }, ...ipv4(older!.serve.port)] },
      { nodeid: empty!.pubkey, addresses: ipv4(empty!.serve.port) },
      { nodeid: deadId, addresses: ipv4(dead) },
      { nodeid: other, addresses: ipv4(1) },
    ],
  };
  const chFile = join(dir, 'listchannels.json');
  const ndFile = join(dir, 'listnodes.json');
  writeFileSync(chFile, JSON.stringify(channels));
  writeFileSync(ndFile, JSON.stringify(nodes));
  const out = join(dir, 'emergency.recover');
  const r = await cli(['restorefrompeer', '--as', 'cln', '--hsm-secret', s.file, '--graph', chFile, '--graph', ndFile, '--out', out, '--timeout', '2s', ...NET], 40_000);
  const j = restored(r, 'cln', out, newBlob);
  assert.equal(j.scb_timestamp, 1_750_000_000);
  assert.equal(j.from, newest!.pubkey);
  assert.deepEqual(j.graph, { kind: 'cln', channel_peers: 4, dropped: 0 });
  const want = new Map<string, unknown[]>([
    [newest!.pubkey, ['graph', 'returned', 'chosen', true, 1_750_000_000]],
    [older!.pubkey, ['graph', 'returned', 'stale', false, 1_740_000_000]],
    [empty!.pubkey, ['graph', 'nothing', 'nothing', false, null]],
    [deadId, ['graph', 'unreachable', 'unreachable', false, null]],
  ]);
  // Every channel peer, in node id order, and only those.
  assert.deepEqual(j.peers.map((x: any) => x.peer), [...want.keys()].sort());
  for (const x of j.peers) assert.deepEqual([x.source, x.answer, x.status, x.used, x.scb_timestamp ?? null], want.get(x.peer), x.peer);
  assert.match(j.peers.find((x: any) => x.peer === empty!.pubkey).reason, /no peer_storage_retrieval within 2000 ms after init/);
  assert.equal(j.peers.find((x: any) => x.peer === deadId).address, `127.0.0.1:${dead}`);
  // One progress line per outcome.
  assert.match(r.stderr, new RegExp(`${older!.pubkey}@127\\.0\\.0\\.1:${older!.serve.port}: returned Core Lightning backup, ${oldBlob.length} bytes, timestamp 1740000000`));
  assert.match(r.stderr, new RegExp(`${empty!.pubkey}@127\\.0\\.0\\.1:${empty!.serve.port}: nothing \\(no peer_storage_retrieval`));
  assert.match(r.stderr, new RegExp(`${deadId}@127\\.0\\.0\\.1:${dead}: unreachable \\(`));

  // No peer with a valid backup: exit 1, nothing written, every peer still reported.
  const none = join(dir, 'none');
  const t = await cli(['restorefrompeer', '--as', 'cln', '--hsm-secret', s.file, addr(empty!), `${deadId}@127.0.0.1:${dead}`, '--out', none, '--timeout', '1s', ...NET]);
  assert.equal(t.status, 1);
  assert.equal(existsSync(none), false);
  assert.deepEqual(JSON.parse(t.stdout).peers.map((x: any) => x.status), ['nothing', 'unreachable']);
});

// ---- Phoenix / lightning-kmp ---------------------------------------------------------------

test('--as kmp: from the BIP39 seed alone (regtest: m/48\'/0\'), the decrypted backup with its version byte', async () => {
  const dir = tempDir();
  const seed = new Uint8Array(randomBytes(64));
  const seedFile = join(dir, 'seed.hex');
  writeFileSync(seedFile, toHexT(seed) + '\n', { mode: 0o600 });
  const nodeKey = pathT(seed, [H(48), H(0)]);
  const plaintext = new Uint8Array(randomBytes(700));
  const blob = kmpBlobT(nodeKey, 5, plaintext);
  const [same, p, diff] = providers;
  await storeAs(p!, nodeKey, blob);
  await storeAs(same!, nodeKey, blob);
  const other = new Uint8Array(randomBytes(300));
  await storeAs(diff!, nodeKey, kmpBlobT(nodeKey, 5, other));
  const out = join(dir, 'phoenix.bin');
  const r = await cli(['restorefrompeer', '--as', 'kmp', '--kmp-seed-file', seedFile, addr(p!), addr(same!), addr(diff!), '--out', out, '--timeout', '3s', ...NET]);
  // The format has no order: the first valid copy in the try order is written.
  const j = restored(r, 'kmp', out, cat(new Uint8Array([5]), plaintext));
  assert.equal(j.node_id, toHexT(getPublicKey(nodeKey, true)));
  assert.deepEqual(j.peers.map((x: any) => [x.peer, x.status, x.used]), [
    [p!.pubkey, 'chosen', true],
    [same!.pubkey, 'same', false],
    [diff!.pubkey, 'different', false],
  ]);
  assert.match(j.ambiguous, new RegExp(`1 peer returned a valid backup that differs from the one written, and Phoenix \\(lightning-kmp\\)'s format has no order to tell which is newer; the first in the try order \\(${p!.pubkey}\\) was written`));
  assert.match(r.stderr, /lnps: warning: 1 peer returned a valid backup that differs/);
  assert.match(r.stderr, /returned Phoenix \(lightning-kmp\) backup, \d+ bytes/);
});

// ---- LDK -------------------------------------------------------------------------------------

test('--as ldk: from the KeysManager seed alone (node key m/0\', blob key m/6\'), the channel holders and their JSON', async () => {
  const dir = tempDir();
  const seed = new Uint8Array(randomBytes(32));
  const seedFile = join(dir, 'ldk_seed.hex');
  writeFileSync(seedFile, toHexT(seed), { mode: 0o600 });
  const nodeKey = pathT(seed, [H(0)]);
  const blobKey = pathT(seed, [H(6)]);
  const monitor = new Uint8Array(randomBytes(150));
  const counterparty = getPublicKey(new Uint8Array(32).fill(0x51), true);
  const plaintext = cat(be(1, 2), ldkHolderT(new Uint8Array(32).fill(0xc1), counterparty, 281474976710655n, monitor));
  const blob = ldkBlobT(blobKey, new Uint8Array(randomBytes(32)), plaintext);
  const [, , p] = providers;
  await storeAs(p!, nodeKey, blob);
  const out = join(dir, 'ldk-holders.bin');
  const r = await cli(['restorefrompeer', '--as', 'ldk', '--ldk-seed-file', seedFile, addr(p!), '--out', out, '--timeout', '3s', ...NET]);
  const j = restored(r, 'ldk', out, plaintext);
  const side = JSON.parse(readFileSync(out + '.json', 'utf8'));
  assert.equal(statSync(out + '.json').mode & 0o777, 0o600);
  assert.deepEqual(side.channels, [
    { channel_id: 'c1'.repeat(32), peer_id: toHexT(counterparty), min_seen_secret: '281474976710655', monitor_len: 150, monitor_sha256: sha(monitor) },
  ]);
  assert.equal(j.node_id, toHexT(getPublicKey(nodeKey, true)));
  assert.equal(j.out_json, out + '.json');
  assert.equal(j.channels, 1);
});

// ---- lnd (draft) -----------------------------------------------------------------------------

/** lnd's key at m/1017'/coin'/family'/0/0, independently: btcwallet's legacy step at m/1017' → coin'. */
function lndKeyT(entropy: Uint8Array, coin: number, family: number): Uint8Array {
  let n = masterT(entropy);
  n = ckdT(n, H(1017));
  n = ckdT(n, H(coin), true);
  n = ckdT(n, H(family));
  n = ckdT(n, 0);
  return ckdT(n, 0).k;
}

test('--as lnd: from the aezeed entropy alone (node key family 6), the padded draft blob is written unpadded, byte for byte a channel.backup', async () => {
  const dir = tempDir();
  const entropy = new Uint8Array(randomBytes(16));
  const seedFile = join(dir, 'entropy.hex');
  writeFileSync(seedFile, toHexT(entropy) + '\n', { mode: 0o600 });
  const coin = 1; // regtest
  const nodeKey = lndKeyT(entropy, coin, 6);
  const blobKey = sha256T(getPublicKey(lndKeyT(entropy, coin, 7), true));
  const remote = getPublicKey(new Uint8Array(32).fill(0x61), true);
  const multi = lndMultiT([
    lndSingleT({ version: 3, initiator: true, chain: new Uint8Array(32).fill(6), txid: new Uint8Array(randomBytes(32)), index: 0, scid: 700n << 40n, remote, addrs: new Uint8Array(0), capacity: 2_000_000n, rest: new Uint8Array(randomBytes(200)) }),
    lndSingleT({ version: 5, initiator: false, chain: new Uint8Array(32).fill(6), txid: new Uint8Array(randomBytes(32)), index: 1, scid: 701n << 40n, remote, addrs: new Uint8Array(0), capacity: 300_000n, rest: new Uint8Array(randomBytes(200)) }),
  ]);
  const nonce = new Uint8Array(randomBytes(24));
  const channelBackup = lndPackedT(blobKey, nonce, multi);
  const blob = lndBlobT(blobKey, nonce, multi);
  assert.equal(blob.length, 65531);
  // Another lnd wallet's blob, stored under this node id: it does not open with this wallet's key.
  const foreign = lndBlobT(sha256T(getPublicKey(new Uint8Array(32).fill(0x62), true)), nonce, multi);
  const [p, other, same] = providers;
  await storeAs(p!, nodeKey, blob);
  await storeAs(other!, nodeKey, foreign);
  await storeAs(same!, nodeKey, blob);
  const out = join(dir, 'channel.backup');
  const r = await cli(['restorefrompeer', '--as', 'lnd', '--lnd-seed-file', seedFile, addr(p!), addr(other!), addr(same!), '--out', out, '--timeout', '3s', ...NET]);
  const j = restored(r, 'lnd', out, channelBackup);
  assert.equal(j.node_id, toHexT(getPublicKey(nodeKey, true)));
  assert.equal(j.from, p!.pubkey);
  assert.equal(j.channels, 2);
  assert.equal(j.out_len, channelBackup.length);
  assert.equal(j.out_sha256, sha(channelBackup));
  assert.deepEqual(j.peers.map((x: any) => [x.peer, x.status, x.used, x.blob_len, x.channels ?? null]), [
    [p!.pubkey, 'chosen', true, 65531, 2],
    [other!.pubkey, 'invalid', false, 65531, null],
    [same!.pubkey, 'same', false, 65531, 2],
  ]);
  assert.match(j.peers[1].reason, /^auth_failed: not this node's lnd backup, or altered$/);
  assert.match(j.next_steps.join('\n'), new RegExp(`lncli restorechanbackup --multi_file ${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  assert.match(r.stderr, new RegExp(`^lnps: connecting as lnd node ${j.node_id}: peers keep one connection per node id`));
  assert.match(r.stderr, new RegExp(`${p!.pubkey}@127\\.0\\.0\\.1:${p!.serve.port}: returned lnd backup, 65531 bytes, 2 channels\\n`));
  // Nothing was sent to the providers: each still holds exactly what it held.
  assert.equal(await storedSha(p!.dir, j.node_id), sha(blob));
  assert.equal(await storedSha(other!.dir, j.node_id), sha(foreign));

  // The wallet's root key (tprv, as lnd's wallet shows it on regtest) gives the same node and file.
  const tprvFile = join(dir, 'root.tprv');
  const m = masterT(entropy);
  writeFileSync(tprvFile, new HDKey({ privateKey: m.k, chainCode: m.c, versions: { private: 0x04358394, public: 0x043587cf } }).privateExtendedKey, { mode: 0o600 });
  const out2 = join(dir, 'channel2.backup');
  const r2 = await cli(['restorefrompeer', '--as', 'lnd', '--lnd-root-key-file', tprvFile, addr(p!), '--out', out2, '--timeout', '3s', ...NET]);
  assert.equal(restored(r2, 'lnd', out2, channelBackup).node_id, j.node_id);
});
