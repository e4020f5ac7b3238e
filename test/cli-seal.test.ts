import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { COMMANDS } from '../src/commands/index.js';

const BIN = fileURLToPath(new URL('../../bin/lnps.js', import.meta.url));

// Fixed test secrets (never real keys).
const SECRET_HEX = 'a5'.repeat(32);
const OTHER_HEX = '5b'.repeat(32);

let dir: string;
let datadir: string;
let otherKey: string;
const seen: string[] = []; // every stdout and stderr, checked for the secret at the end

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'lnps-seal-'));
  datadir = join(dir, 'node');
  spawnSync('mkdir', ['-m', '700', datadir]);
  writeFileSync(join(datadir, 'node.key'), SECRET_HEX + '\n', { mode: 0o600 });
  otherKey = join(dir, 'other.key');
  writeFileSync(otherKey, OTHER_HEX + '\n', { mode: 0o600 });
});
after(() => rmSync(dir, { recursive: true, force: true }));

function run(args: string[], input?: string | Uint8Array) {
  const r = spawnSync(process.execPath, [BIN, ...args, '--datadir', datadir], { input, maxBuffer: 1 << 24 });
  const stdout = r.stdout.toString('utf8');
  const stderr = r.stderr.toString('utf8');
  seen.push(stdout, stderr);
  return { status: r.status, stdout, stderr };
}

function file(name: string, bytes: Uint8Array | string): string {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
}

const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');
const TEXT = 'channel backup: 3 channels\n';

test('seal --pad none --seq 42 prints one hex line of 83 + L bytes; verify-blob gives the exact answer', () => {
  const pt = file('a.txt', TEXT);
  const s = run(['seal', pt, '--pad', 'none', '--seq', '42']);
  assert.equal(s.status, 0, s.stderr);
  assert.match(s.stdout, /^01[0-9a-f]+\n$/);
  assert.equal(s.stdout.trim().length, 2 * (83 + TEXT.length));
  const v = run(['verify-blob', s.stdout.trim()]);
  assert.equal(v.status, 0, v.stderr);
  assert.deepEqual(JSON.parse(v.stdout), {
    valid: true,
    format: 'lnps',
    version: 1,
    seq: '42',
    blob_len: 83 + TEXT.length,
    plaintext_len: TEXT.length,
    padding: 'none',
    plaintext_sha256: sha256(TEXT),
  });
});

test('seal pads to 65531 bytes by default, seq defaults to the time in ms; piped into verify-blob -', () => {
  const pt = file('b.txt', TEXT);
  const t0 = Date.now();
  const s = run(['seal', pt]);
  const t1 = Date.now();
  assert.equal(s.status, 0, s.stderr);
  assert.equal(s.stdout.trim().length, 2 * 65531);
  const v = run(['verify-blob', '-'], s.stdout);
  assert.equal(v.status, 0, v.stderr);
  const out = JSON.parse(v.stdout);
  assert.equal(out.padding, 'full');
  assert.equal(out.blob_len, 65531);
  assert.equal(out.plaintext_sha256, sha256(TEXT));
  const seq = Number(out.seq);
  assert.ok(seq >= t0 && seq <= t1, `seq ${seq} not within ${t0}..${t1}`);
});

test('seal --out writes raw bytes and a summary; verify-blob --file --out writes the plaintext (0600)', () => {
  const pt = file('c.txt', TEXT);
  const blob = join(dir, 'c.blob');
  const s = run(['seal', pt, '--seq', '7', '--out', blob]);
  assert.equal(s.status, 0, s.stderr);
  assert.deepEqual(JSON.parse(s.stdout), { written: blob, bytes: 65531, seq: '7', padding: 'full', plaintext_len: TEXT.length, blob_len: 65531 });
  assert.equal(readFileSync(blob).length, 65531);
  const back = join(dir, 'c.back');
  const v = run(['verify-blob', '--file', blob, '--out', back]);
  assert.equal(v.status, 0, v.stderr);
  assert.equal(JSON.parse(v.stdout).seq, '7');
  assert.equal(readFileSync(back, 'utf8'), TEXT);
  assert.equal(statSync(back).mode & 0o777, 0o600);
});

