// Attacks on a running `lnps serve`, over real sockets, shared by test/hostile-attacks.test.ts
// and bench/hostile.ts. Attackers connect from 127.0.0.2 (the control-character one from
// 127.0.0.3); the well-behaved peer from 127.0.0.1.
// Every attack runs until a deadline and stops by itself; what it sent is counted so that the
// benchmark can give its rate.
import { randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { InitiatorHandshake, type MessageDecryptor, type MessageEncryptor } from '../src/core/transport/index.js';
import { CHAIN_HASH, encodeMessage, initMessage } from '../src/core/wire/registry.js';
import { connectClient, initiatorHandshake, memoryOf, withTimeout } from './stress-helpers.js';

export const ATTACKER = '127.0.0.2';
export const GOOD = '127.0.0.1';
const HOST = '127.0.0.1';
const ACT_TWO = 50;

export interface Target {
  port: number;
  /** The node's public key, hex. */
  pubkey: string;
}

/** What an attack sent, for its rate. */
export interface Sent {
  /** Messages (or act ones) written. */
  messages: number;
  /** Bytes written on the wire. */
  bytes: number;
  /** Connections opened. */
  connections: number;
}

const none = (): Sent => ({ messages: 0, bytes: 0, connections: 0 });

/** A TCP connection from `local` to the node; rejects on error. */
export function socketFrom(port: number, local = ATTACKER): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: HOST, port, localAddress: local });
    s.once('connect', () => {
      s.off('error', reject);
      s.on('error', () => undefined);
      resolve(s);
    });
    s.once('error', reject);
  });
}

export interface Session {
  socket: Socket;
  enc: MessageEncryptor;
  dec: MessageDecryptor;
  closed: Promise<void>;
  isClosed(): boolean;
  /** Encrypt and write one message; resolves when the socket takes more (drain), or is closed. */
  send(msg: Uint8Array): Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Wait for the socket to drain, or close, or `ms` to pass. */
function drained(socket: Socket, ms = 1000): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(t);
      socket.off('drain', done);
      socket.off('close', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    socket.once('drain', done);
    socket.once('close', done);
  });
}

/**
 * A BOLT #8 session from 127.0.0.2 (or `local`), driven by hand: the handshake, then `init`
 * (the given bytes, or an init with no features). The session never reads what the node sends
 * after act two unless `read` is set: an attacker that does not read is the worst case.
 */
export async function sessionFrom(t: Target, opts: { secret?: Uint8Array; init?: Uint8Array; read?: boolean; local?: string; timeoutMs?: number } = {}): Promise<Session> {
  const socket = await socketFrom(t.port, opts.local ?? ATTACKER);
  let isClosed = false;
  const closed = new Promise<void>((r) => socket.once('close', () => ((isClosed = true), r())));
  try {
    const { enc, dec, rest } = await initiatorHandshake(socket, t.pubkey, opts.secret ?? randomBytes(32), opts.timeoutMs ?? 10_000);
    if (opts.read) {
      if (rest.length > 0) dec.push(rest);
      socket.on('data', (d: Buffer) => dec.push(d));
    } else socket.pause();
    const session: Session = {
      socket,
      enc,
      dec,
      closed,
      isClosed: () => isClosed,
      send: async (msg) => {
        if (isClosed) return;
        if (!socket.write(enc.encrypt(msg))) await drained(socket);
      },
    };
    await session.send(opts.init ?? encodeMessage(initMessage({ features: [], networks: [CHAIN_HASH.regtest] })));
    return session;
  } catch (e) {
    socket.destroy();
    throw e;
  }
}

const PING_ONE = Uint8Array.of(0, 18, 0, 1, 0, 0);

/**
 * Ask for a pong and wait for it (the session must read): everything sent before has been
 * handled by the node. Resolves false when the node closes or `ms` passes first.
 */
