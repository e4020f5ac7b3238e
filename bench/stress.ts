// `npm run stress -- [--rounds N] [--cli-rounds N] [--seed S] [--flood-seconds S] [--peers N]`:
// the long forms of the crash and flood suites (the short forms run inside `npm test`:
// test/crash*.test.ts, test/flood*.test.ts). Everything runs on 127.0.0.1 in temporary data
// directories; every process started here is ended by its pid.
import { cpSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { toHex } from '../src/core/bytes.js';
import { encodeMessage } from '../src/core/wire/registry.js';
import { peerStorage } from '../src/core/wire/peer-storage.js';
import { ping } from '../src/core/wire/ping.js';
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
      // Half the kills aim at the end of the run, where the one batch is written.
      const u = rng.next();
      const delay = Math.round(report.fullMs * (u < 0.5 ? 0.1 + 1.2 * u : 0.7 + 0.7 * (u - 0.5)));
      const child = spawn(process.execPath, [BIN, ...args, ...at(dir)], { stdio: 'ignore' });
      const done = exited(child, 120_000);
      await sleep(delay);
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
      log(`  round ${round}: kill at ${delay} ms ${wasRunning ? '' : '(it had finished) '}→ ${outcome}`);
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

async function main(): Promise<void> {
  const seed = arg('--seed') !== undefined ? intArg('--seed', 0) >>> 0 : (Date.now() ^ (process.pid << 10)) >>> 0;
  const cliRounds = intArg('--cli-rounds', 20);
  const out = (s: string) => process.stdout.write(s + '\n');
  out(`lnps stress: seed ${seed}`);
  let failed = 0;
  for (const command of ['importpeerstorage', 'prunepeerbackup'] as const) {
    const r = await cliCrash(command, { rounds: cliRounds, seed, log: out });
    out(`${r.failures.length === 0 ? 'ok  ' : 'FAIL'} CLI crash ${command}: ${r.rounds} rounds, ${r.killed} killed mid-way (${r.before} as before, ${r.after} as after)`);
    for (const f of r.failures) out(`     ${f}`);
    failed += r.failures.length;
  }
  const rounds = intArg('--rounds', 100);
  if (rounds > 0) {
    const r = await nodeCrash({ rounds, seed, log: out });
    out(`${r.failures.length === 0 ? 'ok  ' : 'FAIL'} node crash: ${r.rounds} rounds survived, ${r.sent} peer_storage sent, ${r.settledChecks} settled peers checked for their newest blob, ${r.newestStored} peers held their newest`);
    for (const f of r.failures) out(`     ${f}`);
    failed += r.failures.length;
  }
  out(failed === 0 ? 'no failure' : `${failed} failure(s)`);
  if (failed > 0) process.exitCode = 1;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
