// The table views people read, on a real pseudo-terminal (python3's pty module) and with
// NO_COLOR: listbackups, listpeers, listpeerstorage and getpeerstorage of real nodes on
// 127.0.0.1. A terminal gets short pubkeys, local times with "ago", statuses in colour and no
// JSON in cells; NO_COLOR (and a pipe) get the same text with no escape codes at all.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { BIN, cleanup, cli, cliJson, createNode, d, until, Serve, sleep } from './node-harness.js';

after(cleanup);

const PY = spawnSync('python3', ['-c', 'import pty'], { timeout: 10_000 }).status === 0;

// Runs argv on a new pseudo-terminal (80 columns) and returns what the terminal showed.
const PTY_RUN = `
import base64, json, os, pty, sys, time, fcntl, termios, struct
argv = json.loads(sys.argv[1])
pid, fd = pty.fork()
if pid == 0:
    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack('HHHH', 40, 80, 0, 0))
    os.execv(argv[0], argv)
out = b''
deadline = time.time() + 60
while time.time() < deadline:
    try:
        b = os.read(fd, 65536)
    except OSError:
        break
    if not b:
        break
    out += b
_, st = os.waitpid(pid, 0)
sys.stdout.write(json.dumps({'status': os.waitstatus_to_exitcode(st), 'out': base64.b64encode(out).decode()}))
`;

function onPty(args: string[], env: Record<string, string> = {}): { status: number; out: string } {
  const base = { ...process.env };
  delete base.NO_COLOR;
  delete base.FORCE_COLOR;
  const r = spawnSync('python3', ['-c', PTY_RUN, JSON.stringify([process.execPath, BIN, ...args])], { encoding: 'utf8', env: { ...base, ...env }, timeout: 90_000 });
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout) as { status: number; out: string };
  // The terminal turns \n into \r\n.
  return { status: j.status, out: Buffer.from(j.out, 'base64').toString('utf8').replace(/\r\n/g, '\n') };
}

