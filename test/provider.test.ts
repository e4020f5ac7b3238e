import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { toHex } from '../src/core/bytes.js';
import { publicKeyOf } from '../src/core/keys.js';
import { LnpsStore, MemoryKv } from '../src/core/store/index.js';
import { DAY_MS, ManualClock, Provider, isPrunable, providerSettings, type ProviderSettings } from '../src/core/provider/index.js';
import { UsageError } from '../src/core/errors.js';

function pk(i: number): Uint8Array {
  const s = new Uint8Array(32);
  new DataView(s.buffer).setUint32(28, i + 1);
  return publicKeyOf(s);
}
const txid = (b: number) => new Uint8Array(32).fill(b);

async function setup(settings: Partial<ProviderSettings> = {}) {
  const kv = new MemoryKv();
  const store = await LnpsStore.open(kv);
  const clock = new ManualClock();
  const provider = new Provider(store, providerSettings(settings), { clock });
  return { kv, store, clock, provider };
}

test('policy channel-peers (default): only a peer with an open channel may store', async () => {
  const { store, provider, clock } = await setup();
  const r1 = await provider.receive(pk(1), Uint8Array.of(1));
  assert.deepEqual(r1, { status: 'refused', peer: toHex(pk(1)), blob_len: 1, reason: 'policy', detail: 'policy channel-peers: no open channel with this peer' });
  await store.addChannel(pk(1), { txid: txid(1), vout: 0 }, clock.now());
  assert.equal((await provider.receive(pk(1), Uint8Array.of(1))).status, 'stored');
  // Once the channel closes, a new blob is refused again (the old one stays, for retention).
  await store.closeChannel({ txid: txid(1), vout: 0 }, clock.now(), 100);
  await clock.advance(2000);
  assert.equal((await provider.receive(pk(1), Uint8Array.of(2))).status, 'refused');
  assert.deepEqual((await store.peerBlob(pk(1)))!.blob, Uint8Array.of(1));
});

test('policy allowlist: channel peers and the operator\'s list; policy any: everyone', async () => {
  const a = await setup({ policy: 'allowlist', allowlist: new Set([toHex(pk(2))]) });
  await a.store.addChannel(pk(3), { txid: txid(3), vout: 0 }, 0);
  assert.equal((await a.provider.receive(pk(1), Uint8Array.of(1))).status, 'refused');
  assert.equal((await a.provider.receive(pk(2), Uint8Array.of(1))).status, 'stored');
  assert.equal((await a.provider.receive(pk(3), Uint8Array.of(1))).status, 'stored');
  const b = await setup({ policy: 'any' });
  assert.equal((await b.provider.receive(pk(1), Uint8Array.of(1))).status, 'stored');
  assert.throws(() => providerSettings({ policy: 'everyone' as never }), UsageError);
  assert.throws(() => providerSettings({ cooldownMs: 60_001 }), /cooldown must be between 0 and 60000 ms/);
});

test('quotas: a new peer past the peer or byte limit is refused; existing peers keep and replace their blobs', async () => {
  const { store, provider, clock } = await setup({ policy: 'any', maxPeers: 2, maxBytes: 100, cooldownMs: 0 });
  assert.equal((await provider.receive(pk(1), new Uint8Array(40))).status, 'stored');
  const big = await provider.receive(pk(2), new Uint8Array(61));
  assert.equal(big.status, 'refused');
  assert.equal(big.status === 'refused' && big.reason, 'quota_bytes');
  assert.equal((await provider.receive(pk(2), new Uint8Array(60))).status, 'stored');
  const third = await provider.receive(pk(3), new Uint8Array(1));
  assert.deepEqual(third, { status: 'refused', peer: toHex(pk(3)), blob_len: 1, reason: 'quota_peers', detail: 'already storing for 2 peers (limit 2)' });
  await clock.advance(1);
  const upd = await provider.receive(pk(1), new Uint8Array(50));
  assert.equal(upd.status, 'stored');
  assert.deepEqual(await store.totals(), { peers: 2, bytes: 110, channels: 0, open_channels: 0 });
  const tooBig = await provider.receive(pk(1), new Uint8Array(65532));
  assert.equal(tooBig.status === 'refused' && tooBig.reason, 'too_large');
});