export async function synced(s: Session, ms: number): Promise<boolean> {
  await s.send(PING_ONE);
  const end = Date.now() + ms;
  while (Date.now() < end && !s.isClosed()) {
    let m: Uint8Array | undefined;
    try {
      m = s.dec.next();
    } catch {
      return false;
    }
    if (m === undefined) await sleep(5);
    else if (m.length >= 2 && m[0] === 0 && m[1] === 19) return true;
  }
  return false;
}

/** Run `conns` copies of `one` side by side until the deadline; each reconnects when dropped. */
async function parallel(conns: number, deadline: number, one: (sent: Sent) => Promise<void>): Promise<Sent> {
  const sent = none();
  await Promise.all(
    Array.from({ length: conns }, async () => {
      while (Date.now() < deadline) {
        try {
          await one(sent);
        } catch {
          // Refused or dropped by the node: that is its defence working; try again shortly.
          await sleep(50);
        }
      }
    }),
  );
  return sent;
}

/**
 * Write `frame` (one encrypted message, re-encrypted each time) as fast as the socket takes
 * it, `batch` at a time, until the deadline or the node closes the connection.
 */
async function floodSession(s: Session, msg: Uint8Array, deadline: number, sent: Sent, batch = 256): Promise<void> {
  while (Date.now() < deadline && !s.isClosed()) {
    const frames: Buffer[] = [];
    for (let i = 0; i < batch; i++) frames.push(s.enc.encrypt(msg));
    const b = Buffer.concat(frames);
    sent.messages += batch;
    sent.bytes += b.length;
    if (!s.socket.write(b)) await drained(s.socket, Math.max(1, deadline - Date.now()));
  }
  s.socket.destroy();
}

/**
 * `conns` sessions from 127.0.0.2 (or `local`) side by side, each writing `msg()` (built once per
 * session) `batch` at a time until the deadline; each reconnects when dropped.
 */
function flood(t: Target, conns: number, deadline: number, msg: () => Uint8Array, batch?: number, local?: string): Promise<Sent> {
  return parallel(conns, deadline, async (sent) => {
    const s = await sessionFrom(t, local !== undefined ? { local } : {});
    sent.connections++;
    await floodSession(s, msg(), deadline, sent, batch);
  });
}

/** An odd message type the node does not know: ignored by the rules, the cheapest message there is. */
export const TINY = Uint8Array.of(0x80, 0x01);

export interface Attack {
  name: string;
  /** What the attacker does, in a few words (the benchmark table's first column). */
  what: string;
  /** The unit of the attacker's rate. */
  unit: 'msg/s' | 'conn/s' | 'act1/s' | 'MiB/s';
  /** Extra flags of `lnps serve` this attack is run against (the quota attack's policy). */
  node?: 'any';
  /**
   * What one attacking connection may add to the log, by design: at most a few lines (active,
   * the first refusal, the counts at close, disconnected), none over 1 KiB. Warnings are the
   * exception: the first 10 of a connection are logged whole.
   */
  logPerConnection: number;
  run(t: Target, deadline: number): Promise<Sent>;
}

/** A ping asking for the largest pong, padded to 40 bytes. */
function bigPing(): Uint8Array {
  const m = Buffer.alloc(40);
  m.writeUInt16BE(18, 0);
  m.writeUInt16BE(65531, 2);
  m.writeUInt16BE(34, 4);
  return m;
}

function storage(type: 7 | 9, blob: Uint8Array): Uint8Array {
  const m = Buffer.alloc(4 + blob.length);
  m.writeUInt16BE(type, 0);
  m.writeUInt16BE(blob.length, 2);
  m.set(blob, 4);
  return m;
}

function warning(text: string): Uint8Array {
  const data = Buffer.from(text, 'utf8');
  const m = Buffer.alloc(2 + 32 + 2 + data.length);
  m.writeUInt16BE(1, 0);
  m.writeUInt16BE(data.length, 34);
  data.copy(m, 36);
  return m;
}

