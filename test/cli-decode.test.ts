// End-to-end runs of the built CLI: lnps decode and lnps encode.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/lnps.js', import.meta.url));
let dir: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'lnps-decode-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

// The fresh data directory goes in LNPS_DIR rather than --datadir, so that `decode HEX` keeps the
// exact argument form that takes the commander-free path.
function lnps(args: string[], input?: string | Uint8Array, env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], { input, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', LNPS_DIR: dir, ...env }, timeout: 20_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** An error is exactly one line on stderr, nothing on stdout. */
function failsWith(args: string[], status: number, re: RegExp, input?: string) {
  const r = lnps(args, input);
  assert.equal(r.status, status, `${args.join(' ')}: ${r.stderr}`);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr.split('\n').length, 2, `one line: ${JSON.stringify(r.stderr)}`);
  assert.match(r.stderr, /^lnps: /);
  assert.match(r.stderr, re);
}

const MAINNET = '6fe28c0ab6f1b372c1a6a246ae63f74f931e8365e15a089c68d6190000000000';
const INIT_43_MAINNET = '0010' + '0000' + '0006' + '080000000000' + '0120' + MAINNET;

test('decode prints the message as JSON, exit 0', () => {
  const r = lnps(['decode', '00070003010203']);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { type: 7, name: 'peer_storage', blob_len: 3, blob: '010203', extension: [] });
  const i = lnps(['decode', INIT_43_MAINNET]);
  assert.deepEqual(JSON.parse(i.stdout), {
    type: 16,
    name: 'init',
    global_features: [],
    features: [43],
    feature_names: { '43': 'option_provide_storage' },
    networks: [MAINNET],
    network_names: ['mainnet'],
    remote_addr: null,
    remote_addr_text: null,
    extension: [],
  });
});

test('decode reads hex on stdin, raw bytes with --file, and --base64', () => {
  const want = { type: 19, name: 'pong', ignored_len: 2, ignored: '0000', extension: [] };
  assert.deepEqual(JSON.parse(lnps(['decode', '-'], '0013 0002\n0000\n').stdout), want);
  const f = join(dir, 'pong.bin');
  writeFileSync(f, Buffer.from('001300020000', 'hex'));
  assert.deepEqual(JSON.parse(lnps(['decode', '--file', f]).stdout), want);
  assert.deepEqual(JSON.parse(lnps(['decode', '--base64', Buffer.from('001300020000', 'hex').toString('base64')]).stdout), want);
});

test('decode --stream reads u16-length-prefixed messages; encode --json gives the stream back', () => {
  const stream = '0004' + '00070000' + '0006' + '001200010000';
  const r = lnps(['decode', '--stream', stream]);
  assert.equal(r.status, 0, r.stderr);
  const arr = JSON.parse(r.stdout);
  assert.deepEqual(arr.map((m: { name: string }) => m.name), ['peer_storage', 'ping']);
  assert.equal(lnps(['encode', '--json', '-'], r.stdout).stdout, stream + '\n');
  failsWith(['decode', '--stream', '0004000700'], 1, /stream\[0\]: length says 4 bytes, only 3 left/);
});