test('quota: two new peers arriving together cannot both take the last slot', async () => {
  const { provider, store } = await setup({ policy: 'any', maxPeers: 1 });
  const out = await Promise.all([provider.receive(pk(1), Uint8Array.of(1)), provider.receive(pk(2), Uint8Array.of(2))]);
  assert.deepEqual(out.map((o) => o.status), ['stored', 'refused']);
  assert.equal((await store.totals()).peers, 1);
});

test('debouncer: a burst gives one write at once and one at the end of the cooldown; the last blob wins', async () => {
  const { store, provider, clock } = await setup({ policy: 'any', cooldownMs: 1000 });
  const peer = pk(1);
  const first = await provider.receive(peer, Uint8Array.of(0));
  assert.equal(first.status, 'stored');
  for (let i = 1; i <= 50; i++) {
    await clock.advance(10);
    const r = await provider.receive(peer, Uint8Array.of(i));
    assert.equal(r.status, 'pending');
    assert.equal(r.status === 'pending' && r.write_at, clock.now() - 10 * i + 1000);
  }
  assert.equal(store.blobWrites, 1);
  // Retrieval serves the newest blob, from memory, before it is written.
  assert.deepEqual(await provider.retrieval(peer), Uint8Array.of(50));
  await clock.advance(499);
  assert.equal(store.blobWrites, 1);
  await clock.advance(1);
  assert.equal(store.blobWrites, 2);
  assert.deepEqual((await store.peerBlob(peer))!.blob, Uint8Array.of(50));
  assert.equal((await store.peerMeta(peer))!.update_count, 2);
  // Nothing pending: the next cooldown ends without a write, and the peer is forgotten.
  await clock.advance(1000);
  assert.equal(store.blobWrites, 2);
  assert.equal(clock.pending, 0);
  assert.equal((await provider.receive(peer, Uint8Array.of(99))).status, 'stored');
});

test('flush() writes every pending blob in one batch, and the stored blob is the last one sent', async () => {
  const { store, provider, clock } = await setup({ policy: 'any', cooldownMs: 60_000 });
  for (let p = 0; p < 5; p++) for (let i = 0; i < 20; i++) await provider.receive(pk(p), Uint8Array.of(p, i));
  assert.equal(store.blobWrites, 5);
  assert.equal(provider.pendingCount, 5);
  const writesBefore = store.writes;
  assert.equal(await provider.flush(), 5);
  assert.equal(store.writes, writesBefore + 1);
  for (let p = 0; p < 5; p++) assert.deepEqual((await store.peerBlob(pk(p)))!.blob, Uint8Array.of(p, 19));
  assert.equal(clock.pending, 0);
  assert.equal(provider.pendingCount, 0);
});

test('property: any burst (sizes, gaps) writes at most once per peer per cooldown, and after flush the last blob is stored', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 700 })), { minLength: 1, maxLength: 40 }), async (events) => {
      const cooldown = 1000;
      const { store, provider, clock } = await setup({ policy: 'any', cooldownMs: cooldown });
      const start = clock.now();
      const last = new Map<number, number>();
      for (const [i, [peer, gap]] of events.entries()) {
        await clock.advance(gap);
        await provider.receive(pk(peer), Uint8Array.of(peer, i));
        last.set(peer, i);
      }
      const elapsed = clock.now() - start;
      await provider.flush();
      // One write at once, one per cooldown window after it, and the flush.
      assert.ok(store.blobWrites <= last.size * (Math.floor(elapsed / cooldown) + 2), `${store.blobWrites} writes over ${elapsed} ms`);
      for (const [peer, i] of last) assert.deepEqual((await store.peerBlob(pk(peer)))!.blob, Uint8Array.of(peer, i));
    }),
    { numRuns: 60 },
  );
});

