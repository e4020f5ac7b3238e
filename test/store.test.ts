import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { DecodeError, StoreError } from '../src/core/errors.js';
import { toHex } from '../src/core/bytes.js';
import { publicKeyOf } from '../src/core/keys.js';
import {
  KEY_SCHEMA,
  LnpsStore,
  MemoryKv,
  PREFIX,
  channelRecord,
  openLevelKv,
  peerKey,
  peerMetaRecord,
  placementRecord,
  retrievedRecord,
  schemaRecord,
  sentRecord,
  type KvStore,
} from '../src/core/store/index.js';

/** A valid compressed public key for a small secret. */
export function pk(i: number): Uint8Array {
  const s = new Uint8Array(32);
  new DataView(s.buffer).setUint32(28, i + 1);
  return publicKeyOf(s);
}

const txid = (b: number) => new Uint8Array(32).fill(b);

async function memStore(): Promise<{ kv: MemoryKv; store: LnpsStore }> {
  const kv = new MemoryKv();
  return { kv, store: await LnpsStore.open(kv) };
}

test('peer_meta record: value → exact bytes → value', () => {
  const meta = { first_stored_at: 1, updated_at: 0x0102, update_count: 3, blob_len: 0x0400, blob_sha256: new Uint8Array(32).fill(0xaa) };
  const bytes = peerMetaRecord.encode(meta);
  assert.equal(toHex(bytes), '01' + '0000000000000001' + '0000000000000102' + '0000000000000003' + '0400' + 'aa'.repeat(32));
  assert.deepEqual(peerMetaRecord.decode(bytes), meta);
});

test('channel record with optional fields absent and present', () => {
  const open = { peer: pk(1), state: 'open' as const, added_at: 5, closed_at: undefined, close_height: undefined };
  const b = channelRecord.encode(open);
  assert.equal(toHex(b), '01' + toHex(pk(1)) + '00' + '0000000000000005' + '00' + '00');
  assert.deepEqual(channelRecord.decode(b), open);
  const closed = { ...open, state: 'closed' as const, closed_at: 9, close_height: 800_000 };
  const c = channelRecord.encode(closed);
  assert.equal(toHex(c).slice(-28), '01' + '0000000000000009' + '01' + '000c3500');
  assert.deepEqual(channelRecord.decode(c), closed);
});

test('record decoders are total: truncation, trailing bytes, unknown version, bad enum and flag', () => {
  const good = sentRecord.encode({ seq: 2n ** 64n - 1n, sha256: new Uint8Array(32), len: 83, sent_at: 7 });
  assert.equal(sentRecord.decode(good).seq, 2n ** 64n - 1n);
  const cases: [Uint8Array, string, string][] = [
    [good.subarray(0, 5), 'truncated', 'sent.seq'],
    [Uint8Array.of(...good, 0), 'trailing', 'sent'],
    [Uint8Array.of(2, ...good.subarray(1)), 'bad_value', 'sent.version'],
    [new Uint8Array(0), 'truncated', 'sent.version'],
    [Uint8Array.of(1, 0, 9, ...new Uint8Array(8)), 'bad_value', 'retrieved.status'],
    [Uint8Array.of(1, 2), 'bad_value', 'retrieved.seq'],
  ];
  for (const [bytes, code, path] of cases) {
    const codec = path.startsWith('retrieved') ? retrievedRecord : sentRecord;
    assert.throws(() => codec.decode(bytes), (e: unknown) => e instanceof DecodeError && e.code === code && e.path === path, `${path} ${code}`);
  }
});

test('property: any bytes either decode to a record that re-encodes exactly, or throw DecodeError', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
      for (const codec of [peerMetaRecord, channelRecord, placementRecord, retrievedRecord] as const) {
        try {
          const v = (codec as typeof peerMetaRecord).decode(bytes);
          assert.deepEqual((codec as typeof peerMetaRecord).encode(v), bytes);
        } catch (e) {
          assert.ok(e instanceof DecodeError, String(e));
        }
      }
    }),
    { numRuns: 500 },
  );
});

