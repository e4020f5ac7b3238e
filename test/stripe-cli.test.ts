// lnps stripe, lnps rebuild and verify-blob's stripe fields, end to end through the built CLI.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deriveSealKey, seal } from '../src/core/backup/seal.js';

const BIN = fileURLToPath(new URL('../../bin/lnps.js', import.meta.url));

// A fixed test secret (never a real key).
const SECRET_HEX = 'a5'.repeat(32);

let dir: string;
let datadir: string;
const seen: string[] = []; // every stdout and stderr, checked for the secret at the end

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'lnps-stripe-'));
  datadir = join(dir, 'node');
  mkdirSync(datadir, { mode: 0o700 });
  writeFileSync(join(datadir, 'node.key'), SECRET_HEX + '\n', { mode: 0o600 });
});
after(() => {
  for (const s of seen) assert.ok(!s.includes(SECRET_HEX), 'the node secret leaked into output');
  rmSync(dir, { recursive: true, force: true });
});

function run(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args, '--datadir', datadir], { maxBuffer: 1 << 24 });
  const stdout = r.stdout.toString('utf8');
  const stderr = r.stderr.toString('utf8');
  seen.push(stdout, stderr);
  return { status: r.status, stdout, stderr };
}
function backupOf(len: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: len }, (_, i) => (i * 151 + seed * 29 + (i >> 9)) & 0xff);
}
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function stripeInto(out: string, backup: Uint8Array, name: string, extra: string[]) {
  const f = join(dir, name);
  writeFileSync(f, backup);
  const r = run(['stripe', f, '--out', out, ...extra]);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as { backup_id: string; shards: { index: number; kind: string; file: string; bytes: number }[] } & Record<string, unknown>;
}

test('stripe 3-of-5 writes five 0600 shard files and says exactly what it wrote', () => {
  const out = join(dir, 'a');
  const b = backupOf(150_000, 1);
  const j = stripeInto(out, b, 'a.backup', ['--k', '3', '--n', '5', '--seq', '5', '--pad', 'none']);
  assert.match(j.backup_id, /^[0-9a-f]{32}$/);
  const id8 = j.backup_id.slice(0, 8);
  assert.deepEqual({ ...j, backup_id: 'x', shards: [] }, {
    backup_id: 'x', seq: '5', k: 3, n: 5, total_len: 150_000, backup_sha256: sha256(b), padding: 'none', out, shards: [],
  });
  assert.deepEqual(j.shards, [0, 1, 2, 3, 4].map((index) => ({ index, kind: index < 3 ? 'data' : 'parity', file: `shard-${id8}-${index}-of-5.bin`, bytes: 83 + 55 + 50_000 })));
  assert.deepEqual(readdirSync(out).sort(), j.shards.map((s) => s.file));
  for (const s of j.shards) assert.equal(statSync(join(out, s.file)).mode & 0o777, 0o600);

  // verify-blob shows the stripe fields of a version 2 shard.
  const v = run(['verify-blob', '--file', join(out, j.shards[4]!.file)]);
  assert.equal(v.status, 0, v.stderr);
  const vj = JSON.parse(v.stdout);
  delete vj.plaintext_sha256;
  assert.deepEqual(vj, {
    valid: true, format: 'lnps', version: 2, seq: '5', blob_len: 50_138, plaintext_len: 50_055, padding: 'none',
    backup_id: j.backup_id, k: 3, n: 5, index: 4, total_len: 150_000, backup_sha256: sha256(b),
  });

  // Any three rebuild it: drop two, rebuild from the directory.
  unlinkSync(join(out, j.shards[0]!.file));
  unlinkSync(join(out, j.shards[3]!.file));
  const dest = join(dir, 'a.restored');
  const r = run(['rebuild', out, '--out', dest]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(sha256(readFileSync(dest)), sha256(b));
  assert.equal(statSync(dest).mode & 0o777, 0o600);
  const rj = JSON.parse(r.stdout);
  assert.equal(rj.ok, true);
  assert.equal(rj.newest, true);
  assert.equal(rj.message, `rebuilt backup ${j.backup_id.slice(0, 16)} seq 5 (150000 bytes) from 3 of 5 shards`);
  assert.deepEqual(rj.used, [1, 2, 4].map((index) => ({ file: join(out, `shard-${id8}-${index}-of-5.bin`), index })));
  assert.deepEqual(rj.ignored, []);

  // --out is never overwritten without --force.
  const again = run(['rebuild', out, '--out', dest]);
  assert.equal(again.status, 3);
  assert.equal(again.stderr, `lnps: ${dest} already exists: lnps does not overwrite it unless you add --force\n`);
  assert.equal(run(['rebuild', out, '--out', dest, '--force']).status, 0);

  // k - 1: exit 1, one line on stderr naming what is missing, the detail as JSON.
  unlinkSync(join(out, j.shards[1]!.file));
  writeFileSync(join(out, 'notes.txt'), 'not a shard\n');
  const fail = run(['rebuild', out, '--out', join(dir, 'never')]);
  assert.equal(fail.status, 1);
  assert.equal(
    fail.stderr,
    `lnps: cannot rebuild backup ${j.backup_id.slice(0, 16)} seq 5: 2 of 3 shards needed are present, 1 missing (3 files read; ignored: 1 not_sealed)\n`,
  );
  const fj = JSON.parse(fail.stdout);
  assert.equal(fj.ok, false);
  assert.equal(fj.missing, 1);
  assert.deepEqual(fj.found.map((f: { index: number }) => f.index), [2, 4]);
  assert.deepEqual(fj.ignored, [{ file: join(out, 'notes.txt'), reason: 'not_sealed', detail: 'size out of bounds for a sealed blob (83..65531 bytes)' }]);
  assert.throws(() => statSync(join(dir, 'never')));
});

test('two versions in one directory: the newer wins when complete, else the older, and the output says so', () => {
  const out = join(dir, 'two');
  const old = backupOf(70_000, 2);
  const neu = backupOf(80_000, 3);
  stripeInto(out, old, 'old.backup', ['--k', '2', '--n', '4', '--seq', '10']);
  const jn = stripeInto(out, neu, 'new.backup', ['--k', '2', '--n', '4', '--seq', '11']);
  const r = run(['rebuild', out, '--out', join(dir, 'two.a')]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).seq, '11');
  assert.equal(sha256(readFileSync(join(dir, 'two.a'))), sha256(neu));
  // Leave the newer one a single shard: the older one is rebuilt, flagged as not the newest.
  for (const s of jn.shards.slice(1)) unlinkSync(join(out, s.file));
  const r2 = run(['rebuild', out, '--out', join(dir, 'two.b')]);
  assert.equal(r2.status, 0, r2.stderr);
  const j2 = JSON.parse(r2.stdout);
  assert.equal(j2.seq, '10');
  assert.equal(j2.newest, false);
  assert.match(j2.message, new RegExp(`it is NOT the newest: backup ${jn.backup_id.slice(0, 16)} seq 11 has only 1 of the 2 shards it needs$`));
  assert.deepEqual(j2.ignored.map((i: { reason: string; index: number }) => `${i.index}:${i.reason}`), ['0:other_backup']);
  assert.equal(sha256(readFileSync(join(dir, 'two.b'))), sha256(old));
});