test('a failed deferred write keeps the newest blob and retries', async () => {
  const { kv, store, provider, clock } = await setup({ policy: 'any', cooldownMs: 100 });
  const errors: string[] = [];
  const p2 = new Provider(store, providerSettings({ policy: 'any', cooldownMs: 100 }), { clock, onError: (_e, peer) => errors.push(peer) });
  void provider;
  await p2.receive(pk(1), Uint8Array.of(1));
  await p2.receive(pk(1), Uint8Array.of(2));
  kv.failNextBatch = true;
  await clock.advance(100);
  assert.deepEqual(errors, [toHex(pk(1))]);
  assert.deepEqual(await p2.retrieval(pk(1)), Uint8Array.of(2));
  await clock.advance(100);
  assert.deepEqual((await store.peerBlob(pk(1)))!.blob, Uint8Array.of(2));
});

test('retention at the boundary: 2015 blocks after the close kept, 2016 prunable; open channel never', () => {
  const s = providerSettings();
  const meta = { first_stored_at: 0, updated_at: 0, update_count: 1, blob_len: 1, blob_sha256: new Uint8Array(32) };
  const closed = { open: 0, closed: 1, last_close_height: 800_000, last_closed_at: 0 };
  assert.equal(isPrunable({ meta, channels: closed }, 802_015, 0, s), false);
  assert.equal(isPrunable({ meta, channels: closed }, 802_016, 0, s), true);
  assert.equal(isPrunable({ meta, channels: { ...closed, open: 1 } }, 900_000, 10 * 365 * DAY_MS, s), false);
  // No close height known: by time, 14 days.
  const noHeight = { open: 0, closed: 1, last_close_height: undefined, last_closed_at: 1000 };
  assert.equal(isPrunable({ meta, channels: noHeight }, 900_000, 1000 + 14 * DAY_MS - 1, s), false);
  assert.equal(isPrunable({ meta, channels: noHeight }, 900_000, 1000 + 14 * DAY_MS, s), true);
  // Never had a channel: measured from its last update.
  assert.equal(isPrunable({ meta: { ...meta, updated_at: 5 }, channels: undefined }, 1, 5 + 14 * DAY_MS - 1, s), false);
  assert.equal(isPrunable({ meta: { ...meta, updated_at: 5 }, channels: undefined }, 1, 5 + 14 * DAY_MS, s), true);
  // Configurable.
  assert.equal(isPrunable({ meta, channels: closed }, 800_010, 0, providerSettings({ retentionBlocks: 10 })), true);
  // A peer on the allowlist is kept as a channel peer is, however old its blob or its last close.
  const allowed = providerSettings({ policy: 'allowlist', allowlist: new Set([toHex(pk(9))]) });
  assert.equal(isPrunable({ meta, channels: undefined, peer: pk(9) }, 900_000, 10 * 365 * DAY_MS, allowed), false);
  assert.equal(isPrunable({ meta, channels: closed, peer: pk(9) }, 900_000, 10 * 365 * DAY_MS, allowed), false);
  assert.equal(isPrunable({ meta, channels: undefined, peer: pk(8) }, 900_000, 10 * 365 * DAY_MS, allowed), true);
});

test('prunable(height, now) lists only peers retention lets go, never one with a pending blob', async () => {
  const { store, provider, clock } = await setup({ policy: 'any', cooldownMs: 1000 });
  for (const i of [1, 2, 3]) {
    await store.addChannel(pk(i), { txid: txid(i), vout: 0 }, clock.now());
    await provider.receive(pk(i), Uint8Array.of(i));
  }
  await store.closeChannel({ txid: txid(1), vout: 0 }, clock.now(), 100);
  await store.closeChannel({ txid: txid(2), vout: 0 }, clock.now(), 100);
  await provider.receive(pk(2), Uint8Array.of(22)); // pending: this peer is active
  const list = async () => {
    const out: string[] = [];
    for await (const r of provider.prunable(2116)) out.push(toHex(r.peer));
    return out;
  };
  assert.deepEqual(await list(), [toHex(pk(1))]);
  await provider.flush();
  assert.deepEqual((await list()).sort(), [toHex(pk(1)), toHex(pk(2))].sort());
});

