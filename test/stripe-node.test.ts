// The node's striped backups without sockets: choosing peers, deciding moves and re-stripes,
// the placement records per backup version, judging returned shards, and the keeper driving a
// fake set of peers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { MemoryKv } from '../src/core/store/memory.js';
import { LnpsStore } from '../src/core/store/store.js';
import { deriveSealKey, open } from '../src/core/backup/seal.js';
import { openShard, stripe } from '../src/core/backup/stripe.js';
import { toHex } from '../src/core/bytes.js';
import { InputError, UsageError } from '../src/core/errors.js';
import { silentLogger } from '../src/core/node/log.js';
import { choosePeers, minK, parseStripeSpec, planMaintenance, rankStoragePeers, stripeMode, type StoragePeer } from '../src/core/node/placement.js';
import { StripeStore } from '../src/core/node/stripe-store.js';
import { backupStatus } from '../src/core/node/status.js';
import { confirmReplicated, judgeShard, rebuildFromPeers, sealVersion, StripeKeeper } from '../src/core/node/stripe-node.js';

const hexPk = (i: number) => '02' + i.toString(16).padStart(2, '0').repeat(32);
const pkBytes = (i: number) => new Uint8Array(Buffer.from(hexPk(i), 'hex'));
const sp = (i: number, o: Partial<StoragePeer> = {}): StoragePeer => ({ peer: hexPk(i), providesStorage: true, hasChannel: false, connectedAt: 1000 + i, ...o });
const sha = (b: Uint8Array) => new Uint8Array(createHash('sha256').update(b).digest());

/** Deterministic randomness, so shard bytes are the same on every run. */
function counterRandom(seed = 1): (n: number) => Uint8Array {
  let c = seed;
  return (n) => Uint8Array.from({ length: n }, () => (c = (c * 1103515245 + 12345) >>> 0) & 0xff);
}

async function memStripes(): Promise<{ store: LnpsStore; stripes: StripeStore }> {
  const store = await LnpsStore.open(new MemoryKv());
  return { store, stripes: new StripeStore(store) };
}

const KEY = deriveSealKey(new Uint8Array(32).fill(7));

test('parseStripeSpec: K-of-N within the shard format, plain errors otherwise', () => {
  assert.deepEqual(parseStripeSpec('4-of-6'), { k: 4, n: 6 });
  assert.deepEqual(parseStripeSpec('1-of-3'), { k: 1, n: 3 });
  assert.deepEqual(parseStripeSpec('16-of-32'), { k: 16, n: 32 });
  for (const bad of ['4/6', '4-of-', '0-of-3', '17-of-20', '5-of-4', '4-of-33', 'x-of-y', '']) assert.throws(() => parseStripeSpec(bad), UsageError, bad);
  assert.throws(() => parseStripeSpec('5-of-4'), /N must be from K to 32/);
});

test('mode and smallest k: replication only at k = 1 when the backup fits one blob', () => {
  assert.equal(stripeMode(65448, 1), 'replicated');
  assert.equal(stripeMode(65449, 1), 'striped');
  assert.equal(stripeMode(10, 2), 'striped');
  assert.equal(minK(65448), 1);
  assert.equal(minK(65449), 2);
  assert.equal(minK(250_000), 4); // 250000 / 65393 = 3.82
  assert.equal(minK(4 * 65393 + 1), 5);
});

test('rankStoragePeers: channel peers first, then longest connected, then key; non-storing peers out', () => {
  const peers = [sp(1, { connectedAt: 50 }), sp(2, { hasChannel: true, connectedAt: 90 }), sp(3, { providesStorage: false, connectedAt: 1 }), sp(4, { connectedAt: 10 }), sp(5, { hasChannel: true, connectedAt: 80 }), sp(6, { connectedAt: 10 })];
  assert.deepEqual(rankStoragePeers(peers).map((p) => p.peer), [hexPk(5), hexPk(2), hexPk(4), hexPk(6), hexPk(1)]);
  assert.deepEqual(choosePeers(peers, 2, 3), [hexPk(5), hexPk(2), hexPk(4)]);
  assert.throws(
    () => choosePeers(peers, 4, 6),
    (e: unknown) => e instanceof InputError && e.code === 'not_enough_peers' && /a 4-of-6 backup needs 6 storage peers, but only 5 connected peers advertise option_provide_storage/.test(e.message),
  );
  assert.throws(() => choosePeers([sp(3, { providesStorage: false })], 1, 1), /no connected peer advertises option_provide_storage/);
});

