import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { publicKeyOf } from '../src/core/keys.js';
import { toHex } from '../src/core/bytes.js';
import { openLevelKv } from '../src/core/store/index.js';

const BIN = fileURLToPath(new URL('../../bin/lnps.js', import.meta.url));

function pkHex(i: number): string {
  const s = new Uint8Array(32);
  new DataView(s.buffer).setUint32(28, i + 1);
  return toHex(publicKeyOf(s));
}
const CP = (b: string, n = 0) => `${b.repeat(64)}:${n}`;

function withDir(fn: (dir: string, run: (...args: string[]) => { status: number | null; stdout: string; stderr: string; json: () => any }) => void | Promise<void>) {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lnps-cli-store-'));
    const run = (...args: string[]) => {
      const r = spawnSync(process.execPath, [BIN, ...args, '--datadir', dir, '--network', 'regtest'], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 60_000 });
      // Exit 70 is a bug in lnps: fail with its message rather than a bare status mismatch.
      if (r.status === 70) throw new Error(`lnps ${args.join(' ')}: internal error: ${r.stderr}`);
      return { status: r.status, stdout: r.stdout, stderr: r.stderr, json: () => JSON.parse(r.stdout) };
    };
    try {
      await fn(dir, run);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

test('create: datadir 0700, node.key 0600 with 64 hex digits, public key printed; never overwrites', withDir((dir, run) => {
  const r = run('create');
  assert.equal(r.status, 0, r.stderr);
  const out = r.json();
  assert.deepEqual(out.created, ['key', 'database']);
  const key = readFileSync(join(dir, 'node.key'), 'utf8');
  assert.match(key, /^[0-9a-f]{64}\n$/);
  assert.equal(out.node_pubkey, toHex(publicKeyOf(Buffer.from(key.trim(), 'hex'))));
  assert.ok(!r.stdout.includes(key.trim()), 'the secret is never printed');
  assert.match(out.reminder, /decrypts this node's backups/);
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  assert.equal(statSync(join(dir, 'node.key')).mode & 0o777, 0o600);
  assert.ok(existsSync(join(dir, 'regtest', 'db', 'CURRENT')));
  const again = run('create');
  assert.equal(again.status, 3);
  assert.match(again.stderr, /^lnps: already created: a node key at .* and a regtest database at .* exist/);
  assert.equal(readFileSync(join(dir, 'node.key'), 'utf8'), key);
  // Another network: only its database is created, with the same key.
  const r2 = spawnSync(process.execPath, [BIN, 'create', '--datadir', dir, '--network', 'signet'], { encoding: 'utf8' });
  assert.equal(r2.status, 0, r2.stderr);
  assert.deepEqual(JSON.parse(r2.stdout).created, ['database']);
  assert.equal(JSON.parse(r2.stdout).node_pubkey, out.node_pubkey);
}));

test('read commands never create a database: exit 3, "no database at PATH: run `lnps create` with the flags given"', withDir((dir, run) => {
  for (const args of [['getinfo'], ['listpeerstorage'], ['listchannels'], ['getpeerstorage', pkHex(1)]]) {
    const r = run(...args);
    assert.equal(r.status, 3, args.join(' '));
    assert.equal(r.stderr, `lnps: no database at ${join(dir, 'regtest', 'db')}: run \`lnps create --datadir ${dir} --network regtest\`\n`);
    assert.equal(r.stdout, '');
  }
  assert.equal(existsSync(join(dir, 'regtest', 'db')), false);
}));

test('a key file readable by others is refused (exit 3) with the chmod to fix it', withDir((dir, run) => {
  assert.equal(run('create').status, 0);
  chmodSync(join(dir, 'node.key'), 0o644);
  const r = run('getinfo');
  assert.equal(r.status, 3);
  assert.equal(r.stderr, `lnps: key file ${join(dir, 'node.key')} has permissions 0644, which are too open: it must be readable by its owner only (chmod 600 ${join(dir, 'node.key')})\n`);
  // create for another network checks the key before making anything.
  const c = spawnSync(process.execPath, [BIN, 'create', '--datadir', dir, '--network', 'signet'], { encoding: 'utf8' });
  assert.equal(c.status, 3);
  assert.match(c.stderr, /has permissions 0644, which are too open/);
  assert.equal(existsSync(join(dir, 'signet')), false);
  chmodSync(join(dir, 'node.key'), 0o600);
  const ok = run('getinfo');
  assert.equal(ok.status, 0);
  const info = ok.json();
  // The database's fields; the settings report and the running-node fields are checked in daemon.test.
  const { settings, uris, version, ...db } = info;
  assert.deepEqual(
    { ...db, node_pubkey: typeof db.node_pubkey },
    {
      node_pubkey: 'string', datadir: dir, network: 'regtest', database: join(dir, 'regtest', 'db'), schema_version: 1, peers_stored: 0, bytes_held: 0, channels_known: 0, open_channels: 0, best_height: null,
      retention: 'waiting for height', storage_policy: 'channel-peers', node_running: false, connected_peers: 0, started_at: null, uptime_s: null,
    },
  );
  assert.deepEqual(settings['storage-policy'], { value: 'channel-peers', source: 'default' });
  assert.deepEqual(settings.network, { value: 'regtest', source: 'flag' });
  assert.equal(uris.length, 1);
  assert.match(version, /^\d+\.\d+\.\d+$/);
}));

test('a database held by another process: exit 3, naming the running node when its pid file exists', withDir(async (dir, run) => {
  assert.equal(run('create').status, 0);
  const kv = await openLevelKv(join(dir, 'regtest', 'db'));
  try {
    const r = run('listpeerstorage');
    assert.equal(r.status, 3);
    assert.equal(r.stderr, `lnps: the database at ${join(dir, 'regtest', 'db')} is locked by another process: close it (or stop the lnps node using it) and retry\n`);
    // A pid file naming a live process (this test's own) names the node; a stale one does not.
    writeFileSync(join(dir, 'regtest', 'lnps.pid'), `${process.pid}\n`);
    const r2 = run('getinfo');
    assert.equal(r2.status, 3);
    assert.match(r2.stderr, new RegExp(`^lnps: the database is held by the running lnps node \\(pid ${process.pid}\\); `));
    writeFileSync(join(dir, 'regtest', 'lnps.pid'), '2147483646\n');
    assert.match(run('getinfo').stderr, /is locked by another process/);
  } finally {
    await kv.close();
  }
}));

test('channels: add, close, list, import from lnd JSON; setheight', withDir((dir, run) => {
  assert.equal(run('create').status, 0);
  const add = run('addchannel', '--peer', pkHex(1), '--chan-point', CP('a'), '--height', '800000');
  assert.equal(add.status, 0, add.stderr);
  assert.deepEqual({ ...add.json(), added_at: 0 }, { chan_point: CP('a'), peer: pkHex(1), state: 'open', added_at: 0, closed_at: null, close_height: null, change: 'added' });
  const close = run('closechannel', '--chan-point', CP('a'), '--height', '800100');
  assert.equal(close.json().state, 'closed');
  assert.equal(close.json().close_height, 800100);
  const unknown = run('closechannel', '--chan-point', CP('f'));
  assert.equal(unknown.status, 1);
  assert.match(unknown.stderr, /no channel f{64}:0 is known: add it with `lnps addchannel` first/);
  assert.equal(run('addchannel', '--peer', pkHex(1), '--chan-point', 'nothex:0').status, 2);
  assert.equal(run('addchannel', '--peer', '02' + '00'.repeat(32), '--chan-point', CP('b')).status, 2);
  writeFileSync(join(dir, 'open.json'), JSON.stringify({ channels: [{ active: true, remote_pubkey: pkHex(2), channel_point: CP('b', 1), capacity: '100000' }, { remote_pubkey: pkHex(3), channel_point: CP('c') }] }));
  writeFileSync(join(dir, 'closed.json'), JSON.stringify({ channels: [{ remote_pubkey: pkHex(4), channel_point: CP('d'), close_height: 800500, close_type: 'COOPERATIVE_CLOSE' }, { remote_pubkey: pkHex(1), channel_point: CP('a'), close_height: 800100 }] }));
  const imp = run('importchannels', '--listchannels', join(dir, 'open.json'), '--closedchannels', join(dir, 'closed.json'));
  assert.equal(imp.status, 0, imp.stderr);
  assert.deepEqual(imp.json(), { channels: 4, added: 3, closed: 0, updated: 0, unchanged: 1, best_height: 800500 });
  const list = run('listchannels');
  assert.deepEqual(list.json().channels.map((c: any) => [c.chan_point, c.state, c.close_height]), [
    [CP('a'), 'closed', 800100],
    [CP('b', 1), 'open', null],
    [CP('c'), 'open', null],
    [CP('d'), 'closed', 800500],
  ]);
  assert.equal(run('listchannels', '--state', 'open', '--peer', pkHex(3)).json().channels.length, 1);
  const table = run('listchannels', '--format', 'table');
  assert.match(table.stdout, /^CHAN_POINT +PEER +STATE +CLOSE_HEIGHT\n/);
  assert.match(table.stdout, /\(4 rows\)\n$/);
  writeFileSync(join(dir, 'bad.json'), '{"channels": [{"remote_pubkey": "02zz", "channel_point": "x"}]}');
  const bad = run('importchannels', '--listchannels', join(dir, 'bad.json'));
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /listchannels entry 1: remote_pubkey must be 66 hex digits/);
  assert.equal(run('importchannels').status, 2);
  const h = run('setheight', '900000');
  assert.deepEqual(h.json(), { height: 900000, previous: 800500 });
  assert.equal(run('setheight', 'tall').status, 2);
  const info = run('getinfo').json();
  assert.deepEqual([info.channels_known, info.open_channels, info.best_height], [4, 2, 900000]);
}));

function exportLine(peer: string, blobHex: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ peer, blob: blobHex, updated_at: 1_700_000_000, first_stored_at: 1_690_000_000, update_count: 4, ...extra });
}

