// The files of a node are private, checked on real CLI processes: every directory 0700, every
// file 0600 (LevelDB's included) whatever the caller's umask; a data directory made 0755 by
// hand is tightened with one notice line; a key file of another user is refused (exit 3);
// node.key is written whole; restorefrompeer --out never writes through a symlink.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanup, cli, cliJson, createNode, d, Serve, tempDir } from './node-harness.js';
import { deriveSealKey, seal } from '../src/core/backup/seal.js';
import { readNodeKey } from '../src/core/datadir.js';
import { startProviders, storeAs, addr, type Provider } from './restore-helpers.js';

let oldMask: number;
before(() => {
  // The CLI sets its own umask; the test's (inherited by the children) is the usual loose one.
  oldMask = process.umask(0o022);
});
after(() => {
  process.umask(oldMask);
  cleanup();
});

/** Every entry under `dir` (itself included) with its permission bits, as [relative path, mode]. */
function modes(dir: string): [string, number, 'dir' | 'file' | 'other'][] {
  const out: [string, number, 'dir' | 'file' | 'other'][] = [];
  const walk = (p: string, rel: string) => {
    const st = lstatSync(p);
    out.push([rel, st.mode & 0o777, st.isDirectory() ? 'dir' : st.isFile() ? 'file' : 'other']);
    if (st.isDirectory()) for (const n of readdirSync(p).sort()) walk(join(p, n), rel === '.' ? n : `${rel}/${n}`);
  };
  walk(dir, '.');
  return out;
}

function assertPrivate(dir: string): void {
  const all = modes(dir);
  const loose = all.filter(([, m, kind]) => (kind === 'dir' ? m !== 0o700 : kind === 'file' ? m !== 0o600 : false));
  assert.deepEqual(loose, [], `entries that are not private:\n${loose.map(([p, m]) => `${m.toString(8)} ${p}`).join('\n')}`);
}

test('lnps create: a pre-existing 0755 data directory is made 0700 with one notice; every directory 0700, every file 0600 (LevelDB included)', async () => {
  const dir = join(tempDir(), 'node');
  mkdirSync(dir, { mode: 0o755 });
  chmodSync(dir, 0o755);
  const r = await cli(['create', ...d(dir)]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, `lnps: ${dir} had permissions 0755, open to other users: made it 0700\n`);
  assert.equal(lstatSync(dir).mode & 0o777, 0o700);
  const entries = modes(dir).map(([p]) => p);
  // LevelDB's own files are among those checked.
  for (const name of ['node.key', 'regtest', 'regtest/db', 'regtest/db/CURRENT', 'regtest/db/LOCK']) assert.ok(entries.includes(name), `${name} in ${entries.join(' ')}`);
  assert.ok(entries.some((p) => /^regtest\/db\/MANIFEST-\d+$/.test(p)), entries.join(' '));
  assertPrivate(dir);
  // node.key holds the whole key, and no temporary file was left next to it.
  assert.match(readFileSync(join(dir, 'node.key'), 'utf8'), /^[0-9a-f]{64}\n$/);
  assert.deepEqual(readdirSync(dir).filter((n) => n.endsWith('.tmp')), []);
  // A second run has nothing to tighten: no notice.
  const again = await cli(['create', '--network', 'signet', '--datadir', dir]);
  assert.equal(again.status, 0, again.stderr);
  assert.equal(again.stderr, '');
  assertPrivate(dir);
});

