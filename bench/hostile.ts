// Hostile peers: what each attack of test/hostile-helpers.ts costs a real `lnps serve`, set
// side by side with the same figures with no attack, measured in one run. Per attack: the
// attacker's rate (from 127.0.0.2), the node's RSS growth (highest VmRSS during the attack
// minus VmRSS before it) and CPU (utime + stime from /proc, as % of one core), and the median
// time a well-behaved peer from 127.0.0.1 takes for its handshake and init.
// `node dist/bench/run.js hostile` runs only this area; `node dist/bench/hostile.js` prints the
// BENCHMARKS.md table too.
import { spawn } from 'node:child_process';
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BenchRow } from './types.js';
import { HOSTILE_GROUP, hostileTable } from './report.js';
import { ATTACKS, goodPeer, observe, type Attack, type Observed, type Sent } from '../test/hostile-helpers.js';
import { BIN, createNode, removeDir, startServe, stopServe, tempDir, type ServeProcess } from '../test/stress-helpers.js';

const GROUP = HOSTILE_GROUP;
const SECONDS = Number(process.env.LNPS_HOSTILE_SECONDS ?? 5);
const GOOD_TRIES = 7;
const MIB = 1024 * 1024;

interface Node {
  dir: string;
  serve: ServeProcess;
  log: string;
}

async function startNode(extra: string[]): Promise<Node> {
  const dir = tempDir('lnps-bench-hostile-');
  createNode(dir);
  const log = join(dir, 'serve.log');
  return { dir, serve: await startServe(dir, ['--log-file', log, ...extra]), log };
}

/** The crafted import: a 64 MiB file of one line, imported into the running node again and again. */
function importAttack(dir: string): Attack {
  const file = join(dir, 'huge.jsonl');
  const fd = openSync(file, 'w', 0o600);
  writeSync(fd, '{"peer":"');
  const chunk = Buffer.alloc(MIB, 'a');
  for (let i = 0; i < 64; i++) writeSync(fd, chunk);
  closeSync(fd);
  return {
    name: 'crafted-import',
    what: '`importpeerstorage` of a 64 MiB one-line file into the running node, one after another',
    unit: 'MiB/s',
    logPerConnection: 0,
    run: async (_t, deadline) => {
      const sent: Sent = { messages: 0, bytes: 0, connections: 0 };
      while (Date.now() < deadline) {
        const code = await new Promise<number | null>((resolve) => {
          const c = spawn(process.execPath, [BIN, 'importpeerstorage', file, '--datadir', dir, '--network', 'regtest'], { stdio: 'ignore' });
          c.on('exit', (x) => resolve(x));
        });
        if (code !== 1) throw new Error(`the crafted import exited ${code}, not 1`);
        sent.messages++;
        sent.connections++;
        sent.bytes += 64 * MIB + 9;
      }
      return sent;
    },
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function rate(a: Attack, o: Observed): number {
  if (a.unit === 'MiB/s') return o.sent.bytes / MIB / o.seconds;
  if (a.unit === 'conn/s') return o.sent.connections / o.seconds;
  return o.sent.messages / o.seconds;
}

function rowsOf(name: string, o: Observed, base: Observed | undefined, a: Attack | undefined): BenchRow[] {
  const cpu = (o.cpu / o.seconds) * 100;
  const good = median(o.good);
  const rows: BenchRow[] = [];
  if (a) rows.push({ group: GROUP, name: `${name}: attacker rate`, value: rate(a, o), unit: a.unit });
  const vs = base ? { baseline: 'no attack' } : {};
  rows.push({ group: GROUP, name: `${name}: node RSS growth`, value: o.rssGrowth / MIB, unit: 'MiB', ...vs, target: '<= 64', pass: o.rssGrowth <= 64 * MIB });
  rows.push({ group: GROUP, name: `${name}: node CPU`, value: cpu, unit: '% of a core', ...vs, ...(base ? { ratio: cpu / Math.max(0.1, (base.cpu / base.seconds) * 100) } : {}) });
  rows.push({ group: GROUP, name: `${name}: log growth`, value: o.logGrowth / 1024, unit: 'KiB', ...vs });
  rows.push({ group: GROUP, name: `${name}: good peer handshake + init (median of ${o.good.length})`, value: good, unit: 'ms', ...vs, ...(base ? { ratio: good / median(base.good) } : {}) });
  return rows;
}

export async function run(): Promise<BenchRow[]> {
  const plain = await startNode([]);
  const any = await startNode(['--storage-policy', 'any', '--max-peers', '20']);
  const rows: BenchRow[] = [];
  try {
    const target = (n: Node) => ({ port: n.serve.port, pubkey: n.serve.pubkey });
    // Warm up both nodes (code paths compiled, first-connection costs paid), then the baseline,
    // on the same node, for as long as an attack.
    for (const n of [plain, any]) for (let i = 0; i < 5; i++) await goodPeer(target(n));
    // The baseline first, on the same node, for as long as an attack.
    const base = await observe(plain.serve.pid, target(plain), plain.log, undefined, SECONDS * 1000, GOOD_TRIES);
    rows.push(...rowsOf('no attack', base, undefined, undefined));
    for (const a of [...ATTACKS, importAttack(plain.dir)]) {
      const n = a.node === 'any' ? any : plain;
      const o = await observe(n.serve.pid, target(n), n.log, a, SECONDS * 1000, GOOD_TRIES);
      rows.push(...rowsOf(a.name, o, base, a));
      // Let the node settle (dropped connections closed, memory collected) before the next one.
      await new Promise((r) => setTimeout(r, 1000));
    }
  } finally {
    for (const n of [plain, any]) {
      await stopServe(n.serve);
      removeDir(n.dir);
    }
  }
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1]!).href) {
  run().then(
    (rows) => {
      for (const r of rows) process.stdout.write(`${r.name}: ${r.value.toFixed(2)} ${r.unit}${r.ratio !== undefined ? ` (${r.ratio.toFixed(2)} × no attack)` : ''}\n`);
      process.stdout.write('\n' + hostileTable(rows).join('\n') + '\n');
    },
    (e) => {
      process.stderr.write(`bench failed: ${e instanceof Error ? e.stack : String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
