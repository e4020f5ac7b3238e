// `npm run bench`: runs every benchmark area side by side in one process run, prints the rows,
// and writes bench/results.json and BENCHMARKS.md (with the growth chart as an SVG).
// Areas: `npm run bench -- wire seal` runs only those.
import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BenchRow } from './types.js';
import { renderReport } from './report.js';

export const AREAS = ['wire', 'store', 'seal', 'transport', 'stripe', 'formats', 'growth', 'hostile'] as const;

/** Repository root (dist/bench/run.js → ../..). */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface MachineInfo {
  cpu: string;
  cores: number;
  memory_gib: number;
  node: string;
  platform: string;
  date: string;
}

export function machineInfo(): MachineInfo {
  const c = cpus();
  return {
    cpu: c[0]?.model.trim() ?? 'unknown',
    cores: c.length,
    memory_gib: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    date: new Date().toISOString(),
  };
}

function fmt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Math.abs(n) >= 1000) return n.toFixed(0);
  if (Math.abs(n) >= 10) return n.toFixed(1);
  return n.toFixed(3);
}

export function rowLine(r: BenchRow): string {
  const ratio = r.ratio !== undefined ? `  ratio ${fmt(r.ratio)} vs ${r.baseline}` : '';
  const target = r.target !== undefined ? `  target ${r.target} ${r.pass === undefined ? '' : r.pass ? 'ok' : 'MISSED'}` : '';
  return `[${r.group}] ${r.name}: ${fmt(r.value)} ${r.unit}${ratio}${target}`;
}

async function main(): Promise<void> {
  const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const areas = wanted.length > 0 ? AREAS.filter((a) => wanted.includes(a)) : [...AREAS];
  const rows: BenchRow[] = [];
  const missing: string[] = [];
  const machine = machineInfo();
  process.stdout.write(`lnps benchmarks on ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}\n`);
  for (const area of areas) {
    let mod: { run(): Promise<BenchRow[]> };
    try {
      mod = await import(pathToFileURL(`${ROOT}dist/bench/${area}.js`).href);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND') {
        missing.push(area);
        continue;
      }
      throw e;
    }
    const t0 = performance.now();
    const got = await mod.run();
    for (const r of got) process.stdout.write(rowLine(r) + '\n');
    process.stdout.write(`  (${area}: ${((performance.now() - t0) / 1000).toFixed(1)} s)\n`);
    rows.push(...got);
  }
  if (missing.length > 0) process.stdout.write(`not present: ${missing.join(', ')}\n`);
  if (wanted.length === 0) {
    writeFileSync(`${ROOT}bench/results.json`, JSON.stringify({ machine, rows }, null, 2) + '\n');
    const { markdown, svg } = renderReport(machine, rows);
    writeFileSync(`${ROOT}bench/growth.svg`, svg);
    writeFileSync(`${ROOT}BENCHMARKS.md`, markdown);
    process.stdout.write('wrote bench/results.json, BENCHMARKS.md and bench/growth.svg\n');
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]!).href) {
  main().catch((e) => {
    process.stderr.write(`bench failed: ${e instanceof Error ? e.stack : String(e)}\n`);
    process.exitCode = 1;
  });
}
