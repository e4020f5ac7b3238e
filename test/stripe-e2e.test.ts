// Striped backups end to end: real `lnps serve` processes of the built CLI over 127.0.0.1.
// Six providers keep the shards of a 250,000-byte backup striped 4-of-6; two stop for good; a
// restored node (empty database, same key) rebuilds the backup from the other four.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { cleanup, cli, cliJson, createNode, d, sha, storedSha, until, Serve, sleep, tempDir } from './node-harness.js';

after(cleanup);


test('six nodes: a 250,000-byte backup striped 4-of-6, two providers stopped for good, a restored node rebuilds it from the other four', { timeout: 60_000 }, async () => {
  const C = await createNode(); // our node
  const P = await Promise.all([1, 2, 3, 4, 5, 6].map(() => createNode()));
  const serves: Serve[] = [];
  let c: Serve | undefined;
  try {
    serves.push(...(await Promise.all(P.map((p) => Serve.start(p.dir, ['--storage-policy', 'any'])))));
    // Read-back by reconnecting is left to the test here (it has its own test in status-e2e).
    c = await Serve.start(C.dir, ['--no-listen', '--retrieval-timeout', '200ms', '--confirm-delay', '1h']);
    const addr = (i: number) => `${P[i]!.pubkey}@127.0.0.1:${serves[i]!.port}`;
    // Connect one at a time, so "longest connected first" orders them as P[0]..P[5].
    for (let i = 0; i < 6; i++) await cliJson(['connect', addr(i), ...d(C.dir)]);
    // Past every peer's retrieval wait (they hold nothing for us yet), so all shards go out now.
    await sleep(800);

    const backup = randomBytes(250_000);
    const file = join(C.dir, 'channel.backup');
    writeFileSync(file, backup);
    // One sealed blob holds at most 65448 bytes: without --stripe it is refused, plainly.
    const plain = await cli(['backup', file, ...d(C.dir)]);
    assert.equal(plain.status, 1);
    assert.match(plain.stderr, /250000 bytes; one sealed blob holds at most 65448 bytes/);
    // 4-of-7 needs seven storage peers: refused, nothing sent.
    const tooMany = await cli(['backup', file, '--stripe', '4-of-7', ...d(C.dir)]);
    assert.equal(tooMany.status, 1);
    assert.match(tooMany.stderr, /a 4-of-7 backup needs 7 connected peers that store and have not refused it, but only 6 do: nothing was sent/);

    const bk = await cliJson(['backup', file, '--stripe', '4-of-6', '--seq', '1000', ...d(C.dir)]);
    assert.equal(bk.seq, '1000');
    assert.equal(bk.mode, 'striped');
    assert.equal(bk.k, 4);
    assert.equal(bk.n, 6);
    assert.equal(bk.total_len, 250_000);
    assert.equal(bk.backup_sha256, sha(backup));
    assert.deepEqual(bk.shards.map((s: any) => [s.index, s.peer, s.sent]), P.map((p, i) => [i, p.pubkey, true]));
    for (let i = 0; i < 6; i++) await until(async () => (await storedSha(P[i]!.dir, C.pubkey)) === bk.shards[i].sealed_sha256, `provider ${i} to store shard ${i}`);

    let lb = await cliJson(['listbackups', ...d(C.dir)]);
    assert.equal(lb.newest_seq, '1000');
    assert.equal(lb.versions.length, 1);
    let v = lb.versions[0];
    // Sent, not proved: nothing is recoverable yet, and nothing claims it could lose a peer.
    assert.deepEqual([v.seq, v.mode, v.k, v.n, v.needed, v.confirmed, v.recoverable, v.can_lose], ['1000', 'striped', 4, 6, 4, [], false, null]);
    assert.deepEqual([...v.unconfirmed].sort(), P.map((p) => p.pubkey).sort());
    assert.deepEqual(v.shards.map((s: any) => [s.index, s.peer, s.state, s.connected]), P.map((p, i) => [i, p.pubkey, 'unconfirmed', true]));
    assert.equal(lb.health.status, 'lost');

    // Each provider gives its shard back on the next connection: every placement is confirmed.
    for (let i = 0; i < 6; i++) {
      const gone = c.waitForNew(/disconnected: disconnect requested by the operator/);
      await cliJson(['disconnect', P[i]!.pubkey, ...d(C.dir)]);
      await gone;
      await cliJson(['connect', addr(i), ...d(C.dir)]);
    }
    await until(async () => {
      lb = await cliJson(['listbackups', ...d(C.dir)]);
      return lb.versions[0].confirmed.length === 6;
    }, 'all six shards confirmed by a retrieval');
    v = lb.versions[0];
    assert.deepEqual([v.unconfirmed, v.recoverable, v.can_lose], [[], true, 2]);
    assert.deepEqual(lb.health, { status: 'ok', seq: '1000', can_lose: 2, newest_recoverable: true });
    assert.ok(v.shards.every((s: any) => s.state === 'confirmed' && typeof s.confirmed_at === 'number'));

    // Two providers stop for good, and our node with them (the machine is lost).
    assert.equal(await serves[4]!.stop(), 0);
    assert.equal(await serves[5]!.stop(), 0);
    await until(async () => {
      lb = await cliJson(['listbackups', ...d(C.dir)]);
      return lb.versions[0].shards.filter((s: any) => s.connected === false).length === 2;
    }, 'listbackups to show two holders gone');
    assert.deepEqual(lb.versions[0].shards.map((s: any) => s.connected), [true, true, true, true, false, false]);
    assert.equal(await c.stop(), 0);

    // Without the node, listbackups reads the same versions from the database (connection
    // state unknown: null), and a striped backup is refused: it needs connected peers.
    const offline = await cliJson(['listbackups', ...d(C.dir)]);
    assert.equal(offline.newest_seq, '1000');
    assert.deepEqual(offline.versions[0].shards.map((s: any) => [s.state, s.connected]), Array.from({ length: 6 }, () => ['confirmed', null]));
    assert.equal(offline.versions[0].can_lose, 2);
    const table = await cli(['listbackups', '--format', 'table', ...d(C.dir)]);
    assert.equal(table.status, 0, table.stderr);
    assert.match(table.stdout, /health: ok: seq 1000 is recoverable, can lose 2 confirmed copies\n/);
    assert.match(table.stdout, /seq 1000 \(4-of-6 striped, 250000 bytes, backup [0-9a-f]{16}\): 6 confirmed; recoverable, can lose 2 \(needs 4 confirmed\)/);
    // The grid: one row per peer, its shard's cell says confirmed.
    for (let i = 0; i < 6; i++) assert.match(table.stdout, new RegExp(`${P[i]!.pubkey.slice(0, 6)}…${P[i]!.pubkey.slice(-4)} .*confirmed`));
    const noNode = await cli(['backup', file, '--stripe', '4-of-6', ...d(C.dir)]);
    assert.equal(noNode.status, 3);
    assert.match(noNode.stderr, /no lnps node is running .*a striped backup goes to connected peers/);
    // An unstriped backup must be newer than the striped one.
    writeFileSync(join(C.dir, 'small'), Buffer.from('small'));
    const older = await cli(['backup', join(C.dir, 'small'), '--seq', '999', ...d(C.dir)]);
    assert.equal(older.status, 1);
    assert.match(older.stderr, /seq 999 is not newer than the current backup's seq 1000/);

    // A restored node: a fresh data directory, the same key, an empty database.
    const R = tempDir();
    mkdirSync(R, { mode: 0o700, recursive: true });
    copyFileSync(join(C.dir, 'node.key'), join(R, 'node.key'));
    chmodSync(join(R, 'node.key'), 0o600);
    assert.equal((await cliJson(['create', ...d(R)])).node_pubkey, C.pubkey);
    const out = join(R, 'restored.backup');
    const all = P.map((_, i) => addr(i));
    const r = await cli(['restorefrompeer', ...all, '--out', out, '--timeout', '3s', ...d(R)], 30_000);
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.equal(j.restored, true);
    assert.equal(j.striped, true);
    assert.equal(j.seq, '1000');
    assert.equal(j.backup_id, bk.backup_id);
    assert.deepEqual([j.k, j.n], [4, 6]);
    assert.deepEqual([...j.used_peers].sort(), P.slice(0, 4).map((p) => p.pubkey).sort());
    assert.equal(j.plaintext_len, 250_000);
    assert.equal(j.plaintext_sha256, sha(backup));
    assert.deepEqual(
      j.peers.map((p: any) => [p.peer, p.status, p.shard_index, p.used]),
      P.map((p, i) => (i < 4 ? [p.pubkey, 'confirmed', i, true] : [p.pubkey, 'unreachable', null, false])),
    );
    assert.deepEqual(readFileSync(out), backup);
    assert.equal(statSync(out).mode & 0o777, 0o600);

    // A third provider goes: three shards of the four needed. The restore fails plainly.
    assert.equal(await serves[3]!.stop(), 0);
    const out2 = join(R, 'again.backup');
    const f = await cli(['restorefrompeer', ...all, '--out', out2, '--timeout', '3s', ...d(R)], 30_000);
    assert.equal(f.status, 1);
    assert.match(f.stderr, /cannot rebuild backup [0-9a-f]{16} seq 1000: 3 of 4 shards needed are present, 1 missing/);
    const fj = JSON.parse(f.stdout);
    assert.equal(fj.restored, false);
    assert.equal(fj.missing, 1);
    assert.equal(existsSync(out2), false);
  } finally {
    await Promise.all([...serves.map((s) => s.stop()), c?.stop()]);
  }
});

test('1-of-2 keeps the same blob with two peers; a holder away past --shard-move-after has its copy moved to a third peer', { timeout: 40_000 }, async () => {
  const C = await createNode();
  const P = await Promise.all([1, 2, 3].map(() => createNode()));
  const serves: Serve[] = [];
  let c: Serve | undefined;
  try {
    serves.push(...(await Promise.all(P.map((p) => Serve.start(p.dir, ['--storage-policy', 'any'])))));
    c = await Serve.start(C.dir, ['--no-listen', '--retrieval-timeout', '100ms', '--shard-move-after', '1s', '--confirm-delay', '1h']);
    const addr = (i: number) => `${P[i]!.pubkey}@127.0.0.1:${serves[i]!.port}`;
    await cliJson(['connect', addr(0), ...d(C.dir)]);
    await cliJson(['connect', addr(1), ...d(C.dir)]);
    await sleep(600); // past both retrieval waits
    const backup = randomBytes(3000);
    const file = join(C.dir, 'small.backup');
    writeFileSync(file, backup);
    const bk = await cliJson(['backup', file, '--stripe', '1-of-2', '--seq', '77', ...d(C.dir)]);
    assert.equal(bk.mode, 'replicated');
    assert.deepEqual(bk.shards.map((s: any) => [s.index, s.peer, s.sent]), [[0, P[0]!.pubkey, true], [1, P[1]!.pubkey, true]]);
    // The same sealed blob with both peers.
    assert.equal(bk.shards[0].sealed_sha256, bk.shards[1].sealed_sha256);
    for (let i = 0; i < 2; i++) await until(async () => (await storedSha(P[i]!.dir, C.pubkey)) === bk.shards[0].sealed_sha256, `provider ${i} to store the blob`);

    // The third peer arrives; the second goes away for good.
    await cliJson(['connect', addr(2), ...d(C.dir)]);
    assert.equal(await serves[1]!.stop(), 0);
    await c.waitFor(new RegExp(`moved shard 1 of backup [0-9a-f]{16} seq 77 from ${P[1]!.pubkey} to ${P[2]!.pubkey} \\(holder away for \\d+ s\\)`), 10_000);
    await until(async () => (await storedSha(P[2]!.dir, C.pubkey)) === bk.shards[0].sealed_sha256, 'the third provider to store the moved copy');
    const lb = await cliJson(['listbackups', ...d(C.dir)]);
    const v = lb.versions[0];
    assert.deepEqual([v.seq, v.mode, v.k, v.n], ['77', 'replicated', 1, 2]);
    assert.deepEqual(v.shards.map((s: any) => [s.index, s.peer, s.state, s.moves]), [[0, P[0]!.pubkey, 'unconfirmed', 0], [1, P[2]!.pubkey, 'unconfirmed', 1]]);
    // Neither copy was read back yet: not recoverable from confirmed copies.
    assert.deepEqual([v.needed, v.recoverable, v.can_lose], [1, false, null]);

    // Either copy restores the backup, with the ordinary (unstriped) restore.
    const out = join(C.dir, 'restored');
    const r = await cliJson(['restorefrompeer', addr(2), '--out', out, '--timeout', '3s', ...d(C.dir)]);
    assert.equal(r.seq, '77');
    assert.deepEqual(readFileSync(out), backup);
  } finally {
    await Promise.all([...serves.map((s) => s.stop()), c?.stop()]);
  }
});
