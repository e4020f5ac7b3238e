// Bad input to the CLI: a table of malformed inputs across the commands. Each row must give its
// documented exit code (README: 1 invalid input, 2 usage, 3 database or file unavailable; never
// 70) and exactly one line on stderr, `lnps: ...`, with no stack trace; and the stored content
// (every blob, channel and record, as exportpeerstorage, listchannels and getinfo show them)
// must be the same before and after. Rows run one after another against the built CLI.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { ClassicLevel } from 'classic-level';
import { toHex } from '../src/core/bytes.js';
import {
  Rng,
  at,
  cli,
  cliOk,
  createNode,
  dbRecordsHash,
  dbPath,
  exportLine,
  holdDbLock,
  killHard,
  offCurvePubkeyHex,
  pubkeyHexOf,
  removeDir,
  secretFrom,
  snapshot,
  tempDir,
} from './stress-helpers.js';

interface Row {
  name: string;
  args: () => string[];
  stdin?: string;
  code: 1 | 2 | 3;
  stderr: RegExp;
  /** Runs before the row; returns what undoes it. */
  around?: () => Promise<() => Promise<void>>;
  /** A data directory other than the main one whose database files must not change either. */
  otherDb?: () => string;
  /** A failed check printed as the command's result on stdout (stderr stays empty). */
  checkResult?: RegExp;
  /** Rows that cannot mean anything as root (file modes do not stop root from reading). */
  needsNonRoot?: boolean;
}

const rng = new Rng(0x5eed_bad1);
let D = ''; // the main data directory, with blobs, channels and a height
let F = ''; // input files
let MISSING = ''; // a data directory without a database
let CORRUPT = ''; // a database whose CURRENT file is garbage
let DAMAGED = ''; // a database with one damaged record
const peers = [0, 1, 2].map(() => pubkeyHexOf(secretFrom(rng)));
const newPeers = [0, 1].map(() => pubkeyHexOf(secretFrom(rng)));
const OFF = offCurvePubkeyHex();
const TXID = 'ab'.repeat(32);
let lockHolder: ChildProcess | undefined;

const f = (name: string) => join(F, name);

before(() => {
  D = tempDir('lnps-badinput-');
  F = join(D, 'inputs');
  mkdirSync(F);
  createNode(D);
  writeFileSync(f('good.jsonl'), peers.map((p, i) => exportLine(p, rng.bytes(100 + i * 700))).join('\n') + '\n');
  cliOk(['importpeerstorage', f('good.jsonl'), ...at(D)]);
  cliOk(['addchannel', '--peer', peers[0]!, '--chan-point', `${TXID}:0`, ...at(D)]);
  cliOk(['addchannel', '--peer', peers[1]!, '--chan-point', `${TXID}:1`, ...at(D)]);
  cliOk(['closechannel', '--chan-point', `${TXID}:1`, '--height', '799000', ...at(D)]);
  cliOk(['setheight', '800000', ...at(D)]);

  const blob = toHex(rng.bytes(50));
  writeFileSync(f('notjson.jsonl'), 'this is not json\n');
  writeFileSync(f('oddhex.jsonl'), `{"peer":"${newPeers[0]}","blob":"abc"}\n`);
  writeFileSync(f('nothex.jsonl'), `{"peer":"${newPeers[0]}","blob":"zz${blob}"}\n`);
  writeFileSync(f('toobig.jsonl'), exportLine(newPeers[0]!, new Uint8Array(65532)) + '\n');
  writeFileSync(f('offcurve.jsonl'), `{"peer":"${OFF}","blob":"${blob}"}\n`);
  writeFileSync(f('shortkey.jsonl'), `{"peer":"${newPeers[0]!.slice(0, 64)}","blob":"${blob}"}\n`);
  writeFileSync(f('dup.jsonl'), `{"peer":"${newPeers[0]}","blob":"${blob}"}\n{"peer":"${newPeers[0]}","blob":"00"}\n`);
  writeFileSync(f('badsha.jsonl'), `{"peer":"${newPeers[0]}","blob":"${blob}","blob_sha256":"${'00'.repeat(32)}"}\n`);
  // Two good lines for new peers, one that replaces a stored blob, then a bad one: nothing may land.
  writeFileSync(
    f('lastbad.jsonl'),
    [exportLine(newPeers[0]!, rng.bytes(40)), exportLine(newPeers[1]!, rng.bytes(40)), exportLine(peers[2]!, rng.bytes(40)), '{"peer":"02","blob":"00"}'].join('\n') + '\n',
  );
  writeFileSync(f('unreadable.jsonl'), exportLine(newPeers[0]!, rng.bytes(10)) + '\n');
  chmodSync(f('unreadable.jsonl'), 0o000);
  mkdirSync(f('adir'));
  writeFileSync(f('lnd-bad.json'), '{"channels": [');
  writeFileSync(f('lnd-nolist.json'), '{"chans": []}');
  writeFileSync(f('lnd-badkey.json'), JSON.stringify({ channels: [{ remote_pubkey: OFF, channel_point: `${TXID}:7` }] }));
  writeFileSync(f('toolarge.bin'), new Uint8Array(65449));
  writeFileSync(f('key-loose'), '11'.repeat(32) + '\n', { mode: 0o644 });
  chmodSync(f('key-loose'), 0o644);
  copyFileSync(join(D, 'node.key'), f('key-copy'));
  chmodSync(f('key-copy'), 0o600);

  MISSING = tempDir('lnps-badinput-missing-');
  CORRUPT = tempDir('lnps-badinput-corrupt-');
  createNode(CORRUPT);
  cliOk(['importpeerstorage', f('good.jsonl'), ...at(CORRUPT)]);
  writeFileSync(join(dbPath(CORRUPT), 'CURRENT'), 'garbage, not a manifest name');
  DAMAGED = tempDir('lnps-badinput-damaged-');
  createNode(DAMAGED);
  cliOk(['importpeerstorage', f('good.jsonl'), ...at(DAMAGED)]);
});