test('planMaintenance: a holder away past the move time loses its shard to the best free peer', () => {
  const shards = [0, 1, 2, 3].map((i) => ({ index: i, peer: hexPk(i) }));
  const connected = [sp(0), sp(1), sp(2), sp(7, { connectedAt: 5 }), sp(8, { hasChannel: true, connectedAt: 500 })];
  const base = { k: 2, n: 4, totalLen: 1000, shards, connected, now: 100_000, moveAfterMs: 60_000 };
  // Away 30 s: not yet.
  assert.deepEqual(planMaintenance({ ...base, awaySince: () => 70_000 }), { moves: [], waiting: [] });
  // Away 60 s: moves to the channel peer first.
  const p = planMaintenance({ ...base, awaySince: () => 40_000 });
  assert.deepEqual(p.moves.map((m) => [m.index, m.from, m.to]), [[3, hexPk(3), hexPk(8)]]);
  assert.equal(p.moves[0]!.reason, 'holder away for 60 s');
  assert.equal(p.restripe, undefined);
  // Unplaced shards find holders too, in index order.
  const q = planMaintenance({ ...base, shards: [{ index: 0, peer: undefined }, { index: 1, peer: undefined }, { index: 2, peer: hexPk(2) }, { index: 3, peer: hexPk(0) }], awaySince: () => undefined });
  assert.deepEqual(q.moves.map((m) => [m.index, m.to]), [[0, hexPk(8)], [1, hexPk(7)]]);
  // Unknown away time: never moved.
  assert.deepEqual(planMaintenance({ ...base, awaySince: () => undefined }).moves, []);
});

test('planMaintenance: no free peer: re-stripe over the peers present when it can lose more, else wait', () => {
  // 4-of-6, two holders gone for good, the four others still here and nobody else.
  const shards = [0, 1, 2, 3, 4, 5].map((i) => ({ index: i, peer: hexPk(i) }));
  const connected = [0, 1, 2, 3].map((i) => sp(i));
  const r = planMaintenance({ k: 4, n: 6, totalLen: 100_000, shards, connected, now: 10_000, moveAfterMs: 1000, awaySince: () => 0 });
  // Keeping 2 spare shards at 4 peers means k = 2 (100,000 bytes fit 2 x 65393).
  assert.deepEqual(r.restripe, {
    k: 2,
    n: 4,
    peers: [0, 1, 2, 3].map(hexPk),
    reason: '2 shards cannot move (no free storage peer); 2-of-4 over the 4 storage peers present can lose 2 instead of 0',
  });
  // A backup of 250,000 bytes needs k >= 4: a re-stripe over 4 peers cannot do better: wait.
  const w = planMaintenance({ k: 4, n: 6, totalLen: 250_000, shards, connected, now: 10_000, moveAfterMs: 1000, awaySince: () => 0 });
  assert.equal(w.restripe, undefined);
  assert.deepEqual(w.waiting.map((x) => [x.index, x.peer]), [[4, hexPk(4)], [5, hexPk(5)]]);
  assert.match(w.waiting[0]!.reason, /no free storage peer/);
  // Replication (1-of-3) with one holder gone and no other peer: re-striping cannot help.
  const rep = planMaintenance({ k: 1, n: 3, totalLen: 10, shards: shards.slice(0, 3), connected: [sp(0), sp(1)], now: 10_000, moveAfterMs: 1000, awaySince: () => 0 });
  assert.equal(rep.restripe, undefined);
  assert.equal(rep.waiting.length, 1);
});

test('sealVersion: 1-of-N of a small backup is the same version 1 blob N times; else N version 2 shards', () => {
  const plain = Uint8Array.from({ length: 500 }, (_, i) => i & 0xff);
  const rep = sealVersion({ plaintext: plain, k: 1, n: 3, seq: 9n, pad: 'none' }, KEY, counterRandom());
  assert.equal(rep.mode, 'replicated');
  assert.equal(rep.blobs.length, 3);
  assert.equal(toHex(rep.blobs[0]!), toHex(rep.blobs[2]!));
  const o = open(rep.blobs[1]!, KEY);
  assert.ok(o.ok && o.version === 1 && o.seq === 9n && toHex(o.plaintext) === toHex(plain));
  const st = sealVersion({ plaintext: plain, k: 2, n: 3, seq: 9n, pad: 'none' }, KEY, counterRandom());
  assert.equal(st.mode, 'striped');
  assert.deepEqual(st.blobs.map((b) => { const r = openShard(b, KEY); return r.ok ? [r.shard.index, r.shard.k, r.shard.n] : null; }), [[0, 2, 3], [1, 2, 3], [2, 2, 3]]);
});

