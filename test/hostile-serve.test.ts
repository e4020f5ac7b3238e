// `lnps serve` against what an operator or a bug can do to it: a fatal error still writes the
// pending blobs, out-of-range durations and unbindable socket paths are refused up front.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { closeSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { publicKeyOf } from '../src/core/keys.js';
import { join } from 'node:path';
import { Serve, RawPeer, cleanup, cli, cliJson, createNode, d, tempDir } from './node-harness.js';

after(cleanup);

const FAULT = fileURLToPath(new URL('./fault-preload.js', import.meta.url));

test('a fatal error in serve writes the pending (debounced) blob before the process exits, and exits 70', async () => {
  const A = await createNode();
  const a = await Serve.start(A.dir, ['--storage-policy', 'any', '--cooldown', '60s'], { nodeArgs: ['--import', FAULT] });
  const p = await RawPeer.connect(a.port, A.pubkey);
  await p.send({ type: 7, name: 'peer_storage', blob: Uint8Array.of(1) });
  await p.sync();
  await p.send({ type: 7, name: 'peer_storage', blob: Uint8Array.of(2, 2) }); // held behind the 60 s cooldown
  await p.sync();
  a.proc.kill('SIGUSR2');
  assert.equal(await a.exited, 70);
  assert.ok(a.lines.some((l) => /\[CRT\] SRVR: fatal error: injected fault; writing pending blobs and stopping/.test(l)), a.lines.join('\n'));
  assert.ok(a.lines.some((l) => /Flushed 1 pending blob/.test(l)), a.lines.join('\n'));
  assert.ok(a.lines.some((l) => /^lnps: internal error: injected fault$/.test(l)), a.lines.join('\n'));
  const g = await cliJson(['getpeerstorage', p.pubkey, ...d(A.dir)]);
  assert.equal(g.blob, '0202');
  // The pid file and socket are gone: a new node starts at once.
  const b = await Serve.start(A.dir, ['--storage-policy', 'any']);
  assert.equal(await b.stop(), 0);
});

test('durations are capped: --handshake-timeout 600h is exit 2 (it would become a 1 ms timer), not a node that drops everyone', async () => {
  const A = await createNode();
  const r = await cli(['serve', ...d(A.dir), '--listen', '127.0.0.1:0', '--handshake-timeout', '600h']);
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /^lnps: --handshake-timeout must be at most 2147483647 ms \(about 24 days, the longest a timer waits\), got "600h"\n$/);
  const r2 = await cli(['serve', ...d(A.dir), '--listen', '127.0.0.1:0', '--ping-interval', '99999999999999999999999h']);
  assert.equal(r2.status, 2, r2.stderr);
});

test('a control socket path over 107 bytes is refused before listening, with a clear message (exit 2)', async () => {
  const base = tempDir();
  const long = join(base, 'x'.repeat(Math.max(1, 110 - base.length)));
  await cliJson(['create', ...d(long)]);
  const r = await cli(['serve', ...d(long), '--listen', '127.0.0.1:0']);
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /^lnps: the control socket path .*lnps\.sock is \d+ bytes; unix sockets allow at most 10[37]: use a shorter --datadir\n$/);
  // Commands that ask a running node see none, and work on the database directly.
  const info = await cli(['getinfo', ...d(long)]);
  assert.equal(info.status, 0, info.stderr);
});

const line = (peer: string, blob: string, extra: Record<string, unknown> = {}) => JSON.stringify({ peer, blob, ...extra });
const PEER_A = pubOf(1);
const PEER_B = pubOf(2);
const PEER_C = pubOf(3);
function pubOf(i: number): string {
  const s = new Uint8Array(32);
  s[31] = i;
  return Buffer.from(publicKeyOf(s)).toString('hex');
}