after(async () => {
  if (lockHolder) await killHard(lockHolder);
  for (const d of [D, MISSING, CORRUPT, DAMAGED]) if (d) removeDir(d);
});

/** Damage the metadata record of peers[0] in DAMAGED ('m' ‖ pubkey), as a bad disk block would. */
async function damageRecord(): Promise<void> {
  const db = new ClassicLevel<Uint8Array, Uint8Array>(dbPath(DAMAGED), { keyEncoding: 'view', valueEncoding: 'view' });
  await db.open({ createIfMissing: false });
  const key = new Uint8Array(34);
  key[0] = 0x6d;
  key.set(Buffer.from(peers[0]!, 'hex'), 1);
  await db.put(key, Uint8Array.of(0xff, 0x01, 0x02));
  await db.close();
}

const holdLock = async () => {
  lockHolder = await holdDbLock(dbPath(D));
  return async () => {
    await killHard(lockHolder!);
    lockHolder = undefined;
  };
};

const ROWS: Row[] = [
  // Public keys and hex
  { name: 'getpeerstorage: pubkey not hex', args: () => ['getpeerstorage', 'zz' + 'ab'.repeat(32), ...at(D)], code: 2, stderr: /hex|public key|peer/i },
  { name: 'getpeerstorage: pubkey of odd length', args: () => ['getpeerstorage', peers[0]!.slice(0, 65), ...at(D)], code: 2, stderr: /./ },
  { name: 'getpeerstorage: pubkey of 32 bytes', args: () => ['getpeerstorage', peers[0]!.slice(2), ...at(D)], code: 2, stderr: /33|66|bytes|digits/ },
  { name: 'getpeerstorage: pubkey with prefix 04', args: () => ['getpeerstorage', '04' + peers[0]!.slice(2), ...at(D)], code: 2, stderr: /./ },
  { name: 'getpeerstorage: point not on the curve', args: () => ['getpeerstorage', OFF, ...at(D)], code: 2, stderr: /not a point on secp256k1/ },
  { name: 'getpeerstorage: no blob for that peer', args: () => ['getpeerstorage', newPeers[0]!, ...at(D)], code: 1, stderr: /no blob/i },
  { name: 'listpeerstorage --peer: point not on the curve', args: () => ['listpeerstorage', '--peer', OFF, ...at(D)], code: 2, stderr: /not a point on secp256k1/ },
  { name: 'addchannel --peer: not hex', args: () => ['addchannel', '--peer', 'hello', '--chan-point', `${TXID}:5`, ...at(D)], code: 2, stderr: /./ },
  { name: 'addchannel --chan-point: no output index', args: () => ['addchannel', '--peer', peers[2]!, '--chan-point', TXID, ...at(D)], code: 2, stderr: /chan.?point|txid|outpoint/i },
  { name: 'addchannel --chan-point: short txid', args: () => ['addchannel', '--peer', peers[2]!, '--chan-point', 'abcd:0', ...at(D)], code: 2, stderr: /./ },
  { name: 'addchannel --chan-point: index over u32', args: () => ['addchannel', '--peer', peers[2]!, '--chan-point', `${TXID}:4294967296`, ...at(D)], code: 2, stderr: /./ },
  { name: 'decode: not hex', args: () => ['decode', 'zz00'], code: 1, stderr: /hex/i },
  { name: 'decode: odd number of hex digits', args: () => ['decode', '000'], code: 1, stderr: /hex|odd/i },
  { name: 'decode: peer_storage whose length runs past the end', args: () => ['decode', '00070005aabb'], code: 1, stderr: /peer_storage/ },
  { name: 'decode -: garbage on stdin', args: () => ['decode', '-'], stdin: 'not hex at all\n', code: 1, stderr: /hex/i },
  { name: 'encode peer_storage: blob over 65531 bytes', args: () => ['encode', 'peer_storage', '--blob', '00'.repeat(65532)], code: 1, stderr: /65531|too|large|at most/i },
  { name: 'seal: plaintext over 65448 bytes', args: () => ['seal', f('toolarge.bin'), '--pad', 'none', ...at(D)], code: 1, stderr: /65448/ },
  // verify-blob reports a failed check as its JSON result on stdout (exit 1), not as an error.
  { name: 'verify-blob: a blob that is not ours', args: () => ['verify-blob', '01' + '00'.repeat(100), ...at(D)], code: 1, stderr: /^$/, checkResult: /"valid": false[\s\S]*"reason": "auth_failed"/ },
  { name: 'verify-blob: a blob too short to be sealed', args: () => ['verify-blob', '0100', ...at(D)], code: 1, stderr: /^$/, checkResult: /"valid": false/ },

  // Import files
  { name: 'importpeerstorage: not JSON', args: () => ['importpeerstorage', f('notjson.jsonl'), ...at(D)], code: 1, stderr: /line 1.*JSON/ },
  { name: 'importpeerstorage: blob of odd length', args: () => ['importpeerstorage', f('oddhex.jsonl'), ...at(D)], code: 1, stderr: /line 1/ },
  { name: 'importpeerstorage: blob not hex', args: () => ['importpeerstorage', f('nothex.jsonl'), ...at(D)], code: 1, stderr: /line 1/ },
  { name: 'importpeerstorage: blob of 65532 bytes', args: () => ['importpeerstorage', f('toobig.jsonl'), ...at(D)], code: 1, stderr: /65531/ },
  { name: 'importpeerstorage: peer not on the curve', args: () => ['importpeerstorage', f('offcurve.jsonl'), ...at(D)], code: 1, stderr: /line 1/ },
  { name: 'importpeerstorage: peer key of 32 bytes', args: () => ['importpeerstorage', f('shortkey.jsonl'), ...at(D)], code: 1, stderr: /line 1/ },
  { name: 'importpeerstorage: a peer twice', args: () => ['importpeerstorage', f('dup.jsonl'), ...at(D)], code: 1, stderr: /line 2.*line 1/ },
  { name: 'importpeerstorage: blob_sha256 does not match', args: () => ['importpeerstorage', f('badsha.jsonl'), ...at(D)], code: 1, stderr: /blob_sha256/ },
  { name: 'importpeerstorage: good lines, then a bad one (nothing lands)', args: () => ['importpeerstorage', f('lastbad.jsonl'), ...at(D)], code: 1, stderr: /line 4.*nothing was imported/ },
  { name: 'importpeerstorage: missing file', args: () => ['importpeerstorage', f('nope.jsonl'), ...at(D)], code: 3, stderr: /no such file/ },
  { name: 'importpeerstorage: a directory', args: () => ['importpeerstorage', f('adir'), ...at(D)], code: 3, stderr: /directory/ },
  { name: 'importpeerstorage: unreadable file', args: () => ['importpeerstorage', f('unreadable.jsonl'), ...at(D)], code: 3, stderr: /permission denied/, needsNonRoot: true },
  { name: 'importchannels: not JSON', args: () => ['importchannels', '--listchannels', f('lnd-bad.json'), ...at(D)], code: 1, stderr: /JSON/ },
  { name: 'importchannels: no channels list', args: () => ['importchannels', '--listchannels', f('lnd-nolist.json'), ...at(D)], code: 1, stderr: /channels/ },
  { name: 'importchannels: remote_pubkey not on the curve', args: () => ['importchannels', '--listchannels', f('lnd-badkey.json'), ...at(D)], code: 1, stderr: /./ },
  { name: 'importchannels: missing file', args: () => ['importchannels', '--closedchannels', f('nope.json'), ...at(D)], code: 3, stderr: /no such file/ },
  { name: 'verify-blob --file: missing file', args: () => ['verify-blob', '--file', f('nope.bin'), ...at(D)], code: 3, stderr: /no such file/ },
  { name: 'getpeerstorage --out: into a missing directory', args: () => ['getpeerstorage', peers[0]!, '--out', f('no/such/dir/blob.bin'), ...at(D)], code: 3, stderr: /cannot write/ },
  { name: 'exportpeerstorage --out: into a missing directory', args: () => ['exportpeerstorage', '--out', f('no/such/dir/x.jsonl'), ...at(D)], code: 3, stderr: /cannot write/ },

  // Flags
  { name: 'unknown flag', args: () => ['getinfo', '--bogus', ...at(D)], code: 2, stderr: /unknown option/ },
  { name: 'unknown command', args: () => ['frobnicate', ...at(D)], code: 2, stderr: /unknown command/ },
  { name: 'missing required flag', args: () => ['addchannel', '--peer', peers[2]!, ...at(D)], code: 2, stderr: /chan-point/ },
  { name: 'missing argument', args: () => ['importpeerstorage', ...at(D)], code: 2, stderr: /missing required argument/ },
  { name: 'bad choice for --state', args: () => ['listchannels', '--state', 'half-open', ...at(D)], code: 2, stderr: /state/ },
  { name: 'bad --network', args: () => ['getinfo', '--datadir', D, '--network', 'moonnet'], code: 2, stderr: /network/ },
  { name: 'bad --format', args: () => ['getinfo', '--format', 'xml', ...at(D)], code: 2, stderr: /format/ },
  { name: 'height not a number', args: () => ['setheight', 'tall', ...at(D)], code: 2, stderr: /height/ },
  { name: 'height over u32', args: () => ['closechannel', '--chan-point', `${TXID}:0`, '--height', '4294967296', ...at(D)], code: 2, stderr: /height/ },
  { name: 'conflicting flags: --force without --peer', args: () => ['prunepeerbackup', '--force', ...at(D)], code: 2, stderr: /--peer/ },
  { name: 'conflicting inputs: hex and --file', args: () => ['decode', '0012', '--file', f('toolarge.bin')], code: 2, stderr: /once/ },
  { name: 'conflicting inputs: --blob and --blob-file', args: () => ['encode', 'peer_storage', '--blob', '00', '--blob-file', f('toolarge.bin')], code: 2, stderr: /./ },
  { name: 'importchannels with neither file', args: () => ['importchannels', ...at(D)], code: 2, stderr: /listchannels/ },

  // The database and the key
  { name: 'no database', args: () => ['getinfo', ...at(MISSING)], code: 3, stderr: /no database.*lnps create/ },
  { name: 'no database (import)', args: () => ['importpeerstorage', f('good.jsonl'), ...at(MISSING)], code: 3, stderr: /no database/ },
  { name: 'database locked by another process (read)', args: () => ['listpeerstorage', ...at(D)], code: 3, stderr: /locked/, around: holdLock },
  { name: 'database locked by another process (import)', args: () => ['importpeerstorage', f('lastbad.jsonl'), ...at(D)], code: 3, stderr: /locked/, around: holdLock },
  { name: 'database locked by another process (prune)', args: () => ['prunepeerbackup', '--peer', peers[2]!, '--force', ...at(D)], code: 3, stderr: /locked/, around: holdLock },
  { name: 'corrupt database (CURRENT damaged)', args: () => ['getinfo', ...at(CORRUPT)], code: 3, stderr: /corrupt|cannot open/i, otherDb: () => CORRUPT },
  { name: 'corrupt database (import refused)', args: () => ['importpeerstorage', f('good.jsonl'), ...at(CORRUPT)], code: 3, stderr: /corrupt|cannot open/i, otherDb: () => CORRUPT },
  {
    name: 'damaged record (listpeerstorage)',
    args: () => ['listpeerstorage', ...at(DAMAGED)],
    code: 3,
    stderr: /damaged|corrupt/i,
    otherDb: () => DAMAGED,
    around: async () => {
      await damageRecord();
      return async () => undefined;
    },
  },
  { name: 'damaged record (getpeerstorage)', args: () => ['getpeerstorage', peers[0]!, ...at(DAMAGED)], code: 3, stderr: /damaged|corrupt/i, otherDb: () => DAMAGED },
  { name: 'damaged record (prunepeerbackup)', args: () => ['prunepeerbackup', '--height', '900000', ...at(DAMAGED)], code: 3, stderr: /damaged|corrupt/i, otherDb: () => DAMAGED },
  { name: 'key file with loose permissions', args: () => ['getinfo', '--key-file', f('key-loose'), ...at(D)], code: 3, stderr: /too open|chmod 600/ },
  { name: 'key file with loose permissions (seal)', args: () => ['seal', f('good.jsonl'), '--key-file', f('key-loose'), ...at(D)], code: 3, stderr: /too open|chmod 600/ },
  { name: 'key file missing', args: () => ['verify-blob', '01' + '00'.repeat(100), '--key-file', f('nope.key'), ...at(D)], code: 3, stderr: /key/ },
];