/** init with every feature bit set: 65,000 bytes of 0xff (520,000 bits, the even ones unknown). */
export function everyBitInit(): Uint8Array {
  const features = Buffer.alloc(65_000, 0xff);
  const m = Buffer.alloc(2 + 2 + 2 + features.length);
  m.writeUInt16BE(16, 0);
  m.writeUInt16BE(0, 2);
  m.writeUInt16BE(features.length, 4);
  features.copy(m, 6);
  return m;
}

/** Peer strings an attacker would like to see in a log: line breaks, escapes, bidi overrides. */
export const EVIL_TEXT = 'ok\u2028FAKE\u0085LINE\u009b2J\u202eesrever\x1b[31mred\r\n2026-01-01 00:00:00.000 [CRT] SRVR: forged\u200b\ufeff\u2029end';

/** Sessions that send `msg` once each, from fresh identities, `conns` at a time. */
function identities(t: Target, conns: number, msg: (i: number) => Uint8Array, deadline: number, max: number): Promise<Sent> {
  let n = 0;
  return parallel(conns, deadline, async (sent) => {
    if (n >= max) {
      await sleep(Math.max(1, Math.min(100, deadline - Date.now())));
      return;
    }
    n++;
    const s = await sessionFrom(t, { timeoutMs: 5000, read: true });
    sent.connections++;
    const m = msg(n);
    await s.send(m);
    sent.messages++;
    sent.bytes += m.length;
    // Once the node has taken the message, the identity is thrown away.
    await synced(s, 2000);
    s.socket.destroy();
  });
}

export const ATTACKS: Attack[] = [
  {
    name: 'tiny-flood',
    what: '2-byte messages, 4 connections that never read',
    unit: 'msg/s',
    logPerConnection: 1536,
    run: (t, deadline) => flood(t, 4, deadline, () => TINY),
  },
  {
    name: 'act-one-replay',
    what: 'one recorded act one replayed, 200 sockets at a time',
    unit: 'act1/s',
    // A handshake that never completes is not logged; refusals once per address and minute.
    logPerConnection: 0,
    run: async (t, deadline) => {
      const actOne = Buffer.from(new InitiatorHandshake({ localSecret: randomBytes(32), remotePubkey: Buffer.from(t.pubkey, 'hex') }).actOne());
      return parallel(200, deadline, async (sent) => {
        const s = await socketFrom(t.port);
        sent.connections++;
        s.write(actOne);
        sent.messages++;
        sent.bytes += actOne.length;
        await new Promise<void>((resolve) => {
          const tm = setTimeout(done, 2000);
          let got = 0;
          s.on('data', (d: Buffer) => {
            got += d.length;
            if (got >= ACT_TWO) done();
          });
          s.once('close', done);
          function done() {
            clearTimeout(tm);
            s.destroy();
            resolve();
          }
        });
      });
    },
  },
  {
    name: 'ping-amplification',
    what: '40-byte pings asking for 65531-byte pongs, never read, 4 connections',
    unit: 'msg/s',
    logPerConnection: 1536,
    run: (t, deadline) => flood(t, 4, deadline, bigPing, 64),
  },
  {
    name: 'refused-storage',
    what: 'peer_storage from a peer without a channel, 2 connections',
    unit: 'msg/s',
    logPerConnection: 1536,
    run: (t, deadline) => flood(t, 2, deadline, () => storage(7, randomBytes(32)), 64),
  },
  {
    name: 'every-feature-init',
    what: 'init with 520,000 feature bits set, 4 connections at a time',
    unit: 'conn/s',
    logPerConnection: 1536,
    run: (t, deadline) => {
      const init = everyBitInit();
      return parallel(4, deadline, async (sent) => {
        const s = await sessionFrom(t, { init, timeoutMs: 5000, read: true });
        sent.connections++;
        sent.messages++;
        sent.bytes += init.length;
        // lnps opens no channels, so it keeps a peer with unknown even (channel) bits; the
        // attacker leaves once the init is handled, and comes back.
        await synced(s, 2000);
        s.socket.destroy();
      });
    },
  },
  {
    name: 'control-characters',
    what: 'warnings full of control, format and separator characters, 1 connection',
    unit: 'msg/s',
    logPerConnection: 12 * 1024,
    // From an address of its own: its lines are logged at their level even right after an
    // attack from 127.0.0.2 used up that address's log budget (node.ts CONNECTION_LOG_BUDGET).
    run: (t, deadline) => flood(t, 1, deadline, () => warning(EVIL_TEXT.repeat(50)), 16, '127.0.0.3'),
  },
  {
    name: 'quota-fill',
    what: '30 throwaway identities storing a blob each (--storage-policy any --max-peers 20)',
    unit: 'conn/s',
    node: 'any',
    logPerConnection: 1536,
    run: (t, deadline) => {
      return identities(t, 4, () => storage(7, randomBytes(1024)), deadline, 30);
    },
  },
  {
    name: 'unsolicited-retrieval',
    what: 'peer_storage_retrieval from peers we never sent a blob to',
    unit: 'msg/s',
    logPerConnection: 1536,
    run: (t, deadline) => flood(t, 2, deadline, () => storage(9, randomBytes(1000)), 32),
  },
];

