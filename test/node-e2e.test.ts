// The node end to end: built CLI, real `lnps serve` processes, BOLT #8 over 127.0.0.1.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { cleanup, cli, cliJson, createNode, d, sha, storedSha, until, RawPeer, Serve, sleep, tempDir } from './node-harness.js';
import { deriveSealKey, seal } from '../src/core/backup/seal.js';
import { readNodeKey } from '../src/core/datadir.js';

after(cleanup);


test('two nodes: store, disconnect, reconnect and the blob comes back; the provider restarts and the blob survives', async () => {
  const A = await createNode();
  const B = await createNode();
  let a = await Serve.start(A.dir, ['--storage-policy', 'any']);
  const b = await Serve.start(B.dir, ['--no-listen', '--retrieval-timeout', '200ms']);
  try {
    const c = await cliJson(['connect', `${A.pubkey}@127.0.0.1:${a.port}`, ...d(B.dir)]);
    assert.equal(c.peer.peer, A.pubkey);
    assert.equal(c.peer.provides_storage, true);
    assert.deepEqual(c.peer.features, [43]);
    const file = join(B.dir, 'channel.backup');
    const plaintext = randomBytes(3000);
    writeFileSync(file, plaintext);
    const bk = await cliJson(['backup', file, '--seq', '1000', ...d(B.dir)]);
    assert.equal(bk.seq, '1000');
    assert.equal(bk.sealed_len, 65531);
    await b.waitFor(/PEER: Peer\(\w+@127\.0\.0\.1:\d+\) sent peer_storage seq 1000 \(65531 bytes\)/);
    await until(async () => (await storedSha(A.dir, B.pubkey)) === bk.sealed_sha256, 'the provider to store the blob');

    const off = await cliJson(['disconnect', A.pubkey, ...d(B.dir)]);
    assert.deepEqual(off, { peer: A.pubkey, disconnected: true });
    await b.waitFor(/disconnected: disconnect requested by the operator/);
    await cliJson(['connect', `${A.pubkey}@127.0.0.1:${a.port}`, ...d(B.dir)]);
    await b.waitFor(/peer_storage_retrieval 65531 bytes: confirmed seq 1000$/);
    const lb = await cliJson(['listbackups', ...d(B.dir)]);
    assert.equal(lb.newest_seq, '1000');
    assert.equal(lb.backups.length, 1);
    assert.equal(lb.backups[0].peer, A.pubkey);
    assert.equal(lb.backups[0].seq_sent, '1000');
    assert.equal(lb.backups[0].seq_confirmed, '1000');
    assert.equal(lb.backups[0].status, 'confirmed');

    // The provider restarts: a clean stop, the blob is on disk, and it comes back again.
    assert.equal(await a.stop(), 0);
    assert.equal(await storedSha(A.dir, B.pubkey), bk.sealed_sha256);
    a = await Serve.start(A.dir, ['--storage-policy', 'any']);
    const before = b.lines.filter((l) => / confirmed seq 1000$/.test(l)).length;
    await cliJson(['connect', `${A.pubkey}@127.0.0.1:${a.port}`, ...d(B.dir)]);
    await until(async () => b.lines.filter((l) => / confirmed seq 1000$/.test(l)).length === before + 1, 'a second confirmed retrieval');
    const peers = await cliJson(['listpeers', ...d(B.dir)]);
    assert.equal(peers.peers.length, 1);
    assert.equal(peers.peers[0].retrieval_status, 'confirmed');
    assert.equal(peers.peers[0].retrieval_seq, '1000');
    const stranger = '0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798'; // G: on the curve, never connected
    const nc = await cli(['disconnect', stranger, ...d(B.dir)]);
    assert.equal(nc.status, 1);
    assert.equal(nc.stderr, `lnps: not connected to ${stranger}: see \`lnps listpeers\`\n`);
  } finally {
    await a.stop();
    await b.stop();
  }
});

test('serve --connect keeps a provider connected: after the provider restarts, the node redials and the blob comes back', async () => {
  const A = await createNode();
  const B = await createNode();
  let a = await Serve.start(A.dir, ['--storage-policy', 'any']);
  const port = a.port;
  const b = await Serve.start(B.dir, ['--no-listen', '--connect', `${A.pubkey}@127.0.0.1:${port}`, '--reconnect-delay', '100ms', '--retrieval-timeout', '100ms']);
  try {
    await b.waitFor(/outbound connection active, 1 feature bit \(option_provide_storage\), provides storage$/);
    writeFileSync(join(B.dir, 'f'), 'kept peer backup');
    const bk = await cliJson(['backup', join(B.dir, 'f'), '--seq', '7', ...d(B.dir)]);
    await until(async () => (await storedSha(A.dir, B.pubkey)) === bk.sealed_sha256, 'the provider to store');
    assert.equal(await a.stop(), 0);
    await b.waitFor(/disconnected: connection closed by peer$/);
    a = await Serve.start(A.dir, ['--storage-policy', 'any', '--listen', `127.0.0.1:${port}`]);
    await b.waitFor(/peer_storage_retrieval 65531 bytes: confirmed seq 7$/);
  } finally {
    await a.stop();
    await b.stop();
  }
});