test('StripeStore: versions, assignment, sent and confirmed marks, moves, their status and prune', async () => {
  const { store, stripes } = await memStripes();
  const plain = new Uint8Array(3000).fill(3);
  const mk = async (seq: bigint, peers: number[], k = 2) => {
    const s = sealVersion({ plaintext: plain, k, n: peers.length, seq, pad: 'none' }, KEY, counterRandom(Number(seq)));
    await stripes.putVersion({ ...s, seq, k, n: peers.length, pad: 'none', origin: 'backup', peers: peers.map(pkBytes), sha256: sha }, 5000);
    return s;
  };
  const a = await mk(10n, [1, 2, 3]);
  assert.equal((await stripes.versions()).length, 1);
  const as2 = await stripes.assignedTo(pkBytes(2));
  assert.equal(as2!.index, 1);
  assert.equal(toHex(as2!.sealed), toHex(a.blobs[1]!));
  assert.equal(await stripes.assignedTo(pkBytes(9)), undefined);
  assert.equal(await stripes.markSent(10n, a.backup_id, 1, pkBytes(2), 6000), true);
  // A mark for a peer that is not the holder changes nothing.
  assert.equal(await stripes.markSent(10n, a.backup_id, 1, pkBytes(3), 6000), false);
  assert.equal(await stripes.markConfirmed(10n, a.backup_id, 0, pkBytes(1), 7000), true);
  await store.putSent(pkBytes(1), { seq: 10n, sha256: new Uint8Array(32), len: 10, sent_at: 6000 });
  let d = (await backupStatus(store, stripes, undefined, (p) => p === hexPk(1))).versions;
  assert.equal(d.length, 1);
  assert.deepEqual(
    (d[0]!.shards as any[]).map((s) => [s.index, s.peer, s.state, s.connected, s.sent_at, s.confirmed_at]),
    [
      [0, hexPk(1), 'confirmed', true, 7, 7],
      [1, hexPk(2), 'unconfirmed', false, 6, null],
      [2, hexPk(3), 'pending', false, null, null],
    ],
  );
  // One shard proved of the two needed: not recoverable, so no can_lose.
  assert.deepEqual([d[0]!.confirmed, d[0]!.unconfirmed, d[0]!.pending, d[0]!.needed, d[0]!.recoverable, d[0]!.can_lose], [[hexPk(1)], [hexPk(2)], [hexPk(3)], 2, false, null]);
  assert.equal(d[0]!.seq, '10');
  assert.equal(d[0]!.mode, 'striped');
  // Move shard 2 to peer 4: its marks start over and the move is counted.
  assert.equal(await stripes.assign(10n, a.backup_id, 2, pkBytes(4), 8000), true);
  d = (await backupStatus(store, stripes, undefined, () => null)).versions;
  assert.deepEqual([(d[0]!.shards as any[])[2].peer, (d[0]!.shards as any[])[2].moves], [hexPk(4), 1]);

  // A newer version on the same peers: peer 1 got it, so its shard of seq 10 is replaced.
  const b = await mk(20n, [1, 2, 4]);
  await store.putSent(pkBytes(1), { seq: 20n, sha256: new Uint8Array(32), len: 10, sent_at: 9000 });
  d = (await backupStatus(store, stripes, undefined, () => null)).versions;
  assert.deepEqual(d.map((v) => v.seq), ['20', '10']);
  assert.equal((d[1]!.shards as any[])[0].state, 'replaced');
  // Once seq 20 has k shards confirmed, seq 10 is dropped with its sealed shards.
  await stripes.markConfirmed(20n, b.backup_id, 0, pkBytes(1), 9500);
  assert.equal((await stripes.versions()).length, 2);
  await stripes.markConfirmed(20n, b.backup_id, 1, pkBytes(2), 9600);
  assert.deepEqual((await stripes.versions()).map((v) => v.seq), [20n]);
  assert.deepEqual(await stripes.shardBlobs(10n, a.backup_id), []);
  assert.equal((await stripes.shardBlobs(20n, b.backup_id)).length, 3);
});

