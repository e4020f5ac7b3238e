// What the running node spends per message, against the cryptography it cannot avoid: a real
// `lnps serve --storage-policy any` process over 127.0.0.1, its CPU (user + system) read from
// /proc (the time on CPU of each of its threads, see procCpuSeconds) before and after each
// flood, and node:crypto's chacha20-poly1305 doing only
// the decryption (or encryption) of frames of the same sizes in this process, timed by
// process.cpuUsage(). Floods and baselines alternate, and each row is the median of the
// per-flood ratios.
// - receive path: a peer sends 2000 peer_storage messages with 65531-byte blobs (65535-byte
//   messages, the largest), then a ping; the flood is over when its pong comes back;
// - send path: 2000 full-size pings answered with 65531-byte pongs, one at a time;
// - send path to many peers: `backup` over the control socket to 20 connected storage peers;
// - handshakes per CPU second of the responder alone: a child process accepting BOLT #8
//   handshakes (acceptPeer with the static key prepared once, as serve does), its CPU read from
//   /proc while this process runs the initiators, 4 at a time.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BenchRow } from './types.js';
import { median } from './timing.js';
import { createServer, type AddressInfo } from 'node:net';
import { acceptPeer, connectPeer, InitiatorHandshake, LocalKey, ResponderHandshake, type PeerConnection } from '../src/core/transport/index.js';
import { publicKeyOf } from '../src/core/keys.js';
import { connectControl, type ControlClient } from '../src/core/node/control.js';
import { CHAIN_HASH, decodeMessage, encodeMessage, initMessage, peerStorage, ping } from '../src/core/wire/registry.js';

const GROUP = 'transport';
const BIN = fileURLToPath(new URL('../../bin/lnps.js', import.meta.url));
const FLOOD = 2000;
const BLOB = 65531;
const MSG = 65535;

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/**
 * User + system CPU seconds of process `pid` so far, to the nanosecond: the sum over its threads
 * of the time on CPU in /proc/PID/task/TID/schedstat. /proc/PID/stat counts in ticks of 10 ms,
 * a tenth of one flood, so a median of floods read from it moves in steps of about 0.1 in the
 * ratio; over 20 floods the two agree (0.1120 s against 0.1119 s a flood). A thread that exits
 * between two readings takes its time with it; the node's threads live as long as it does.
 * Falls back to /proc/PID/stat where schedstat is missing.
 */
export function procCpuSeconds(pid: number): number {
  let ns = 0;
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e; // a thread that just exited
      }
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  if (Number.isFinite(ns) && ns > 0) return ns / 1e9;
  const t = procTimes(pid);
  return t.user + t.system;
}

/** User and system CPU seconds of process `pid` so far (/proc/PID/stat fields 14 and 15, in ticks). */
export function procTimes(pid: number): { user: number; system: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(f[11]) / CLK_TCK, system: Number(f[12]) / CLK_TCK };
}

function cpuSince(from: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(from);
  return (u.user + u.system) / 1e6;
}

interface Served {
  proc: ChildProcess;
  pid: number;
  port: number;
  pubkey: Uint8Array;
  dir: string;
  stop(): Promise<void>;
}