test('operator errors: too large, bad k/n, missing input; each one line', () => {
  const f = join(dir, 'big.backup');
  writeFileSync(f, new Uint8Array(2 * 65393 + 1));
  const big = run(['stripe', f, '--k', '2', '--n', '3', '--out', join(dir, 'big')]);
  assert.equal(big.status, 1);
  assert.equal(big.stderr, `lnps: ${f} is 130787 bytes, but 2 data shards hold at most 130786 bytes (2 x 65393): use --k 3 or more; nothing was written\n`);
  assert.throws(() => statSync(join(dir, 'big')));
  const exact = run(['stripe', f, '--k', '3', '--n', '3', '--pad', 'bucket', '--out', join(dir, 'big3')]);
  assert.equal(exact.status, 0, exact.stderr);
  assert.deepEqual(JSON.parse(exact.stdout).shards.map((s: { bytes: number }) => s.bytes), [65531, 65531, 65531]);
  const k0 = run(['stripe', f, '--k', '0', '--n', '3', '--out', join(dir, 'x')]);
  assert.equal(k0.status, 2);
  assert.equal(k0.stderr, 'lnps: --k must be from 1 to 16, got 0\n');
  const k17 = run(['stripe', f, '--k', '17', '--n', '20', '--out', join(dir, 'x')]);
  assert.equal(k17.status, 2);
  assert.equal(k17.stderr, 'lnps: --k must be at most 16, got 17\n');
  const n2 = run(['stripe', f, '--k', '3', '--n', '2', '--out', join(dir, 'x')]);
  assert.equal(n2.status, 2);
  assert.equal(n2.stderr, 'lnps: --n must be at least --k (3) and at most 32, got 2\n');
  const nok = run(['stripe', f, '--n', '2', '--out', join(dir, 'x')]);
  assert.equal(nok.status, 2);
  const missing = run(['rebuild', join(dir, 'nowhere'), '--out', join(dir, 'x')]);
  assert.equal(missing.status, 3);
  assert.equal(missing.stderr, `lnps: cannot read ${join(dir, 'nowhere')}: no such file or directory\n`);
});

test('verify-blob: an authentic version 2 blob with a malformed shard header is invalid, exit 1', () => {
  const key = deriveSealKey(Buffer.from(SECRET_HEX, 'hex'));
  const pt = new Uint8Array(60); // k = 0 at offset 16
  const blob = seal(pt, { seq: 3n, pad: 'none', key, version: 2 });
  key.wipe();
  const f = join(dir, 'odd.bin');
  writeFileSync(f, blob);
  const v = run(['verify-blob', '--file', f]);
  assert.equal(v.status, 1);
  const j = JSON.parse(v.stdout);
  assert.equal(j.valid, false);
  assert.equal(j.reason, 'bad_shard_header');
  assert.equal(j.version, 2);
  assert.equal(j.message, 'authentic, but its shard header is malformed (written by a faulty sealer): shard.k: expected 1..16, got 0');
});