test('import: a bad line imports nothing and names the line; a good file imports all, export gives it back', withDir((dir, run) => {
  assert.equal(run('create').status, 0);
  const good = [exportLine(pkHex(1), 'aa'.repeat(1024)), exportLine(pkHex(2), '0102')];
  // One bad line end to end (every kind of bad line is checked in store-ops.test.ts).
  writeFileSync(join(dir, 'in.jsonl'), [good[0], exportLine('02' + '00'.repeat(32), '00'), good[1]].join('\n') + '\n');
  const bad = run('importpeerstorage', join(dir, 'in.jsonl'));
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /line 2: peer 020{64} is not a point on secp256k1; nothing was imported/);
  assert.equal(run('getinfo').json().peers_stored, 0);
  assert.equal(run('importpeerstorage', join(dir, 'missing.jsonl')).status, 3);
  writeFileSync(join(dir, 'in.jsonl'), good.join('\n') + '\n\n');
  const ok = run('importpeerstorage', join(dir, 'in.jsonl'));
  assert.deepEqual(ok.json(), { imported: 2, added: 2, replaced: 0, skipped_older: [] });
  const info = run('getinfo').json();
  assert.deepEqual([info.peers_stored, info.bytes_held], [2, 1026]);
  const exp = run('exportpeerstorage');
  assert.equal(exp.status, 0);
  const lines = exp.stdout.trim().split('\n').map((l) => JSON.parse(l));
  const byPeer = new Map(lines.map((l) => [l.peer, l]));
  assert.deepEqual(byPeer.get(pkHex(2)), { peer: pkHex(2), blob: '0102', blob_sha256: 'a12871fee210fb8619291eaea194581cbd2531e4b23759d225f6806923f63222', first_stored_at: 1_690_000_000, updated_at: 1_700_000_000, update_count: 4 });
  // Round trip into a second node through a file.
  const out = join(dir, 'export.jsonl');
  const e2 = run('exportpeerstorage', '--out', out);
  assert.deepEqual(e2.json(), { exported: 2, out });
  assert.equal(statSync(out).mode & 0o777, 0o600);
  assert.equal(readFileSync(out, 'utf8'), exp.stdout);
  const other = mkdtempSync(join(tmpdir(), 'lnps-cli-store-b-'));
  try {
    const o = (...a: string[]) => spawnSync(process.execPath, [BIN, ...a, '--datadir', other], { encoding: 'utf8' });
    assert.equal(o('create').status, 0);
    assert.equal(o('importpeerstorage', out).status, 0);
    assert.equal(o('exportpeerstorage').stdout, exp.stdout);
  } finally {
    rmSync(other, { recursive: true, force: true });
  }
}));

