// Live inputs of `lnps serve` from the Lightning node beside it: --backup-file (sealed and sent
// to a connected peer when the file is replaced by rename or rewritten in place),
// --height-cmd (best height, so retention runs), --channels-cmd (the channel registry from
// Core Lightning's listpeerchannels JSON) and failing commands (one log line per failure streak).
// Real `lnps serve` processes, real shell commands, real BOLT #8 peers on 127.0.0.1.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { cleanup, cli, cliJson, createNode, d, RawPeer, Serve, sha, sleep, storedSha, tempDir, until, CLN_CHANNELS } from './node-harness.js';
import { readNodeKey } from '../src/core/datadir.js';
import { publicKeyOf } from '../src/core/keys.js';
import { deriveSealKey, open, type SealKey } from '../src/core/backup/seal.js';

after(cleanup);

/** A shell word for a path (the temp paths hold no quote). */
const q = (p: string) => `'${p}'`;

/** The next peer_storage the node sends `p`, opened with the node's seal key. */
async function nextBackup(p: RawPeer, key: SealKey): Promise<{ seq: bigint; text: string; sealed: Uint8Array }> {
  for (let i = 0; i < 50; i++) {
    const m = await p.next(10_000);
    if (m === 'timeout' || m === null) throw new Error(`no peer_storage from the node (${m === null ? 'closed' : 'timeout'})`);
    if (m.name !== 'peer_storage') continue;
    const blob = (m as unknown as { blob: Uint8Array }).blob;
    const r = open(blob, key);
    assert.ok(r.ok, 'the blob opens with the node key');
    return { seq: r.seq, text: Buffer.from(r.plaintext).toString('utf8'), sealed: blob };
  }
  throw new Error('too many messages without a peer_storage');
}

test('--backup-file: sealed and sent at start, after a replace by rename, after a rewrite in place, and only once a slow write completes', async () => {
  const A = await createNode();
  const key = deriveSealKey(readNodeKey(join(A.dir, 'node.key')));
  const dir = tempDir();
  const file = join(dir, 'channel.backup');
  writeFileSync(file, 'version one');
  const a = await Serve.start(A.dir, ['--backup-file', file, '--backup-debounce', '400ms', '--retrieval-timeout', '100ms']);
  try {
    await a.waitFor(/\[INF\] BKUP: --backup-file .*channel\.backup changed: new backup seq \d+ \(11 bytes, \d+ sealed\)$/);
    // A peer that stores (option_provide_storage, bit 43) gets the current version on connect.
    const p = await RawPeer.connect(a.port, A.pubkey, { features: [43] });
    const v1 = await nextBackup(p, key);
    assert.equal(v1.text, 'version one');

    // lnd's way: a temporary file renamed over the old one.
    writeFileSync(join(dir, 'channel.backup.tmp'), 'version two, renamed over');
    renameSync(join(dir, 'channel.backup.tmp'), file);
    const v2 = await nextBackup(p, key);
    assert.equal(v2.text, 'version two, renamed over');
    assert.ok(v2.seq > v1.seq);

    // Rewritten in place (same inode, truncated and written).
    writeFileSync(file, 'version three, in place');
    const v3 = await nextBackup(p, key);
    assert.equal(v3.text, 'version three, in place');
    assert.ok(v3.seq > v2.seq);

    // A write in two parts with a pause shorter than the debounce: only the whole file is sent.
    const fd = openSync(file, 'w');
    writeSync(fd, 'version four, first half; ');
    await sleep(100);
    writeSync(fd, 'second half');
    closeSync(fd);
    const v4 = await nextBackup(p, key);
    assert.equal(v4.text, 'version four, first half; second half');

    // The same content written again is not sealed again; an empty file replaces nothing.
    writeFileSync(file, 'version four, first half; second half');
    writeFileSync(file, '');
    await a.waitFor(/\[WRN\] BKUP: --backup-file .* is empty: not sealed; the current backup stays with the peers$/);
    assert.equal(a.lines.filter((l) => /changed: new backup seq/.test(l)).length, 4);
    const listed = await cliJson(['listbackups', ...d(A.dir)]);
    assert.equal(listed.newest_seq, v4.seq.toString());
    assert.equal(sha(readFileSync(join(A.dir, 'regtest', 'backup.sealed'))), sha(v4.sealed));
    p.close();
  } finally {
    assert.equal(await a.stop(), 0);
  }
  // A restart with the file unchanged seals nothing new.
  writeFileSync(file, 'version four, first half; second half');
  await sleep(500);
  const again = await Serve.start(A.dir, ['--backup-file', file, '--backup-debounce', '100ms']);
  try {
    await again.waitFor(/\[INF\] INPT: watching --backup-file /);
    await sleep(600);
    assert.equal(again.lines.filter((l) => /changed: new backup seq/.test(l)).length, 0, again.lines.join('\n'));
  } finally {
    assert.equal(await again.stop(), 0);
  }
});

