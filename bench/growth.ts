// Growth of the operator commands with the number of stored peers: whole-process wall time
// of `listpeerstorage`, `prunepeerbackup --dry-run` and `getinfo` over
// databases of 1,000, 10,000 and 100,000 peers with 1 KiB blobs, run as a user runs them.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BenchRow } from './types.js';
import { median } from './timing.js';
import { nodePaths } from '../src/core/datadir.js';
import { createNode } from '../src/core/service/create.js';
import { openLevelKv } from '../src/core/store/level.js';
import { LnpsStore } from '../src/core/store/store.js';

const BIN = fileURLToPath(new URL('../../bin/lnps.js', import.meta.url));
export const SIZES = [1_000, 10_000, 100_000];

/** A database of `peers` stored peers, each with a 1 KiB blob, written in batches. */
export async function populate(datadir: string, peers: number): Promise<void> {
  const paths = nodePaths({ datadir, network: 'regtest' });
  await createNode(paths);
  const kv = await openLevelKv(paths.dbPath);
  const store = await LnpsStore.open(kv);
  const now = Date.now();
  try {
    for (let i = 0; i < peers; i += 1000) {
      const items = [];
      for (let j = i; j < Math.min(peers, i + 1000); j++) {
        // Stored peer ids are not re-checked on read, so random x-coordinates serve here.
        const peer = new Uint8Array(33);
        peer[0] = 2;
        peer.set(randomBytes(32), 1);
        items.push({ peer, blob: new Uint8Array(randomBytes(1024)), now: now - 30 * 86_400_000 });
      }
      await store.putPeerBlobs(items);
    }
  } finally {
    await kv.close();
  }
}

/** Wall time (ms) of one whole CLI run, its output drained as a pipe reader would. */
export function timeCli(args: string[]): Promise<{ ms: number; bytesOut: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let bytesOut = 0;
    let err = '';
    child.stdout.on('data', (c: Buffer) => (bytesOut += c.length));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const ms = performance.now() - t0;
      if (code !== 0) return reject(new Error(`lnps ${args[0]} exited ${code}: ${err.trim()}`));
      resolve({ ms, bytesOut });
    });
  });
}

export async function run(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const commands: [string, string[]][] = [
    ['listpeerstorage', ['listpeerstorage']],
    ['prunepeerbackup', ['prunepeerbackup', '--dry-run', '--height', '900000']],
    ['getinfo', ['getinfo']],
  ];
  const times = new Map<string, number[]>();
  for (const peers of SIZES) {
    const dir = mkdtempSync(join(tmpdir(), 'lnps-growth-'));
    try {
      await populate(dir, peers);
      for (const [name, args] of commands) {
        const reps = peers >= 100_000 ? 1 : 3;
        const ms: number[] = [];
        for (let i = 0; i < reps; i++) ms.push((await timeCli([...args, '--datadir', dir, '--network', 'regtest'])).ms);
        const m = median(ms);
        rows.push({ group: 'growth', name: `${name} @ ${peers} peers`, value: m, unit: 'ms' });
        times.set(name, [...(times.get(name) ?? []), m]);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  for (const [name, ms] of times) {
    // Cost per tenfold growth: 10 means linear; start-up makes small sizes look cheaper.
    const g = ms[2]! / ms[1]!;
    rows.push({ group: 'growth', name: `${name}: time at 100,000 / time at 10,000`, value: g, unit: 'x', target: name === 'getinfo' ? '~1 (constant)' : '<= 10 (linear or better)', pass: name === 'getinfo' ? g < 2 : g <= 11 });
  }
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1]!).href) {
  for (const r of await run()) console.log(`${r.name}: ${r.value.toFixed(1)} ${r.unit}`);
}