test('seal --pad bucket and --format json: the object with seq, sizes and blob', () => {
  const pt = file('d.bin', new Uint8Array(1000).fill(3));
  const s = run(['seal', pt, '--pad', 'bucket', '--seq', '9', '--format', 'json']);
  assert.equal(s.status, 0, s.stderr);
  const o = JSON.parse(s.stdout);
  assert.deepEqual({ ...o, blob: o.blob.length }, { seq: '9', padding: 'bucket', plaintext_len: 1000, blob_len: 4096, blob: 8192 });
  const v = JSON.parse(run(['verify-blob', o.blob]).stdout);
  assert.equal(v.padding, 'bucket');
  assert.equal(v.plaintext_sha256, sha256(new Uint8Array(1000).fill(3)));
});

test('size limits from the CLI: 65448 bytes seal, 65449 are refused with both sizes; empty + none is 83 bytes', () => {
  const ok = run(['seal', file('max.bin', new Uint8Array(65448).fill(1)), '--seq', '1']);
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal(ok.stdout.trim().length, 2 * 65531);
  const big = run(['seal', file('big.bin', new Uint8Array(65449))]);
  assert.equal(big.status, 1);
  assert.equal(big.stdout, '');
  assert.equal(big.stderr.trim().split('\n').length, 1);
  assert.match(big.stderr, /65449 bytes/);
  assert.match(big.stderr, /65448 bytes/);
  const viaStdin = run(['seal', '-'], new Uint8Array(65449));
  assert.equal(viaStdin.status, 1);
  assert.match(viaStdin.stderr, /plaintext is 65449 bytes.*65448 bytes/);
  const empty = run(['seal', file('empty.bin', ''), '--pad', 'none']);
  assert.equal(empty.status, 0, empty.stderr);
  assert.equal(empty.stdout.trim().length, 166);
});

test('verify-blob on a tampered blob: exit 1, JSON with the reason and its plain message', () => {
  const s = run(['seal', file('e.txt', TEXT), '--pad', 'none', '--seq', '5']);
  const hex = s.stdout.trim();
  const i = 60; // a nonce byte
  const tampered = hex.slice(0, i) + (hex[i] === '0' ? '1' : '0') + hex.slice(i + 1);
  const v = run(['verify-blob', tampered]);
  assert.equal(v.status, 1);
  assert.equal(v.stderr, '');
  assert.deepEqual(JSON.parse(v.stdout), {
    valid: false,
    format: 'lnps',
    reason: 'auth_failed',
    message: "not sealed with this node's key, or altered",
    blob_len: 83 + TEXT.length,
    version: 1,
  });
});

test("verify-blob with another node's key: auth_failed, exit 1", () => {
  const hex = run(['seal', file('f.txt', TEXT), '--pad', 'none']).stdout.trim();
  const v = run(['verify-blob', hex, '--key-file', otherKey]);
  assert.equal(v.status, 1);
  assert.equal(JSON.parse(v.stdout).reason, 'auth_failed');
});

test('verify-blob: bad length and unknown version have their own reasons', () => {
  const short = run(['verify-blob', '01' + '00'.repeat(81)]);
  assert.equal(short.status, 1);
  assert.deepEqual(JSON.parse(short.stdout), {
    valid: false,
    format: 'lnps',
    reason: 'bad_length',
    message: 'not an lnps sealed blob: its length is outside 83..65531 bytes',
    blob_len: 82,
  });
  const v3 = run(['verify-blob', '03' + '00'.repeat(82)]);
  assert.equal(v3.status, 1);
  const o = JSON.parse(v3.stdout);
  assert.equal(o.reason, 'unknown_version');
  assert.equal(o.version, 3);
});