test('decode --format table is a readable view without colour under NO_COLOR', () => {
  const r = lnps(['decode', INIT_43_MAINNET, '--format', 'table']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^type +16$/m);
  assert.match(r.stdout, /^feature_names +\{"43":"option_provide_storage"\}$/m);
  assert.doesNotMatch(r.stdout, /\x1b\[/);
});

test('decode errors: bad hex, odd digits, truncated, too large: one line, exit 1; no input or a wrong flag: exit 2; missing file: exit 3', () => {
  failsWith(['decode', '0007zz'], 1, /message: not hex: character "z" at position 4/);
  failsWith(['decode', '0007000'], 1, /message: odd number of hex digits \(7\)/);
  failsWith(['decode', '000700050102'], 1, /peer_storage\.blob: needs 5 bytes, only 2 left \(the message is cut short/);
  failsWith(['decode', '00100000000001'], 1, /init\.tlvs\[0\]\.length: needs 1 byte, only 0 left/);
  failsWith(['decode', '001000000000ca012a'], 1, /unknown even record type 202/);
  const big = join(dir, 'big.bin');
  writeFileSync(big, new Uint8Array(65536));
  failsWith(['decode', '--file', big], 1, /message: 65536 bytes; a message is at most 65535 bytes/);
  failsWith(['decode', '--no-such-flag'], 2, /unknown option '--no-such-flag'/);
  failsWith(['decode'], 2, /no message given/);
  failsWith(['decode', '00', '--base64', 'AA=='], 2, /give the message once/);
  failsWith(['decode', '--file', join(dir, 'nope.bin')], 3, /cannot read message .*nope\.bin: no such file/);
});

test('encode builds each message from flags', () => {
  const cases: [string[], string][] = [
    [['encode', 'peer_storage', '--blob', '010203'], '00070003010203'],
    [['encode', 'your_peer_storage', '--blob', 'aa'], '00090001aa'],
    [['encode', 'init', '--features', '43', '--networks', 'mainnet'], INIT_43_MAINNET],
    [['encode', 'init', '--features', 'option_provide_storage,1', '--remote-addr', '017f0000012607'], '001000000006080000000002' + '0307017f0000012607'],
    [['encode', 'ping', '--num-pong-bytes', '4', '--ignored-len', '2'], '0012000400020000'],
    [['encode', 'pong', '--ignored-len', '1'], '0013000100'],
    [['encode', 'warning', '--data', 'hi'], '0001' + '00'.repeat(32) + '00026869'],
    [['encode', 'error', '--channel-id', '11'.repeat(32), '--data-hex', '00ff'], '0011' + '11'.repeat(32) + '000200ff'],
    [['encode', '32769', '--payload', 'abcd'], '8001abcd'],
    [['encode', '7', '--blob', ''], '00070000'],
  ];
  for (const [args, hex] of cases) {
    const r = lnps(args);
    assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stdout, hex + '\n', args.join(' '));
  }
  const blobFile = join(dir, 'blob.bin');
  writeFileSync(blobFile, new Uint8Array([9, 8, 7]));
  assert.equal(lnps(['encode', 'peer_storage', '--blob-file', blobFile]).stdout, '00070003090807\n');
});

test('encode --out writes raw bytes and prints a summary; --format json prints an object', () => {
  const out = join(dir, 'msg.bin');
  const r = lnps(['encode', 'ping', '--num-pong-bytes', '1', '--out', out]);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { written: out, bytes: 6, type: 18, name: 'ping', length: 6 });
  assert.equal(readFileSync(out).toString('hex'), '001200010000');
  assert.deepEqual(JSON.parse(lnps(['encode', 'pong', '--format', 'json']).stdout), { type: 19, name: 'pong', length: 4, hex: '00130000' });
});

test('encode errors: blob over 65531 exit 1; wrong or missing flags exit 2', () => {
  failsWith(['encode', 'peer_storage', '--blob', '00'.repeat(65532)], 1, /--blob is 65532 bytes; a peer storage blob is at most 65531 bytes/);
  const big = join(dir, 'bigblob.bin');
  writeFileSync(big, new Uint8Array(65532));
  failsWith(['encode', 'peer_storage', '--blob-file', big], 1, /is 65532 bytes; a peer storage blob is at most 65531 bytes/);
  failsWith(['encode', 'peer_storage', '--blob', '0'], 1, /--blob: odd number of hex digits/);
  failsWith(['encode', 'ping', '--blob', '00'], 2, /--blob does not apply to ping; it takes --num-pong-bytes, --ignored-len/);
  failsWith(['encode', 'peer_storage'], 2, /needs the blob: give --blob HEX or --blob-file FILE/);
  failsWith(['encode', 'bogus'], 2, /unknown message type "bogus"/);
  failsWith(['encode'], 2, /no message type given/);
  failsWith(['encode', 'ping', '--num-pong-bytes', 'x'], 2, /--num-pong-bytes must be a non-negative integer/);
  failsWith(['encode', 'peer_storage', '--blobb', '00'], 2, /unknown option '--blobb'/);
  failsWith(['encode', '--json', '-'], 1, /standard input is not valid JSON/, '{');
  failsWith(['encode', '--json', '-'], 1, /message\.blobb: not a field of peer_storage/, '{"name":"peer_storage","blobb":"00"}');
  failsWith(['encode', 'ping', '--json', '-'], 2, /--json builds the whole message/, '{}');
});

