// BOLT #8 transport benchmarks, all over 127.0.0.1 (serve-cpu.ts adds the running node's CPU
// per flood and the responder's handshakes per CPU second):
// - handshakes per second (connectPeer + acceptPeer in one process, so both sides' work counts);
// - throughput of 65535-byte peer_storage messages over one connection, against node:crypto's
//   chacha20-poly1305 encrypting and decrypting the same bytes in the same run (target >= 0.5),
//   by the clock and by CPU time: on a busy machine a loop that waits on its sockets loses its
//   turn each time it sleeps while a pure CPU loop does not, so the CPU-time ratio is the one
//   that stays put when other processes compete; both count kernel time (user + system);
// - ECDH: libsecp256k1 in WebAssembly (ecdh.ts, the handshake path) against @noble/secp256k1
//   and node:crypto's createECDH (x only);
// - our AEAD choice: node:crypto against @noble/ciphers on the same 65535 bytes;
// - resident memory of a process holding 500 idle accepted connections (target < 200 MB),
//   measured in a child process so the other benchmarks' heap does not count.
import { createCipheriv, createDecipheriv, createECDH, randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { getPublicKey, getSharedSecret, utils } from '@noble/secp256k1';
import type { BenchRow } from './types.js';
import { median } from './timing.js';
import { publicKeyOf } from '../src/core/keys.js';
import {
  acceptPeer,
  connectPeer,
  InitiatorHandshake,
  ResponderHandshake,
  type PeerConnection,
} from '../src/core/transport/index.js';
import { EcdhKey, parsePublicKey } from '../src/core/transport/ecdh.js';
import { backupRows, responderHandshakeRows, serveCpuRows } from './serve-cpu.js';

const HOST = '127.0.0.1';
const GROUP = 'transport';
const MSG_SIZE = 65535;
const IDLE_CONNECTIONS = 500;

/** A 65535-byte peer_storage message as raw bytes: type 7, u16 blob length, blob. */
function peerStorageMessage(): Uint8Array {
  const m = randomBytes(MSG_SIZE);
  m.writeUInt16BE(7, 0);
  m.writeUInt16BE(MSG_SIZE - 4, 2);
  return m;
}

async function listen(secret: Uint8Array, onPeer: (p: PeerConnection) => void): Promise<{ server: Server; port: number }> {
  const server = createServer((socket) => {
    acceptPeer(socket, { localSecret: secret }).then(onPeer, () => {});
  });
  await new Promise<void>((r) => server.listen(0, HOST, r));
  return { server, port: (server.address() as AddressInfo).port };
}

async function handshakesPerSecond(): Promise<BenchRow> {
  const serverSecret = randomBytes(32);
  const clientSecret = randomBytes(32);
  const accepted: PeerConnection[] = [];
  const { server, port } = await listen(serverSecret, (p) => accepted.push(p));
  const remotePubkey = publicKeyOf(serverSecret);
  // Warm up, then count sequential handshakes for up to 2 s or 2000 of them.
  for (let i = 0; i < 20; i++) (await connectPeer({ host: HOST, port, localSecret: clientSecret, remotePubkey })).destroy();
  const t0 = performance.now();
  let n = 0;
  while (n < 2000 && performance.now() - t0 < 2000) {
    const c = await connectPeer({ host: HOST, port, localSecret: clientSecret, remotePubkey });
    c.destroy();
    n++;
  }
  const secs = (performance.now() - t0) / 1000;
  for (const p of accepted) p.destroy();
  await new Promise<void>((r) => server.close(() => r()));
  return { group: GROUP, name: 'handshakes over loopback (both sides in one process, sequential)', value: n / secs, unit: 'ops/s' };
}

/** The handshake state machines alone (no sockets): the CPU part, mostly six ECDH. */
function handshakeCpuPerSecond(): BenchRow {
  const a = randomBytes(32);
  const b = randomBytes(32);
  const B = publicKeyOf(b);
  const once = () => {
    const resp = new ResponderHandshake({ localSecret: b });
    const init = new InitiatorHandshake({ localSecret: a, remotePubkey: B });
    resp.readActThree(init.readActTwo(resp.readActOne(init.actOne())).actThree);
  };
  once();
  const t0 = performance.now();
  let n = 0;
  while (n < 2000 && performance.now() - t0 < 1000) {
    once();
    n++;
  }
  return { group: GROUP, name: 'handshakes, state machines only (both sides, no sockets)', value: n / ((performance.now() - t0) / 1000), unit: 'ops/s' };
}

/** node:crypto chacha20-poly1305 seal + open of `msg`, as the transport does it (fresh cipher per call). */
function nativeRoundTrip(key: Buffer, iv: Buffer, msg: Uint8Array): void {
  const c = createCipheriv('chacha20-poly1305', key, iv, { authTagLength: 16 });
  const ct = c.update(msg);
  c.final();
  const tag = c.getAuthTag();
  const d = createDecipheriv('chacha20-poly1305', key, iv, { authTagLength: 16 });
  d.setAuthTag(tag);
  d.update(ct);
  d.final();
}

/** Process CPU seconds (user + system) since `from`. */
function cpuSeconds(from: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(from);
  return (u.user + u.system) / 1e6;
}

/** MB/s of payload for `fn` over `bytes` per call, by the clock and by CPU time: bounded by count and time. */
function rates(fn: () => void, bytes: number, maxMs = 1000, maxCount = 5000): { wall: number; cpu: number } {
  for (let i = 0; i < 10; i++) fn();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let n = 0;
  while (n < maxCount && performance.now() - t0 < maxMs) {
    fn();
    n++;
  }
  const mb = (n * bytes) / 1e6;
  return { wall: mb / ((performance.now() - t0) / 1000), cpu: mb / cpuSeconds(c0) };
}

function rate(fn: () => void, bytes: number, maxMs = 1000, maxCount = 5000): number {
  return rates(fn, bytes, maxMs, maxCount).wall;
}

/** One ECDH per call, ops/s: libsecp256k1 (what the handshake uses) vs noble and node:crypto. */
function ecdhRows(): BenchRow[] {
  const secret = utils.randomSecretKey();
  const pub = getPublicKey(utils.randomSecretKey(), true);
  const opsPerSec = (fn: () => void): number => {
    fn();
    const t0 = performance.now();
    let n = 0;
    while (n < 1000 && performance.now() - t0 < 500) {
      fn();
      n++;
    }
    return n / ((performance.now() - t0) / 1000);
  };
  const rounds = { noble: [] as number[], ours: [] as number[], node: [] as number[], gen: [] as number[] };
  const P = parsePublicKey(pub)!;
  const key = EcdhKey.fromSecret(secret);
  for (let r = 0; r < 3; r++) {
    rounds.noble.push(opsPerSec(() => getSharedSecret(secret, pub, true)));
    rounds.ours.push(opsPerSec(() => key.sharedPoint(P)));
    rounds.node.push(
      opsPerSec(() => {
        const e = createECDH('secp256k1');
        e.setPrivateKey(secret);
        e.computeSecret(pub);
      }),
    );
    rounds.gen.push(opsPerSec(() => EcdhKey.generate()));
  }
  const noble = median(rounds.noble);
  const ours = median(rounds.ours);
  const node = median(rounds.node);
  return [
    { group: GROUP, name: 'ECDH, @noble/secp256k1 getSharedSecret (compressed point)', value: noble, unit: 'ops/s' },
    { group: GROUP, name: 'ECDH, node:crypto createECDH + computeSecret (x only)', value: node, unit: 'ops/s' },
    {
      group: GROUP,
      name: 'ECDH, libsecp256k1 in WebAssembly, compressed point (the handshake path)',
      value: ours,
      unit: 'ops/s',
      baseline: '@noble/secp256k1 getSharedSecret',
      ratio: ours / noble,
    },
    { group: GROUP, name: 'ephemeral key generation, libsecp256k1 in WebAssembly', value: median(rounds.gen), unit: 'ops/s' },
  ];
}

/** One loopback connection between two nodes in this process. */
async function openPair(): Promise<{ out: PeerConnection; inc: PeerConnection; close(): Promise<void> }> {
  const serverSecret = randomBytes(32);
  let resolveIn!: (p: PeerConnection) => void;
  const incoming = new Promise<PeerConnection>((r) => (resolveIn = r));
  const { server, port } = await listen(serverSecret, (p) => resolveIn(p));
  const out = await connectPeer({ host: HOST, port, localSecret: randomBytes(32), remotePubkey: publicKeyOf(serverSecret) });
  const inc = await incoming;
  return {
    out,
    inc,
    close: async () => {
      out.destroy();
      inc.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/**
 * MB/s of payload from `out` to `inc`: the sender streams `msg` (awaiting each send, as a node
 * does) for up to maxMs or maxCount messages, then an empty message marks the end; the clock
 * stops when the reader has it.
 */
async function pump(
  out: PeerConnection,
  inc: PeerConnection,
  msg: Uint8Array,
  maxMs: number,
  maxCount: number,
): Promise<{ wall: number; cpu: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const sender = (async () => {
    for (let i = 0; i < maxCount && performance.now() - t0 < maxMs; i++) await out.send(msg);
    await out.send(new Uint8Array(0));
  })();
  let bytes = 0;
  for (;;) {
    const m = await inc.read();
    if (m === null) throw new Error('loopback connection closed during the benchmark');
    if (m.length === 0) break;
    bytes += m.length;
  }
  await sender;
  return { wall: bytes / 1e6 / ((performance.now() - t0) / 1000), cpu: bytes / 1e6 / cpuSeconds(c0) };
}


/** Child mode: accept `n` connections, then report RSS before and after as one JSON line. */
async function idleServer(n: number): Promise<void> {
  const secret = randomBytes(32);
  const peers: PeerConnection[] = [];
  (globalThis as { gc?: () => void }).gc?.();
  const before = process.memoryUsage().rss;
  const { server, port } = await listen(secret, (p) => {
    peers.push(p);
    if (peers.length === n) {
      setTimeout(() => {
        (globalThis as { gc?: () => void }).gc?.();
        process.stdout.write(JSON.stringify({ before, after: process.memoryUsage().rss, peers: peers.length }) + '\n');
      }, 300);
    }
  });
  process.stdout.write(JSON.stringify({ port, pubkey: Buffer.from(publicKeyOf(secret)).toString('hex') }) + '\n');
  // The parent kills us; never outlive it by more than a minute.
  setTimeout(() => {
    server.close();
    process.exit(0);
  }, 60_000).unref();
  await new Promise(() => {});
}

async function idleConnectionsMemory(): Promise<BenchRow[]> {
  const child = spawn(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), '--idle-server', String(IDLE_CONNECTIONS)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  let waiting: ((l: string) => void) | undefined;
  let partial = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => {
    partial += s;
    for (let i = partial.indexOf('\n'); i >= 0; i = partial.indexOf('\n')) {
      const l = partial.slice(0, i);
      partial = partial.slice(i + 1);
      if (waiting) {
        const w = waiting;
        waiting = undefined;
        w(l);
      } else lines.push(l);
    }
  });
  const nextLine = (ms: number) =>
    new Promise<string>((resolve, reject) => {
      const l = lines.shift();
      if (l !== undefined) return resolve(l);
      const t = setTimeout(() => reject(new Error('idle-connection child did not answer in time')), ms);
      waiting = (x) => {
        clearTimeout(t);
        resolve(x);
      };
    });
  const clients: PeerConnection[] = [];
  try {
    const { port, pubkey } = JSON.parse(await nextLine(10_000)) as { port: number; pubkey: string };
    const remotePubkey = Buffer.from(pubkey, 'hex');
    const localSecret = randomBytes(32);
    // 20 handshakes in flight at a time.
    for (let i = 0; i < IDLE_CONNECTIONS; i += 20) {
      const batch = Array.from({ length: Math.min(20, IDLE_CONNECTIONS - i) }, () =>
        connectPeer({ host: HOST, port, localSecret, remotePubkey, timeoutMs: 20_000 }),
      );
      clients.push(...(await Promise.all(batch)));
    }
    const r = JSON.parse(await nextLine(30_000)) as { before: number; after: number; peers: number };
    const mb = (x: number) => x / 2 ** 20;
    return [
      {
        group: GROUP,
        name: `resident memory of a process holding ${r.peers} idle connections`,
        value: mb(r.after),
        unit: 'MB',
        target: '< 200 MB',
        pass: mb(r.after) < 200,
      },
      {
        group: GROUP,
        name: `memory per idle connection (RSS growth / ${r.peers})`,
        value: (r.after - r.before) / r.peers / 1024,
        unit: 'KiB',
      },
    ];
  } finally {
    for (const c of clients) c.destroy();
    child.kill();
  }
}

export async function run(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  rows.push(await handshakesPerSecond(), handshakeCpuPerSecond(), ...ecdhRows());
  // The running node against the cryptography it cannot avoid, and the responder's handshake CPU.
  rows.push(...(await serveCpuRows()), ...(await backupRows()), ...(await responderHandshakeRows()));

  const msg = peerStorageMessage();
  const key = randomBytes(32);
  const iv = Buffer.alloc(12);
  // Rounds alternate baseline and loopback so a change in machine load hits both alike; the
  // ratio is the median of the per-round ratios.
  const pairOf = await openPair();
  await pump(pairOf.out, pairOf.inc, msg, 200, 100); // warm-up
  const nativeRuns: number[] = [];
  const oursRuns: number[] = [];
  const ratios: number[] = [];
  const nativeCpuRuns: number[] = [];
  const oursCpuRuns: number[] = [];
  const cpuRatios: number[] = [];
  for (let r = 0; r < 7; r++) {
    const n = rates(() => nativeRoundTrip(key, iv, msg), msg.length, 300, 3000);
    const o = await pump(pairOf.out, pairOf.inc, msg, 500, 3000);
    nativeRuns.push(n.wall);
    oursRuns.push(o.wall);
    ratios.push(o.wall / n.wall);
    nativeCpuRuns.push(n.cpu);
    oursCpuRuns.push(o.cpu);
    cpuRatios.push(o.cpu / n.cpu);
  }
  await pairOf.close();
  const native = median(nativeRuns);
  const ours = median(oursRuns);
  const ratio = median(ratios);
  const cpuRatio = median(cpuRatios);
  // A fresh instance per call, like the native path (noble refuses to reuse a key + nonce).
  const noble = rate(() => chacha20poly1305(key, iv).decrypt(chacha20poly1305(key, iv).encrypt(msg)), msg.length, 1000, 500);
  rows.push(
    {
      group: GROUP,
      name: 'node:crypto chacha20-poly1305 seal+open of 65535 bytes (baseline)',
      value: native,
      unit: 'MB/s',
    },
    {
      group: GROUP,
      name: '65535-byte peer_storage messages over one loopback connection',
      value: ours,
      unit: 'MB/s',
      baseline: 'node:crypto chacha20-poly1305 seal+open of the same bytes',
      ratio,
      target: '>= 0.5',
      pass: ratio >= 0.5,
    },
    {
      group: GROUP,
      name: '65535-byte peer_storage messages over one loopback connection, per CPU second (user + system)',
      value: median(oursCpuRuns),
      unit: 'MB/s',
      baseline: 'node:crypto chacha20-poly1305 seal+open of the same bytes, per CPU second',
      ratio: cpuRatio,
      target: '>= 0.5',
      pass: cpuRatio >= 0.5,
    },
    {
      group: GROUP,
      name: '@noble/ciphers chacha20poly1305 seal+open of 65535 bytes (why the hot path is native)',
      value: noble,
      unit: 'MB/s',
      baseline: 'node:crypto chacha20-poly1305 on the same bytes',
      ratio: noble / native,
    },
  );
  rows.push(...(await idleConnectionsMemory()));
  return rows;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const i = process.argv.indexOf('--idle-server');
  if (i >= 0) await idleServer(Number(process.argv[i + 1]));
  else {
    const { rowLine } = await import('./run.js');
    for (const r of await run()) process.stdout.write(rowLine(r) + '\n');
  }
}