test('listpeerstorage, getpeerstorage (--out), prunepeerbackup (dry run, retention, --peer --force)', withDir((dir, run) => {
  assert.equal(run('create').status, 0);
  writeFileSync(join(dir, 'in.jsonl'), [1, 2, 3].map((i) => exportLine(pkHex(i), '0' + i + 'ff')).join('\n'));
  assert.equal(run('importpeerstorage', join(dir, 'in.jsonl')).status, 0);
  assert.equal(run('addchannel', '--peer', pkHex(1), '--chan-point', CP('1')).status, 0);
  assert.equal(run('addchannel', '--peer', pkHex(2), '--chan-point', CP('2')).status, 0);
  assert.equal(run('addchannel', '--peer', pkHex(3), '--chan-point', CP('3')).status, 0);
  assert.equal(run('closechannel', '--chan-point', CP('2'), '--height', '800000').status, 0);
  assert.equal(run('closechannel', '--chan-point', CP('3'), '--height', '800001').status, 0);

  const list = run('listpeerstorage', '--height', '802016');
  assert.equal(list.status, 0, list.stderr);
  const peers = list.json().peers;
  assert.deepEqual(Object.keys(list.json()), ['peers']);
  const row2 = peers.find((p: any) => p.peer === pkHex(2));
  assert.deepEqual(row2, { peer: pkHex(2), blob_len: 2, blob_sha256: row2.blob_sha256, first_stored_at: 1_690_000_000, updated_at: 1_700_000_000, update_count: 4, open_channels: 0, last_close_height: 800000, prunable: true });
  assert.deepEqual(peers.map((p: any) => [p.peer, p.prunable]).sort(), [[pkHex(1), false], [pkHex(2), true], [pkHex(3), false]].sort());
  assert.equal(run('listpeerstorage', '--peer', pkHex(1)).json().peers.length, 1);
  assert.equal(run('listpeerstorage', '--peer', pkHex(9)).status, 1);
  const table = run('listpeerstorage', '--format', 'table');
  assert.match(table.stdout, /^PEER +BLOB_LEN +UPDATE_COUNT +UPDATED_AT +OPEN_CHANNELS +LAST_CLOSE_HEIGHT +PRUNABLE\n/);

  const get = run('getpeerstorage', pkHex(3));
  assert.equal(get.json().blob, '03ff');
  const outFile = join(dir, 'blob.bin');
  const got = run('getpeerstorage', pkHex(3), '--out', outFile);
  assert.equal(got.json().out, outFile);
  assert.equal(got.json().blob, undefined);
  assert.deepEqual([...readFileSync(outFile)], [3, 0xff]);
  assert.equal(run('getpeerstorage', 'zz').status, 2);

  // Height 802016: peer 2 closed at 800000 (2016 blocks ago) goes; peer 3 (2015) stays.
  assert.equal(run('prunepeerbackup').status, 0, 'height known from closechannel');
  run('setheight', '1'); // no longer enough: the flag wins below
  const dry = run('prunepeerbackup', '--height', '802016', '--dry-run');
  assert.deepEqual(dry.json().pruned.map((p: any) => p.peer), [pkHex(2)]);
  assert.equal(dry.json().kept, 2);
  assert.equal(run('getinfo').json().peers_stored, 3);
  const real = run('prunepeerbackup', '--height', '802016');
  assert.equal(real.status, 0);
  assert.deepEqual({ ...real.json(), pruned: real.json().pruned.map((p: any) => p.peer) }, { pruned: [pkHex(2)], kept: 2, dry_run: false, height: 802016 });
  assert.equal(run('getinfo').json().peers_stored, 2);
  // Not prunable without --force; --force needs --peer.
  const notYet = run('prunepeerbackup', '--height', '802016', '--peer', pkHex(1));
  assert.deepEqual([notYet.json().pruned.length, notYet.json().kept], [0, 1]);
  assert.equal(run('prunepeerbackup', '--force', '--height', '1').status, 2);
  const forced = run('prunepeerbackup', '--peer', pkHex(1), '--force');
  assert.deepEqual(forced.json().pruned.map((p: any) => [p.peer, p.open_channels]), [[pkHex(1), 1]]);
  assert.deepEqual(run('getinfo').json().bytes_held, 2);
}));

