// The database belongs to one node key, and an empty backup is refused: through the built CLI
// and a real `lnps serve`.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { publicKeyOf } from '../src/core/keys.js';
import { toHex } from '../src/core/bytes.js';
import { openLevelKv } from '../src/core/store/level.js';
import { KEY_NODE } from '../src/core/store/records.js';
import { BIN, cleanup, cli, cliJson, createNode, d, tempDir } from './node-harness.js';
import { spawn } from 'node:child_process';

after(cleanup);

/** A second key file, not the node's. */
function otherKey(dir: string): { path: string; pubkey: string } {
  const secret = new Uint8Array(32).fill(0x4c);
  const path = join(dir, 'other.key');
  writeFileSync(path, toHex(secret) + '\n', { mode: 0o600 });
  return { path, pubkey: toHex(publicKeyOf(secret)) };
}

/** Every command that opens the database (without a running node), with arguments that would succeed. */
function dbCommands(dir: string): string[][] {
  writeFileSync(join(dir, 'b.backup'), 'backup');
  writeFileSync(join(dir, 'empty.jsonl'), '');
  return [
    ['getinfo'],
    ['listpeerstorage'],
    ['exportpeerstorage'],
    ['importpeerstorage', join(dir, 'empty.jsonl')],
    ['listchannels'],
    ['setheight', '100'],
    ['prunepeerbackup', '--dry-run', '--height', '100'],
    ['backup', join(dir, 'b.backup')],
    ['listbackups'],
  ];
}

