import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError, UsageError } from '../src/core/errors.js';
import { toHex } from '../src/core/bytes.js';
import { publicKeyOf } from '../src/core/keys.js';
import { nodePaths } from '../src/core/datadir.js';
import { LnpsStore, MemoryKv } from '../src/core/store/index.js';
import { providerSettings } from '../src/core/provider/index.js';
import { OPS, parseExportLine, type OpContext } from '../src/core/service/index.js';

function pkHex(i: number): string {
  const s = new Uint8Array(32);
  new DataView(s.buffer).setUint32(28, i + 1);
  return toHex(publicKeyOf(s));
}
const NOW = 1_800_000_000_000;

async function ctxOf(): Promise<{ ctx: OpContext; kv: MemoryKv }> {
  const kv = new MemoryKv();
  const store = await LnpsStore.open(kv);
  const ctx: OpContext = { store, paths: nodePaths({ datadir: '/nonexistent', network: 'regtest' }), settings: providerSettings(), now: () => NOW, nodePubkey: () => pkHex(0) };
  return { ctx, kv };
}

async function rows(ctx: OpContext, op: string, params: unknown): Promise<{ rows: Record<string, unknown>[]; result: Record<string, unknown> }> {
  const out: Record<string, unknown>[] = [];
  const result = await OPS[op]!.run(ctx, params, { row: (r) => void out.push(r) });
  return { rows: out, result };
}

test('parseExportLine: every kind of bad line is a one-line InputError', () => {
  const ok = { peer: pkHex(1), blob: 'abcd' };
  const cases: [unknown, RegExp][] = [
    ['{', /^not valid JSON$/],
    [[1], /^expected a JSON object$/],
    [{ blob: '00' }, /^"peer" missing or not a string$/],
    [{ ...ok, peer: '02' + '00'.repeat(32) }, /is not a point on secp256k1/],
    [{ ...ok, peer: pkHex(1).slice(2) }, /must be 66 hex digits of a compressed key/],
    [{ ...ok, blob: 7 }, /^"blob" missing or not a string$/],
    [{ ...ok, blob: 'abc' }, /^blob: odd number of hex digits \(3\)$/],
    [{ ...ok, blob: 'zz' }, /^blob: not hex/],
    [{ ...ok, blob: '00'.repeat(65532) }, /^"blob" is 65532 bytes, over the 65531-byte limit$/],
    [{ ...ok, blob_sha256: '11'.repeat(32) }, /does not match the blob/],
    [{ ...ok, updated_at: -1 }, /^"updated_at" must be Unix seconds/],
    [{ ...ok, update_count: 1.5 }, /^"update_count" must be an integer from 0 to 4294967296/],
    [{ ...ok, update_count: 2 ** 32 + 1 }, /^"update_count" must be an integer from 0 to 4294967296, got 4294967297$/],
    [{ ...ok, updated_at: Math.floor(NOW / 1000) + 86_401 }, /^"updated_at" is .*, more than a day in the future$/],
    [{ ...ok, first_stored_at: Math.floor(NOW / 1000) + 86_401 }, /^"first_stored_at" is .*, more than a day in the future$/],
  ];
  for (const [v, msg] of cases) {
    const line = typeof v === 'string' ? v : JSON.stringify(v);
    assert.throws(() => parseExportLine(line, NOW), (e: unknown) => e instanceof InputError && msg.test(e.message), line.slice(0, 50));
  }
  const max = parseExportLine(JSON.stringify({ ...ok, blob: 'ab'.repeat(65531) }), NOW);
  assert.equal(max.blob.length, 65531);
  assert.deepEqual({ ...parseExportLine(JSON.stringify(ok), NOW), peer: 0, blob: 0 }, { peer: 0, blob: 0, first_stored_at: NOW, updated_at: NOW, update_count: 1 });
});

