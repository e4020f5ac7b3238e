// lnps serve as a daemon: signals, closed pipes, `lnps stop`, `lnps debuglevel`, the complete
// lnps.conf and getinfo's effective settings. Real `lnps serve` processes on 127.0.0.1.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, cleanup, cli, cliJson, createNode, d, NET, RawPeer, Serve, sha, sleep, storedSha, until } from './node-harness.js';
import { alive } from '../src/core/node/pidfile.js';

after(cleanup);

const sockOf = (dir: string) => join(dir, 'regtest', 'lnps.sock');
const pidOf = (dir: string) => join(dir, 'regtest', 'lnps.pid');

test('SIGHUP: lnps.conf read again, the storage policy changes and the connection stays up; the log file is reopened', async () => {
  const A = await createNode();
  const conf = join(A.dir, 'lnps.conf');
  const logFile = join(A.dir, 'lnps.log');
  writeFileSync(conf, 'storage-policy=channel-peers\ncooldown=0\n');
  const a = await Serve.start(A.dir, ['--log-file', logFile]);
  try {
    const p = await RawPeer.connect(a.port, A.pubkey);
    const first = Uint8Array.of(1, 2, 3);
    await p.send({ type: 7, name: 'peer_storage', blob: first });
    await p.sync();
    await a.waitFor(/peer_storage 3 bytes: refused \(policy channel-peers/);
    assert.equal(await storedSha(A.dir, p.pubkey), undefined);

    // logrotate moves the file away, then signals.
    renameSync(logFile, logFile + '.1');
    writeFileSync(conf, 'storage-policy=any\ncooldown=0\n# a comment\ndebuglevel=debug\n');
    a.proc.kill('SIGHUP');
    await a.waitFor(/\[INF\] SRVR: reload: storage-policy changed from channel-peers to any$/);
    await a.waitFor(/\[INF\] SRVR: reload: debuglevel changed from info to debug$/);

    // The same connection, now allowed (once the 1 s refusal memory of that peer has passed).
    await sleep(1100);
    const second = Uint8Array.of(4, 5, 6, 7);
    await p.send({ type: 7, name: 'peer_storage', blob: second });
    await p.sync();
    await a.waitFor(/peer_storage 4 bytes: stored/);
    assert.equal(await storedSha(A.dir, p.pubkey), sha(second));
    const peers = (await cliJson(['listpeers', ...d(A.dir)])).peers as { peer: string; state: string }[];
    assert.deepEqual(peers.map((x) => [x.peer, x.state]), [[p.pubkey, 'active']]);
    assert.equal(a.lines.filter((l) => /disconnected/.test(l)).length, 0, 'no connection was dropped');

    // The getinfo of the running node shows the new policy and where it came from.
    const info = await cliJson(['getinfo', ...d(A.dir)]);
    assert.equal(info.storage_policy, 'any');
    assert.deepEqual(info.settings['storage-policy'], { value: 'any', source: 'file' });
    assert.deepEqual(info.settings['log-file'], { value: logFile, source: 'flag' });

    // A setting that needs a restart is logged as such and not applied.
    writeFileSync(conf, 'storage-policy=any\ncooldown=0\ndebuglevel=debug\nping-interval=5s\n');
    a.proc.kill('SIGHUP');
    await a.waitFor(/\[WRN\] SRVR: reload: ping-interval changed from 60s to 5s; it takes effect on the next start$/);
    // A broken file changes nothing and stops nothing.
    writeFileSync(conf, 'storage-policy=none\n');
    a.proc.kill('SIGHUP');
    await a.waitFor(/\[ERR\] SRVR: reload: settings not applied, the node keeps its current ones: .*storage-policy must be one of/);
    assert.equal((await cliJson(['getinfo', ...d(A.dir)])).storage_policy, 'any');

    // The old file kept what was written before the rotation; the new one what came after.
    const old = readFileSync(logFile + '.1', 'utf8');
    const now = readFileSync(logFile, 'utf8');
    assert.match(old, /refused \(policy channel-peers/);
    assert.doesNotMatch(old, /reload: storage-policy changed/);
    assert.match(now, /reload: storage-policy changed from channel-peers to any/);
    assert.match(now, /peer_storage 4 bytes: stored/);
    p.close();
  } finally {
    assert.equal(await a.stop(), 0);
  }
});

test('serve | head -1: the node keeps running with its pipes closed, logging to --log-file; lnps stop then stops it', async () => {
  const A = await createNode();
  const logFile = join(A.dir, 'serve.log');
  // As `lnps serve 2>&1 | head -1`: read the first line, then close the reading ends of both
  // pipes, as head does when it exits. Every later write of the node meets EPIPE.
  const child = spawn(process.execPath, [BIN, 'serve', ...d(A.dir), '--listen', '127.0.0.1:0', '--storage-policy', 'any', '--log-file', logFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  const firstLine = await new Promise<string>((resolve, reject) => {
    let buf = '';
    const t = setTimeout(() => reject(new Error('no first line')), 20_000);
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      buf += s;
      if (buf.includes('\n')) {
        clearTimeout(t);
        resolve(buf.slice(0, buf.indexOf('\n')));
      }
    });
  });
  child.stdout.destroy();
  child.stderr.destroy();
  assert.match(firstLine, /^\d{4}-\d\d-\d\d [\d:.]+ \[INF\] SRVR: /);
  const pid = child.pid!;
  await until(async () => existsSync(sockOf(A.dir)), 'control socket');
  try {
    const port = Number((await until(async () => /Server listening on 127\.0\.0\.1:(\d+)/.exec(readFileSync(logFile, 'utf8'))?.[1], 'listen line')));
    // Every line from here on hits a closed pipe (EPIPE) and must not stop the node.
    for (let i = 0; i < 3; i++) {
      const p = await RawPeer.connect(port, (await cliJson(['getinfo', ...d(A.dir)])).node_pubkey);
      await p.send({ type: 7, name: 'peer_storage', blob: Uint8Array.of(i, 1, 2) });
      await p.sync();
      p.close();
    }
    await until(async () => /disconnected/.test(readFileSync(logFile, 'utf8').split('\n').slice(-3).join('\n')) || undefined, 'disconnect logged');
    assert.equal(alive(pid), true, 'the node is still running');
    const info = await cliJson(['getinfo', ...d(A.dir)]);
    assert.equal(info.node_running, true);
    assert.equal(info.peers_stored, 3);
    const stop = await cliJson(['stop', ...d(A.dir)]);
    assert.equal(stop.stopped, true);
    assert.equal(stop.pid, pid);
    assert.equal(alive(pid), false);
    assert.match(readFileSync(logFile, 'utf8'), /\[INF\] SRVR: Shutdown complete\n$/);
  } finally {
    if (alive(pid)) process.kill(pid, 'SIGKILL');
  }
});

test('lnps stop: pending blobs are written, the socket and pid file are gone when it returns; with no node it is exit 3', async () => {
  const A = await createNode();
  // A long cooldown keeps the second blob pending in memory until the stop writes it.
  const a = await Serve.start(A.dir, ['--storage-policy', 'any', '--cooldown', '60s']);
  const p = await RawPeer.connect(a.port, A.pubkey);
  const newest = Uint8Array.of(9, 9, 9, 9, 9);
  await p.send({ type: 7, name: 'peer_storage', blob: Uint8Array.of(1) });
  await p.send({ type: 7, name: 'peer_storage', blob: newest });
  await p.sync();
  const stop = await cli(['stop', ...d(A.dir)]);
  assert.equal(stop.status, 0, stop.stderr);
  assert.equal(JSON.parse(stop.stdout).pid, a.proc.pid);
  // When stop returns, everything is already gone: no wait in the test.
  assert.equal(existsSync(sockOf(A.dir)), false);
  assert.equal(existsSync(pidOf(A.dir)), false);
  assert.equal(await a.exited, 0);
  assert.ok(a.lines.some((l) => /\[INF\] SRVR: Flushed 1 pending blob$/.test(l)), a.lines.join('\n'));
  assert.equal(await storedSha(A.dir, p.pubkey), sha(newest));
  p.close();

  const none = await cli(['stop', ...d(A.dir)]);
  assert.equal(none.status, 3);
  assert.equal(none.stderr, `lnps: no lnps node is running for ${A.dir} (regtest)\n`);
});

test('lnps debuglevel changes the running node\'s log level, for all or one subsystem', async () => {
  const A = await createNode();
  const a = await Serve.start(A.dir, ['--storage-policy', 'any']);
  try {
    const p1 = await RawPeer.connect(a.port, A.pubkey);
    await p1.sync();
    p1.close();
    await a.waitFor(/\[INF\] PEER: .* disconnected/);
    assert.equal(a.lines.some((l) => /\[DBG\] PEER:/.test(l)), false);
    const r = await cliJson(['debuglevel', 'debug', 'PEER', ...d(A.dir)]);
    assert.deepEqual(r.log_levels, { base: 'info', subsystems: { PEER: 'debug' } });
    await a.waitFor(/\[INF\] SRVR: log level PEER set to debug \(lnps debuglevel\)$/);
    const p2 = await RawPeer.connect(a.port, A.pubkey);
    await p2.send({ type: 7, name: 'peer_storage', blob: Uint8Array.of(1) });
    await p2.send({ type: 7, name: 'peer_storage', blob: Uint8Array.of(2) });
    await p2.sync();
    await a.waitFor(/\[DBG\] PEER: /);
    p2.close();
    assert.deepEqual((await cliJson(['debuglevel', 'warn', ...d(A.dir)])).log_levels, { base: 'warn', subsystems: { PEER: 'debug' } });
    const bad = await cli(['debuglevel', 'loud', ...d(A.dir)]);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /^lnps: unknown level "loud"; use one of trace, debug, info, warn, error, critical, off\n$/);
  } finally {
    await a.stop();
  }
  const none = await cli(['debuglevel', 'info', ...d(A.dir)]);
  assert.equal(none.status, 3);
});

test('lnps.conf: network and key-file are honoured by every command; getinfo shows each setting with its source', async () => {
  const A = await createNode();
  // Move the key away and name it in the file; put the network there too.
  renameSync(join(A.dir, 'node.key'), join(A.dir, 'renamed.key'));
  writeFileSync(join(A.dir, 'lnps.conf'), '[Application Options]\nnetwork=regtest\nkey-file=renamed.key\ncooldown=3s\nlisten=127.0.0.1:0\nlisten=127.0.0.2:0\n');
  const dd = ['--datadir', A.dir];
  const off = await cliJson(['getinfo', ...dd]);
  assert.equal(off.node_pubkey, A.pubkey);
  assert.equal(off.network, 'regtest');
  assert.equal(off.node_running, false);
  assert.equal(off.retention, 'waiting for height');
  assert.equal(off.connected_peers, 0);
  assert.equal(off.uptime_s, null);
  assert.match(off.version, /^\d+\.\d+\.\d+$/);
  assert.deepEqual(off.settings.network, { value: 'regtest', source: 'file' });
  assert.deepEqual(off.settings['key-file'], { value: join(A.dir, 'renamed.key'), source: 'file' });
  assert.deepEqual(off.settings.cooldown, { value: '3s', source: 'file' });
  assert.deepEqual(off.settings['storage-policy'], { value: 'channel-peers', source: 'default' });
  assert.deepEqual(off.settings.listen, { value: ['127.0.0.1:0', '127.0.0.2:0'], source: 'file' });
  assert.deepEqual(off.uris, [`${A.pubkey}@127.0.0.1:0`, `${A.pubkey}@127.0.0.2:0`]);
  // A flag wins over the file.
  const flagged = await cliJson(['getinfo', ...dd, '--network', 'regtest']);
  assert.deepEqual(flagged.settings.network, { value: 'regtest', source: 'flag' });

  // serve takes the same file: both listeners, the key from the file.
  const a = await Serve.start(A.dir, ['--cooldown', '2s'], { listenFromConfig: true });
  try {
    await a.waitFor(/Server listening on 127\.0\.0\.2:\d+/);
    await cliJson(['setheight', '900000', ...dd]);
    const on = await cliJson(['getinfo', ...dd]);
    assert.equal(on.node_running, true);
    assert.equal(on.node_pubkey, A.pubkey);
    assert.deepEqual(on.settings.cooldown, { value: '2s', source: 'flag' });
    assert.deepEqual(on.settings['max-peers'], { value: '10000', source: 'default' });
    assert.equal(on.uris.length, 2);
    assert.equal(on.uris[0], `${A.pubkey}@127.0.0.1:${a.port}`);
    assert.match(on.uris[1], new RegExp(`^${A.pubkey}@127\\.0\\.0\\.2:\\d+$`));
    assert.equal(on.retention, 'at height 900000');
    assert.equal(typeof on.uptime_s, 'number');
    const p = await RawPeer.connect(a.port, A.pubkey);
    await p.sync();
    assert.equal((await cliJson(['getinfo', ...dd])).connected_peers, 1);
    p.close();
  } finally {
    await a.stop();
  }
});

test('an unknown lnps.conf key is exit 2 naming the file and line, for serve and for an offline command', async () => {
  const A = await createNode();
  const conf = join(A.dir, 'lnps.conf');
  writeFileSync(conf, 'cooldown=1s\n\n# fine\nstorage-polcy=any\n');
  for (const args of [['serve', '--listen', '127.0.0.1:0'], ['getinfo'], ['listpeerstorage']]) {
    const r = await cli([...args, ...d(A.dir)]);
    assert.equal(r.status, 2, args[0]);
    assert.equal(r.stderr, `lnps: ${conf} line 4: unknown setting "storage-polcy" (see lnps.conf.sample for every setting)\n`, args[0]);
  }
  assert.equal(existsSync(pidOf(A.dir)), false);
  // A command that touches no data directory does not read it.
  const dec = await cli(['decode', '001200010000', ...d(A.dir)]);
  assert.equal(dec.status, 0, dec.stderr);
});

test('every setting is in lnps.conf.sample, commented out, and the sample itself parses', async () => {
  const { CONFIG_KEYS, parseConfig } = await import('../src/core/node/config.js');
  const sample = readFileSync(new URL('../../lnps.conf.sample', import.meta.url), 'utf8');
  for (const k of Object.keys(CONFIG_KEYS)) assert.match(sample, new RegExp(`^; ${k}=`, 'm'), `${k} is in the sample`);
  // Everything is commented out: the file as shipped sets nothing.
  assert.deepEqual(parseConfig(sample, 'lnps.conf.sample'), {});
  // Uncommented, it is a valid config.
  const uncommented = sample.replace(/^; ([a-z-]+=)/gm, '$1');
  const values = parseConfig(uncommented, 'lnps.conf.sample');
  assert.deepEqual(Object.keys(values).sort(), Object.keys(CONFIG_KEYS).sort());
  void NET;
});