const ESC = '\x1b[';
const GREEN = '\x1b[32m';
const RED = '\x1b[31m';
const short = (pk: string) => `${pk.slice(0, 6)}…${pk.slice(-4)}`;
/** A cell holding JSON: a brace or bracket followed by a quoted key. */
const JSON_CELL = /[{[]\s*"/;

test('tables on a terminal and with NO_COLOR: listbackups, listpeers, listpeerstorage, getpeerstorage', { skip: PY ? false : 'python3 with the pty module is not installed', timeout: 120_000 }, async () => {
  const C = await createNode();
  const [good, refusing] = await Promise.all([createNode(), createNode()]);
  const sGood = await Serve.start(good.dir, ['--storage-policy', 'any']);
  const sRef = await Serve.start(refusing.dir); // channel-peers: refuses us
  let c: Serve | undefined;
  try {
    c = await Serve.start(C.dir, [
      '--no-listen', '--retrieval-timeout', '300ms', '--confirm-delay', '300ms', '--confirm-interval', '1h', '--reconnect-delay', '200ms',
      '--connect', `${good.pubkey}@127.0.0.1:${sGood.port}`, '--connect', `${refusing.pubkey}@127.0.0.1:${sRef.port}`,
    ]);
    await until(async () => (await cliJson(['listpeers', ...d(C.dir)])).peers.length === 2, 'two peers connected');
    await sleep(500);
    const file = join(C.dir, 'channel.backup');
    writeFileSync(file, randomBytes(3000));
    const bk = await cliJson(['backup', file, '--force', ...d(C.dir)]);
    await until(async () => {
      const lb = await cliJson(['listbackups', ...d(C.dir)]);
      return lb.versions[0].confirmed.length === 1 && lb.versions[0].refused.length === 1;
    }, 'one copy confirmed, one refused', 30_000);

    // listbackups: confirmed green, refused red, short pubkeys, no JSON.
    const lb = onPty(['listbackups', '--format', 'table', ...d(C.dir)]);
    assert.equal(lb.status, 0, lb.out);
    const goodLine = lb.out.split('\n').find((l) => l.includes(short(good.pubkey)));
    const refLine = lb.out.split('\n').find((l) => l.includes(short(refusing.pubkey)));
    assert.ok(goodLine && refLine, lb.out);
    assert.ok(goodLine.includes(GREEN + 'confirmed'), lb.out);
    assert.ok(refLine.includes(RED + 'refused'), refLine);
    assert.ok(lb.out.includes(String(bk.seq)), 'the backup seq is shown');
    assert.ok(!lb.out.includes(good.pubkey) && !lb.out.includes(refusing.pubkey), 'no whole pubkey in the table');
    assert.doesNotMatch(lb.out, JSON_CELL);
    const lbPlain = onPty(['listbackups', '--format', 'table', ...d(C.dir)], { NO_COLOR: '1' });
    assert.equal(lbPlain.status, 0);
    assert.ok(!lbPlain.out.includes(ESC), 'NO_COLOR: no escape codes');
    assert.equal(lbPlain.out.replace(/\d+ (s|min) ago|just now/g, 'T'), lb.out.replace(/\x1b\[[0-9;]*m/g, '').replace(/\d+ (s|min) ago|just now/g, 'T'), 'the same text without colour');
    const piped = await cli(['listbackups', '--format', 'table', ...d(C.dir)]);
    assert.ok(!piped.stdout.includes(ESC), 'a pipe gets no colour');

    // listpeers: short pubkeys, connection times as a local time plus "ago".
    const lp = onPty(['listpeers', '--format', 'table', ...d(C.dir)]);
    assert.equal(lp.status, 0, lp.out);
    assert.ok(lp.out.includes(short(good.pubkey)) && lp.out.includes(short(refusing.pubkey)), lp.out);
    assert.ok(!lp.out.includes(good.pubkey));
    assert.match(lp.out, /\d{4}-\d\d-\d\d \d\d:\d\d \((just now|\d+ s ago|\d+ min ago)\)/);
    assert.doesNotMatch(lp.out, JSON_CELL);
    assert.ok(!onPty(['listpeers', '--format', 'table', ...d(C.dir)], { NO_COLOR: '1' }).out.includes(ESC));

    // listpeerstorage at the provider: our node, stored, its size; no escape codes under NO_COLOR.
    const ls = onPty(['listpeerstorage', '--format', 'table', ...d(good.dir)]);
    assert.equal(ls.status, 0, ls.out);
    const row = ls.out.split('\n').find((l) => l.includes(short(C.pubkey)));
    assert.ok(row, ls.out);
    assert.ok(!ls.out.includes(C.pubkey));
    assert.match(ls.out, /\((just now|\d+ s ago|\d+ min ago)\)/);
    assert.doesNotMatch(ls.out, JSON_CELL);
    assert.ok(!onPty(['listpeerstorage', '--format', 'table', ...d(good.dir)], { NO_COLOR: '1' }).out.includes(ESC));

    // getpeerstorage: the metadata and the sha256, never the blob's hex.
    const gj = await cliJson(['getpeerstorage', C.pubkey, ...d(good.dir)]);
    const gt = onPty(['getpeerstorage', C.pubkey, '--format', 'table', ...d(good.dir)]);
    assert.equal(gt.status, 0, gt.out);
    const blobHex = String(gj.blob ?? gj.data ?? '');
    assert.ok(blobHex.length > 1000, 'JSON keeps the blob');
    assert.ok(!gt.out.includes(blobHex.slice(0, 200)), 'the table has no blob hex');
    assert.ok(gt.out.length < 4000, `a short view, got ${gt.out.length} characters`);
    assert.ok(gt.out.includes(String(gj.blob_sha256)) && gj.blob_sha256.length === 64, gt.out);
    assert.doesNotMatch(gt.out, JSON_CELL);
    assert.ok(!onPty(['getpeerstorage', C.pubkey, '--format', 'table', ...d(good.dir)], { NO_COLOR: '1' }).out.includes(ESC));
  } finally {
    await Promise.all([sGood.stop(), sRef.stop(), c?.stop()]);
  }
});