test('judgeShard: the right shard confirms its placement; an older one is stale; a changed one corrupt; a v1 blob is not judged here', async () => {
  const { stripes } = await memStripes();
  const plain = new Uint8Array(5000).fill(9);
  const mk = async (seq: bigint) => {
    const s = sealVersion({ plaintext: plain, k: 2, n: 3, seq, pad: 'none' }, KEY, counterRandom(Number(seq)));
    await stripes.putVersion({ ...s, seq, k: 2, n: 3, pad: 'none', origin: 'backup', peers: [1, 2, 3].map(pkBytes), sha256: sha }, 1);
    return s;
  };
  const old = await mk(5n);
  const cur = await mk(6n);
  const ok = await judgeShard(cur.blobs[1]!, KEY, stripes, pkBytes(2), 100);
  assert.equal(ok!.status, 'confirmed');
  assert.equal(ok!.seq, 6n);
  assert.equal(ok!.confirmed!.index, 1);
  assert.equal((await stripes.current())!.placements[1]!.confirmed_at, 100);
  const stale = await judgeShard(old.blobs[0]!, KEY, stripes, pkBytes(1), 100);
  assert.equal(stale!.status, 'stale');
  assert.equal(stale!.seq, 5n);
  assert.match(stale!.detail!, /it should hold shard 0 of seq 6/);
  // The wrong shard of the current version: stale, so the peer is sent its own.
  assert.equal((await judgeShard(cur.blobs[2]!, KEY, stripes, pkBytes(1), 100))!.status, 'stale');
  const bad = cur.blobs[0]!.slice();
  bad[100]! ^= 1;
  assert.equal((await judgeShard(bad, KEY, stripes, pkBytes(1), 100))!.status, 'corrupt');
  const v1 = sealVersion({ plaintext: plain, k: 1, n: 2, seq: 7n, pad: 'none' }, KEY, counterRandom());
  assert.equal(await judgeShard(v1.blobs[0]!, KEY, stripes, pkBytes(1), 100), undefined);
});

test('confirmReplicated: a returned copy of a replicated blob confirms that peer\'s placement', async () => {
  const { stripes } = await memStripes();
  const s = sealVersion({ plaintext: new Uint8Array(100).fill(1), k: 1, n: 2, seq: 3n, pad: 'none' }, KEY, counterRandom());
  await stripes.putVersion({ ...s, seq: 3n, k: 1, n: 2, pad: 'none', origin: 'backup', peers: [pkBytes(1), pkBytes(2)], sha256: sha }, 1);
  assert.equal(await confirmReplicated(s.blobs[0]!, 3n, stripes, pkBytes(2), 50), true);
  assert.equal(await confirmReplicated(s.blobs[0]!, 3n, stripes, pkBytes(9), 50), false);
  const v = (await stripes.current())!;
  assert.deepEqual(v.placements.map((p) => p.confirmed_at), [undefined, 50]);
});

/** A fake node: peers that are connected, and what was offered to whom. */
function fakeNode(stripes: StripeStore, connected: StoragePeer[], now: { t: number }) {
  const offered: string[] = [];
  const keeper = new StripeKeeper({
    stripes,
    key: KEY,
    log: silentLogger.sub('BKUP'),
    now: () => now.t,
    moveAfterMs: 1000,
    peers: () => connected,
    offer: async (peer) => {
      offered.push(peer);
      return connected.some((p) => p.peer === peer) ? 1n : undefined;
    },
    plainSeq: () => undefined,
    random: counterRandom(),
  });
  return { keeper, offered };
}