test('a flood of 10,000 peer_storage messages is debounced and the newest is kept', async () => {
  const A = await createNode();
  const a = await Serve.start(A.dir, ['--storage-policy', 'any', '--cooldown', '1s']);
  try {
    const p = await RawPeer.connect(a.port, A.pubkey);
    const N = 10_000;
    const t0 = Date.now();
    let last = new Uint8Array(0);
    for (let i = 0; i < N; i++) {
      last = new Uint8Array(64);
      new DataView(last.buffer).setUint32(0, i);
      await p.send({ type: 7, name: 'peer_storage', blob: last });
    }
    await p.sync(20_000);
    const elapsed = Date.now() - t0;
    p.close();
    // The clean stop flushes the newest pending blob before the database closes.
    assert.equal(await a.stop(), 0);
    const g = await cliJson(['getpeerstorage', p.pubkey, ...d(A.dir)]);
    assert.equal(g.blob, Buffer.from(last).toString('hex'));
    // At most one write per cooldown (1 s) while the flood lasts, plus the first and the flush.
    assert.ok(g.update_count >= 2 && g.update_count <= Math.ceil(elapsed / 1000) + 2, `update_count ${g.update_count} for ${elapsed} ms`);
  } finally {
    await a.stop();
  }
});

test('an unknown even type or a malformed message closes that connection only; unknown odd is ignored', async () => {
  const A = await createNode();
  const a = await Serve.start(A.dir, ['--storage-policy', 'any']);
  try {
    const p1 = await RawPeer.connect(a.port, A.pubkey);
    const p2 = await RawPeer.connect(a.port, A.pubkey);
    const p3 = await RawPeer.connect(a.port, A.pubkey);
    assert.equal(p1.theirInit.name, 'init');

    await p1.send(Uint8Array.of(0x80, 0x02, 0xaa)); // type 32770: unknown and even
    const w = await p1.next();
    assert.ok(w && w !== 'timeout' && w.name === 'warning');
    assert.equal(Buffer.from(w.data).toString(), 'unknown even message type 32770');
    assert.equal(await p1.next(), null);

    await p2.sync(); // still served

    await p3.send(Uint8Array.of(0x00, 0x07, 0x00, 0x0a, 0x01)); // peer_storage claiming 10 bytes, 1 present
    const w3 = await p3.next();
    assert.ok(w3 && w3 !== 'timeout' && w3.name === 'warning');
    assert.match(Buffer.from(w3.data).toString(), /^malformed message type 7: /);
    assert.equal(await p3.next(), null);

    await p2.send(Uint8Array.of(0x80, 0x03, 0x01)); // unknown odd: ignored
    await p2.send({ type: 7, name: 'peer_storage', blob: Uint8Array.of(1, 2, 3) });
    await p2.sync();
    await until(async () => (await storedSha(A.dir, p2.pubkey)) === sha(Uint8Array.of(1, 2, 3)), 'the second peer stored');
    await a.waitFor(new RegExp(`Peer\\(${p1.pubkey}@[^)]+\\) unknown even message type 32770: sending warning and disconnecting`));
    p2.close();
  } finally {
    await a.stop();
  }
});

test('1,200 messages each way at once, across the transport key rotation', async () => {
  const A = await createNode();
  const a = await Serve.start(A.dir);
  try {
    const p = await RawPeer.connect(a.port, A.pubkey);
    const N = 1200;
    const got: number[] = [];
    const reader = (async () => {
      while (got.length < N) {
        const m = await p.next(10_000);
        if (m === null || m === 'timeout') throw new Error(`stopped after ${got.length} pongs: ${m}`);
        if (m.name === 'pong') got.push(m.ignored.length);
      }
    })();
    for (let i = 0; i < N; i++) await p.send({ type: 18, name: 'ping', numPongBytes: i % 300, ignored: new Uint8Array(i % 7) });
    await reader;
    assert.deepEqual(got, Array.from({ length: N }, (_, i) => i % 300));
    p.close();
  } finally {
    await a.stop();
  }
});