test('decode then encode --json is the identity', () => {
  const messages = [
    '00070003010203',
    '00090002cafefd010101ff',
    INIT_43_MAINNET,
    '001000020002000202080100', // padded globalfeatures, empty networks
    '001000000000c9012acb0104', // the spec's init with two unknown odd records
    '0011' + '11'.repeat(32) + '0003626164',
    '0001' + '00'.repeat(32) + '000200ff',
    '0012fffc00020000',
    '0013000100',
    '8001abcd',
    '0020',
  ];
  // Single messages, through a pipe as a script would use it.
  for (const hex of [INIT_43_MAINNET, '001000020002000202080100']) {
    const d = lnps(['decode', hex]);
    assert.equal(d.status, 0, `${hex}: ${d.stderr}`);
    assert.equal(lnps(['encode', '--json', '-'], d.stdout).stdout, hex + '\n', hex);
  }
  // All of them at once as a stream (one process each way keeps the suite quick).
  const stream = messages.map((h) => (h.length / 2).toString(16).padStart(4, '0') + h).join('');
  const d = lnps(['decode', '--stream', stream]);
  assert.equal(d.status, 0, d.stderr);
  assert.equal(JSON.parse(d.stdout).length, messages.length);
  assert.equal(lnps(['encode', '--json', '-'], d.stdout).stdout, stream + '\n');
});

test('decode and encode have a description and an example in --help', () => {
  for (const cmd of ['decode', 'encode']) {
    const r = lnps([cmd, '--help']);
    assert.equal(r.status, 0);
    assert.match(r.stdout, /Lightning wire message/);
    assert.match(r.stdout, new RegExp(`Examples:\\n  \\$ lnps ${cmd} `));
  }
});

test('decode loads neither classic-level, secp256k1 nor chalk', () => {
  // A resolve hook logs every module the process loads.
  const log = join(dir, 'modules.log');
  const hook = join(dir, 'hook.mjs');
  writeFileSync(hook, `import { appendFileSync } from 'node:fs';\nexport async function resolve(s, c, next) { const r = await next(s, c); appendFileSync(${JSON.stringify(log)}, r.url + '\\n'); return r; }\n`);
  const reg = join(dir, 'register.mjs');
  writeFileSync(reg, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hook).href)});\n`);
  const r = spawnSync(process.execPath, ['--import', pathToFileURL(reg).href, BIN, 'decode', INIT_43_MAINNET], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.status, 0, r.stderr);
  const loaded = readFileSync(log, 'utf8');
  assert.match(loaded, /core\/wire\/registry\.js/);
  assert.doesNotMatch(loaded, /classic-level|secp256k1|chalk/);
});

test('the commander-free path of `decode HEX` prints exactly what the full path prints', () => {
  // `--format json` forces the commander path; the bare form takes the fast one.
  for (const hex of [INIT_43_MAINNET, '0007000', '000700050102']) {
    const fast = lnps(['decode', hex]);
    const full = lnps(['decode', hex, '--format', 'json']);
    assert.deepEqual(fast, full, hex);
  }
  assert.deepEqual(lnps(['decode', '-'], '00070000'), lnps(['decode', '-', '--format', 'json'], '00070000'));
});

test('`lnps --version` alone (answered before commander loads) prints what commander prints', () => {
  const fast = lnps(['--version']);
  assert.equal(fast.status, 0);
  assert.match(fast.stdout, /^\d+\.\d+\.\d+\n$/);
  assert.deepEqual(lnps(['--version', '--debug']), fast);
});