test('database commands have --help with an example', () => {
  // A sample (each spawn costs a node start-up); every command is run for real above.
  for (const c of ['prunepeerbackup', 'importchannels', 'setheight']) {
    const r = spawnSync(process.execPath, [BIN, c, '--help'], { encoding: 'utf8' });
    assert.equal(r.status, 0, c);
    assert.match(r.stdout, new RegExp(`Examples:\\n  \\$ (lncli|lnps) `), c);
  }
});

test('hints repeat the context: the flags the user gave, a database or a running node on another network', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lnps-cli-hint-'));
  const lnps = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', LNPS_DIR: '' }, timeout: 60_000 });
  let serve: ReturnType<typeof spawn> | undefined;
  try {
    // Only the flags given are repeated; --datadir=D counts too, and is shown absolute.
    const sub = join(dir, 'sub');
    const a = lnps('listpeerstorage', `--datadir=${sub}`, '--network', 'signet');
    assert.equal(a.status, 3);
    assert.equal(a.stderr, `lnps: no database at ${join(sub, 'signet', 'db')}: run \`lnps create --datadir ${sub} --network signet\`\n`);
    // A regtest database exists and the user forgot --network.
    assert.equal(lnps('create', '--datadir', dir, '--network', 'regtest').status, 0);
    const b = lnps('getinfo', '--datadir', dir);
    assert.equal(b.status, 3);
    assert.equal(b.stderr, `lnps: no database at ${join(dir, 'mainnet', 'db')}: run \`lnps create --datadir ${dir}\`, or add --network regtest (${dir} has a database for regtest)\n`);
    // A regtest node runs: the hint names it, for a read command and for `lnps stop`.
    serve = spawn(process.execPath, [BIN, 'serve', '--datadir', dir, '--network', 'regtest', '--listen', '127.0.0.1:0'], { stdio: 'ignore' });
    const sock = join(dir, 'regtest', 'lnps.sock');
    for (let i = 0; i < 200 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(existsSync(sock), 'the node started');
    const c = lnps('listpeerstorage', '--datadir', dir);
    assert.equal(c.status, 3);
    assert.equal(c.stderr, `lnps: no database at ${join(dir, 'mainnet', 'db')}: run \`lnps create --datadir ${dir}\`; a node is running in ${dir} on regtest (pid ${serve.pid}): add --network regtest\n`);
    const d = lnps('stop', '--datadir', dir);
    assert.equal(d.status, 3);
    assert.equal(d.stderr, `lnps: no lnps node is running for ${dir} (mainnet); a node is running in ${dir} on regtest (pid ${serve.pid}): add --network regtest\n`);
    const e = lnps('stop', '--datadir', dir, '--network', 'regtest');
    assert.equal(e.status, 0, e.stderr);
    serve = undefined;
  } finally {
    if (serve?.pid !== undefined && serve.exitCode === null) serve.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
});
