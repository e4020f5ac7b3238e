// Helpers for the node's end-to-end tests: temp data directories, the built CLI, `lnps serve`
// processes (always killed by pid), and a raw BOLT #8 peer driven from the test.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { connectPeer, type PeerConnection } from '../src/core/transport/index.js';
import { CHAIN_HASH, decodeMessage, encodeMessage, initMessage, type Message } from '../src/core/wire/registry.js';
import { publicKeyOf } from '../src/core/keys.js';

export const BIN = fileURLToPath(new URL('../../bin/lnps.js', import.meta.url));
export const NET = ['--network', 'regtest'];

/** Core Lightning's listpeerchannels JSON (test/fixtures), and the peers of its open and of its closed channel. */
export const CLN_CHANNELS = {
  file: fileURLToPath(new URL('../../test/fixtures/cln-listpeerchannels.json', import.meta.url)),
  openPeer: '02eec7245d6b7d2ccb30380bfbe2a3648cd7a942653f5aa340edcea1f283686619',
  closedPeer: '0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798',
};

const dirs: string[] = [];
const procs = new Set<ChildProcess>();

export function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'lnps-node-'));
  dirs.push(d);
  return d;
}

/** Kill every serve still running (by pid) and remove the temp directories. For `after`. */
export function cleanup(): void {
  for (const p of procs) if (p.pid !== undefined && p.exitCode === null) process.kill(p.pid, 'SIGKILL');
  procs.clear();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Run the built CLI without blocking the event loop (raw peers in this process keep working);
 * `input`, when given, is its standard input.
 */
export function cli(args: string[], timeoutMs = 20_000, input?: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    if (input !== undefined) {
      // A command that fails before reading its input closes the pipe: not an error here.
      child.stdin!.on('error', () => undefined);
      child.stdin!.end(input);
    }
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`lnps ${args.join(' ')} did not finish within ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

/** Run and parse JSON output, asserting exit 0. */
export async function cliJson(args: string[]): Promise<any> {
  const r = await cli(args);
  if (r.status !== 0) throw new Error(`lnps ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** A data directory with a key and a regtest database. */
export async function createNode(): Promise<{ dir: string; pubkey: string }> {
  const dir = tempDir();
  const info = await cliJson(['create', '--datadir', dir, ...NET]);
  return { dir, pubkey: info.node_pubkey as string };
}

export class Serve {
  readonly lines: string[] = [];
  private waiters: { re: RegExp; resolve(m: RegExpMatchArray): void }[] = [];
  port = 0;
  readonly exited: Promise<number | null>;

  private constructor(
    readonly dir: string,
    readonly proc: ChildProcess,
  ) {
    procs.add(proc);
    let buf = '';
    // The node logs to standard error; it prints nothing on standard output.
    proc.stderr!.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        this.lines.push(line);
        for (const w of [...this.waiters]) {
          const m = line.match(w.re);
          if (m) {
            this.waiters.splice(this.waiters.indexOf(w), 1);
            w.resolve(m);
          }
        }
      }
    });
    proc.stdout!.setEncoding('utf8').on('data', (d: string) => this.lines.push('STDOUT ' + d.trimEnd()));
    this.exited = new Promise((resolve) => proc.on('exit', (code) => (procs.delete(proc), resolve(code))));
  }

  /** Start `lnps serve` on 127.0.0.1 with a free port; resolves once it listens. */
  static async start(dir: string, args: string[] = [], opts: { listenFromConfig?: boolean; nodeArgs?: string[] } = {}): Promise<Serve> {
    const listen = args.includes('--no-listen') || args.includes('--listen') || opts.listenFromConfig ? [] : ['--listen', '127.0.0.1:0'];
    const proc = spawn(process.execPath, [...(opts.nodeArgs ?? []), BIN, 'serve', '--datadir', dir, ...NET, ...listen, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const s = new Serve(dir, proc);
    const ready = !args.includes('--no-listen') ? s.waitFor(/Server listening on 127\.0\.0\.1:(\d+)/) : Promise.resolve(null);
    const started = await Promise.race([
      Promise.all([ready, s.waitFor(/\[INF\] SRVR: Control socket /)]),
      s.exited.then((code) => {
        throw new Error(`serve exited ${code} before starting:\n${s.lines.join('\n')}`);
      }),
    ]);
    const m = started[0];
    if (m) s.port = Number(m[1]);
    return s;
  }

  /** The first log line (from now or already seen) matching `re`. */
  waitFor(re: RegExp, timeoutMs = 10_000): Promise<RegExpMatchArray> {
    for (const l of this.lines) {
      const m = l.match(re);
      if (m) return Promise.resolve(m);
    }
    return this.waitForNew(re, timeoutMs);
  }

  /** The next new log line matching `re`. */
  waitForNew(re: RegExp, timeoutMs = 10_000): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const w = {
        re,
        resolve: (m: RegExpMatchArray) => {
          clearTimeout(timer);
          resolve(m);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        reject(new Error(`no log line matching ${re} within ${timeoutMs} ms:\n${this.lines.join('\n')}`));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  /** SIGTERM, and SIGKILL if it has not stopped within 5 s. Resolves with the exit code. */
  async stop(): Promise<number | null> {
    if (this.proc.exitCode !== null) return this.proc.exitCode;
    this.proc.kill('SIGTERM');
    const t = setTimeout(() => this.proc.pid !== undefined && this.proc.exitCode === null && process.kill(this.proc.pid, 'SIGKILL'), 5000);
    const code = await this.exited;
    clearTimeout(t);
    return code;
  }
}

/** A peer driven by the test over the real BOLT #8 transport. */
export class RawPeer {
  private constructor(
    readonly conn: PeerConnection,
    readonly secret: Uint8Array,
    readonly theirInit: Message,
  ) {}

  get pubkey(): string {
    return Buffer.from(publicKeyOf(this.secret)).toString('hex');
  }

  static async connect(port: number, remotePubkey: string, opts: { secret?: Uint8Array; features?: number[] } = {}): Promise<RawPeer> {
    const secret = opts.secret ?? new Uint8Array(randomBytes(32));
    const conn = await connectPeer({ host: '127.0.0.1', port, remotePubkey: Buffer.from(remotePubkey, 'hex'), localSecret: secret, timeoutMs: 5000 });
    await conn.send(encodeMessage(initMessage({ features: opts.features ?? [], networks: [CHAIN_HASH.regtest] })));
    const m = await conn.read();
    if (m === null) throw new Error('closed before init');
    return new RawPeer(conn, secret, decodeMessage(m));
  }

  send(msg: Message | Uint8Array): Promise<void> {
    return this.conn.send(msg instanceof Uint8Array ? msg : encodeMessage(msg));
  }

  /** The next message, null when closed, 'timeout' after `timeoutMs`. */
  async next(timeoutMs = 5000): Promise<Message | null | 'timeout'> {
    let timer: NodeJS.Timeout | undefined;
    const m = await Promise.race([this.conn.read(), new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), timeoutMs)))]);
    clearTimeout(timer);
    if (m === null || m === 'timeout') return m;
    return decodeMessage(m);
  }

  /** Ping and wait for the pong, skipping other messages: everything sent before was handled. */
  async sync(timeoutMs = 5000): Promise<void> {
    await this.send({ type: 18, name: 'ping', numPongBytes: 1, ignored: new Uint8Array(0) });
    const end = Date.now() + timeoutMs;
    for (;;) {
      const m = await this.next(Math.max(1, end - Date.now()));
      if (m === 'timeout') throw new Error('no pong');
      if (m === null) throw new Error('closed while waiting for pong');
      if (m.name === 'pong') return;
    }
  }

  close(): void {
    void this.conn.close();
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
/** The data directory and network flags of a node's directory. */
export const d = (dir: string): string[] => ['--datadir', dir, ...NET];

/** Poll until `fn` returns a truthy value (bounded). */
export async function until<T>(fn: () => Promise<T | undefined | false>, what: string, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** The sha256 of the blob `dir`'s database holds for `peer`, if any. */
export async function storedSha(dir: string, peer: string): Promise<string | undefined> {
  const r = await cli(['getpeerstorage', peer, ...d(dir)]);
  return r.status === 0 ? (JSON.parse(r.stdout).blob_sha256 as string) : undefined;
}