test('store: a new database gets the schema version; blobs update metadata and running totals', async () => {
  const { kv, store } = await memStore();
  assert.equal(store.schemaVersion, 1);
  assert.deepEqual(schemaRecord.decode((await kv.get(KEY_SCHEMA))!), { version: 1 });
  await store.putPeerBlob(pk(1), Uint8Array.of(1, 2, 3), 1000);
  await store.putPeerBlob(pk(2), new Uint8Array(10), 2000);
  const m = await store.putPeerBlob(pk(1), Uint8Array.of(9), 3000);
  assert.deepEqual({ ...m, blob_sha256: toHex(m.blob_sha256) }, {
    first_stored_at: 1000,
    updated_at: 3000,
    update_count: 2,
    blob_len: 1,
    blob_sha256: '2b4c342f5433ebe591a1da77e013d1b72475562d48578dca8b84bac6651c3cb9',
  });
  assert.deepEqual(await store.totals(), { peers: 2, bytes: 11, channels: 0, open_channels: 0 });
  assert.deepEqual((await store.peerBlob(pk(1)))!.blob, Uint8Array.of(9));
  assert.equal(store.blobWrites, 3);
  assert.equal(store.writes, 4); // schema + three blob batches
  const removed = await store.deletePeerBlobs([pk(1), pk(3)]);
  assert.deepEqual(removed.map((r) => toHex(r.peer)), [toHex(pk(1))]);
  assert.deepEqual(await store.totals(), { peers: 1, bytes: 10, channels: 0, open_channels: 0 });
  assert.equal(await store.peerBlob(pk(1)), undefined);
});

test('store: a failed batch changes nothing (blob, metadata and totals move together)', async () => {
  const { kv, store } = await memStore();
  await store.putPeerBlob(pk(1), Uint8Array.of(1), 1);
  const before = kv.size;
  kv.failNextBatch = true;
  await assert.rejects(store.importPeerBlobs([1, 2, 3].map((i) => ({ peer: pk(i), blob: new Uint8Array(i), first_stored_at: 1, updated_at: 2, update_count: 1 }))));
  assert.equal(kv.size, before);
  assert.deepEqual(await store.totals(), { peers: 1, bytes: 1, channels: 0, open_channels: 0 });
  assert.deepEqual((await store.peerBlob(pk(1)))!.blob, Uint8Array.of(1));
});

test('store: channel registry keeps the per-peer summary, totals and best height in step', async () => {
  const { store } = await memStore();
  const a = { txid: txid(1), vout: 0 };
  const b = { txid: txid(1), vout: 1 };
  assert.equal((await store.addChannel(pk(1), a, 10)).change, 'added');
  assert.equal((await store.addChannel(pk(1), a, 11)).change, 'unchanged');
  await store.addChannel(pk(1), b, 12);
  assert.deepEqual(await store.peerChannels(pk(1)), { open: 2, closed: 0, last_close_height: undefined, last_closed_at: undefined });
  const c = await store.closeChannel(a, 20, 800_000);
  assert.equal(c!.change, 'closed');
  assert.deepEqual(await store.peerChannels(pk(1)), { open: 1, closed: 1, last_close_height: 800_000, last_closed_at: 20 });
  assert.deepEqual(await store.totals(), { peers: 0, bytes: 0, channels: 2, open_channels: 1 });
  assert.equal((await store.height())!.height, 800_000);
  assert.equal(await store.closeChannel({ txid: txid(9), vout: 0 }, 1), undefined);
  // A close height learnt later; a closed channel reported open stays closed.
  assert.equal((await store.closeChannel(a, 30, 800_005))!.change, 'updated');
  assert.equal((await store.upsertChannels([{ peer: pk(1), chanPoint: a, state: 'open' }], 40))[0]!.change, 'unchanged');
  assert.equal((await store.peerChannels(pk(1)))!.last_close_height, 800_005);
  await assert.rejects(store.addChannel(pk(2), a, 50), /already registered with peer/);
  const listed = [];
  for await (const ch of store.channels()) listed.push(`${toHex(ch.chanPoint.txid).slice(0, 4)}:${ch.chanPoint.vout}:${ch.rec.state}`);
  assert.deepEqual(listed, ['0101:0:closed', '0101:1:open']);
});

test('store: peers() merges blobs with channel summaries in key order, peers without blobs skipped', async () => {
  const { store } = await memStore();
  const peers = [3, 1, 4, 5, 9, 2, 6].map(pk);
  for (const [i, p] of peers.entries()) await store.putPeerBlob(p, new Uint8Array(i + 1), i);
  await store.addChannel(pk(4), { txid: txid(4), vout: 0 }, 1);
  await store.addChannel(pk(7), { txid: txid(7), vout: 0 }, 1); // a channel peer without a blob
  await store.addChannel(pk(9), { txid: txid(9), vout: 0 }, 1);
  const rows = [];
  for await (const r of store.peers()) rows.push([toHex(r.peer), r.channels?.open ?? 0]);
  const sorted = peers.map(toHex).sort();
  assert.deepEqual(rows.map((r) => r[0]), sorted);
  assert.deepEqual(rows.filter((r) => r[1] === 1).map((r) => r[0]).sort(), [toHex(pk(4)), toHex(pk(9))].sort());
  const exported = [];
  for await (const r of store.peerBlobs()) exported.push(r.blob.length);
  assert.equal(exported.length, 7);
});