test("--height-cmd 'echo 900000': getinfo reports the height and retention prunes against it", async () => {
  const A = await createNode();
  assert.equal((await cliJson(['getinfo', ...d(A.dir)])).retention, 'waiting for height');
  const P = new Uint8Array(32).fill(7);
  const pPub = Buffer.from(publicKeyOf(P)).toString('hex');
  // P's only channel closed at height 100: far more than 2016 blocks before 900000.
  const cp = 'ab'.repeat(32) + ':0';
  await cliJson(['addchannel', pPub, '--chan-point', cp, ...d(A.dir)]);
  await cliJson(['closechannel', '--chan-point', cp, '--height', '100', ...d(A.dir)]);
  const before = await cliJson(['getinfo', ...d(A.dir)]);
  assert.equal(before.retention, 'at height 100');
  const a = await Serve.start(A.dir, ['--height-cmd', 'echo 900000', '--height-interval', '200ms', '--retention-interval', '300ms', '--storage-policy', 'any', '--cooldown', '0']);
  try {
    await a.waitFor(/\[INF\] INPT: best height 900000 \(from --height-cmd, was 100\): retention can run$/);
    const info = await cliJson(['getinfo', ...d(A.dir)]);
    assert.equal(info.best_height, 900000);
    assert.equal(info.retention, 'at height 900000');
    const p = await RawPeer.connect(a.port, A.pubkey, { secret: P });
    await p.send({ type: 7, name: 'peer_storage', blob: Uint8Array.of(9, 9, 9) });
    await p.sync();
    p.close();
    await a.waitFor(/\[INF\] RETN: retention at height 900000: 1 pruned, 0 kept$/);
    assert.equal(await storedSha(A.dir, pPub), undefined);
  } finally {
    assert.equal(await a.stop(), 0);
  }
});

test('--channels-cmd with Core Lightning listpeerchannels JSON fills the registry; a channel no longer listed is closed at the best height', async () => {
  const A = await createNode();
  const dir = tempDir();
  const list = join(dir, 'channels.json');
  writeFileSync(list, readFileSync(CLN_CHANNELS.file));
  await cliJson(['setheight', '850000', ...d(A.dir)]);
  const a = await Serve.start(A.dir, ['--channels-cmd', `cat ${q(list)}`, '--channels-interval', '200ms']);
  try {
    await a.waitFor(/\[INF\] INPT: channels from --channels-cmd: 2 added, 0 closed, 0 updated, 0 unchanged$/);
    const rows = (await cliJson(['listchannels', ...d(A.dir)])).channels as { peer: string; state: string; chan_point: string; close_height: number | null }[];
    const byPeer = Object.fromEntries(rows.map((c) => [c.peer, c]));
    assert.equal(rows.length, 2);
    assert.equal(byPeer[CLN_CHANNELS.openPeer]!.state, 'open');
    assert.equal(byPeer[CLN_CHANNELS.openPeer]!.chan_point, 'e7d6c5b4a3928170f6e5d4c3b2a1f8f5f9c3e2b7d5ead1c36a0bde0b2b7c4c6d:0');
    assert.equal(byPeer[CLN_CHANNELS.closedPeer]!.state, 'closed');
    const info = await cliJson(['getinfo', ...d(A.dir)]);
    assert.equal(info.channels_known, 2);
    assert.equal(info.open_channels, 1);

    // The open channel is gone from the node's list (as lnd's listchannels drops a closed one).
    const fixture = JSON.parse(readFileSync(CLN_CHANNELS.file, 'utf8')) as { channels: { peer_id: string }[] };
    writeFileSync(list + '.tmp', JSON.stringify({ channels: fixture.channels.filter((c) => c.peer_id !== CLN_CHANNELS.openPeer) }));
    renameSync(list + '.tmp', list);
    await a.waitFor(/\[INF\] INPT: channels from --channels-cmd: 0 added, 1 closed \(1 no longer listed\), 0 updated, 1 unchanged$/);
    const after2 = (await cliJson(['listchannels', ...d(A.dir)])).channels as { peer: string; state: string; close_height: number | null }[];
    const open = after2.find((c) => c.peer === CLN_CHANNELS.openPeer)!;
    assert.equal(open.state, 'closed');
    assert.equal(open.close_height, 850000);
    assert.equal((await cliJson(['getinfo', ...d(A.dir)])).open_channels, 0);
  } finally {
    assert.equal(await a.stop(), 0);
  }
});

test('a failing command is logged once per failure streak, its recovery once, a hung one is killed at --cmd-timeout; the node goes on and never logs the command', async () => {
  const A = await createNode();
  const dir = tempDir();
  const h = join(dir, 'height');
  // The command carries a would-be password: it must never appear in the log.
  const a = await Serve.start(A.dir, [
    '--height-cmd', `PW=hunter2-secret; cat ${q(h)}`,
    '--height-interval', '150ms',
    '--channels-cmd', 'sleep 20',
    '--cmd-timeout', '300ms',
  ]);
  try {
    await a.waitFor(/\[WRN\] INPT: --height-cmd failed: exit 1: cat: .*: No such file or directory \(logged once until it works again; the node goes on\)$/);
    await a.waitFor(/\[WRN\] INPT: --channels-cmd failed: no answer within 300 ms \(killed\)/);
    // Several more failed runs, still one line.
    await sleep(1000);
    writeFileSync(h, 'not a number\n');
    await sleep(500);
    writeFileSync(h, '123456\n');
    const m = await a.waitFor(/\[INF\] INPT: --height-cmd works again after (\d+) failed runs$/);
    assert.ok(Number(m[1]) >= 4, `several runs failed (${m[1]})`);
    assert.equal(a.lines.filter((l) => /--height-cmd failed/.test(l)).length, 1, a.lines.join('\n'));
    assert.equal((await cliJson(['getinfo', ...d(A.dir)])).best_height, 123456);
    // A new streak is logged again, once.
    rmSync(h);
    await until(async () => a.lines.filter((l) => /--height-cmd failed/.test(l)).length === 2, 'the second streak');
    await sleep(600);
    assert.equal(a.lines.filter((l) => /--height-cmd failed/.test(l)).length, 2);
    assert.equal(a.lines.filter((l) => /--channels-cmd failed/.test(l)).length, 1);
    assert.equal(a.lines.filter((l) => l.includes('hunter2')).length, 0);
    // The node answers throughout.
    assert.equal((await cli(['listpeers', ...d(A.dir)])).status, 0);
  } finally {
    assert.equal(await a.stop(), 0);
  }
});