test('a restored node (empty database, same key) waits for the retrieval and does not overwrite its peer\'s copy', async () => {
  const A = await createNode();
  const B = await createNode();
  const a = await Serve.start(A.dir, ['--storage-policy', 'any']);
  let b = await Serve.start(B.dir, ['--no-listen', '--retrieval-timeout', '100ms']);
  try {
    const good = randomBytes(500);
    writeFileSync(join(B.dir, 'good'), good);
    await cliJson(['connect', `${A.pubkey}@127.0.0.1:${a.port}`, ...d(B.dir)]);
    const bk = await cliJson(['backup', join(B.dir, 'good'), '--seq', '5000', ...d(B.dir)]);
    await until(async () => (await storedSha(A.dir, B.pubkey)) === bk.sealed_sha256, 'the provider to store the good copy');
    await b.stop();

    // The machine is lost; the key was kept. A fresh data directory with the same key, and an
    // older backup restored from some old file (seq 10 < 5000).
    const C = tempDir();
    mkdirSync(C, { mode: 0o700, recursive: true });
    copyFileSync(join(B.dir, 'node.key'), join(C, 'node.key'));
    chmodSync(join(C, 'node.key'), 0o600);
    assert.equal((await cliJson(['create', ...d(C)])).node_pubkey, B.pubkey);
    writeFileSync(join(C, 'old'), Buffer.from('an old backup'));
    const kept = await cliJson(['backup', join(C, 'old'), '--seq', '10', ...d(C)]);
    assert.deepEqual(kept.peers, []);
    b = await Serve.start(C, ['--no-listen', '--retrieval-timeout', '400ms']);
    await cliJson(['connect', `${A.pubkey}@127.0.0.1:${a.port}`, ...d(C)]);
    await b.waitFor(/peer_storage_retrieval 65531 bytes: confirmed seq 5000$/);
    await sleep(600); // past the retrieval wait: still nothing sent
    assert.equal(b.lines.filter((l) => /sent peer_storage/.test(l)).length, 0, b.lines.join('\n'));
    assert.equal(await storedSha(A.dir, B.pubkey), bk.sealed_sha256);
    const peers = await cliJson(['listpeers', ...d(C)]);
    assert.equal(peers.peers[0].retrieval_status, 'confirmed');
    assert.equal(peers.peers[0].retrieval_seq, '5000');
    assert.equal(peers.peers[0].sent_seq, null);
    const lb = await cliJson(['listbackups', ...d(C)]);
    assert.deepEqual(
      lb.backups.map((r: any) => [r.peer, r.seq_sent, r.seq_confirmed, r.status]),
      [[A.pubkey, null, '5000', 'confirmed']],
    );
    assert.equal(lb.newest_seq, '10');
    await b.stop();

    // And the good copy restores.
    const out = join(C, 'restored');
    const r = await cliJson(['restorefrompeer', `${A.pubkey}@127.0.0.1:${a.port}`, '--out', out, ...d(C)]);
    assert.equal(r.seq, '5000');
    assert.deepEqual(readFileSync(out), good);
  } finally {
    await a.stop();
    await b.stop();
  }
});

