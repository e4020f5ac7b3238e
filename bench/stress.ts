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
  out(failed === 0 ? 'no failure' : `${failed} failure(s)`);
  if (failed > 0) process.exitCode = 1;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
