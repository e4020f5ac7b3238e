// Shared helpers for the stress suites (bad input, crash, flood, mutated frames) and their long
// forms in bench/: run the built CLI, make data directories, snapshot what a database holds,
// spawn `lnps serve` on 127.0.0.1, and speak to it as a peer over the real transport.
// Everything here is bounded in time; every process it starts is ended by pid.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { toHex } from '../src/core/bytes.js';
import { isValidPubkey, publicKeyOf } from '../src/core/keys.js';
import { connect, type Socket } from 'node:net';
import { InitiatorHandshake, connectPeer, type MessageDecryptor, type MessageEncryptor, type PeerConnection } from '../src/core/transport/index.js';
import { CHAIN_HASH, decodeMessage, encodeMessage, initMessage } from '../src/core/wire/index.js';

export const BIN = fileURLToPath(new URL('../../bin/lnps.js', import.meta.url));
/** The repository root (dist/test/ → ../../), where node_modules resolves. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const NETWORK = 'regtest';

// ---- Randomness with a printed seed ----

/** mulberry32: a small seeded generator, so a failing round can be replayed from its seed. */
export class Rng {
  private s: number;
  constructor(readonly seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.int(256);
    return out;
  }
}

/** The seed from the environment (LNPS_SEED) or a fresh one; the caller prints it. */
export function seedFromEnv(name = 'LNPS_SEED'): number {
  const v = process.env[name];
  if (v !== undefined && /^\d+$/.test(v)) return Number(v) >>> 0;
  return randomBytes(4).readUInt32BE(0);
}

// ---- Keys ----

/** A node secret from the generator: non-zero, and a first byte under 0xff keeps it below the curve order. */
export function secretFrom(rng: Rng): Uint8Array {
  for (;;) {
    const s = rng.bytes(32);
    if (s[0]! < 0xff && s.some((b) => b !== 0)) return s;
  }
}

export function pubkeyHexOf(secret: Uint8Array): string {
  return toHex(publicKeyOf(secret));
}

/** A 33-byte key with a valid prefix whose x is not on secp256k1 (the smallest such x). */
export function offCurvePubkeyHex(): string {
  for (let x = 1; x < 1000; x++) {
    const b = new Uint8Array(33);
    b[0] = 2;
    b[31] = x >> 8;
    b[32] = x & 0xff;
    if (!isValidPubkey(b)) return toHex(b);
  }
  throw new Error('no off-curve x below 1000');
}

// ---- Running the CLI ----

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Run the built CLI once, bounded in time; `input` goes to its stdin. */
export function cli(args: string[], opts: { input?: string | Uint8Array; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    input: opts.input ?? '',
    timeout: opts.timeoutMs ?? 30_000,
    killSignal: 'SIGKILL',
    env: { ...process.env, NO_COLOR: '1', ...opts.env },
    maxBuffer: 64 * 1024 * 1024,
  });
  return { code: r.status, signal: r.signal, stdout: r.stdout.toString('utf8'), stderr: r.stderr.toString('utf8') };
}

/** Run the CLI and require exit 0; returns stdout. */
export function cliOk(args: string[], opts: { input?: string | Uint8Array; timeoutMs?: number } = {}): string {
  const r = cli(args, opts);
  if (r.code !== 0) throw new Error(`lnps ${args.join(' ')} exited ${r.code ?? r.signal}: ${r.stderr.trim()}`);
  return r.stdout;
}

export function tempDir(prefix = 'lnps-stress-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
}

/** The global flags that point a command at a data directory on regtest. */
export function at(datadir: string): string[] {
  return ['--datadir', datadir, '--network', NETWORK];
}

/** `lnps create` in a fresh directory; returns the node's public key. */
export function createNode(datadir: string): string {
  return JSON.parse(cliOk(['create', ...at(datadir)])).node_pubkey as string;
}

export function dbPath(datadir: string): string {
  return join(datadir, NETWORK, 'db');
}

/**
 * Everything the database holds as the CLI shows it: every blob with its metadata
 * (exportpeerstorage), every channel (listchannels) and the totals and height (getinfo).
 */
export function snapshot(datadir: string): string {
  const exp = cliOk(['exportpeerstorage', ...at(datadir)]);
  const ch = cliOk(['listchannels', ...at(datadir)]);
  const info = JSON.parse(cliOk(['getinfo', ...at(datadir)])) as Record<string, unknown>;
  const totals = ['schema_version', 'peers_stored', 'bytes_held', 'channels_known', 'open_channels', 'best_height'].map((k) => `${k}=${String(info[k])}`);
  return `${exp}\n--\n${ch}\n--\n${totals.join(' ')}`;
}