/** A fresh data directory and `lnps serve` on 127.0.0.1 with a free port. */
export async function startServe(args: string[], nodeArgs: string[] = []): Promise<Served> {
  const dir = mkdtempSync(join(tmpdir(), 'lnps-servecpu-'));
  const net = ['--datadir', dir, '--network', 'regtest'];
  const created = spawnSync(process.execPath, [BIN, 'create', ...net], { encoding: 'utf8' });
  if (created.status !== 0) throw new Error(`lnps create failed: ${created.stderr}`);
  const pubkey = Buffer.from((JSON.parse(created.stdout) as { node_pubkey: string }).node_pubkey, 'hex');
  // LNPS_BENCH_SERVE_NODE_ARGS: extra node flags for the serve process, e.g. to profile it with
  // "--cpu-prof --cpu-prof-dir=DIR" (the profile is written when it stops).
  const prof = (process.env.LNPS_BENCH_SERVE_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
  const proc = spawn(process.execPath, [...prof, ...nodeArgs, BIN, 'serve', ...net, '--listen', '127.0.0.1:0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    const t = setTimeout(() => reject(new Error(`lnps serve did not start:\n${out}`)), 20_000);
    // The log goes to stderr (older builds wrote it to stdout): watch both for the port.
    const onLog = (d: string) => {
      out += d;
      const m = /Server listening on 127\.0\.0\.1:(\d+)/.exec(out);
      if (m) {
        clearTimeout(t);
        resolve(Number(m[1]));
      }
    };
    proc.stdout!.setEncoding('utf8').on('data', onLog);
    proc.stderr!.setEncoding('utf8').on('data', onLog);
    if (process.env.LNPS_BENCH_SERVE_STDOUT) for (const s of [proc.stdout!, proc.stderr!]) s.on('data', (d: string) => process.stderr.write(d));
    void exited.then(() => reject(new Error(`lnps serve exited:\n${out}`)));
  });
  return {
    proc,
    pid: proc.pid!,
    port,
    pubkey,
    dir,
    stop: async () => {
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A peer that has done the handshake and the init exchange. */
export async function initPeer(port: number, pubkey: Uint8Array, features: number[] = []): Promise<PeerConnection> {
  const conn = await connectPeer({ host: '127.0.0.1', port, remotePubkey: pubkey, localSecret: randomBytes(32), timeoutMs: 20_000 });
  await conn.send(encodeMessage(initMessage({ features, networks: [CHAIN_HASH.regtest] })));
  const m = await conn.read();
  if (m === null || decodeMessage(m).name !== 'init') throw new Error('no init from the node');
  return conn;
}

/** Read until a pong (other messages skipped); null when the connection closes. */
async function untilPong(conn: PeerConnection): Promise<void> {
  for (;;) {
    const m = await conn.read();
    if (m === null) throw new Error('the node closed the connection during the benchmark');
    if (m[0] === 0 && m[1] === 19) return;
  }
}

/** Serve CPU for one receive flood: 2000 full peer_storage, then a ping round trip. */
async function receiveFlood(served: Served, conn: PeerConnection, msg: Uint8Array, sys?: number[]): Promise<number> {
  const c0 = procCpuSeconds(served.pid);
  const s0 = procTimes(served.pid).system;
  for (let i = 0; i < FLOOD; i++) await conn.send(msg);
  await conn.send(encodeMessage(ping(1)));
  await untilPong(conn);
  sys?.push(procTimes(served.pid).system - s0);
  return procCpuSeconds(served.pid) - c0;
}

/**
 * Serve CPU for one send flood: 2000 pings, each answered with a 65531-byte pong before the next
 * is sent (the node owes one pong at a time). Each ping carries as many bytes as its pong, so no
 * pong budget is drawn; the node therefore also receives 2000 full messages, and the baseline
 * is node:crypto decrypting and encrypting frames of the same sizes.
 */
async function pongFlood(served: Served, conn: PeerConnection): Promise<number> {
  const want = encodeMessage(ping(BLOB, MSG - 6));
  const c0 = procCpuSeconds(served.pid);
  for (let i = 0; i < FLOOD; i++) {
    await conn.send(want);
    await untilPong(conn);
  }
  return procCpuSeconds(served.pid) - c0;
}

/**
 * `FLOOD` frames as the transport puts them on the wire (an 18-byte sealed length, then the
 * sealed body), made with node:crypto under one key and consecutive nonces.
 */
function makeFrames(key: Buffer, body: Uint8Array): { headers: Buffer[]; bodies: Buffer[] } {
  const headers: Buffer[] = [];
  const bodies: Buffer[] = [];
  const len = Buffer.alloc(2);
  len.writeUInt16BE(body.length);
  for (let i = 0; i < FLOOD; i++) {
    headers.push(seal(key, 2 * i, len));
    bodies.push(seal(key, 2 * i + 1, body));
  }
  return { headers, bodies };
}

function iv(n: number): Buffer {
  const b = Buffer.alloc(12);
  b.writeUInt32LE(n, 4);
  return b;
}

function seal(key: Buffer, n: number, plaintext: Uint8Array): Buffer {
  const c = createCipheriv('chacha20-poly1305', key, iv(n), { authTagLength: 16 });
  const ct = c.update(plaintext);
  c.final();
  return Buffer.concat([ct, c.getAuthTag()]);
}

function open(key: Buffer, n: number, sealed: Buffer): Buffer {
  const d = createDecipheriv('chacha20-poly1305', key, iv(n), { authTagLength: 16 });
  d.setAuthTag(sealed.subarray(sealed.length - 16));
  const out = d.update(sealed.subarray(0, sealed.length - 16));
  d.final();
  return out;
}

/** node:crypto alone: decrypt every header and body of the flood. CPU seconds. */
function decryptBaseline(key: Buffer, f: { headers: Buffer[]; bodies: Buffer[] }): number {
  const c0 = process.cpuUsage();
  for (let i = 0; i < FLOOD; i++) {
    open(key, 2 * i, f.headers[i]!);
    open(key, 2 * i + 1, f.bodies[i]!);
  }
  return cpuSince(c0);
}

/** node:crypto alone: encrypt every header and body of the flood. CPU seconds. */
function encryptBaseline(key: Buffer, body: Uint8Array): number {
  const len = Buffer.alloc(2);
  len.writeUInt16BE(body.length);
  const c0 = process.cpuUsage();
  for (let i = 0; i < FLOOD; i++) {
    seal(key, 2 * i, len);
    seal(key, 2 * i + 1, body);
  }
  return cpuSince(c0);
}

export async function serveCpuRows(rounds = 9, nodeArgs: string[] = []): Promise<BenchRow[]> {
  const served = await startServe(['--storage-policy', 'any', '--debuglevel', 'info,PEER=warn,STOR=warn'], nodeArgs);
  const how = nodeArgs.length > 0 ? `, node ${nodeArgs.join(' ')}` : '';
  try {
    const conn = await initPeer(served.port, served.pubkey);
    const blob = randomBytes(BLOB);
    const msg = encodeMessage(peerStorage(blob));
    if (msg.length !== MSG) throw new Error(`expected a ${MSG}-byte message, got ${msg.length}`);
    const key = randomBytes(32);
    const frames = makeFrames(key, msg);
    // Warm-up of both paths on both sides. The node's first floods cost more (its JavaScript is
    // still being optimized, its heap still growing): three, so the rows are the steady state.
    for (let i = 0; i < 3; i++) await receiveFlood(served, conn, msg);
    await pongFlood(served, conn);
    decryptBaseline(key, frames);
    encryptBaseline(key, msg);
    const recv: number[] = [];
    const recvSys: number[] = [];
    const recvBase: number[] = [];
    const recvRatio: number[] = [];
    const send: number[] = [];
    const sendBase: number[] = [];
    const sendRatio: number[] = [];
    for (let r = 0; r < rounds; r++) {
      // The baseline before and after each flood, averaged: this machine's speed drifts with
      // its other tenants within seconds, and a flood is compared with the same moment.
      const b0 = decryptBaseline(key, frames);
      const s = await receiveFlood(served, conn, msg, recvSys);
      const b = (b0 + decryptBaseline(key, frames)) / 2;
      recv.push(s);
      recvBase.push(b);
      recvRatio.push(s / b);
      const eb = encryptBaseline(key, msg) + decryptBaseline(key, frames);
      const es = await pongFlood(served, conn);
      send.push(es);
      sendBase.push(eb);
      sendRatio.push(es / eb);
    }
    conn.destroy();
    const rr = median(recvRatio);
    const sr = median(sendRatio);
    return [
      {
        group: GROUP,
        name: `responder CPU per flood of ${FLOOD} × ${BLOB}-byte peer_storage, lnps serve${how} (user + system, /proc schedstat; median of ${rounds})`,
        value: median(recv),
        unit: 's',
        baseline: 'node:crypto decrypt of the same frames, just before and just after each flood',
        ratio: rr,
        target: '<= 1.3',
        pass: rr <= 1.3,
      },
      { group: GROUP, name: `of which system (kernel) time of lnps serve${how} per receive flood (/proc/PID/stat, 10 ms ticks)`, value: median(recvSys), unit: 's' },
      { group: GROUP, name: `node:crypto chacha20-poly1305 decrypt of ${FLOOD} frames of ${MSG} bytes (baseline${how ? ' of the row above' : ''})`, value: median(recvBase), unit: 's' },
      {
        group: GROUP,
        name: `send path: lnps serve${how} CPU answering ${FLOOD} full-size pings with ${BLOB}-byte pongs, one at a time (user + system, /proc schedstat; median of ${rounds})`,
        value: median(send),
        unit: 's',
        baseline: 'node:crypto decrypt + encrypt of the same frames',
        ratio: sr,
      },
      { group: GROUP, name: `node:crypto chacha20-poly1305 decrypt + encrypt of ${FLOOD} frames of ${MSG} bytes each way (baseline${how ? ' of the row above' : ''})`, value: median(sendBase), unit: 's' },
    ];
  } finally {
    await served.stop();
  }
}

/** Read until a peer_storage arrives (other messages skipped). */
async function untilPeerStorage(conn: PeerConnection): Promise<number> {
  for (;;) {
    const m = await conn.read();
    if (m === null) throw new Error('the node closed the connection during the benchmark');
    if (m[0] === 0 && m[1] === 7) return m.length;
  }
}

/**
 * Send path to many peers: `lnps serve` with PEERS connected peers that advertise
 * option_provide_storage, then `backup` over the control socket (a 30,000-byte plaintext sealed
 * to 65,531 bytes, padded as by default) until every peer has the new peer_storage. Serve CPU
 * (/proc) per backup against node:crypto encrypting the same frames (one per peer) plus one
 * more for the seal itself, in this process.
 */
export async function backupRows(rounds = 5, peers = 20): Promise<BenchRow[]> {
  const served = await startServe(['--storage-policy', 'any', '--retrieval-timeout', '100ms', '--max-connections-per-ip', String(peers + 4), '--debuglevel', 'info,PEER=warn,STOR=warn,BKUP=warn']);
  const conns: PeerConnection[] = [];
  let control: ControlClient | null = null;
  try {
    for (let i = 0; i < peers; i++) conns.push(await initPeer(served.port, served.pubkey, [43])); // option_provide_storage
    await new Promise((r) => setTimeout(r, 500)); // past every peer's retrieval wait
    control = await connectControl(join(served.dir, 'regtest', 'lnps.sock'));
    if (!control) throw new Error('no control socket');
    const plaintext = randomBytes(30_000).toString('hex');
    const key = randomBytes(32);
    const body = new Uint8Array(MSG);
    const one = async (): Promise<number> => {
      const got = Promise.all(conns.map((c) => untilPeerStorage(c)));
      const c0 = procCpuSeconds(served.pid);
      const r = (await control!.call('backup', { plaintext })) as { sealed_len: number; peers: { sent: boolean }[] };
      const lens = await got;
      const cpu = procCpuSeconds(served.pid) - c0;
      if (r.sealed_len !== BLOB || r.peers.filter((x) => x.sent).length !== peers || lens.some((l) => l !== MSG))
        throw new Error(`backup reached ${r.peers.filter((x) => x.sent).length} of ${peers} peers`);
      return cpu;
    };
    const base = (): number => {
      const len = Buffer.alloc(2);
      len.writeUInt16BE(MSG);
      const c0 = process.cpuUsage();
      for (let i = 0; i <= peers; i++) {
        seal(key, 2 * i, len);
        seal(key, 2 * i + 1, body);
      }
      return cpuSince(c0);
    };
    await one(); // warm-up
    base();
    const cpu: number[] = [];
    const bases: number[] = [];
    const ratios: number[] = [];
    for (let r = 0; r < rounds; r++) {
      // A round is several backups: one takes a few milliseconds, below /proc's 10 ms tick.
      let c = 0;
      let b = 0;
      for (let k = 0; k < 10; k++) {
        b += base();
        c += await one();
      }
      cpu.push(c / 10);
      bases.push(b / 10);
      ratios.push(c / b);
    }
    const ratio = median(ratios);
    return [
      {
        group: GROUP,
        name: `send path: lnps serve CPU per backup to ${peers} connected peers (65531-byte sealed blob, control call to the last peer_storage read; user + system, /proc schedstat; median of ${rounds} × 10 backups)`,
        value: median(cpu),
        unit: 's',
        baseline: `node:crypto encrypt of ${peers + 1} frames of ${MSG} bytes (one per peer, one for the seal)`,
        ratio,
      },
      { group: GROUP, name: `node:crypto chacha20-poly1305 encrypt of ${peers + 1} frames of ${MSG} bytes (baseline)`, value: median(bases), unit: 's' },
    ];
  } finally {
    control?.close();
    for (const c of conns) c.destroy();
    await served.stop();
  }
}

/** Child mode: accept handshakes forever (the parent kills us; a minute at most), print the port and key. */
async function responderChild(): Promise<void> {
  const secret = randomBytes(32);
  const localKey = new LocalKey(secret);
  const server = createServer((socket) => {
    acceptPeer(socket, { localSecret: localKey }).then(
      (p) => p.destroy(),
      () => {},
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  process.stdout.write(JSON.stringify({ port: (server.address() as AddressInfo).port, pubkey: Buffer.from(publicKeyOf(secret)).toString('hex') }) + '\n');
  process.once('SIGTERM', () => process.exit(0)); // exit normally: a --cpu-prof profile gets written
  setTimeout(() => process.exit(0), 60_000).unref();
  await new Promise(() => {});
}

/**
 * The responder's state machine alone (readActOne + readActThree, no socket), per CPU second of
 * those calls only: the initiators' work in between is not counted.
 */
function responderStateMachineRate(n: number): number {
  const secret = randomBytes(32);
  const local = new LocalKey(secret);
  const initLocal = new LocalKey(randomBytes(32));
  const remotePubkey = publicKeyOf(secret);
  let cpu = 0;
  for (let i = 0; i < n; i++) {
    const init = new InitiatorHandshake({ localSecret: initLocal, remotePubkey });
    const one = init.actOne();
    const c0 = process.cpuUsage();
    const resp = new ResponderHandshake({ localSecret: local });
    const two = resp.readActOne(one);
    cpu += cpuSince(c0);
    const three = init.readActTwo(two).actThree;
    const c1 = process.cpuUsage();
    resp.readActThree(three);
    cpu += cpuSince(c1);
  }
  return n / cpu;
}

/** Handshakes per CPU second of the responder process: `rounds` rounds of up to 400 handshakes or 3 s. */
export async function responderHandshakeRows(rounds = 5): Promise<BenchRow[]> {
  const extra = (process.env.LNPS_BENCH_SERVE_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
  const child = spawn(process.execPath, [...extra, fileURLToPath(import.meta.url), '--responder'], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      const t = setTimeout(() => reject(new Error('responder child did not start')), 20_000);
      child.stdout!.setEncoding('utf8').on('data', (d: string) => {
        out += d;
        const i = out.indexOf('\n');
        if (i >= 0) {
          clearTimeout(t);
          resolve(out.slice(0, i));
        }
      });
    });
    const { port, pubkey } = JSON.parse(line) as { port: number; pubkey: string };
    const remotePubkey = Buffer.from(pubkey, 'hex');
    const localSecret = new LocalKey(randomBytes(32));
    const one = async () => (await connectPeer({ host: '127.0.0.1', port, localSecret, remotePubkey, timeoutMs: 20_000 })).destroy();
    for (let i = 0; i < 20; i++) await one(); // warm-up
    const rates: number[] = [];
    const walls: number[] = [];
    const machines: number[] = [];
    responderStateMachineRate(20);
    for (let r = 0; r < rounds; r++) {
      machines.push(responderStateMachineRate(200));
      const c0 = procCpuSeconds(child.pid!);
      const t0 = performance.now();
      let n = 0;
      while (n < 400 && performance.now() - t0 < 3000) {
        await Promise.all([one(), one(), one(), one()]);
        n += 4;
      }
      await new Promise((res) => setTimeout(res, 50)); // the last sockets' close
      const cpu = procCpuSeconds(child.pid!) - c0;
      rates.push(n / cpu);
      walls.push(n / ((performance.now() - t0) / 1000));
    }
    const rate = median(rates);
    const machine = median(machines);
    return [
      {
        group: GROUP,
        name: `responder handshakes per CPU second of the responder process (loopback, user + system, /proc schedstat; median of ${rounds})`,
        value: rate,
        unit: 'ops/s',
        baseline: 'the responder state machine alone in this process',
        ratio: rate / machine,
        target: '>= 500',
        pass: rate >= 500,
      },
      { group: GROUP, name: 'responder handshake state machine alone (readActOne + readActThree), per CPU second of those calls', value: machine, unit: 'ops/s' },
      { group: GROUP, name: 'handshakes over loopback, initiators 4 at a time against that responder (by the clock)', value: median(walls), unit: 'ops/s' },
    ];
  } finally {
    child.kill();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (process.argv.includes('--responder')) await responderChild();
  else {
    const { rowLine } = await import('./run.js');
    if (process.argv.includes('--handshakes')) for (const r of await responderHandshakeRows()) process.stdout.write(rowLine(r) + '\n');
    else if (process.argv.includes('--backup')) for (const r of await backupRows()) process.stdout.write(rowLine(r) + '\n');
    else for (const r of await serveCpuRows(Number(process.argv[2] ?? 9))) process.stdout.write(rowLine(r) + '\n');
  }
}