test('a write still in flight: retrieval serves its blob, and flush() waits for it before writing newer ones', async () => {
  const kv = new MemoryKv();
  const store = await LnpsStore.open(kv);
  const clock = new ManualClock();
  const provider = new Provider(store, providerSettings({ policy: 'any', cooldownMs: 100 }), { clock });
  await provider.receive(pk(1), Uint8Array.of(1));
  await provider.receive(pk(1), Uint8Array.of(2));
  // Hold the next database write until released, as a slow disk would.
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const batch = kv.batch.bind(kv);
  kv.batch = async (ops) => {
    await gate;
    return batch(ops);
  };
  await clock.advance(100); // the cooldown ends: blob 2 is being written
  assert.deepEqual((await store.peerBlob(pk(1)))!.blob, Uint8Array.of(1));
  assert.deepEqual(await provider.retrieval(pk(1)), Uint8Array.of(2));
  await provider.receive(pk(1), Uint8Array.of(3));
  const flushed = provider.flush();
  setTimeout(release, 5);
  await flushed;
  assert.deepEqual((await store.peerBlob(pk(1)))!.blob, Uint8Array.of(3));
  assert.deepEqual(await provider.retrieval(pk(1)), Uint8Array.of(3));
});

test('quota full: a channel or allowlisted peer is still stored, by evicting the least recently updated blobs of peers with no channel', async () => {
  const { store, provider, clock } = await setup({ policy: 'any', maxPeers: 3, maxBytes: 1000, cooldownMs: 0, allowlist: new Set([toHex(pk(9))]) });
  // Three throwaway identities fill the quota; pk(2) keeps updating, pk(3) has a channel.
  for (const i of [1, 2, 3]) {
    assert.equal((await provider.receive(pk(i), new Uint8Array(100))).status, 'stored');
    await clock.advance(10);
  }
  await store.addChannel(pk(3), { txid: txid(3), vout: 0 }, clock.now());
  await clock.advance(10);
  assert.equal((await provider.receive(pk(1), new Uint8Array(100))).status, 'stored', 'pk(1) updated last among the unprotected');
  await clock.advance(10);
  // A stranger is refused as before.
  assert.equal((await provider.receive(pk(4), new Uint8Array(10))).status, 'refused');
  // The channel peer pk(5) gets in: pk(2), least recently updated with no channel, goes.
  await store.addChannel(pk(5), { txid: txid(5), vout: 0 }, clock.now());
  const got = await provider.receive(pk(5), new Uint8Array(100));
  assert.equal(got.status, 'stored');
  assert.equal(got.status === 'stored' && got.detail, `evicted 1 least recently updated blob of peers with no channel to make room: ${toHex(pk(2))}`);
  assert.equal(await store.peerMeta(pk(2)), undefined);
  assert.ok(await store.peerMeta(pk(3)), 'a channel peer is never evicted');
  // An allowlisted peer too, and by bytes: 800 bytes need both remaining unprotected... only pk(1) is left.
  await clock.advance(10);
  const al = await provider.receive(pk(9), new Uint8Array(700));
  assert.equal(al.status, 'stored');
  assert.equal(await store.peerMeta(pk(1)), undefined);
  assert.deepEqual(await store.totals(), { peers: 3, bytes: 900, channels: 2, open_channels: 2 });
  // Only protected peers left: a new channel peer that does not fit is refused, nothing deleted.
  await store.addChannel(pk(6), { txid: txid(6), vout: 0 }, clock.now());
  const no = await provider.receive(pk(6), new Uint8Array(10));
  assert.equal(no.status === 'refused' && no.reason, 'quota_peers');
  assert.equal((await store.totals()).peers, 3);
});

test('update_count saturates at 2^32: an imported maximum still takes updates and stays there', async () => {
  const { store } = await setup();
  await store.importPeerBlobs([{ peer: pk(1), blob: Uint8Array.of(1), first_stored_at: 0, updated_at: 1000, update_count: 2 ** 32 }]);
  const m = await store.putPeerBlob(pk(1), Uint8Array.of(2), 2000);
  assert.equal(m.update_count, 2 ** 32);
  assert.deepEqual((await store.peerBlob(pk(1)))!.blob, Uint8Array.of(2));
});