/** A hash of every file of the database directory except LevelDB's own log (rewritten on each open). */
export function dbFilesHash(datadir: string): string {
  const dir = dbPath(datadir);
  const h = createHash('sha256');
  for (const f of readdirSync(dir).sort()) {
    if (f === 'LOG' || f === 'LOG.old' || f === 'LOCK') continue;
    const p = join(dir, f);
    if (!statSync(p).isFile()) continue;
    h.update(f + '\0').update(readFileSync(p)).update('\0');
  }
  return h.digest('hex');
}

/**
 * Every key and value of a database, hashed, read straight from LevelDB (for a database the CLI
 * refuses to read); when LevelDB itself cannot open it, the hash of its files.
 */
export async function dbRecordsHash(datadir: string): Promise<string> {
  const { ClassicLevel } = await import('classic-level');
  const db = new ClassicLevel<Uint8Array, Uint8Array>(dbPath(datadir), { keyEncoding: 'view', valueEncoding: 'view' });
  try {
    await db.open({ createIfMissing: false });
  } catch {
    return 'files:' + dbFilesHash(datadir);
  }
  try {
    const h = createHash('sha256');
    for await (const [k, v] of db.iterator()) h.update(toHex(k) + '=' + toHex(v) + '\n');
    return 'records:' + h.digest('hex');
  } finally {
    await db.close();
  }
}

/** One export line, as `exportpeerstorage` writes it and `importpeerstorage` reads it. */
export function exportLine(peerHex: string, blob: Uint8Array, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ peer: peerHex, blob: toHex(blob), ...extra });
}

// ---- Processes ----

/** Wait for a child to exit, bounded; resolves with its exit code or signal. */
export function exited(child: ChildProcess, timeoutMs = 15_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`process ${child.pid} did not exit within ${timeoutMs} ms`)), timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal });
    });
  });
}

/** SIGKILL a child we started (by its pid) and wait for it to be gone. */
export async function killHard(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(child.pid!, 'SIGKILL');
  } catch {
    // Already gone.
  }
  await exited(child, 10_000).catch(() => undefined);
}

/** Peak resident memory (VmHWM) and current (VmRSS) of a process, in KiB, from /proc. */
export function memoryOf(pid: number): { hwmKiB: number; rssKiB: number } | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const hwm = /VmHWM:\s+(\d+) kB/.exec(s);
    const rss = /VmRSS:\s+(\d+) kB/.exec(s);
    if (!hwm || !rss) return undefined;
    return { hwmKiB: Number(hwm[1]), rssKiB: Number(rss[1]) };
  } catch {
    return undefined;
  }
}

/**
 * A child that holds the LevelDB lock of `dir` (the way another process using the database
 * would) until it is killed. Resolves once the lock is held.
 */