test('operator errors: bad hex, bad flags, missing or loose key file', () => {
  const badHex = run(['verify-blob', '01zz']);
  assert.equal(badHex.status, 1);
  assert.match(badHex.stderr, /^lnps: .*not hex/);
  const pt = file('g.txt', TEXT);
  for (const args of [['--seq', 'abc'], ['--seq', '18446744073709551616'], ['--seq', '-1'], ['--pad', 'huge']]) {
    const r = run(['seal', pt, ...args]);
    assert.equal(r.status, 2, args.join(' '));
    assert.equal(r.stderr.trim().split('\n').length, 1);
  }
  assert.equal(run(['seal', pt, '--seq', '18446744073709551615', '--pad', 'none']).status, 0);
  assert.equal(run(['seal']).status, 2);
  const hsm = run(['verify-blob', '00', '--hsm-secret', 'x']);
  assert.equal(hsm.status, 2);
  assert.match(hsm.stderr, /--hsm-secret is for another implementation's blobs: add --blob-format cln/);

  const loose = join(dir, 'loose.key');
  writeFileSync(loose, OTHER_HEX + '\n', { mode: 0o600 });
  chmodSync(loose, 0o644);
  const l = run(['seal', pt, '--key-file', loose]);
  assert.equal(l.status, 3);
  assert.match(l.stderr, /too open/);
  const none = run(['seal', pt, '--key-file', join(dir, 'nope.key')]);
  assert.equal(none.status, 3);
  assert.match(none.stderr, /no key file at .*nope\.key/);
  const nofile = run(['seal', join(dir, 'missing.txt')]);
  assert.equal(nofile.status, 3);
  assert.match(nofile.stderr, /missing\.txt: no such file/);
});

test('--message: seal gives a peer_storage message that decode reads and verify-blob --message accepts', () => {
  const s = run(['seal', file('h.txt', TEXT), '--message', '--seq', '11']);
  assert.equal(s.status, 0, s.stderr);
  const hex = s.stdout.trim();
  assert.equal(hex.length, 2 * 65535);
  assert.equal(hex.slice(0, 8), '0007fffb'); // type 7, length 65531
  // `lnps decode` is another command's; the check runs once it is registered.
  if ('decode' in COMMANDS) {
    const d = run(['decode', hex]);
    assert.equal(d.status, 0, d.stderr);
    const m = JSON.parse(d.stdout);
    assert.equal(m.name, 'peer_storage');
    assert.equal(m.type, 7);
    assert.equal(m.blob_len, 65531);
  }
  const v = run(['verify-blob', '--message', hex]);
  assert.equal(v.status, 0, v.stderr);
  assert.equal(JSON.parse(v.stdout).seq, '11');
  // peer_storage_retrieval (type 9) carries the same blob back.
  const retrieval = '0009' + hex.slice(4);
  const r = run(['verify-blob', '--message', retrieval]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).plaintext_sha256, sha256(TEXT));
  // Any other message is refused plainly.
  const ping = run(['verify-blob', '--message', '0012000100020000']);
  assert.equal(ping.status, 1);
  assert.match(ping.stderr, /not peer_storage \(7\) or peer_storage_retrieval \(9\)/);
});

test('verify-blob --blob-format other than lnps never reads the node key', () => {
  const empty = join(dir, 'empty-node');
  const r = spawnSync(process.execPath, [BIN, 'verify-blob', '--blob-format', 'ldk', '01' + '00'.repeat(100), '--datadir', empty], { encoding: 'utf8' });
  seen.push(r.stdout, r.stderr);
  assert.notEqual(r.status, 0);
  assert.doesNotMatch(r.stderr, /no key file/);
});

test('the node secret never appears in any output of these runs', () => {
  run(['seal', file('i.txt', TEXT), '--debug', '--seq', 'x']);
  assert.ok(seen.length > 10);
  for (const s of seen) {
    assert.ok(!s.includes(SECRET_HEX), 'secret leaked');
    assert.ok(!s.includes(OTHER_HEX), 'secret leaked');
  }
});