test('importpeerstorage inside a running node: a huge single line, a frozen update_count, a far-future time, the node\'s own key, past the quota: each one line and exit 1, the node keeps running and keeps its pending blob', { timeout: 120_000 }, async () => {
  const A = await createNode();
  const a = await Serve.start(A.dir, ['--storage-policy', 'any', '--cooldown', '60s', '--max-peers', '3']);
  const p = await RawPeer.connect(a.port, A.pubkey);
  await p.send({ type: 7, name: 'peer_storage', blob: Uint8Array.of(1) });
  await p.sync();
  await p.send({ type: 7, name: 'peer_storage', blob: Uint8Array.of(7, 7) }); // pending, behind the cooldown
  await p.sync();
  const dir = tempDir();
  const file = (name: string, text: string | Buffer) => {
    const f = join(dir, name);
    writeFileSync(f, text);
    return f;
  };
  // 64 MiB on one line (no newline anywhere): refused once it passes the line limit.
  const huge = join(dir, 'huge.jsonl');
  const fd = openSync(huge, 'w');
  const chunk = Buffer.alloc(1024 * 1024, 0x61);
  for (let i = 0; i < 64; i++) writeSync(fd, chunk);
  closeSync(fd);
  const nowS = Math.floor(Date.now() / 1000);
  const cases: [string, string, RegExp][] = [
    ['huge', huge, /^lnps: .*huge\.jsonl line 1: longer than 139264 bytes \(a 65531-byte blob takes about 132 KiB\); nothing was imported\n$/],
    ['update_count', file('count.jsonl', line(PEER_A, '01', { update_count: 2 ** 53 - 1 }) + '\n'), /line 1: "update_count" must be an integer from 0 to 4294967296, got 9007199254740991; nothing was imported\n$/],
    ['future', file('future.jsonl', line(PEER_A, '01', { updated_at: 99_999_999_999 }) + '\n'), /line 1: "updated_at" is 5138-.*, more than a day in the future; nothing was imported\n$/],
    ['own key', file('own.jsonl', line(PEER_A, '01') + '\n' + line(A.pubkey, '02') + '\n'), /line 2: peer 0[23][0-9a-f]{64} is this node's own key: a node does not store a blob for itself; nothing was imported\n$/],
    ['quota', file('quota.jsonl', [PEER_A, PEER_B, PEER_C, pubOf(4)].map((k) => line(k, '01')).join('\n') + '\n'), /line 4: more than 3 peers, the --max-peers quota; nothing was imported\n$/],
  ];
  for (const [name, f, re] of cases) {
    const r = await cli(['importpeerstorage', f, ...d(A.dir)]);
    assert.equal(r.status, 1, `${name}: ${r.stderr}`);
    assert.match(r.stderr, re, name);
    assert.equal(r.stderr.split('\n').length, 2, `${name}: one line`);
  }
  assert.equal(a.proc.exitCode, null, 'the node is still running');
  await p.sync();
  // Nothing was imported; the pending blob is still there and lands on the clean stop.
  assert.equal((await cliJson(['listpeerstorage', ...d(A.dir)])).peers.length, 1);
  // A count of 2^32 is accepted and never passes it.
  const ok = await cliJson(['importpeerstorage', file('max.jsonl', line(PEER_A, '01', { update_count: 2 ** 32, updated_at: nowS - 10 }) + '\n'), ...d(A.dir)]);
  assert.deepEqual(ok, { imported: 1, added: 1, replaced: 0, skipped_older: [] });
  p.close();
  assert.equal(await a.stop(), 0);
  assert.equal((await cliJson(['getpeerstorage', p.pubkey, ...d(A.dir)])).blob, '0707');
  assert.equal((await cliJson(['getpeerstorage', PEER_A, ...d(A.dir)])).update_count, 2 ** 32);
});

test('importpeerstorage keeps a stored blob newer than the imported one (skipped_older) unless --force', async () => {
  const A = await createNode();
  const nowS = Math.floor(Date.now() / 1000);
  const dir = tempDir();
  const f1 = join(dir, 'new.jsonl');
  writeFileSync(f1, line(PEER_A, 'aa', { updated_at: nowS - 100 }) + '\n' + line(PEER_B, 'bb', { updated_at: nowS - 100 }) + '\n');
  assert.deepEqual(await cliJson(['importpeerstorage', f1, ...d(A.dir)]), { imported: 2, added: 2, replaced: 0, skipped_older: [] });
  const f2 = join(dir, 'old.jsonl');
  writeFileSync(f2, line(PEER_A, '0a', { updated_at: nowS - 5000 }) + '\n' + line(PEER_B, '0b', { updated_at: nowS - 50 }) + '\n');
  assert.deepEqual(await cliJson(['importpeerstorage', f2, ...d(A.dir)]), { imported: 1, added: 0, replaced: 1, skipped_older: [PEER_A] });
  assert.equal((await cliJson(['getpeerstorage', PEER_A, ...d(A.dir)])).blob, 'aa');
  assert.equal((await cliJson(['getpeerstorage', PEER_B, ...d(A.dir)])).blob, '0b');
  assert.deepEqual(await cliJson(['importpeerstorage', f2, '--force', ...d(A.dir)]), { imported: 2, added: 0, replaced: 2, skipped_older: [] });
  assert.equal((await cliJson(['getpeerstorage', PEER_A, ...d(A.dir)])).blob, '0a');
});