export async function holdDbLock(dir: string): Promise<ChildProcess> {
  const code = `import { ClassicLevel } from 'classic-level';
const db = new ClassicLevel(process.argv[1]);
await db.open({ createIfMissing: false });
process.stdout.write('locked\\n');
setTimeout(() => process.exit(0), 60000);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code, dir], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error('the lock holder did not start in 10 s')), 10_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('locked')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.once('exit', (c) => {
      clearTimeout(timer);
      reject(new Error(`the lock holder exited ${c}: ${err.trim()}`));
    });
  });
  return child;
}

// ---- The node ----

export interface ServeProcess {
  child: ChildProcess;
  pid: number;
  port: number;
  pubkey: string;
  /** Everything the node logged so far. */
  log(): string;
  /** Resolves when a log line matches, bounded. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
}

/**
 * Start `lnps serve` on 127.0.0.1 with a port the system picks, and wait for its
 * "Server listening on HOST:PORT" line.
 */
export async function startServe(datadir: string, extra: string[] = [], timeoutMs = 15_000): Promise<ServeProcess> {
  const child = spawn(process.execPath, [BIN, 'serve', ...at(datadir), '--listen', '127.0.0.1:0', ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  let text = '';
  const waiters: { re: RegExp; resolve(m: RegExpExecArray): void }[] = [];
  const onText = (d: Buffer) => {
    text += d.toString();
    // Keep memory bounded on long floods: the start-up lines stay, the middle is cut.
    if (text.length > 4_000_000) text = text.slice(0, 20_000) + '\n…\n' + text.slice(-1_000_000);
    for (let i = waiters.length - 1; i >= 0; i--) {
      const m = waiters[i]!.re.exec(text);
      if (m) {
        waiters[i]!.resolve(m);
        waiters.splice(i, 1);
      }
    }
  };
  child.stdout!.on('data', onText);
  child.stderr!.on('data', onText);
  const waitFor = (re: RegExp, ms = timeoutMs): Promise<RegExpExecArray> => {
    const m = re.exec(text);
    if (m) return Promise.resolve(m);
    return new Promise((resolve, reject) => {
      const w = {
        re,
        resolve: (x: RegExpExecArray) => {
          clearTimeout(timer);
          child.off('exit', onExit);
          resolve(x);
        },
      };
      const onExit = () => {
        clearTimeout(timer);
        const i = waiters.indexOf(w);
        if (i >= 0) waiters.splice(i, 1);
        reject(new Error(`lnps serve exited (${child.exitCode ?? child.signalCode}) before logging ${re}: ${text.slice(-2000)}`));
      };
      const timer = setTimeout(() => {
        const i = waiters.indexOf(w);
        if (i >= 0) waiters.splice(i, 1);
        child.off('exit', onExit);
        reject(new Error(`lnps serve did not log ${re} within ${ms} ms: ${text.slice(-2000)}`));
      }, ms);
      waiters.push(w);
      child.once('exit', onExit);
    });
  };
  try {
    const listening = await waitFor(/Server listening on 127\.0\.0\.1:(\d+)/);
    const node = await waitFor(/lnps node ([0-9a-f]{66})/);
    return { child, pid: child.pid!, port: Number(listening[1]), pubkey: node[1]!, log: () => text, waitFor };
  } catch (e) {
    await killHard(child);
    throw e;
  }
}

/** Stop a node with SIGTERM (a clean shutdown that flushes), SIGKILL if it hangs. */
export async function stopServe(s: ServeProcess, timeoutMs = 10_000): Promise<void> {
  if (s.child.exitCode !== null || s.child.signalCode !== null) return;
  try {
    process.kill(s.pid, 'SIGTERM');
  } catch {
    return;
  }
  try {
    await exited(s.child, timeoutMs);
  } catch {
    await killHard(s.child);
  }
}

// ---- A peer over the real transport ----

export interface Client {
  conn: PeerConnection;
  secret: Uint8Array;
  pubkey: string;
  /** The node's init. */
  init: ReturnType<typeof decodeMessage>;
}

/** Connect to the node as a peer: the BOLT #8 handshake, then the init exchange. */
export async function connectClient(port: number, nodePubkey: string, secret: Uint8Array, timeoutMs = 10_000): Promise<Client> {
  const conn = await connectPeer({ host: '127.0.0.1', port, remotePubkey: Buffer.from(nodePubkey, 'hex'), localSecret: secret, timeoutMs });
  try {
    await conn.send(encodeMessage(initMessage({ features: [], networks: [CHAIN_HASH[NETWORK]] })));
    const first = await withTimeout(conn.read(), timeoutMs, 'the node sent no init');
    if (first === null) throw new Error(`the node closed before its init: ${String(conn.closeReason)}`);
    const init = decodeMessage(first);
    if (init.name !== 'init') throw new Error(`the node's first message is ${init.name}, not init`);
    return { conn, secret, pubkey: pubkeyHexOf(secret), init };
  } catch (e) {
    conn.destroy();
    throw e;
  }
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} (after ${ms} ms)`)), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

/** Read messages until one satisfies `pick` (others are skipped), or null when the connection closes. */
export async function readUntil(conn: PeerConnection, pick: (m: ReturnType<typeof decodeMessage>) => boolean, timeoutMs: number): Promise<ReturnType<typeof decodeMessage> | null> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`no matching message within ${timeoutMs} ms`);
    const raw = await withTimeout(conn.read(), left, `no matching message within ${timeoutMs} ms`);
    if (raw === null) return null;
    const m = decodeMessage(raw);
    if (pick(m)) return m;
  }
}

/** Percentile of a list of numbers (nearest rank). */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

// ---- A raw BOLT #8 session, for sending frames the transport would never make ----

export interface RawSession {
  socket: Socket;
  enc: MessageEncryptor;
  dec: MessageDecryptor;
  /** Messages decrypted so far (until a frame fails to decrypt). */
  received: Uint8Array[];
  /** Resolves when the socket has closed. */
  closed: Promise<void>;
  isClosed(): boolean;
  /** Encrypt a message into a frame with the session's next nonces (not written). */
  frame(msg: Uint8Array): Buffer;
  write(bytes: Uint8Array): void;
  /** Wait for a decrypted message that `pick` accepts; null if the socket closes first. */
  waitFor(pick: (m: Uint8Array) => boolean, ms: number): Promise<Uint8Array | null>;
}

/** Open a TCP connection and run only the raw socket part of a handshake: for garbage acts. */
export function rawSocket(port: number): Promise<{ socket: Socket; closed: Promise<void>; isClosed(): boolean }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let isClosed = false;
    const closed = new Promise<void>((r) => socket.once('close', () => ((isClosed = true), r())));
    socket.on('error', () => undefined);
    socket.once('connect', () => resolve({ socket, closed, isClosed: () => isClosed }));
    socket.once('error', reject);
  });
}

/** Act two is 50 bytes (BOLT #8). */
const ACT_TWO_LEN = 50;

/**
 * BOLT #8 as initiator over a connected socket, driven by hand: act one, act two (within
 * `timeoutMs`; rejects when the node closes first), act three. Returns the session's keys and
 * whatever the node sent after act two.
 */
export async function initiatorHandshake(socket: Socket, nodePubkey: string, secret: Uint8Array, timeoutMs: number): Promise<{ enc: MessageEncryptor; dec: MessageDecryptor; rest: Buffer }> {
  const hs = new InitiatorHandshake({ localSecret: secret, remotePubkey: Buffer.from(nodePubkey, 'hex') });
  socket.write(hs.actOne());
  let buf = Buffer.alloc(0);
  const act2 = await withTimeout(
    new Promise<Buffer>((resolve, reject) => {
      const onData = (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        if (buf.length >= ACT_TWO_LEN) {
          socket.off('data', onData);
          resolve(buf);
        }
      };
      socket.on('data', onData);
      socket.once('close', () => reject(new Error('closed during the handshake')));
    }),
    timeoutMs,
    'no act two',
  );
  const { actThree, result } = hs.readActTwo(act2.subarray(0, ACT_TWO_LEN));
  socket.write(actThree);
  return { enc: result.keys.encryptor(), dec: result.keys.decryptor(), rest: act2.subarray(ACT_TWO_LEN) };
}

/**
 * The handshake as initiator over a plain socket, then (unless `init` is false) the init
 * exchange, leaving the session's encryptor in the test's hands.
 */
export async function rawSession(port: number, nodePubkey: string, secret: Uint8Array, opts: { init?: boolean; timeoutMs?: number } = {}): Promise<RawSession> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const { socket, closed, isClosed } = await rawSocket(port);
  try {
    const { enc, dec, rest } = await initiatorHandshake(socket, nodePubkey, secret, timeoutMs);
    const received: Uint8Array[] = [];
    const waiters = new Set<() => void>();
    let broken = false;
    const onData = (d: Buffer) => {
      if (broken) return;
      dec.push(d);
      try {
        for (let m = dec.next(); m !== undefined; m = dec.next()) received.push(m);
      } catch {
        broken = true;
      }
      for (const w of waiters) w();
    };
    if (rest.length > 0) onData(rest);
    socket.on('data', onData);
    void closed.then(() => {
      for (const w of waiters) w();
    });
    let seen = 0;
    const session: RawSession = {
      socket,
      enc,
      dec,
      received,
      closed,
      isClosed,
      frame: (msg) => enc.encrypt(msg),
      write: (b) => void socket.write(b),
      waitFor: (pick, ms) =>
        new Promise((resolve, reject) => {
          const check = () => {
            while (seen < received.length) {
              const m = received[seen++]!;
              if (pick(m)) {
                done();
                resolve(m);
                return;
              }
            }
            if (isClosed()) {
              done();
              resolve(null);
            }
          };
          const timer = setTimeout(() => {
            done();
            reject(new Error(`no matching message within ${ms} ms`));
          }, ms);
          const done = () => {
            clearTimeout(timer);
            waiters.delete(check);
          };
          waiters.add(check);
          check();
        }),
    };
    if (opts.init !== false) {
      socket.write(enc.encrypt(encodeMessage(initMessage({ features: [], networks: [CHAIN_HASH[NETWORK]] }))));
      const init = await session.waitFor((m) => m.length >= 2 && m[0] === 0 && m[1] === 16, timeoutMs);
      if (init === null) throw new Error('the node closed before its init');
    }
    return session;
  } catch (e) {
    socket.destroy();
    throw e;
  }
}
