// The node's small parts: logger, lnps.conf, addresses, control socket, pid file, consumer.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { Logger, formatTime, parseDebugLevel } from '../src/core/node/log.js';
import { parseConfig, parseDuration, parseHostPort, parseBool } from '../src/core/node/config.js';
import { parsePeerAddress } from '../src/core/node/peeraddr.js';
import { callNodeIfRunning, connectControl, listenControl } from '../src/core/node/control.js';
import { removePidFile, runningPid, writePidFile } from '../src/core/node/pidfile.js';
import { Consumer, OwnBackupFile, classifyRetrieval } from '../src/core/node/consumer.js';
import { listBackups, newBackup } from '../src/core/node/backup.js';
import { deriveSealKey, seal } from '../src/core/backup/seal.js';
import { CryptoError, DecodeError, InputError, StoreError, UsageError } from '../src/core/errors.js';
import { MemoryKv } from '../src/core/store/memory.js';
import { LnpsStore } from '../src/core/store/store.js';

const dir = mkdtempSync(join(tmpdir(), 'lnps-node-units-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const PEER = Uint8Array.from(Buffer.from('02' + '11'.repeat(32), 'hex'));
const key = deriveSealKey(new Uint8Array(32).fill(7));
const otherKey = deriveSealKey(new Uint8Array(32).fill(8));

test('log lines follow lnd: time, level tag, subsystem, message; levels filter per subsystem', () => {
  const lines: string[] = [];
  const at = new Date(2026, 10, 25, 13, 40, 0, 123);
  const log = new Logger((l) => lines.push(l), parseDebugLevel('info,PEER=debug'), () => at);
  log.sub('PEER').debug('hello');
  log.sub('SRVR').debug('hidden');
  log.sub('SRVR').warn('careful');
  log.sub('PEER').trace('hidden too');
  log.sub('PEER').info('peer said "a\nb\x07"');
  assert.deepEqual(lines, [
    '2026-11-25 13:40:00.123 [DBG] PEER: hello',
    '2026-11-25 13:40:00.123 [WRN] SRVR: careful',
    '2026-11-25 13:40:00.123 [INF] PEER: peer said "a b\\x07"',
  ]);
  assert.equal(formatTime(new Date(2026, 0, 2, 3, 4, 5, 6)), '2026-01-02 03:04:05.006');
  assert.deepEqual(parseDebugLevel('debug'), { base: 'debug', subsystems: {} });
  assert.throws(() => parseDebugLevel('loud'), (e: unknown) => e instanceof UsageError && /unknown level "loud"/.test(e.message));
  assert.throws(() => parseDebugLevel('P-1=info'), UsageError);
});

test('lnps.conf: key=value, comments, sections, repeated lists, bare booleans; unknown keys and duplicates name the line', () => {
  const c = parseConfig('# comment\n; another\n[Application Options]\nlisten = 127.0.0.1:9736\nallow=02aa\nallow=03bb\nprovide-storage\n\ncooldown=2s\n');
  assert.deepEqual(c, { listen: ['127.0.0.1:9736'], allow: ['02aa', '03bb'], 'provide-storage': ['true'], cooldown: ['2s'] });
  // A line the file cannot mean is a usage error (exit 2), like an unknown flag.
  assert.throws(() => parseConfig('listen=a:1\nfoo=1\n', 'x.conf'), (e: unknown) => e instanceof UsageError && e.message.startsWith('x.conf line 2: unknown setting "foo"'));
  assert.throws(() => parseConfig('cooldown=1s\ncooldown=2s'), (e: unknown) => e instanceof UsageError && /line 2: cooldown is set twice/.test(e.message));
  assert.throws(() => parseConfig('[Application Options'), /line 1: unclosed section header/);
  assert.equal(parseBool('no', 'x'), false);
  assert.throws(() => parseBool('maybe', 'x'), InputError);
});

test('durations and addresses', () => {
  assert.equal(parseDuration('500ms', 'x'), 500);
  assert.equal(parseDuration('2', 'x'), 2000);
  assert.equal(parseDuration('1.5s', 'x'), 1500);
  assert.equal(parseDuration('1m', 'x'), 60_000);
  assert.equal(parseDuration('1h', 'x'), 3_600_000);
  assert.throws(() => parseDuration('-1s', 'x'), InputError);
  assert.throws(() => parseDuration('1d', 'x'), InputError);
  assert.deepEqual(parseHostPort('127.0.0.1:0', 'x'), { host: '127.0.0.1', port: 0 });
  assert.deepEqual(parseHostPort('[::1]:9736', 'x'), { host: '::1', port: 9736 });
  assert.deepEqual(parseHostPort('example.org', 'x', 9735), { host: 'example.org', port: 9735 });
  assert.throws(() => parseHostPort('h:65536', 'x'), /port must be 0 to 65535/);
  assert.throws(() => parseHostPort(':1', 'x'), InputError);
  const pk = '0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798';
  const a = parsePeerAddress(`${pk}@127.0.0.1`);
  assert.equal(Buffer.from(a.pubkey).toString('hex'), pk);
  // The default port is lnps's own (9737), never the Lightning port 9735 of the node beside it.
  assert.deepEqual([a.host, a.port], ['127.0.0.1', 9737]);
  assert.throws(() => parsePeerAddress(pk), UsageError);
  assert.throws(() => parsePeerAddress('02' + '00'.repeat(32) + '@h:1'), /not a point on secp256k1/);
  assert.throws(() => parsePeerAddress(`${pk}@h:0`), UsageError);
});

test('control socket: mode 0600, rows stream before the result, errors keep their kind and code', async () => {
  const path = join(dir, 'c.sock');
  const server = await listenControl(path, async (method, params, ctx) => {
    if (method === 'list') {
      for (let i = 0; i < (params.n as number); i++) await ctx.row({ i, big: BigInt(i) * 10n ** 18n, bytes: Uint8Array.of(i) });
      return { count: params.n };
    }
    if (method === 'store') throw new StoreError('locked', 'held elsewhere');
    if (method === 'decode') throw new DecodeError('truncated', 'init.features', 'needs 2 bytes');
    if (method === 'input') throw new InputError('bad pubkey', 'bad_pubkey');
    if (method === 'crypto') throw new CryptoError('auth_failed', 'no');
    if (method === 'usage') throw new UsageError('give --height');
    throw new Error('boom');
  });
  try {
    assert.equal(statSync(path).mode & 0o777, 0o600);
    const rows: unknown[] = [];
    const r = await callNodeIfRunning(path, 'list', { n: 3 }, (row) => void rows.push(row));
    assert.deepEqual(r, { result: { count: 3 } });
    assert.deepEqual(rows, [
      { i: 0, big: '0', bytes: '00' },
      { i: 1, big: '1000000000000000000', bytes: '01' },
      { i: 2, big: '2000000000000000000', bytes: '02' },
    ]);
    const c = (await connectControl(path))!;
    try {
      await assert.rejects(c.call('store'), (e: unknown) => e instanceof StoreError && e.code === 'locked' && e.message === 'held elsewhere');
      await assert.rejects(c.call('decode'), (e: unknown) => e instanceof DecodeError && e.code === 'truncated' && e.path === 'init.features' && e.message === 'init.features: needs 2 bytes');
      await assert.rejects(c.call('input'), (e: unknown) => e instanceof InputError && e.code === 'bad_pubkey');
      await assert.rejects(c.call('crypto'), (e: unknown) => e instanceof CryptoError && e.code === 'auth_failed');
      await assert.rejects(c.call('usage'), (e: unknown) => e instanceof UsageError && e.message === 'give --height');
      await assert.rejects(c.call('other'), (e: unknown) => e instanceof Error && e.constructor === Error && e.message === 'boom');
      // Several calls on one connection, concurrently.
      const many = await Promise.all([c.call('list', { n: 1 }), c.call('list', { n: 2 })]);
      assert.deepEqual(many, [{ count: 1 }, { count: 2 }]);
    } finally {
      c.close();
    }
  } finally {
    await server.close();
  }
  assert.equal(await callNodeIfRunning(path, 'list', {}), undefined, 'no socket: no node');
  writeFileSync(join(dir, 'stale.sock'), '');
  assert.equal(await connectControl(join(dir, 'stale.sock')), null, 'a stale file is no node');
});

test('pid file: written 0600, replaced when its process is gone, removed only by its owner', () => {
  const path = join(dir, 'lnps.pid');
  writePidFile(path);
  assert.equal(statSync(path).mode & 0o777, 0o600);
  assert.equal(runningPid(path), process.pid);
  removePidFile(path, process.pid + 1);
  assert.equal(runningPid(path), process.pid, 'not ours: kept');
  removePidFile(path);
  assert.equal(runningPid(path), undefined);
  // The pid of a process that has exited is not running.
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  writeFileSync(path, dead.stdout + '\n');
  assert.equal(runningPid(path), undefined);
  writeFileSync(path, 'garbage\n');
  assert.equal(runningPid(path), undefined);
  writePidFile(path);
  assert.equal(runningPid(path), process.pid);
  removePidFile(path);
});

test('classifyRetrieval: confirmed, stale, corrupt (lnps-shaped, fails verification), foreign', () => {
  const b5 = seal(Uint8Array.of(1, 2, 3), { seq: 5n, key, pad: 'none' });
  assert.deepEqual({ ...classifyRetrieval(b5, key, 5n), plaintext: undefined }, { status: 'confirmed', seq: 5n, plaintext: undefined });
  assert.equal(classifyRetrieval(b5, key, 4n).status, 'confirmed', 'newer than expected: a restored node');
  assert.equal(classifyRetrieval(b5, key).status, 'confirmed');
  assert.deepEqual(Array.from(classifyRetrieval(b5, key).plaintext!), [1, 2, 3]);
  const st = classifyRetrieval(b5, key, 6n);
  assert.equal(st.status, 'stale');
  assert.equal(st.seq, 5n);
  const tampered = b5.slice();
  tampered[30]! ^= 1;
  assert.deepEqual(classifyRetrieval(tampered, key, 5n), { status: 'corrupt', detail: 'auth_failed' });
  assert.deepEqual(classifyRetrieval(b5, otherKey, 5n), { status: 'corrupt', detail: 'auth_failed' });
  assert.deepEqual(classifyRetrieval(Uint8Array.of(1, 2, 3), key), { status: 'foreign', detail: 'bad_length' });
  const v9 = b5.slice();
  v9[0] = 9;
  assert.deepEqual(classifyRetrieval(v9, key), { status: 'foreign', detail: 'unknown_version' });
  const shard = seal(new Uint8Array(60), { seq: 5n, key, pad: 'none', version: 2 });
  assert.equal(classifyRetrieval(shard, key).status, 'foreign');
});

test('consumer: our newest backup survives in its file; retrievals are recorded and the newest valid copy kept', async () => {
  const netDir = mkdtempSync(join(dir, 'net-'));
  const own = new OwnBackupFile(netDir, key);
  assert.equal(own.load(), undefined);
  const b1 = newBackup(own, key, { plaintext: Uint8Array.of(9), seq: 100n, pad: 'none' }, 0);
  assert.equal(b1.seq, 100n);
  assert.equal(statSync(own.path).mode & 0o777, 0o600);
  assert.throws(() => newBackup(own, key, { plaintext: Uint8Array.of(9), seq: 100n }, 0), (e: unknown) => e instanceof InputError && e.code === 'stale_seq');
  assert.throws(() => newBackup(own, key, { plaintext: new Uint8Array(65449) }, 0), (e: unknown) => e instanceof InputError && e.code === 'too_large');
  // Without --seq: the time in ms, or one more than the newest when the clock is behind it.
  const b2 = newBackup(own, key, { plaintext: Uint8Array.of(9), pad: 'none' }, 50);
  assert.equal(b2.seq, 101n);
  const b3 = newBackup(own, key, { plaintext: Uint8Array.of(9), pad: 'none' }, 5000);
  assert.equal(b3.seq, 5000n);
  const b4 = newBackup(own, key, { plaintext: Uint8Array.of(9), pad: 'none', seq: 5100n }, 0);
  assert.equal(b4.seq, 5100n);
  const reread = new OwnBackupFile(netDir, key).load()!;
  assert.equal(reread.seq, 5100n);
  assert.deepEqual(reread.sealed, b4.sealed);
  assert.throws(() => new OwnBackupFile(netDir, otherKey).load(), (e: unknown) => e instanceof StoreError && e.code === 'corrupt');

  const store = await LnpsStore.open(new MemoryKv());
  const consumer = new Consumer(own, store, key);
  await consumer.recordSent(PEER, b1, 1_000);
  const older = seal(Uint8Array.of(8), { seq: 50n, key, pad: 'none' });
  assert.deepEqual(await consumer.onRetrieval(PEER, older, 2_000), { status: 'stale', seq: 50n, detail: undefined });
  assert.deepEqual(await consumer.onRetrieval(PEER, b1.sealed, 3_000), { status: 'confirmed', seq: 100n, detail: undefined });
  const bad = b1.sealed.slice();
  bad[50]! ^= 1;
  assert.deepEqual(await consumer.onRetrieval(PEER, bad, 4_000), { status: 'corrupt', seq: undefined, detail: 'auth_failed' });
  const kept = await store.retrievedBlob(PEER);
  assert.equal(kept!.seq, 100n, 'the newest valid copy stays after a corrupt one');
  assert.deepEqual(kept!.blob, b1.sealed);
  // A peer we never sent to returns something that does not open with our key: judged for the
  // connection, counted, never stored (any peer could otherwise create a permanent record).
  const PEER3 = Uint8Array.from(Buffer.from('03' + '33'.repeat(32), 'hex'));
  assert.deepEqual(await consumer.onRetrieval(PEER3, Uint8Array.of(1, 2, 3), 5_000), { status: 'foreign', seq: undefined, detail: 'bad_length', recorded: false });
  assert.deepEqual(await consumer.onRetrieval(PEER3, bad, 5_500), { status: 'corrupt', seq: undefined, detail: 'auth_failed', recorded: false });
  assert.equal(consumer.unsolicitedRetrievals, 2);
  assert.equal(await store.retrievedBlob(PEER3), undefined);
  // A peer we never sent to returns our backup (a restored node): that proves it holds a copy,
  // so it is recorded, listed after the others.
  const PEER2 = Uint8Array.from(Buffer.from('03' + '22'.repeat(32), 'hex'));
  assert.deepEqual(await consumer.onRetrieval(PEER2, b4.sealed, 6_000), { status: 'confirmed', seq: 5100n, detail: undefined });
  assert.equal(consumer.unsolicitedRetrievals, 2);
  const rows: Record<string, unknown>[] = [];
  assert.equal(await listBackups(store, (r) => void rows.push(r)), 2);
  assert.deepEqual(rows, [
    {
      peer: Buffer.from(PEER).toString('hex'),
      seq_sent: '100',
      sent_sha256: Buffer.from(b1.sha256).toString('hex'),
      sent_len: b1.sealed.length,
      sent_at: 1,
      seq_confirmed: null,
      status: 'corrupt',
      retrieval: 'corrupt',
      last_seen: 4,
      refused: null,
      refused_at: null,
    },
    { peer: '03' + '22'.repeat(32), seq_sent: null, sent_sha256: null, sent_len: null, sent_at: null, seq_confirmed: '5100', status: 'confirmed', retrieval: 'confirmed', last_seen: 6, refused: null, refused_at: null },
  ]);
});

test('log: every control, format and separator character of a peer string is escaped; no line passes 1 KiB', () => {
  const lines: string[] = [];
  const log = new Logger((l) => lines.push(l), { base: 'info', subsystems: {} }, () => new Date(2026, 0, 1));
  const evil = 'a\u2028b\u2029c\u0085d\u009be\u202ef\u200bg\u0000h\x1b[31mi\tj\nk\ud800l\ufeffm';
  log.log('PEER', 'warn', `peer sent warning: ${evil}`);
  assert.equal(lines.length, 1);
  assert.doesNotMatch(lines[0]!, /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/u);
  assert.ok(lines[0]!.endsWith('a\\u2028b\\u2029c\\x85d\\x9be\\u202ef\\u200bg\\x00h\\x1b[31mi\\x09j k\\ud800l\\ufeffm'), lines[0]);
  log.log('PEER', 'info', 'x'.repeat(5000));
  log.log('PEER', 'info', '€'.repeat(2000));
  for (const l of lines) assert.ok(Buffer.byteLength(l, 'utf8') <= 1024, `${Buffer.byteLength(l)} bytes`);
  assert.match(lines[1]!, /x …\[cut\]$/);
  assert.match(lines[2]!, /€ …\[cut\]$/);
});
