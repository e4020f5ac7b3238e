// Every `--out` follows one set of rules, through the built CLI: an existing file is refused
// with the same message and exit code in every command unless --force; with --force the file
// is replaced whole (mode 0600 even when the old one was 0644), a symlink at the target is
// replaced rather than followed, and no temporary file is left behind.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { publicKeyOf } from '../src/core/keys.js';
import { toHex } from '../src/core/bytes.js';
import { streamOutputFile, writeOutputFile } from '../src/core/outfile.js';

const BIN = fileURLToPath(new URL('../../bin/lnps.js', import.meta.url));

let dir: string;
let datadir: string;
let work: string;

function run(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args, '--datadir', datadir, '--network', 'regtest'], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 60_000 });
  if (r.status === 70) throw new Error(`lnps ${args.join(' ')}: internal error: ${r.stderr}`);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function pkHex(i: number): string {
  const s = new Uint8Array(32);
  new DataView(s.buffer).setUint32(28, i + 1);
  return toHex(publicKeyOf(s));
}

const PEER = () => pkHex(7);

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'lnps-outfile-'));
  datadir = join(dir, 'node');
  work = join(dir, 'work');
  mkdirSync(work);
  const c = run('create');
  assert.equal(c.status, 0, c.stderr);
  writeFileSync(join(work, 'plain.backup'), 'channel backup bytes\n');
  const line = JSON.stringify({ peer: PEER(), blob: 'c0ffee', first_stored_at: 1_690_000_000, updated_at: 1_700_000_000, update_count: 1 });
  writeFileSync(join(work, 'in.jsonl'), line + '\n');
  const imp = run('importpeerstorage', join(work, 'in.jsonl'));
  assert.equal(imp.status, 0, imp.stderr);
  // A sealed blob for verify-blob, and shards for rebuild.
  const s = run('seal', join(work, 'plain.backup'), '--pad', 'none', '--seq', '5', '--out', join(work, 'blob.bin'));
  assert.equal(s.status, 0, s.stderr);
  const st = run('stripe', join(work, 'plain.backup'), '--k', '2', '--n', '3', '--seq', '6', '--out', join(work, 'shards'));
  assert.equal(st.status, 0, st.stderr);
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Each command that writes a file with --out, with the arguments of a run that succeeds. */
const COMMANDS: { name: string; args: (out: string) => string[]; content?: (out: string) => void }[] = [
  { name: 'seal', args: (out) => ['seal', join(work, 'plain.backup'), '--pad', 'none', '--out', out] },
  { name: 'encode', args: (out) => ['encode', 'peer_storage', '--blob', '0102', '--out', out], content: (out) => assert.equal(readFileSync(out).toString('hex'), '000700020102') },
  { name: 'getpeerstorage', args: (out) => ['getpeerstorage', PEER(), '--out', out], content: (out) => assert.equal(readFileSync(out).toString('hex'), 'c0ffee') },
  { name: 'verify-blob', args: (out) => ['verify-blob', '--file', join(work, 'blob.bin'), '--out', out], content: (out) => assert.equal(readFileSync(out, 'utf8'), 'channel backup bytes\n') },
  { name: 'rebuild', args: (out) => ['rebuild', join(work, 'shards'), '--out', out], content: (out) => assert.equal(readFileSync(out, 'utf8'), 'channel backup bytes\n') },
  { name: 'exportpeerstorage', args: (out) => ['exportpeerstorage', '--out', out], content: (out) => assert.equal(JSON.parse(readFileSync(out, 'utf8')).blob, 'c0ffee') },
];

const refusal = (path: string) => `lnps: ${path} already exists: lnps does not overwrite it unless you add --force\n`;