test('a database made readable by others (0755 directories, 0644 files) is tightened by the next command and by serve, each with a notice', async () => {
  const A = await createNode();
  const db = join(A.dir, 'regtest', 'db');
  const loosen = () => {
    chmodSync(A.dir, 0o755);
    chmodSync(join(A.dir, 'regtest'), 0o755);
    chmodSync(db, 0o755);
    for (const n of readdirSync(db)) chmodSync(join(db, n), 0o644);
  };
  loosen();
  const files = readdirSync(db).length;
  const r = await cli(['listpeerstorage', ...d(A.dir)]);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stderr.trimEnd().split('\n');
  assert.deepEqual(lines.slice(0, 3), [
    `lnps: ${A.dir} had permissions 0755, open to other users: made it 0700`,
    `lnps: ${join(A.dir, 'regtest')} had permissions 0755, open to other users: made it 0700`,
    `lnps: ${db} had permissions 0755, open to other users: made it 0700`,
  ]);
  // Database files are made 0600 without a notice.
  assert.equal(lines.length, 3);
  assert.ok(files > 3);
  assertPrivate(A.dir);

  // serve: the same, in its log; and what it creates (pid file, log file, own files) is private.
  loosen();
  const s = await Serve.start(A.dir, ['--log-file', join(A.dir, 'regtest', 'serve.log')]);
  try {
    assert.ok(s.lines.some((l) => l.includes(`${db} had permissions 0755, open to other users: made it 0700`)), s.lines.join('\n'));
    // A blob stored while it runs lands in new LevelDB files: 0600 too.
    const G = '0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798';
    const line = JSON.stringify({ peer: G, blob: 'c0ffee', updated_at: 1_700_000_000, update_count: 1 });
    writeFileSync(join(A.dir, 'in.jsonl'), line + '\n');
    chmodSync(join(A.dir, 'in.jsonl'), 0o600);
    const imp = await cli(['importpeerstorage', join(A.dir, 'in.jsonl'), ...d(A.dir)]);
    assert.equal(imp.status, 0, imp.stderr);
  } finally {
    assert.equal(await s.stop(), 0);
  }
  assertPrivate(A.dir);
});

test('a key file owned by another user is refused: exit 3, one line', { skip: typeof process.getuid !== 'function' || process.getuid() !== 0 ? 'needs root to give a file to another user' : false }, async () => {
  const A = await createNode();
  chownSync(join(A.dir, 'node.key'), 65534, 65534);
  for (const args of [['getinfo'], ['backup', join(A.dir, 'node.key'), '--seq', '1'], ['serve', '--no-listen']]) {
    const r = await cli([...args, ...d(A.dir)]);
    assert.equal(r.status, 3, `${args[0]}: ${r.stderr}`);
    assert.equal(r.stderr, `lnps: key file ${join(A.dir, 'node.key')} is owned by user id 65534, not by the user running lnps (0): it must be the user's own (chown it, or run lnps as its owner)\n`, args[0]);
  }
});

let providers: Provider[] = [];
after(async () => {
  await Promise.all(providers.map((p) => p.serve.stop()));
});

test('restorefrompeer --out: a symlink at the target is never followed; with --force it is replaced by a 0600 file', async () => {
  providers = await startProviders(1);
  const p = providers[0]!;
  const K = await createNode();
  const secret = readNodeKey(join(K.dir, 'node.key'));
  await storeAs(p, secret, seal(Buffer.from('own backup seq 3'), { seq: 3n, key: deriveSealKey(secret), pad: 'none' }));
  secret.fill(0);
  const work = tempDir();
  const victim = join(work, 'victim');
  writeFileSync(victim, 'not yours to overwrite\n');
  chmodSync(victim, 0o644);
  const out = join(work, 'restored');
  symlinkSync(victim, out);

  // Without --force the symlink counts as an existing file: refused before any peer is asked.
  const refused = await cli(['restorefrompeer', addr(p), '--out', out, '--timeout', '3s', ...d(K.dir)]);
  assert.equal(refused.status, 3, refused.stderr);
  assert.equal(refused.stderr, `lnps: ${out} already exists: lnps does not overwrite it unless you add --force\n`);
  assert.equal(readlinkSync(out), victim);

  // With --force the symlink itself is replaced; its target is untouched.
  const r = await cli(['restorefrompeer', addr(p), '--out', out, '--force', '--timeout', '3s', ...d(K.dir)]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).seq, '3');
  const st = lstatSync(out);
  assert.ok(st.isFile() && !st.isSymbolicLink());
  assert.equal(st.mode & 0o777, 0o600);
  assert.equal(readFileSync(out, 'utf8'), 'own backup seq 3');
  assert.equal(readFileSync(victim, 'utf8'), 'not yours to overwrite\n');
  assert.equal(lstatSync(victim).mode & 0o777, 0o644);
  assert.deepEqual(readdirSync(work).sort(), ['restored', 'victim']);
});