test('create records the node key; every command that opens the database with another key is exit 3, naming both', async () => {
  const { dir, pubkey } = await createNode();
  const other = otherKey(dir);
  const msg = `lnps: the regtest database at ${join(dir, 'regtest', 'db')} belongs to node ${pubkey}, but the key file ${other.path} is node ${other.pubkey}: pass --key-file with the key of node ${pubkey}\n`;
  for (const args of dbCommands(dir)) {
    const r = await cli([...args, ...d(dir), '--key-file', other.path]);
    assert.equal(r.status, 3, `${args[0]}: ${r.stderr}`);
    assert.equal(r.stderr, msg, args[0]);
    // The right key works, and says nothing about recording.
    const ok = await cli([...args, ...d(dir)]);
    assert.equal(ok.status, 0, `${args[0]}: ${ok.stderr}`);
    assert.equal(ok.stderr, '', args[0]);
  }
  // No backup was made under the other key's name.
  assert.equal((await cliJson(['listbackups', ...d(dir)])).newest_seq !== null, true);
  // serve refuses to start, before taking the pid file or the socket.
  const serve = spawn(process.execPath, [BIN, 'serve', ...d(dir), '--listen', '127.0.0.1:0', '--key-file', other.path], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  serve.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
  const code = await new Promise<number | null>((resolve) => {
    const t = setTimeout(() => serve.kill('SIGKILL'), 20_000);
    serve.on('exit', (c) => (clearTimeout(t), resolve(c)));
  });
  assert.equal(code, 3);
  assert.match(err, new RegExp(`belongs to node ${pubkey}, but the key file .* is node ${other.pubkey}`));
  assert.equal(existsSync(join(dir, 'regtest', 'lnps.pid')), false);
});

test('a database whose key file is gone: create never makes a new key beside it, and no hint suggests it', async () => {
  const { dir } = await createNode();
  renameSync(join(dir, 'node.key'), join(dir, 'node.key.away'));
  const c = await cli(['create', ...d(dir)]);
  assert.equal(c.status, 3);
  assert.match(c.stderr, /already holds the regtest database of a node, but no key at .*node\.key: lnps create does not make a new key next to them/);
  assert.equal(existsSync(join(dir, 'node.key')), false);
  // Nor for another network of the same data directory.
  const m = await cli(['create', '--datadir', dir, '--network', 'signet']);
  assert.equal(m.status, 3);
  assert.equal(existsSync(join(dir, 'node.key')), false);
  assert.equal(existsSync(join(dir, 'signet')), false);
  // Commands that need the key name it, and never suggest `lnps create`.
  for (const args of [['getinfo'], ['seal', join(dir, 'x')], ['backup', join(dir, 'x')]]) {
    writeFileSync(join(dir, 'x'), 'x');
    const r = await cli([...args, ...d(dir)]);
    assert.equal(r.status, 3, args[0]);
    assert.match(r.stderr, /no key file at .*node\.key, but .* holds the regtest database of a node: pass --key-file with that node's key/, args[0]);
    assert.doesNotMatch(r.stderr, /lnps create/, args[0]);
  }
  // A data directory with no database still gets the plain hint.
  const fresh = tempDir();
  mkdirSync(join(fresh, 'x'), { recursive: true });
  const s = await cli(['seal', join(dir, 'x'), '--datadir', fresh]);
  assert.equal(s.status, 3);
  assert.match(s.stderr, new RegExp(`run \`lnps create --datadir ${fresh}\` or pass --key-file`));
});

test('an older database without the record: the key is recorded on first open, said once', async () => {
  const { dir, pubkey } = await createNode();
  const kv = await openLevelKv(join(dir, 'regtest', 'db'));
  assert.ok(await kv.get(KEY_NODE), 'create recorded the key');
  await kv.batch([{ type: 'del', key: KEY_NODE }]);
  await kv.close();
  const first = await cli(['getinfo', ...d(dir)]);
  assert.equal(first.status, 0, first.stderr);
  assert.equal(first.stderr, `lnps: recorded node ${pubkey} in the regtest database at ${join(dir, 'regtest', 'db')}: from now on it opens only with this key\n`);
  const second = await cli(['getinfo', ...d(dir)]);
  assert.equal(second.stderr, '');
  const other = otherKey(dir);
  assert.equal((await cli(['getinfo', ...d(dir), '--key-file', other.path])).status, 3);
});

test('backup of an empty file is exit 1 and sends nothing, unless --allow-empty', async () => {
  const { dir } = await createNode();
  writeFileSync(join(dir, 'good'), 'good backup');
  writeFileSync(join(dir, 'empty'), '');
  const good = await cliJson(['backup', join(dir, 'good'), ...d(dir)]);
  const r = await cli(['backup', join(dir, 'empty'), ...d(dir)]);
  assert.equal(r.status, 1);
  assert.equal(r.stderr, 'lnps: the backup is empty (0 bytes): nothing was sent, and the current backup stays with the peers; add --allow-empty to send an empty one on purpose\n');
  assert.equal((await cliJson(['listbackups', ...d(dir)])).newest_seq, good.seq);
  const forced = await cliJson(['backup', join(dir, 'empty'), '--allow-empty', ...d(dir)]);
  assert.notEqual(forced.seq, good.seq);
  assert.equal((await cliJson(['listbackups', ...d(dir)])).newest_seq, forced.seq);
});

test('with a node running, a command given another --key-file is exit 3 naming both keys, and nothing reaches the node', async () => {
  const { dir, pubkey } = await createNode();
  const other = otherKey(dir);
  const { Serve } = await import('./node-harness.js');
  const s = await Serve.start(dir, ['--no-listen']);
  try {
    writeFileSync(join(dir, 'b.backup'), 'backup');
    for (const args of [['getinfo'], ['listpeerstorage'], ['backup', join(dir, 'b.backup')], ['listbackups']]) {
      const r = await cli([...args, ...d(dir), '--key-file', other.path]);
      assert.equal(r.status, 3, `${args[0]}: ${r.stderr}`);
      assert.equal(r.stderr, `lnps: the node running on ${dir} (regtest) is node ${pubkey}, and its regtest database belongs to it, but the key file ${other.path} is node ${other.pubkey}: pass --key-file with the key of node ${pubkey}\n`, args[0]);
    }
    assert.equal(s.lines.filter((l) => /new backup seq/.test(l)).length, 0);
    // The node's own key (given explicitly) is fine.
    assert.equal((await cli(['getinfo', ...d(dir), '--key-file', join(dir, 'node.key')])).status, 0);
  } finally {
    await s.stop();
  }
});