for (const c of COMMANDS) {
  test(`${c.name} --out: an existing file is refused (exit 3, one message); --force replaces it whole, mode 0600`, () => {
    const out = join(work, `${c.name}.out`);
    writeFileSync(out, 'keep me');
    chmodSync(out, 0o644);
    const r = run(...c.args(out));
    assert.equal(r.status, 3);
    assert.equal(r.stderr, refusal(out));
    assert.equal(readFileSync(out, 'utf8'), 'keep me');
    const f = run(...c.args(out), '--force');
    assert.equal(f.status, 0, f.stderr);
    assert.notEqual(readFileSync(out, 'utf8'), 'keep me');
    c.content?.(out);
    // Not the old file's mode: a new private file took the name.
    assert.equal(statSync(out).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(work).filter((n) => n.endsWith('.tmp')), []);
  });

  test(`${c.name} --out: a symlink at the target is refused without --force, replaced (never followed) with it`, () => {
    const target = join(work, `${c.name}.victim`);
    writeFileSync(target, 'victim', { mode: 0o644 });
    const link = join(work, `${c.name}.link`);
    symlinkSync(target, link);
    const r = run(...c.args(link));
    assert.equal(r.status, 3);
    assert.equal(r.stderr, refusal(link));
    const f = run(...c.args(link), '--force');
    assert.equal(f.status, 0, f.stderr);
    assert.equal(readFileSync(target, 'utf8'), 'victim');
    assert.equal(statSync(target).mode & 0o777, 0o644);
    assert.ok(lstatSync(link).isFile(), 'the symlink was replaced by a regular file');
    assert.equal(lstatSync(link).mode & 0o777, 0o600);
    // A dangling symlink counts as existing, too.
    const dangling = join(work, `${c.name}.dangling`);
    symlinkSync(join(work, 'nowhere', 'x'), dangling);
    assert.equal(run(...c.args(dangling)).stderr, refusal(dangling));
  });
}

test('stripe --out DIR: shard files through the same writer (0600, nothing temporary left)', () => {
  const out = join(work, 'stripe-out');
  const first = run('stripe', join(work, 'plain.backup'), '--k', '2', '--n', '3', '--seq', '9', '--out', out);
  assert.equal(first.status, 0, first.stderr);
  const names = readdirSync(out).sort();
  assert.equal(names.length, 3);
  for (const n of names) assert.equal(statSync(join(out, n)).mode & 0o777, 0o600);
  assert.deepEqual(names.filter((n) => n.endsWith('.tmp')), []);
});

test('restorefrompeer --out: an existing file is refused before any peer is asked (exit 3, same message)', () => {
  const out = join(work, 'restore.out');
  writeFileSync(out, 'keep me');
  const r = run('restorefrompeer', `${pkHex(3)}@127.0.0.1:1`, '--out', out, '--timeout', '1s');
  assert.equal(r.status, 3);
  assert.equal(r.stderr, refusal(out));
  assert.equal(readFileSync(out, 'utf8'), 'keep me');
  // With --force the peers are asked; none answers, so the file stays as it was (exit 1).
  const f = run('restorefrompeer', `${pkHex(3)}@127.0.0.1:1`, '--out', out, '--timeout', '1s', '--force');
  assert.equal(f.status, 1);
  assert.equal(readFileSync(out, 'utf8'), 'keep me');
});

test('verify-blob --blob-format cln --out: the same refusal before any secret is read', () => {
  const out = join(work, 'cln.out');
  writeFileSync(out, 'keep me');
  const r = run('verify-blob', '--blob-format', 'cln', '--hsm-secret', join(work, 'no-such-secret'), '--file', join(work, 'blob.bin'), '--out', out);
  assert.equal(r.status, 3);
  assert.equal(r.stderr, refusal(out));
});

test('the writer: a producer that fails leaves the target as it was and no temporary file', async () => {
  const d = join(work, 'writer');
  mkdirSync(d);
  const out = join(d, 'x.jsonl');
  writeFileSync(out, 'old');
  await assert.rejects(
    streamOutputFile(out, { force: true }, async (f) => {
      await f.write('a'.repeat(200_000));
      throw new RangeError('the producer broke');
    }),
    /the producer broke/,
  );
  assert.equal(readFileSync(out, 'utf8'), 'old');
  assert.deepEqual(readdirSync(d), ['x.jsonl']);
  // A large streamed file arrives whole.
  const n = await streamOutputFile(out, { force: true }, async (f) => {
    for (let i = 0; i < 1000; i++) await f.write(`line ${i} ${'z'.repeat(100)}\n`);
    return 1000;
  });
  assert.equal(n, 1000);
  assert.equal(readFileSync(out, 'utf8').split('\n').length, 1001);
  // A directory that does not exist: one line naming the file, exit 3 kind.
  assert.throws(() => writeOutputFile(join(d, 'no', 'such', 'f'), 'x', { force: false }), (e: Error) => e.name === 'StoreError' && /cannot write .*: no such directory/.test(e.message));
});