const isRoot = process.getuid?.() === 0;

test(`bad input: ${ROWS.length} malformed inputs give their exit code, one stderr line, and change nothing`, async () => {
  assert.ok(ROWS.length >= 30);
  const base = snapshot(D);
  const secrets = [readFileSync(join(D, 'node.key'), 'utf8').trim().toLowerCase(), '11'.repeat(32)];
  const failures: string[] = [];
  let tried = 0;
  const t0 = Date.now();
  for (const row of ROWS) {
    if (row.needsNonRoot && isRoot) continue;
    const undo = row.around ? await row.around() : undefined;
    const other = row.otherDb?.();
    const otherBefore = other !== undefined ? await dbRecordsHash(other) : undefined;
    let r;
    try {
      r = cli(row.args(), { input: row.stdin, timeoutMs: 20_000 });
    } finally {
      if (undo) await undo();
    }
    tried++;
    const err = r.stderr;
    const lines = err.split('\n').filter((l) => l !== '');
    const problems: string[] = [];
    if (r.code !== row.code) problems.push(`exit ${r.code ?? r.signal}, expected ${row.code}`);
    if (row.checkResult) {
      if (err !== '') problems.push('stderr is not empty');
      if (!row.checkResult.test(r.stdout)) problems.push(`stdout does not match ${row.checkResult}`);
    } else {
      if (lines.length !== 1) problems.push(`${lines.length} stderr lines`);
      if (!/^lnps: /.test(err)) problems.push('stderr does not start with "lnps: "');
    }
    if (/\n\s+at .+[:(]/.test(err) || /internal error/.test(err)) problems.push('a stack trace or internal error');
    if (!row.stderr.test(err)) problems.push(`stderr does not match ${row.stderr}`);
    for (const secret of secrets) if (err.includes(secret) || r.stdout.includes(secret)) problems.push('a secret key in the output');
    if (other !== undefined && (await dbRecordsHash(other)) !== otherBefore) problems.push(`the database files of ${other} changed`);
    if (problems.length > 0) failures.push(`${row.name}: ${problems.join('; ')}\n    stderr: ${JSON.stringify(err.slice(0, 400))}`);
  }
  const afterAll = snapshot(D);
  assert.equal(afterAll, base, 'the stored content changed');
  process.stdout.write(`# bad input: ${tried} malformed inputs tried in ${((Date.now() - t0) / 1000).toFixed(1)} s${isRoot ? ' (1 row needs a non-root user: skipped)' : ''}\n`);
  assert.deepEqual(failures, []);
});

test('bad input: the main database still answers and holds what was put there', () => {
  const exp = cliOk(['exportpeerstorage', ...at(D)]).trim().split('\n');
  assert.equal(exp.length, 3);
  const ch = JSON.parse(cliOk(['listchannels', ...at(D)])) as { channels: { state: string }[] };
  assert.deepEqual(ch.channels.map((c) => c.state).sort(), ['closed', 'open']);
  const info = JSON.parse(cliOk(['getinfo', ...at(D)]));
  assert.equal(info.best_height, 800000);
  // The key copy still works: only the loose one was refused.
  assert.equal(cli(['getinfo', '--key-file', f('key-copy'), ...at(D)]).code, 0);
});
