// `npm run stress -- [--rounds N] [--cli-rounds N] [--seed S] [--flood-seconds S] [--peers N]`:
// the long forms of the crash and flood suites (the short forms run inside `npm test`:
// test/crash*.test.ts, test/flood*.test.ts). Everything runs on 127.0.0.1 in temporary data
// directories; every process started here is ended by its pid.
import { cpSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { toHex } from '../src/core/bytes.js';
import { encodeMessage, peerStorage, ping } from '../src/core/wire/index.js';
import {
  BIN,
  Rng,
  at,
  cli,
  cliOk,
  connectClient,
  createNode,
  dbRecordsHash,
  exited,
  exportLine,
  killHard,
  memoryOf,
  percentile,
  pubkeyHexOf,
  readUntil,
  removeDir,
  secretFrom,
  startServe,
  stopServe,
  tempDir,
  withTimeout,
  type Client,
} from '../test/stress-helpers.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// ---- CLI crash consistency ----

export type CrashCommand = 'importpeerstorage' | 'prunepeerbackup';

export interface CliCrashOptions {
  rounds: number;
  seed: number;
  /** Peers in the import file, or stored peers for prune. */
  peers?: number;
  blobBytes?: number;
  log?: (line: string) => void;
}

export interface CliCrashReport {
  command: CrashCommand;
  seed: number;
  rounds: number;
  /** Rounds where the kill landed while the command ran (the others finished first). */
  killed: number;
  /** Outcomes of the killed rounds: the database exactly as before, or exactly as after. */
  before: number;
  after: number;
  fullMs: number;
  failures: string[];
}

/**
 * Run `command` to completion once to learn the state after it and how long it takes, then
 * `rounds` times on a fresh copy of the state before it, SIGKILL it after a random delay
 * within that time, and check that the database opens and holds exactly the state before or
 * exactly the state after: every key and value of the database compared, not a summary.
 */
export async function cliCrash(command: CrashCommand, opts: CliCrashOptions): Promise<CliCrashReport> {
  const rng = new Rng(opts.seed);
  const log = opts.log ?? (() => undefined);
  const n = opts.peers ?? 2000;
  const blobBytes = opts.blobBytes ?? 3000;
  const work = tempDir(`lnps-crash-${command}-`);
  const report: CliCrashReport = { command, seed: opts.seed, rounds: 0, killed: 0, before: 0, after: 0, fullMs: 0, failures: [] };
  try {
    const base = join(work, 'base');
    createNode(base);
    // Fixed times in every line, so the state after an import is the same in every run.
    const line = (peer: string, i: number) => exportLine(peer, rng.bytes(blobBytes), { first_stored_at: 1_600_000_000 + i, updated_at: 1_600_000_000 + i, update_count: 1 + (i % 5) });
    const stored = Array.from({ length: command === 'prunepeerbackup' ? n : 100 }, () => pubkeyHexOf(secretFrom(rng)));
    writeFileSync(join(work, 'stored.jsonl'), stored.map(line).join('\n') + '\n');
    cliOk(['importpeerstorage', join(work, 'stored.jsonl'), ...at(base)]);
    let args: string[];
    if (command === 'importpeerstorage') {
      // Half of the stored peers get new blobs, the rest of the file is new peers.
      const peers = [...stored.slice(0, 50), ...Array.from({ length: n - 50 }, () => pubkeyHexOf(secretFrom(rng)))];
      writeFileSync(join(work, 'import.jsonl'), peers.map((p, i) => line(p, i + 1000)).join('\n') + '\n');
      args = ['importpeerstorage', join(work, 'import.jsonl')];
    } else {
      // Some peers keep an open channel (kept by retention); the others are long expired.
      const open = stored.filter((_, i) => i % 10 === 0);
      writeFileSync(join(work, 'open.json'), JSON.stringify({ channels: open.map((p, i) => ({ remote_pubkey: p, channel_point: `${toHex(rng.bytes(32))}:${i}` })) }));
      cliOk(['importchannels', '--listchannels', join(work, 'open.json'), ...at(base)]);
      args = ['prunepeerbackup', '--height', '900000'];
    }
    const beforeHash = await dbRecordsHash(base);

    const full = join(work, 'full');
    cpSync(base, full, { recursive: true });
    const t0 = performance.now();
    cliOk([...args, ...at(full)], { timeoutMs: 120_000 });
    report.fullMs = performance.now() - t0;
    const afterHash = await dbRecordsHash(full);
    if (afterHash === beforeHash) throw new Error(`${command} changed nothing: the crash test would prove nothing`);
    // The same command twice gives the same state (nothing time-dependent is written).
    const again = join(work, 'again');
    cpSync(base, again, { recursive: true });
    const t1 = performance.now();
    cliOk([...args, ...at(again)], { timeoutMs: 120_000 });
    // The first run pays for cold caches: the shorter of the two is the window kills aim at.
    report.fullMs = Math.min(report.fullMs, performance.now() - t1);
    if ((await dbRecordsHash(again)) !== afterHash) throw new Error(`${command} is not deterministic: its after-state cannot be compared`);
    removeDir(again);
    removeDir(full);
    log(`${command}: ${n} peers, ${blobBytes}-byte blobs, full run ${report.fullMs.toFixed(0)} ms`);

    for (let round = 0; round < opts.rounds; round++) {
      const dir = join(work, `r${round}`);
      cpSync(base, dir, { recursive: true });
      // Kills land four ways: at a random moment; near the end of the run; the moment the
      // database's write-ahead log starts to grow (a large batch is then torn mid-write); or
      // once the log has grown and stopped growing (the batch is in, the process not yet done).
      const u = rng.next();
      const mode = u < 0.3 ? 'random' : u < 0.45 ? 'late' : u < 0.75 ? 'on-write' : 'after-write';
      const dbDir = join(dir, 'regtest', 'db');
      const logBytes = () => {
        let total = 0;
        for (const f of readdirSync(dbDir)) {
          if (!f.endsWith('.log')) continue;
          try {
            total += statSync(join(dbDir, f)).size;
          } catch {
            // Rotated away between the listing and the stat.
          }
        }
        return total;
      };
      const logBefore = logBytes();
      const child = spawn(process.execPath, [BIN, ...args, ...at(dir)], { stdio: 'ignore' });
      const done = exited(child, 120_000);
      const t0 = performance.now();
      let delay: number;
      if (mode === 'on-write' || mode === 'after-write') {
        const limit = report.fullMs * 3;
        const running = () => performance.now() - t0 < limit && child.exitCode === null && child.signalCode === null;
        while (logBytes() === logBefore && running()) await sleep(1);
        if (mode === 'after-write') {
          let last = logBytes();
          for (let stable = 0; stable < 3 && running(); ) {
            await sleep(1);
            const now = logBytes();
            stable = now === last ? stable + 1 : 0;
            last = now;
          }
        }
        delay = Math.round(performance.now() - t0);
      } else {
        delay = Math.round(report.fullMs * (mode === 'random' ? 0.1 + 0.9 * rng.next() : 0.75 + 0.3 * rng.next()));
        await sleep(delay);
      }
      const wasRunning = child.exitCode === null && child.signalCode === null;
      await killHard(child);
      const end = await done;
      report.rounds++;
      // The database must open, with lnps as with LevelDB, and hold one of the two states.
      const info = cli(['getinfo', ...at(dir)]);
      const h = await dbRecordsHash(dir);
      let outcome: string;
      if (h === beforeHash) outcome = 'before';
      else if (h === afterHash) outcome = 'after';
      else outcome = 'BETWEEN';
      if (wasRunning && end.signal === 'SIGKILL') {
        report.killed++;
        if (outcome === 'before') report.before++;
        if (outcome === 'after') report.after++;
      }
      if (info.code !== 0) report.failures.push(`round ${round} (kill at ${delay} ms): getinfo exits ${info.code}: ${info.stderr.trim()}`);
      if (outcome === 'BETWEEN' || h.startsWith('files:')) report.failures.push(`round ${round} (kill at ${delay} ms): the database is neither as before nor as after`);
      log(`  round ${round}: ${mode} kill at ${delay} ms ${wasRunning ? '' : '(it had finished) '}→ ${outcome}`);
      removeDir(dir);
    }
  } finally {
    removeDir(work);
  }
  return report;
}

// ---- Node crash consistency ----

export interface NodeCrashOptions {
  rounds: number;
  seed: number;
  /** Peers flooding the node in every round. */
  peers?: number;
  /** The node's write cooldown. */
  cooldownMs?: number;
  log?: (line: string) => void;
}

export interface NodeCrashReport {
  seed: number;
  rounds: number;
  /** peer_storage messages written to the node's socket over all rounds. */
  sent: number;
  /** Checks of "last update older than the cooldown: its newest blob is stored" that applied. */
  settledChecks: number;
  /** Peers whose stored blob was the newest they sent (settled or not). */
  newestStored: number;
  failures: string[];
}

/**
 * Slack on top of the cooldown for "older than the cooldown before the kill": the time for the
 * node to read a message off loopback and for its write to reach the database.
 */
export const SETTLE_SLACK_MS = 250;

interface PeerTrack {
  secret: Uint8Array;
  pubkey: string;
  /** Every blob this peer ever sent (hex), to any incarnation of the node. */
  everSent: Set<string>;
  /** What the database held for it after the last verified round. */
  stored: string | undefined;
}

/** What the database holds, read with lnps's own store code (so "the database opens" means it). */
async function readStore(datadir: string): Promise<{ blobs: Map<string, string>; totals: { peers: number; bytes: number; channels: number }; height: number | undefined }> {
  const { openLevelKv } = await import('../src/core/store/level.js');
  const { LnpsStore } = await import('../src/core/store/store.js');
  const kv = await openLevelKv(join(datadir, 'regtest', 'db'));
  const store = await LnpsStore.open(kv);
  try {
    const blobs = new Map<string, string>();
    for await (const r of store.peerBlobs()) blobs.set(toHex(r.peer), toHex(r.blob));
    const t = await store.totals();
    return { blobs, totals: { peers: t.peers, bytes: t.bytes, channels: t.channels }, height: (await store.height())?.height };
  } finally {
    await store.close();
  }
}

/**
 * Rounds of: start `lnps serve`, let peers flood it with peer_storage over BOLT #8, SIGKILL it
 * at a random moment, then check what the database holds:
 * - it opens (with lnps's store code, and the next round's `lnps serve` opens it again);
 * - every stored blob is byte-equal to one its peer actually sent;
 * - a peer whose last update was written to the socket more than cooldown + slack before the
 *   kill has exactly that newest blob stored;
 * - a peer that sent nothing new keeps what it had; no other peer, channel or height appears,
 *   and the totals match the blobs.
 */
export async function nodeCrash(opts: NodeCrashOptions): Promise<NodeCrashReport> {
  const rng = new Rng(opts.seed);
  const log = opts.log ?? (() => undefined);
  const cooldownMs = opts.cooldownMs ?? 300;
  const nPeers = opts.peers ?? 6;
  const datadir = tempDir('lnps-crash-node-');
  const report: NodeCrashReport = { seed: opts.seed, rounds: 0, sent: 0, settledChecks: 0, newestStored: 0, failures: [] };
  const peers: PeerTrack[] = Array.from({ length: nPeers }, () => {
    const secret = secretFrom(rng);
    return { secret, pubkey: pubkeyHexOf(secret), everSent: new Set<string>(), stored: undefined };
  });
  let counter = 0;
  try {
    createNode(datadir);
    for (let round = 0; round < opts.rounds; round++) {
      const node = await startServe(datadir, ['--storage-policy', 'any', '--cooldown', `${cooldownMs}ms`, '--debuglevel', 'info,PEER=warn,STOR=warn']);
      const failuresBefore = report.failures.length;
      const clients: (Client | undefined)[] = [];
      let killed = false;
      const lastSend = new Map<string, { hex: string; at: number | undefined }>();
      try {
        for (const p of peers) {
          try {
            clients.push(await connectClient(node.port, node.pubkey, p.secret, 5000));
          } catch (e) {
            report.failures.push(`round ${round}: peer ${p.pubkey.slice(0, 16)} could not connect: ${(e as Error).message}`);
            clients.push(undefined);
          }
        }
        const start = Date.now();
        const killAfter = rng.range(250, 1300);
        const senders = peers.map(async (p, i) => {
          const c = clients[i];
          if (!c) return;
          // Each peer stops at its own moment: some long before the kill, some after it.
          const stopAt = start + (rng.next() < 0.5 ? rng.int(Math.round(killAfter * 0.4)) : rng.int(Math.round(killAfter * 1.4)));
          const big = rng.next() < 0.3;
          const prng = new Rng(rng.int(2 ** 32));
          while (!killed && Date.now() < stopAt) {
            const len = big ? prng.range(8, 20000) : prng.range(8, 600);
            const blob = prng.bytes(len);
            // A unique prefix per message, so "which blob is stored" always has one answer.
            new DataView(blob.buffer).setUint32(0, ++counter);
            blob[4] = i;
            const hex = toHex(blob);
            p.everSent.add(hex);
            const entry = { hex, at: undefined as number | undefined };
            lastSend.set(p.pubkey, entry);
            try {
              await c.conn.send(encodeMessage(peerStorage(blob)));
            } catch {
              break;
            }
            entry.at = Date.now();
            report.sent++;
            await sleep(prng.int(30));
          }
        });
        await sleep(killAfter);
        const killAt = Date.now();
        killed = true;
        await killHard(node.child);
        await Promise.all(senders);
        report.rounds++;

        // Check what the database holds.
        let state;
        try {
          state = await readStore(datadir);
        } catch (e) {
          report.failures.push(`round ${round} (kill after ${killAfter} ms): the database does not open: ${(e as Error).message}`);
          break;
        }
        const fail = (what: string) => report.failures.push(`round ${round} (kill after ${killAfter} ms): ${what}`);
        const known = new Map(peers.map((p) => [p.pubkey, p]));
        for (const [peer, hex] of state.blobs) {
          const p = known.get(peer);
          if (!p) fail(`a blob for ${peer}, which never sent one`);
          else if (!p.everSent.has(hex)) fail(`the blob stored for ${peer.slice(0, 16)} (${hex.length / 2} bytes) is not one it sent`);
        }
        for (const p of peers) {
          const now = state.blobs.get(p.pubkey);
          const last = lastSend.get(p.pubkey);
          if (last === undefined) {
            if (now !== p.stored) fail(`${p.pubkey.slice(0, 16)} sent nothing this round, yet its blob changed`);
          } else if (last.at !== undefined && killAt - last.at > cooldownMs + SETTLE_SLACK_MS) {
            report.settledChecks++;
            if (now !== last.hex) fail(`${p.pubkey.slice(0, 16)} sent its last blob ${killAt - last.at} ms before the kill (cooldown ${cooldownMs} ms), but ${now === undefined ? 'nothing is stored' : 'an older blob is stored'}`);
          }
          if (last !== undefined && now === last.hex) report.newestStored++;
          p.stored = now;
        }
        let bytes = 0;
        for (const hex of state.blobs.values()) bytes += hex.length / 2;
        if (state.totals.peers !== state.blobs.size || state.totals.bytes !== bytes)
          fail(`totals say ${state.totals.peers} peers and ${state.totals.bytes} bytes, the blobs are ${state.blobs.size} and ${bytes}`);
        if (state.totals.channels !== 0 || state.height !== undefined) fail('a channel or a height appeared');
        log(`  round ${round}: kill after ${killAfter} ms, ${state.blobs.size} peers stored`);
      } finally {
        killed = true;
        for (const c of clients) c?.conn.destroy();
        await killHard(node.child);
        if (report.failures.length > failuresBefore) report.failures.push(`round ${round}: the node's log ends with: ${node.log().slice(-1500)}`);
      }
    }
    // The last state must come back from a clean start too.
    const node = await startServe(datadir, ['--storage-policy', 'any', '--debuglevel', 'info,PEER=warn,STOR=warn']);
    await stopServe(node);
  } finally {
    removeDir(datadir);
  }
  return report;
}

// ---- Flood and load ----

export interface FloodOptions {
  /** Peers flooding at once (200 in the issue). */
  peers: number;
  seconds: number;
  seed: number;
  cooldownMs?: number;
  /** Messages of 65531-byte blobs the fast sender pushes without waiting. */
  firehoseMessages?: number;
  log?: (line: string) => void;
}

export interface FloodReport {
  seed: number;
  peers: number;
  connected: number;
  seconds: number;
  /** peer_storage messages and bytes the flooding peers wrote (the fast sender excluded). */
  messages: number;
  bytes: number;
  /** Ping round trips of the separate peer. */
  pings: number;
  pingP50Ms: number;
  pingP99Ms: number;
  pingMaxMs: number;
  /** Resident memory of the serve process: after start, and the peak (VmHWM) over the run. */
  baselineRssKiB: number;
  peakHwmKiB: number;
  /** Database writes of blobs (the sum of update_count) and the most for one peer, against the bound. */
  blobWrites: number;
  maxWritesPerPeer: number;
  writeBoundPerPeer: number;
  /** The fast sender: bytes it queued, and the most it ever had waiting on TCP. */
  firehoseBytes: number;
  firehoseMaxWaitingBytes: number;
  firehoseMs: number;
  failures: string[];
}

interface FloodWork {
  role: 'lnps-flood';
  port: number;
  pubkey: string;
  secrets: string[];
  firehoseSecret: string;
  firehoseMessages: number;
  seconds: number;
  seed: number;
}

interface FloodResult {
  messages: number;
  bytes: number;
  last: [string, string][];
  firstSend: [string, number][];
  firehoseBlob: string;
  firehoseBytes: number;
  firehoseMaxWaitingBytes: number;
  firehoseMs: number;
  start: number;
  end: number;
  failures: string[];
}

/**
 * The flooding peers, run in a worker thread so that the pinging peer in the main thread
 * measures the node, not a test process starved by its own senders.
 */
async function floodWorker(w: FloodWork): Promise<FloodResult> {
  const rng = new Rng(w.seed);
  const failures: string[] = [];
  const clients: Client[] = [];
  const all = [...w.secrets, w.firehoseSecret].map((h) => Uint8Array.from(Buffer.from(h, 'hex')));
  for (let i = 0; i < all.length; i += 25) {
    const batch = await Promise.allSettled(all.slice(i, i + 25).map((s) => connectClient(w.port, w.pubkey, s, 20_000)));
    for (const b of batch) {
      if (b.status === 'fulfilled') clients.push(b.value);
      else failures.push(`a peer could not connect: ${(b.reason as Error).message}`);
    }
  }
  const firehose = clients.pop()!;
  parentPort!.postMessage({ connected: clients.length });
  await new Promise<void>((resolve) => parentPort!.once('message', () => resolve()));

  const pool = rng.bytes(70_000);
  const last = new Map<string, string>();
  const firstSend = new Map<string, number>();
  let counter = 0;
  const makeBlob = (len: number, who: number) => {
    const off = rng.int(pool.length - len + 1);
    const b = pool.slice(off, off + len);
    new DataView(b.buffer).setUint32(0, ++counter);
    new DataView(b.buffer).setUint16(4, who);
    return b;
  };
  const start = Date.now();
  const deadline = start + w.seconds * 1000;
  const r: FloodResult = { messages: 0, bytes: 0, last: [], firstSend: [], firehoseBlob: '', firehoseBytes: 0, firehoseMaxWaitingBytes: 0, firehoseMs: 0, start, end: 0, failures };

  // The fast sender: every message queued at once, none awaited before the next; how much
  // stays queued on its side shows whether the node takes everything in or TCP holds it back.
  const fhBlob = makeBlob(65531, 65535);
  r.firehoseBlob = toHex(fhBlob);
  const fhMsg = encodeMessage(peerStorage(fhBlob));
  let fhWaiting = 0;
  const fhSends: Promise<void>[] = [];
  for (let i = 0; i < w.firehoseMessages; i++) {
    fhWaiting += fhMsg.length;
    r.firehoseBytes += fhMsg.length;
    fhSends.push(
      firehose.conn.send(fhMsg).then(
        () => void (fhWaiting -= fhMsg.length),
        (e) => void failures.push(`the fast sender's message failed: ${(e as Error).message}`),
      ),
    );
  }
  const fhTimer = setInterval(() => (r.firehoseMaxWaitingBytes = Math.max(r.firehoseMaxWaitingBytes, fhWaiting)), 20);
  const fhDone = Promise.all(fhSends).then(() => (r.firehoseMs = Date.now() - start));

  await Promise.all(
    clients.map(async (c, who) => {
      while (Date.now() < deadline) {
        const x = rng.next();
        const len = x < 0.05 ? 65531 : x < 0.5 ? rng.range(100, 400) : rng.range(400, 2500);
        const blob = makeBlob(len, who);
        try {
          await c.conn.send(encodeMessage(peerStorage(blob)));
        } catch (e) {
          failures.push(`peer ${who} could not send: ${(e as Error).message}`);
          return;
        }
        if (!firstSend.has(c.pubkey)) firstSend.set(c.pubkey, Date.now());
        last.set(c.pubkey, toHex(blob));
        r.messages++;
        r.bytes += len;
        // send() resolves at once below the socket's mark: yield so the sockets get read.
        await sleep(0);
      }
    }),
  );
  r.end = Date.now();
  await withTimeout(fhDone, 60_000, 'the fast sender never got its messages out').catch((e) => failures.push((e as Error).message));
  clearInterval(fhTimer);
  // A ping behind the last message is answered only once the node has handled everything before it.
  await Promise.all(
    [...clients, firehose].map(async (c) => {
      try {
        await c.conn.send(encodeMessage(ping(2)));
        const p = await readUntil(c.conn, (m) => m.name === 'pong', 30_000);
        if (p === null) failures.push(`peer ${c.pubkey.slice(0, 16)} was disconnected during the flood`);
      } catch (e) {
        failures.push(`peer ${c.pubkey.slice(0, 16)}: ${(e as Error).message}`);
      }
    }),
  );
  r.last = [...last];
  r.firstSend = [...firstSend];
  for (const c of [...clients, firehose]) c.conn.destroy();
  return r;
}

if (!isMainThread && (workerData as FloodWork | undefined)?.role === 'lnps-flood') {
  const result = await floodWorker(workerData as FloodWork);
  parentPort!.postMessage({ result });
}

/**
 * 200 peers flood the node over loopback for a bounded time while a separate peer pings it and
 * a fast sender pushes full-size messages without waiting. Checks that the node keeps
 * answering pings, that its memory stays bounded, that each peer's blob is written at most
 * once per cooldown (plus the shutdown flush), that each peer's newest blob is what is stored
 * after a clean stop, and reports the figures.
 */
export async function flood(opts: FloodOptions): Promise<FloodReport> {
  const rng = new Rng(opts.seed);
  const log = opts.log ?? (() => undefined);
  const cooldownMs = opts.cooldownMs ?? 1000;
  const datadir = tempDir('lnps-flood-');
  const failures: string[] = [];
  const report: FloodReport = {
    seed: opts.seed, peers: opts.peers, connected: 0, seconds: opts.seconds, messages: 0, bytes: 0, pings: 0, pingP50Ms: NaN, pingP99Ms: NaN, pingMaxMs: NaN,
    baselineRssKiB: 0, peakHwmKiB: 0, blobWrites: 0, maxWritesPerPeer: 0, writeBoundPerPeer: 0, firehoseBytes: 0, firehoseMaxWaitingBytes: 0, firehoseMs: 0, failures,
  };
  let node: Awaited<ReturnType<typeof startServe>> | undefined;
  let pinger: Client | undefined;
  let worker: Worker | undefined;
  try {
    createNode(datadir);
    node = await startServe(datadir, ['--storage-policy', 'any', '--cooldown', `${cooldownMs}ms`, '--max-peers', String(opts.peers + 10), '--max-connections-per-ip', String(opts.peers + 10), '--debuglevel', 'info,PEER=warn,STOR=warn']);
    const pid = node.pid;
    report.baselineRssKiB = memoryOf(pid)?.rssKiB ?? 0;
    const secrets = Array.from({ length: opts.peers }, () => toHex(secretFrom(rng)));
    const firehoseSecret = secretFrom(rng);
    pinger = await connectClient(node.port, node.pubkey, secretFrom(rng), 10_000);

    const work: FloodWork = { role: 'lnps-flood', port: node.port, pubkey: node.pubkey, secrets, firehoseSecret: toHex(firehoseSecret), firehoseMessages: opts.firehoseMessages ?? 300, seconds: opts.seconds, seed: rng.int(2 ** 32) };
    worker = new Worker(new URL(import.meta.url), { workerData: work });
    const messages: unknown[] = [];
    let wake: (() => void) | undefined;
    let workerError: Error | undefined;
    worker.on('message', (m) => {
      messages.push(m);
      wake?.();
    });
    worker.on('error', (e) => {
      workerError = e;
      wake?.();
    });
    const next = async (ms: number): Promise<Record<string, unknown>> => {
      const until = Date.now() + ms;
      while (messages.length === 0) {
        if (workerError) throw workerError;
        if (Date.now() > until) throw new Error(`the flooding peers did not report within ${ms} ms`);
        await new Promise<void>((r) => {
          wake = r;
          setTimeout(r, 200);
        });
      }
      return messages.shift() as Record<string, unknown>;
    };
    report.connected = (await next(60_000)).connected as number;
    log(`flood: ${report.connected} peers connected, baseline RSS ${(report.baselineRssKiB / 1024).toFixed(1)} MiB`);
    worker.postMessage('go');

    const t0 = Date.now();
    const deadline = t0 + opts.seconds * 1000;
    let peakRss = report.baselineRssKiB;
    const memTimer = setInterval(() => {
      const m = memoryOf(pid);
      if (m) peakRss = Math.max(peakRss, m.rssKiB);
    }, 100);
    const latencies: number[] = [];
    while (Date.now() < deadline) {
      const t = performance.now();
      await pinger.conn.send(encodeMessage(ping(4)));
      const pong = await readUntil(pinger.conn, (m) => m.name === 'pong', 10_000);
      if (pong === null) {
        failures.push('the pinging peer was disconnected');
        break;
      }
      latencies.push(performance.now() - t);
      await sleep(10);
    }
    const res = (await next(120_000)).result as FloodResult;
    clearInterval(memTimer);
    failures.push(...res.failures);
    report.messages = res.messages;
    report.bytes = res.bytes;
    report.firehoseBytes = res.firehoseBytes;
    report.firehoseMaxWaitingBytes = res.firehoseMaxWaitingBytes;
    report.firehoseMs = res.firehoseMs;
    report.peakHwmKiB = Math.max(memoryOf(pid)?.hwmKiB ?? 0, peakRss);
    report.pings = latencies.length;
    report.pingP50Ms = percentile(latencies, 50);
    report.pingP99Ms = percentile(latencies, 99);
    report.pingMaxMs = latencies.length > 0 ? Math.max(...latencies) : NaN;
    if (node.child.exitCode !== null || node.child.signalCode !== null) failures.push(`the node died during the flood: ${node.log().slice(-1500)}`);

    // A clean stop flushes what waits for its cooldown; then every peer's newest blob is stored.
    pinger.conn.destroy();
    const stopAt = Date.now();
    await stopServe(node);
    if (node.child.exitCode !== 0) failures.push(`lnps serve exited ${node.child.exitCode ?? node.child.signalCode} on SIGTERM`);
    const last = new Map(res.last);
    const firstSend = new Map(res.firstSend);
    const firehosePub = pubkeyHexOf(firehoseSecret);
    const { openLevelKv } = await import('../src/core/store/level.js');
    const { LnpsStore } = await import('../src/core/store/store.js');
    const store = await LnpsStore.open(await openLevelKv(join(datadir, 'regtest', 'db')));
    try {
      let wrong = 0;
      for await (const r of store.peerBlobs()) {
        const hex = toHex(r.peer);
        const want = hex === firehosePub ? res.firehoseBlob : last.get(hex);
        if (want === undefined || toHex(r.blob) !== want) wrong++;
        report.blobWrites += r.meta.update_count;
        if (hex === firehosePub) continue;
        // One write at once, then at most one per cooldown, then the flush at shutdown.
        const span = stopAt - (firstSend.get(hex) ?? res.start) + 50;
        const bound = Math.floor(span / cooldownMs) + 2;
        report.writeBoundPerPeer = Math.max(report.writeBoundPerPeer, bound);
        report.maxWritesPerPeer = Math.max(report.maxWritesPerPeer, r.meta.update_count);
        if (r.meta.update_count > bound) failures.push(`peer ${hex.slice(0, 16)} was written ${r.meta.update_count} times in ${span} ms (cooldown ${cooldownMs} ms: at most ${bound})`);
      }
      const t = await store.totals();
      if (t.peers !== report.connected + 1) failures.push(`${t.peers} peers stored, ${report.connected + 1} sent blobs`);
      if (wrong > 0) failures.push(`${wrong} peers do not hold the newest blob they sent after a clean stop`);
    } finally {
      await store.close();
    }
    log(
      `flood: ${report.connected} peers, ${report.messages} peer_storage (${(report.bytes / 2 ** 20).toFixed(1)} MiB) in ${((res.end - res.start) / 1000).toFixed(1)} s; ` +
        `ping p50 ${report.pingP50Ms.toFixed(1)} ms, p99 ${report.pingP99Ms.toFixed(1)} ms, max ${report.pingMaxMs.toFixed(1)} ms over ${report.pings}; ` +
        `peak RSS ${(report.peakHwmKiB / 1024).toFixed(1)} MiB (after start ${(report.baselineRssKiB / 1024).toFixed(1)}); ` +
        `${report.blobWrites} blob writes, at most ${report.maxWritesPerPeer} per peer (bound ${report.writeBoundPerPeer}); ` +
        `fast sender ${(report.firehoseBytes / 2 ** 20).toFixed(1)} MiB queued at once, up to ${(report.firehoseMaxWaitingBytes / 2 ** 20).toFixed(1)} MiB held back on its side, all out in ${report.firehoseMs} ms`,
    );
  } finally {
    pinger?.conn.destroy();
    if (worker) await worker.terminate();
    if (node) await killHard(node.child);
    removeDir(datadir);
  }
  return report;
}

// ---- Main ----

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  if (i >= 0) return process.argv[i + 1];
  return process.argv.find((a) => a.startsWith(name + '='))?.slice(name.length + 1);
}