test('StripeKeeper: a 4-of-6 backup goes to six peers; a holder away too long has its shard moved; with nobody free it waits', async () => {
  const { stripes } = await memStripes();
  const connected = [1, 2, 3, 4, 5, 6, 7].map((i) => sp(i, { connectedAt: i }));
  const now = { t: 10_000 };
  const { keeper, offered } = fakeNode(stripes, connected, now);
  const plain = Uint8Array.from({ length: 250_000 }, (_, i) => (i * 7) & 0xff);
  const r = await keeper.backup({ plaintext: plain, k: 4, n: 6, seq: 100n, pad: 'full' });
  assert.deepEqual(r.placed.map((p) => [p.index, p.peer, p.sent]), [1, 2, 3, 4, 5, 6].map((i) => [i - 1, hexPk(i), true]));
  assert.deepEqual(offered, [1, 2, 3, 4, 5, 6].map(hexPk));
  await assert.rejects(keeper.backup({ plaintext: plain, k: 4, n: 6, seq: 100n, pad: 'full' }), /seq 100 is not newer than the current backup's seq 100/);
  // Everyone present: nothing to do.
  assert.deepEqual((await keeper.tick())!.moves, []);
  // Peer 6 goes away; after the move time its shard 5 moves to peer 7.
  connected.splice(5, 1);
  now.t += 500;
  assert.deepEqual((await keeper.tick())!.moves, []);
  now.t += 1000;
  const p = (await keeper.tick())!;
  assert.deepEqual(p.moves.map((m) => [m.index, m.from, m.to]), [[5, hexPk(6), hexPk(7)]]);
  assert.equal(offered[offered.length - 1], hexPk(7));
  assert.equal((await stripes.assignedTo(pkBytes(7)))!.index, 5);
  // Peer 5 goes too and nobody is free: 250,000 bytes need k = 4, so re-striping over 5 peers
  // can lose 1, which is what waiting gives already: wait.
  connected.splice(4, 1);
  now.t += 2000;
  const w = (await keeper.tick())!;
  assert.deepEqual(w.moves, []);
  assert.equal(w.restripe, undefined);
  assert.deepEqual(w.waiting.map((x) => x.index), [4]);
});

test('StripeKeeper: with no free peer and a small backup, it re-stripes over the peers present, newer seq, fewer data shards', async () => {
  const { stripes } = await memStripes();
  const connected = [1, 2, 3, 4].map((i) => sp(i, { connectedAt: i }));
  const now = { t: 10_000 };
  const { keeper } = fakeNode(stripes, connected, now);
  const plain = Uint8Array.from({ length: 20_000 }, (_, i) => (i * 13) & 0xff);
  await keeper.backup({ plaintext: plain, k: 3, n: 4, seq: 50n, pad: 'none' });
  connected.splice(3, 1);
  now.t += 5000;
  const p = (await keeper.tick())!;
  assert.equal(p.restripe!.k, 2);
  assert.equal(p.restripe!.n, 3);
  const v = (await stripes.current())!;
  assert.deepEqual([v.seq, v.k, v.n, v.origin], [51n, 2, 3, 'restripe']);
  // The re-striped version rebuilds to the same backup from any two of its shards.
  const blobs = await stripes.shardBlobs(v.seq, v.backup_id);
  const rb = rebuildFromPeers([{ peer: 'a', blob: blobs[0]! }, { peer: 'b', blob: blobs[2]! }], KEY);
  assert.equal(rb.result.ok, true);
  assert.equal(toHex(rb.result.backup!), toHex(plain));
});

test('rebuildFromPeers: names the peers used, and how many shards are missing when too few', () => {
  const plain = Uint8Array.from({ length: 9000 }, (_, i) => (i * 3) & 0xff);
  const s = stripe(plain, { k: 3, n: 5, seq: 4n, pad: 'none', key: KEY, random: counterRandom() });
  const other = deriveSealKey(new Uint8Array(32).fill(8));
  const foreign = stripe(plain, { k: 3, n: 5, seq: 4n, pad: 'none', key: other, random: counterRandom() });
  const ok = rebuildFromPeers([{ peer: 'p0', blob: s.shards[0]! }, { peer: 'x', blob: foreign.shards[1]! }, { peer: 'p3', blob: s.shards[3]! }, { peer: 'p4', blob: s.shards[4]! }], KEY);
  assert.equal(ok.result.ok, true);
  assert.equal(toHex(ok.result.backup!), toHex(plain));
  assert.deepEqual(ok.usedPeers.sort(), ['p0', 'p3', 'p4']);
  assert.deepEqual(ok.perPeer.get('x'), { index: null, used: false, reason: "does not open with this node's key: another node's blob, or bytes changed" });
  const few = rebuildFromPeers([{ peer: 'p0', blob: s.shards[0]! }, { peer: 'p4', blob: s.shards[4]! }], KEY);
  assert.equal(few.result.ok, false);
  assert.equal(few.result.missing, 1);
  assert.match(few.result.message, /2 of 3 shards needed are present, 1 missing/);
  assert.deepEqual(few.perPeer.get('p4'), { index: 4, used: false, reason: 'too few shards of this version to rebuild it' });
});

test('newestFor: a holder gets its own shard, a non-holder nothing, and a newer unstriped backup wins', async () => {
  const { newestFor, moveCheckInterval, stripeParam } = await import('../src/core/node/stripe-serve.js');
  const { stripes } = await memStripes();
  const plainOld = { seq: 5n, sealed: Uint8Array.of(1), sha256: new Uint8Array(32) };
  assert.equal(await newestFor(stripes, plainOld, pkBytes(1)), plainOld);
  assert.equal(await newestFor(stripes, undefined, pkBytes(1)), undefined);
  const s = sealVersion({ plaintext: new Uint8Array(2000).fill(4), k: 2, n: 3, seq: 10n, pad: 'none' }, KEY, counterRandom());
  await stripes.putVersion({ ...s, seq: 10n, k: 2, n: 3, pad: 'none', origin: 'backup', peers: [1, 2, 3].map(pkBytes), sha256: sha }, 1);
  const mine = await newestFor(stripes, plainOld, pkBytes(3));
  assert.equal(mine!.seq, 10n);
  assert.equal(mine!.shard!.index, 2);
  assert.equal(toHex(mine!.sealed), toHex(s.blobs[2]!));
  assert.equal(toHex(mine!.sha256), toHex(sha(s.blobs[2]!)));
  assert.equal(await newestFor(stripes, plainOld, pkBytes(9)), undefined);
  const plainNew = { seq: 11n, sealed: Uint8Array.of(2), sha256: new Uint8Array(32) };
  assert.equal(await newestFor(stripes, plainNew, pkBytes(3)), plainNew);
  assert.equal(moveCheckInterval(1000), 250);
  assert.equal(moveCheckInterval(24 * 3600_000), 60_000);
  assert.equal(moveCheckInterval(10), 100);
  assert.deepEqual(stripeParam({ stripe: '3-of-5' }), { k: 3, n: 5 });
  assert.equal(stripeParam({}), undefined);
  assert.throws(() => stripeParam({ stripe: 3 }), UsageError);
});

test('Consumer with stripes: each holder is offered its own shard, a send is recorded, a returned shard confirms it, a stale one is named', async () => {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { Consumer, OwnBackupFile } = await import('../src/core/node/consumer.js');
  const dir = mkdtempSync(join(tmpdir(), 'lnps-stripe-consumer-'));
  try {
    const { store, stripes } = await memStripes();
    const own = new OwnBackupFile(dir, KEY);
    const consumer = new Consumer(own, store, KEY, stripes);
    const s1 = sealVersion({ plaintext: new Uint8Array(4000).fill(5), k: 2, n: 3, seq: 40n, pad: 'none' }, KEY, counterRandom(3));
    await stripes.putVersion({ ...s1, seq: 40n, k: 2, n: 3, pad: 'none', origin: 'backup', peers: [1, 2, 3].map(pkBytes), sha256: sha }, 1);
    const s2 = sealVersion({ plaintext: new Uint8Array(4000).fill(6), k: 2, n: 3, seq: 41n, pad: 'none' }, KEY, counterRandom(4));
    await stripes.putVersion({ ...s2, seq: 41n, k: 2, n: 3, pad: 'none', origin: 'backup', peers: [1, 2, 3].map(pkBytes), sha256: sha }, 2);
    const offer = (await consumer.newest(pkBytes(2)))!;
    assert.equal(offer.seq, 41n);
    assert.equal(toHex(offer.sealed), toHex(s2.blobs[1]!));
    assert.equal(await consumer.newest(pkBytes(7)), undefined);
    await consumer.recordSent(pkBytes(2), offer, 500);
    assert.equal((await store.sent(pkBytes(2)))!.seq, 41n);
    assert.equal((await stripes.current())!.placements[1]!.sent_at, 500);
    const back = await consumer.onRetrieval(pkBytes(2), s2.blobs[1]!, 600);
    assert.deepEqual([back.status, back.seq], ['confirmed', 41n]);
    assert.equal((await stripes.current())!.placements[1]!.confirmed_at, 600);
    assert.equal((await store.retrieved(pkBytes(2)))!.status, 'confirmed');
    // Peer 3 still returns its shard of seq 40: stale, and seq 41's placement is not confirmed.
    const old = await consumer.onRetrieval(pkBytes(3), s1.blobs[2]!, 700);
    assert.deepEqual([old.status, old.seq], ['stale', 40n]);
    assert.equal((await stripes.current())!.placements[2]!.confirmed_at, undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