// ---- Measures of the node ----

/** Resident memory of a process in bytes (VmRSS). */
export function rssOf(pid: number): number {
  const m = memoryOf(pid);
  if (!m) throw new Error(`no /proc/${pid}/status`);
  return m.rssKiB * 1024;
}

/** CPU time of a process so far in seconds (utime + stime from /proc/PID/stat, 100 ticks a second). */
export function cpuOf(pid: number): number {
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

export function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** The well-behaved peer: handshake and init from 127.0.0.1; resolves with how long it took (ms). */
export async function goodPeer(t: Target, timeoutMs = 10_000): Promise<number> {
  const t1 = performance.now();
  const c = await withTimeout(connectClient(t.port, t.pubkey, randomBytes(32), timeoutMs), timeoutMs, 'the good peer did not complete handshake and init');
  const ms = performance.now() - t1;
  c.conn.destroy();
  return ms;
}

export interface Observed {
  sent: Sent;
  seconds: number;
  /** Highest VmRSS seen during the attack minus VmRSS before it. */
  rssGrowth: number;
  /** CPU seconds the node used during the attack. */
  cpu: number;
  /** The good peer's handshake + init times during the attack (ms). */
  good: number[];
  /** Bytes the log file grew by (the attack and a settling time after it). */
  logGrowth: number;
}

/**
 * Run `attack` (or nothing, for the baseline) for `ms` against the node at `pid`, sampling its
 * memory every 100 ms, while the good peer connects `goodTries` times spread over the run.
 */
export async function observe(pid: number, t: Target, logFile: string, attack: Attack | undefined, ms: number, goodTries = 3): Promise<Observed> {
  const rss0 = rssOf(pid);
  const cpu0 = cpuOf(pid);
  const log0 = sizeOf(logFile);
  let peak = rss0;
  const sampler = setInterval(() => {
    try {
      peak = Math.max(peak, rssOf(pid));
    } catch {
      // The node is gone: the caller's checks say so.
    }
  }, 100);
  const t1 = performance.now();
  const deadline = Date.now() + ms;
  const running = attack ? attack.run(t, deadline) : sleep(ms).then(none);
  const good: number[] = [];
  for (let i = 0; i < goodTries; i++) {
    await sleep(ms / (goodTries + 1));
    good.push(await goodPeer(t));
  }
  const sent = await running;
  const seconds = (performance.now() - t1) / 1000;
  const cpu = cpuOf(pid) - cpu0;
  // Lines that come after the attacker has left count too.
  await sleep(500);
  clearInterval(sampler);
  peak = Math.max(peak, rssOf(pid));
  return { sent, seconds, rssGrowth: peak - rss0, cpu, good, logGrowth: sizeOf(logFile) - log0 };
}
