// `lnps serve` against what an operator or a bug can do to it: a fatal error still writes the
// pending blobs, out-of-range durations and unbindable socket paths are refused up front.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
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