function intArg(name: string, dflt: number): number {
  const v = arg(name);
  if (v === undefined) return dflt;
  if (!/^\d+$/.test(v)) {
    process.stderr.write(`${name} must be a whole number, got ${JSON.stringify(v)}\n`);
    process.exit(2);
  }
  return Number(v);
}

const USAGE = `usage: npm run stress -- [--rounds N] [--cli-rounds N] [--flood-seconds S] [--peers N] [--firehose N] [--seed S]
  --rounds N         node crash rounds (default 100; 0 skips)
  --cli-rounds N     crash rounds for each of importpeerstorage and prunepeerbackup (default 20; 0 skips)
  --flood-seconds S  length of the flood (default 30; 0 skips)
  --peers N          flooding peers (default 200)
  --firehose N       full-size messages the fast sender queues at once (default 1000)
  --seed S           replay a run (printed at the start)
`;

async function main(): Promise<void> {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    process.stdout.write(USAGE);
    return;
  }
  const known = ['--rounds', '--cli-rounds', '--flood-seconds', '--peers', '--firehose', '--seed'];
  const unknown = process.argv.slice(2).filter((a, i, all) => a.startsWith('--') && !known.includes(a.split('=')[0]!) && !(i > 0 && known.includes(all[i - 1]!)));
  if (unknown.length > 0) {
    process.stderr.write(`unknown option ${unknown.join(', ')}\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  const seed = arg('--seed') !== undefined ? intArg('--seed', 0) >>> 0 : (Date.now() ^ (process.pid << 10)) >>> 0;
  const cliRounds = intArg('--cli-rounds', 20);
  const rounds = intArg('--rounds', 100);
  const floodSeconds = intArg('--flood-seconds', 30);
  const peers = intArg('--peers', 200);
  const firehose = intArg('--firehose', 1000);
  const out = (s: string) => process.stdout.write(s + '\n');
  out(`lnps stress: seed ${seed}`);
  let failed = 0;
  for (const command of cliRounds > 0 ? (['importpeerstorage', 'prunepeerbackup'] as const) : []) {
    const r = await cliCrash(command, { rounds: cliRounds, seed, log: out });
    out(`${r.failures.length === 0 ? 'ok  ' : 'FAIL'} CLI crash ${command}: ${r.rounds} rounds, ${r.killed} killed mid-way (${r.before} as before, ${r.after} as after)`);
    for (const f of r.failures) out(`     ${f}`);
    failed += r.failures.length;
  }
  if (rounds > 0) {
    const r = await nodeCrash({ rounds, seed, log: out });
    out(`${r.failures.length === 0 ? 'ok  ' : 'FAIL'} node crash: ${r.rounds} rounds survived, ${r.sent} peer_storage sent, ${r.settledChecks} settled peers checked for their newest blob, ${r.newestStored} peers held their newest`);
    for (const f of r.failures) out(`     ${f}`);
    failed += r.failures.length;
  }
  if (floodSeconds > 0) {
    const r = await flood({ peers, seconds: floodSeconds, seed, firehoseMessages: firehose, log: out });
    out(`${r.failures.length === 0 ? 'ok  ' : 'FAIL'} flood`);
    for (const f of r.failures) out(`     ${f}`);
    failed += r.failures.length;
  }
  out(failed === 0 ? 'no failure' : `${failed} failure(s)`);
  if (failed > 0) process.exitCode = 1;
}

if (isMainThread && process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