test('restorefrompeer across three providers, one stale and one corrupt, picks the newest valid one', async () => {
  const K = await createNode(); // our node: never served
  const secret = readNodeKey(join(K.dir, 'node.key'));
  const key = deriveSealKey(secret);
  const providers = await Promise.all([createNode(), createNode(), createNode()]);
  const serves = await Promise.all(providers.map((p) => Serve.start(p.dir, ['--storage-policy', 'any'])));
  try {
    const older = Buffer.from('backup version 100');
    const newer = Buffer.from('backup version 200');
    const blobs = [seal(older, { seq: 100n, key, pad: 'bucket' }), seal(newer, { seq: 200n, key }), seal(Buffer.from('backup version 300'), { seq: 300n, key })];
    blobs[2]![100]! ^= 0x01; // the third provider's copy is damaged
    for (let i = 0; i < 3; i++) {
      const p = await RawPeer.connect(serves[i]!.port, providers[i]!.pubkey, { secret });
      await p.send({ type: 7, name: 'peer_storage', blob: blobs[i]! });
      await p.sync();
      p.close();
      await until(async () => (await storedSha(providers[i]!.dir, K.pubkey)) === sha(blobs[i]!), `provider ${i} to store`);
    }
    const out = join(K.dir, 'restored.backup');
    const args = providers.map((p, i) => `${p.pubkey}@127.0.0.1:${serves[i]!.port}`);
    const r = await cli(['restorefrompeer', ...args, '--out', out, '--timeout', '5s', ...d(K.dir)]);
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.equal(j.restored, true);
    assert.equal(j.seq, '200');
    assert.equal(j.from, providers[1]!.pubkey);
    assert.equal(j.plaintext_len, newer.length);
    assert.deepEqual(
      j.peers.map((p: any) => [p.peer, p.status, p.seq, p.blob_len, p.reason ?? null]),
      [
        [providers[0]!.pubkey, 'stale', '100', 1024, null],
        [providers[1]!.pubkey, 'confirmed', '200', 65531, null],
        [providers[2]!.pubkey, 'corrupt', null, 65531, 'auth_failed'],
      ],
    );
    assert.deepEqual(readFileSync(out), newer);
    assert.equal(statSync(out).mode & 0o777, 0o600);

    // Nothing valid anywhere: exit 1, nothing written, and still each peer's answer.
    const none = await cli(['restorefrompeer', args[2]!, '--out', join(K.dir, 'nothing'), '--timeout', '5s', ...d(K.dir)]);
    assert.equal(none.status, 1);
    assert.equal(JSON.parse(none.stdout).restored, false);
    assert.equal(existsSync(join(K.dir, 'nothing')), false);
  } finally {
    key.wipe();
    await Promise.all(serves.map((s) => s.stop()));
  }
});

test('CLI commands print the same with and without the node running', async () => {
  const A = await createNode();
  const peer = '02' + 'a1'.repeat(32);
  const txid = 'ab'.repeat(32);
  await cliJson(['addchannel', '--peer', peer, '--chan-point', `${txid}:1`, ...d(A.dir)]);
  await cliJson(['setheight', '800000', ...d(A.dir)]);
  const read = async () => ({
    listchannels: (await cli(['listchannels', ...d(A.dir)])).stdout,
    listpeerstorage: (await cli(['listpeerstorage', ...d(A.dir)])).stdout,
    listbackups: (await cli(['listbackups', ...d(A.dir)])).stdout,
    table: (await cli(['listchannels', '--format', 'table', ...d(A.dir)])).stdout,
    // The database's part of getinfo; what only a running process has (pid, uptime, levels,
    // flag-given settings, bound addresses) is compared elsewhere.
    getinfo: (({ node_running: _n, pid: _p, log_levels: _l, started_at: _s, uptime_s: _u, settings: _c, uris: _r, ...rest }) => rest)(await cliJson(['getinfo', ...d(A.dir)])),
  });
  const without = await read();
  const a = await Serve.start(A.dir);
  try {
    const withNode = await read();
    assert.deepEqual(withNode, without);
    assert.match(withNode.listchannels, new RegExp(peer));
    // A write through the node lands in the same database.
    assert.deepEqual(await cliJson(['setheight', '800001', ...d(A.dir)]), { height: 800001, previous: 800000 });
    // Errors keep their exit codes over the socket.
    // (A malformed --chan-point never gets this far: it is a wrong command line, exit 2.)
    const bad = await cli(['closechannel', '--chan-point', `${'cd'.repeat(32)}:9`, ...d(A.dir)]);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /^lnps: no channel c{0}(cd){32}:9 is known/);
    const form = await cli(['closechannel', '--chan-point', 'nope', ...d(A.dir)]);
    assert.equal(form.status, 2);
    assert.match(form.stderr, /^lnps: --chan-point must be TXID:N/);
  } finally {
    assert.equal(await a.stop(), 0);
  }
  assert.equal((await cliJson(['getinfo', ...d(A.dir)])).best_height, 800001);
});

test('retention runs inside the node at the height it is told', async () => {
  const A = await createNode();
  const a = await Serve.start(A.dir, ['--storage-policy', 'any', '--retention-interval', '200ms', '--debuglevel', 'info,RETN=debug']);
  try {
    const p = await RawPeer.connect(a.port, A.pubkey);
    await p.send({ type: 7, name: 'peer_storage', blob: Uint8Array.of(7, 7, 7) });
    await p.sync();
    p.close();
    const cp = `${'cd'.repeat(32)}:0`;
    await cliJson(['addchannel', '--peer', p.pubkey, '--chan-point', cp, ...d(A.dir)]);
    await cliJson(['closechannel', '--chan-point', cp, '--height', '100', ...d(A.dir)]);
    await cliJson(['setheight', '2115', ...d(A.dir)]);
    await sleep(500);
    assert.equal((await cliJson(['listpeerstorage', ...d(A.dir)])).peers.length, 1, 'kept inside retention (2015 blocks)');
    await cliJson(['setheight', '2116', ...d(A.dir)]);
    // One INF summary per run; the per-peer line is DBG.
    await a.waitFor(new RegExp(`\\[DBG\\] RETN: pruned the blob of ${p.pubkey} \\(retention over at height 2116\\)`));
    await a.waitFor(/\[INF\] RETN: retention at height 2116: 1 pruned, 0 kept$/);
    assert.equal(a.lines.filter((l) => /\[INF\] RETN: pruned/.test(l)).length, 0);
    assert.deepEqual((await cliJson(['listpeerstorage', ...d(A.dir)])).peers, []);
  } finally {
    await a.stop();
  }
});