test('store: consumer records and backup placements', async () => {
  const { store } = await memStore();
  await store.putSent(pk(1), { seq: 5n, sha256: new Uint8Array(32).fill(1), len: 65531, sent_at: 100 });
  await store.putRetrieved(pk(1), { seq: 5n, status: 'confirmed', last_seen: 200 }, { seq: 5n, blob: Uint8Array.of(7, 7), received_at: 200 });
  await store.putRetrieved(pk(2), { seq: undefined, status: 'foreign', last_seen: 300 });
  assert.equal((await store.sent(pk(1)))!.seq, 5n);
  assert.equal((await store.retrieved(pk(2)))!.status, 'foreign');
  assert.deepEqual((await store.retrievedBlob(pk(1)))!.blob, Uint8Array.of(7, 7));
  assert.equal(await store.retrievedBlob(pk(2)), undefined);
  const sent = [];
  for await (const s of store.sentEntries()) sent.push([toHex(s.peer), s.retrieved?.status]);
  assert.deepEqual(sent, [[toHex(pk(1)), 'confirmed']]);
  const id = new Uint8Array(16).fill(0xbb);
  await store.putPlacements(id, [0, 1, 2].map((index) => ({ index, rec: { seq: 9n, peer: pk(index), k: 2, n: 3, placed_at: 1 } })));
  const pl = [];
  for await (const p of store.placements(id)) pl.push([p.index, toHex(p.rec.peer)]);
  assert.deepEqual(pl, [0, 1, 2].map((i) => [i, toHex(pk(i))]));
  assert.equal(await store.deletePlacements(id), 3);
  // Provider-side totals are untouched by consumer records.
  assert.deepEqual(await store.totals(), { peers: 0, bytes: 0, channels: 0, open_channels: 0 });
});

test('schema: an older database is migrated through the hook; a newer one is refused', async () => {
  const kv = new MemoryKv();
  await kv.batch([{ type: 'put', key: KEY_SCHEMA, value: schemaRecord.encode({ version: 1 }) }]);
  let ran = 0;
  const store = await LnpsStore.open(kv, { 1: async (k: KvStore) => (ran++, [{ type: 'put', key: Uint8Array.of(0x7a), value: await k.get(KEY_SCHEMA) ?? new Uint8Array() }]) }, 2);
  assert.equal(ran, 1);
  assert.equal(store.schemaVersion, 2);
  assert.deepEqual(schemaRecord.decode((await kv.get(KEY_SCHEMA))!), { version: 2 });
  await assert.rejects(LnpsStore.open(kv), (e: unknown) => e instanceof StoreError && e.code === 'corrupt' && /schema version 2, newer than this lnps reads \(1\)/.test(e.message));
  const foreign = new MemoryKv();
  await foreign.batch([{ type: 'put', key: Uint8Array.of(1), value: Uint8Array.of(1) }]);
  await assert.rejects(LnpsStore.open(foreign), /no schema version record/);
});

test('a damaged record is a StoreError naming the key, not a crash', async () => {
  const { kv, store } = await memStore();
  await kv.batch([{ type: 'put', key: peerKey(PREFIX.peerMeta, pk(1)), value: Uint8Array.of(1, 2, 3) }]);
  await assert.rejects(store.peerMeta(pk(1)), (e: unknown) => e instanceof StoreError && e.code === 'corrupt' && e.message.includes(toHex(peerKey(PREFIX.peerMeta, pk(1)))));
});