test('importpeerstorage op: nothing imported when any line is bad, or when the write fails', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lnps-ops-'));
  try {
    const { ctx, kv } = await ctxOf();
    const file = join(dir, 'in.jsonl');
    const good = [1, 2, 3].map((i) => JSON.stringify({ peer: pkHex(i), blob: '0' + i }));
    writeFileSync(file, [...good, '{"peer": 5}'].join('\n'));
    await assert.rejects(OPS.importpeerstorage!.run(ctx, { path: file }), (e: unknown) => e instanceof InputError && e.message === `${file} line 4: "peer" missing or not a string; nothing was imported`);
    assert.equal((await ctx.store.totals()).peers, 0);
    writeFileSync(file, good.join('\n'));
    kv.failNextBatch = true;
    await assert.rejects(OPS.importpeerstorage!.run(ctx, { path: file }), /injected write failure/);
    assert.equal((await ctx.store.totals()).peers, 0);
    assert.deepEqual(await OPS.importpeerstorage!.run(ctx, { path: file }), { imported: 3, added: 3, replaced: 0, skipped_older: [] });
    assert.deepEqual(await OPS.importpeerstorage!.run(ctx, { path: file }), { imported: 3, added: 0, replaced: 3, skipped_older: [] });
    assert.equal((await ctx.store.totals()).bytes, 3);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

async function seed(ctx: OpContext, n: number): Promise<void> {
  // Peers 0..n-1; even ones have a channel closed at 1000, odd ones an open channel.
  for (let i = 0; i < n; i++) {
    const txid = i.toString(16).padStart(64, '0');
    await OPS.addchannel!.run(ctx, { peer: pkHex(i), chan_point: `${txid}:0` });
    if (i % 2 === 0) await OPS.closechannel!.run(ctx, { chan_point: `${txid}:0`, height: 1000 });
    await ctx.store.putPeerBlob(Buffer.from(pkHex(i), 'hex'), new Uint8Array(10 + i), NOW - 1000);
  }
}

test('prunepeerbackup op: dry run streams the candidates; the real run is one batch, all or nothing', async () => {
  const { ctx, kv } = await ctxOf();
  await seed(ctx, 10);
  const progress: number[] = [];
  const dry = await OPS.prunepeerbackup!.run(ctx, { height: 3016, dry_run: true }, { row: () => undefined, progress: (d, t) => progress.push(d * 100 + t) });
  assert.deepEqual(dry, { kept: 5, pruned_count: 5, dry_run: true, height: 3016 });
  assert.equal(progress.at(-1), 10 * 100 + 10);
  assert.deepEqual((await rows(ctx, 'prunepeerbackup', { height: 3015, dry_run: true })).result.pruned_count, 0);
  const before = kv.writes;
  kv.failNextBatch = true;
  await assert.rejects(OPS.prunepeerbackup!.run(ctx, { height: 3016 }), /injected write failure/);
  assert.equal((await ctx.store.totals()).peers, 10);
  const real = await rows(ctx, 'prunepeerbackup', { height: 3016 });
  assert.equal(kv.writes, before + 1, 'one batch');
  assert.deepEqual(real.result, { kept: 5, pruned_count: 5, dry_run: false, height: 3016 });
  assert.deepEqual(real.rows.map((r) => r.peer).sort(), [0, 2, 4, 6, 8].map(pkHex).sort());
  assert.deepEqual(real.rows.find((r) => r.peer === pkHex(4)), { peer: pkHex(4), blob_len: 14, blob_sha256: real.rows.find((r) => r.peer === pkHex(4))!.blob_sha256, updated_at: (NOW - 1000) / 1000, open_channels: 0, last_close_height: 1000, last_closed_at: NOW / 1000 });
  assert.deepEqual(await ctx.store.totals(), { peers: 5, bytes: 11 + 13 + 15 + 17 + 19, channels: 10, open_channels: 5 });
  await assert.rejects(OPS.prunepeerbackup!.run(ctx, { force: true, height: 1 }), UsageError);
  await assert.rejects(OPS.prunepeerbackup!.run(ctx, { height: -1 }), UsageError);
});

test('listpeerstorage op streams one row per peer, prunable from the best known height', async () => {
  const { ctx } = await ctxOf();
  await seed(ctx, 6);
  await OPS.setheight!.run(ctx, { height: 3016 });
  const { rows: r, result } = await rows(ctx, 'listpeerstorage', {});
  assert.deepEqual(result, { count: 6, height: 3016 });
  assert.deepEqual(r.map((x) => [x.peer, x.prunable, x.open_channels]).sort(), [0, 1, 2, 3, 4, 5].map((i) => [pkHex(i), i % 2 === 0, i % 2]).sort());
  assert.equal((await rows(ctx, 'listpeerstorage', { height: 3015 })).rows.filter((x) => x.prunable).length, 0);
  const info = await OPS.getinfo!.run(ctx, {});
  assert.deepEqual([info.peers_stored, info.bytes_held, info.channels_known, info.open_channels, info.best_height], [6, 10 + 11 + 12 + 13 + 14 + 15, 6, 3, 3016]);
});