test('serve: control socket 0600, pid file, one node per data directory, clean stop removes both', async () => {
  const A = await createNode();
  const a = await Serve.start(A.dir);
  const sock = join(A.dir, 'regtest', 'lnps.sock');
  const pid = join(A.dir, 'regtest', 'lnps.pid');
  try {
    assert.equal(statSync(sock).mode & 0o777, 0o600);
    assert.equal(readFileSync(pid, 'utf8').trim(), String(a.proc.pid));
    const second = await cli(['serve', '--listen', '127.0.0.1:0', ...d(A.dir)]);
    assert.equal(second.status, 3);
    assert.equal(second.stderr, `lnps: an lnps node is already running on ${A.dir} (regtest), pid ${a.proc.pid}\n`);
  } finally {
    assert.equal(await a.stop(), 0);
  }
  assert.equal(existsSync(sock), false);
  assert.equal(existsSync(pid), false);
  assert.ok(a.lines.some((l) => /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} \[INF\] SRVR: Shutdown complete$/.test(l)), a.lines.join('\n'));
  const lp = await cli(['listpeers', ...d(A.dir)]);
  assert.equal(lp.status, 3);
  assert.equal(lp.stderr, `lnps: no lnps node is running for ${A.dir} (regtest): start one with \`lnps serve\`\n`);

  // A node that crashed leaves its socket and pid file: commands open the database directly,
  // and a new node starts over them.
  const crashed = await Serve.start(A.dir);
  process.kill(crashed.proc.pid!, 'SIGKILL');
  await crashed.exited;
  assert.equal(existsSync(sock), true);
  assert.equal((await cliJson(['getinfo', ...d(A.dir)])).node_running, false);
  const again = await Serve.start(A.dir);
  assert.equal(readFileSync(pid, 'utf8').trim(), String(again.proc.pid));
  assert.equal(await again.stop(), 0);
});

test('a silent peer is pinged, then dropped', async () => {
  const A = await createNode();
  const a = await Serve.start(A.dir, ['--ping-interval', '300ms', '--pong-timeout', '300ms']);
  try {
    const p = await RawPeer.connect(a.port, A.pubkey);
    const m = await p.next(3000);
    assert.ok(m && m !== 'timeout' && m.name === 'ping');
    assert.equal(await p.next(3000), null); // no pong from us: dropped
    await a.waitFor(/no pong: disconnecting$/);
  } finally {
    await a.stop();
  }
});

test('lnps.conf settings apply, flags override them, and a bad line is named', async () => {
  const A = await createNode();
  writeFileSync(join(A.dir, 'lnps.conf'), '# lnps settings\n[Application Options]\nlisten=127.0.0.1:0\nstorage-policy=any\ncooldown=2s\n');
  let a = await Serve.start(A.dir, [], { listenFromConfig: true });
  try {
    await a.waitFor(/SRVR: lnps node \w+ on regtest, providing storage: yes \(any\)$/);
    assert.ok(a.port > 0);
    await a.stop();
    a = await Serve.start(A.dir, ['--storage-policy', 'channel-peers'], { listenFromConfig: true });
    await a.waitFor(/providing storage: yes \(channel-peers\)$/);
    await a.stop();
  } finally {
    await a.stop();
  }
  writeFileSync(join(A.dir, 'lnps.conf'), 'listen=127.0.0.1:0\nstorage-polcy=any\n');
  const bad = await cli(['serve', ...d(A.dir)]);
  // An unknown key is a usage error (exit 2), like an unknown flag, naming the file and the line.
  assert.equal(bad.status, 2);
  assert.equal(bad.stderr, `lnps: ${join(A.dir, 'lnps.conf')} line 2: unknown setting "storage-polcy" (see lnps.conf.sample for every setting)\n`);
});