test('LevelDB store: missing database, reopen keeps data, one shared handle per path in a process', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lnps-store-'));
  try {
    const path = join(dir, 'db');
    await assert.rejects(openLevelKv(path), (e: unknown) => e instanceof StoreError && e.code === 'no_database' && e.message === `no database at ${path}: run \`lnps create\``);
    // The data directory and network it belongs to travel with the error, for the CLI's hint.
    await assert.rejects(openLevelKv(path, { node: { datadir: dir, network: 'signet' } }), (e: unknown) => {
      assert.ok(e instanceof StoreError);
      assert.equal(e.message, `no database at ${path}: run \`lnps create\``);
      assert.deepEqual(e.notFoundIn, { what: 'database', datadir: dir, network: 'signet' });
      return true;
    });
    const kv = await openLevelKv(path, { create: true });
    const store = await LnpsStore.open(kv);
    await store.putPeerBlob(pk(1), Uint8Array.of(4, 5), 1);
    const kv2 = await openLevelKv(path); // same process: shares the open handle
    const s2 = await LnpsStore.open(kv2);
    assert.deepEqual((await s2.peerBlob(pk(1)))!.blob, Uint8Array.of(4, 5));
    await s2.close();
    await store.close();
    const again = await LnpsStore.open(await openLevelKv(path));
    assert.deepEqual(await again.totals(), { peers: 1, bytes: 2, channels: 0, open_channels: 0 });
    const rows = [];
    for await (const r of again.peers()) rows.push(toHex(r.peer));
    assert.deepEqual(rows, [toHex(pk(1))]);
    await again.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('property: after any sequence of changes the running totals equal a full recount', async () => {
  const op = fc.oneof(
    fc.record({ k: fc.constant('put' as const), p: fc.integer({ min: 0, max: 5 }), len: fc.integer({ min: 0, max: 40 }) }),
    fc.record({ k: fc.constant('del' as const), p: fc.integer({ min: 0, max: 5 }) }),
    fc.record({ k: fc.constant('open' as const), p: fc.integer({ min: 0, max: 5 }), c: fc.integer({ min: 0, max: 7 }) }),
    fc.record({ k: fc.constant('close' as const), c: fc.integer({ min: 0, max: 7 }), h: fc.option(fc.integer({ min: 1, max: 1000 }), { nil: undefined }) }),
  );
  await fc.assert(
    fc.asyncProperty(fc.array(op, { maxLength: 30 }), async (ops) => {
      const { store } = await memStore();
      for (const o of ops) {
        if (o.k === 'put') await store.putPeerBlob(pk(o.p), new Uint8Array(o.len), 1);
        else if (o.k === 'del') await store.deletePeerBlobs([pk(o.p)]);
        else if (o.k === 'open') await store.addChannel(pk(o.p), { txid: txid(o.c), vout: 0 }, 1).catch(() => undefined); // another peer's channel point: refused
        else await store.closeChannel({ txid: txid(o.c), vout: 0 }, 2, o.h);
      }
      const count = { peers: 0, bytes: 0, channels: 0, open_channels: 0 };
      for await (const r of store.peers()) {
        count.peers++;
        count.bytes += r.meta.blob_len;
      }
      const perPeer = new Map<string, number>();
      for await (const c of store.channels()) {
        count.channels++;
        if (c.rec.state === 'open') count.open_channels++;
        if (c.rec.state === 'open') perPeer.set(toHex(c.rec.peer), (perPeer.get(toHex(c.rec.peer)) ?? 0) + 1);
      }
      assert.deepEqual(await store.totals(), count);
      for (let p = 0; p <= 5; p++) assert.equal((await store.peerChannels(pk(p)))?.open ?? 0, perPeer.get(toHex(pk(p))) ?? 0);
    }),
    { numRuns: 100 },
  );
});

test('snapshots: reads through one see the database as it was, writes are refused, closing it keeps the database open (memory and LevelDB)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lnps-store-'));
  try {
    const kvs: [string, KvStore][] = [
      ['memory', new MemoryKv()],
      ['level', await openLevelKv(join(dir, 'db'), { create: true })],
    ];
    for (const [name, kv] of kvs) {
      const store = await LnpsStore.open(kv);
      await store.putSent(pk(1), { seq: 5n, sha256: new Uint8Array(32).fill(1), len: 10, sent_at: 100 });
      await store.putRetrieved(pk(1), { seq: 5n, status: 'confirmed', last_seen: 200 });
      const seen = await store.atSnapshot(async (snap) => {
        // The node records a later retrieval while the snapshot is being read.
        await store.putRetrieved(pk(1), { seq: undefined, status: 'none', last_seen: 300 });
        await store.putSent(pk(2), { seq: 6n, sha256: new Uint8Array(32).fill(2), len: 10, sent_at: 300 });
        const rows = [];
        for await (const s of snap.sentEntries()) rows.push([toHex(s.peer), s.retrieved?.status]);
        await assert.rejects(snap.kv.batch([{ type: 'del', key: KEY_SCHEMA }]), /read-only/, name);
        assert.throws(() => snap.kv.snapshot(), /snapshot of a snapshot/, name);
        return { rows, one: (await snap.retrieved(pk(1)))?.status };
      });
      assert.deepEqual(seen, { rows: [[toHex(pk(1)), 'confirmed']], one: 'confirmed' }, name);
      // The database itself has the later records and stays open after the snapshot is released.
      assert.equal((await store.retrieved(pk(1)))?.status, 'none', name);
      assert.equal((await store.sent(pk(2)))?.seq, 6n, name);
      await store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
