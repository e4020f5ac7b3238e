// Renders the benchmark rows as BENCHMARKS.md, and the growth rows as an SVG chart.
import type { BenchRow } from './types.js';
import type { MachineInfo } from './run.js';

function num(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Math.abs(n) >= 1000) return n.toLocaleString('en-US', { maximumFractionDigits: 0 });
  if (Math.abs(n) >= 10) return n.toFixed(1);
  return n.toFixed(3);
}

/** Growth rows are named `<command> @ <peers>` in group `growth` with unit ms. */
export interface GrowthPoint {
  command: string;
  peers: number;
  ms: number;
}

export function growthPoints(rows: BenchRow[]): GrowthPoint[] {
  const out: GrowthPoint[] = [];
  for (const r of rows) {
    const m = /^(\S+) @ (\d+) peers$/.exec(r.name);
    if (r.group === 'growth' && r.unit === 'ms' && m) out.push({ command: m[1]!, peers: Number(m[2]), ms: r.value });
  }
  return out;
}

const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e'];

/** A log-log chart: wall time against stored peers, one line per command. */
export function growthSvg(points: GrowthPoint[]): string {
  const W = 640;
  const H = 400;
  const m = { l: 70, r: 170, t: 30, b: 50 };
  const commands = [...new Set(points.map((p) => p.command))];
  if (points.length === 0) return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="60"><text x="10" y="30">no growth rows</text></svg>\n`;
  const lx = (v: number) => Math.log10(v);
  const xs = points.map((p) => lx(p.peers));
  const ys = points.map((p) => lx(Math.max(p.ms, 0.1)));
  const x0 = Math.floor(Math.min(...xs));
  const x1 = Math.ceil(Math.max(...xs));
  const y0 = Math.floor(Math.min(...ys));
  const y1 = Math.ceil(Math.max(...ys));
  const px = (v: number) => m.l + ((lx(v) - x0) / Math.max(1, x1 - x0)) * (W - m.l - m.r);
  const py = (v: number) => H - m.b - ((lx(Math.max(v, 0.1)) - y0) / Math.max(1, y1 - y0)) * (H - m.t - m.b);
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`);
  parts.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  parts.push(`<text x="${m.l}" y="18" font-size="14">lnps: wall time (ms) against stored peers, log-log</text>`);
  for (let e = x0; e <= x1; e++) {
    const x = px(10 ** e);
    parts.push(`<line x1="${x}" y1="${m.t}" x2="${x}" y2="${H - m.b}" stroke="#ddd"/>`);
    parts.push(`<text x="${x}" y="${H - m.b + 18}" text-anchor="middle">${(10 ** e).toLocaleString('en-US')}</text>`);
  }
  for (let e = y0; e <= y1; e++) {
    const y = py(10 ** e);
    parts.push(`<line x1="${m.l}" y1="${y}" x2="${W - m.r}" y2="${y}" stroke="#ddd"/>`);
    parts.push(`<text x="${m.l - 8}" y="${y + 4}" text-anchor="end">${(10 ** e).toLocaleString('en-US')}</text>`);
  }
  parts.push(`<text x="${(m.l + W - m.r) / 2}" y="${H - 12}" text-anchor="middle">stored peers</text>`);
  commands.forEach((c, i) => {
    const pts = points.filter((p) => p.command === c).sort((a, b) => a.peers - b.peers);
    const colour = COLOURS[i % COLOURS.length]!;
    parts.push(`<polyline fill="none" stroke="${colour}" stroke-width="2" points="${pts.map((p) => `${px(p.peers).toFixed(1)},${py(p.ms).toFixed(1)}`).join(' ')}"/>`);
    for (const p of pts) parts.push(`<circle cx="${px(p.peers).toFixed(1)}" cy="${py(p.ms).toFixed(1)}" r="3" fill="${colour}"/>`);
    parts.push(`<rect x="${W - m.r + 15}" y="${m.t + i * 20}" width="12" height="12" fill="${colour}"/>`);
    parts.push(`<text x="${W - m.r + 32}" y="${m.t + i * 20 + 10}">${c}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}

/** The group of bench/hostile.ts: rendered as one table, each attack beside the no-attack figures. */
export const HOSTILE_GROUP = 'hostile peers';

function fmt(n: number, digits = 1): string {
  return n >= 1000 ? Math.round(n).toLocaleString('en-US') : n.toFixed(digits);
}

/** The BENCHMARKS.md table: one line per attack, the no-attack figures in the first line. */
export function hostileTable(rows: BenchRow[]): string[] {
  const by = new Map(rows.filter((r) => r.group === HOSTILE_GROUP).map((r) => [r.name.replace(/ \(median of \d+\)$/, ''), r]));
  const names = [...new Set(rows.filter((r) => r.group === HOSTILE_GROUP).map((r) => r.name.split(':')[0]!))];
  const out = [
    '| attack (from 127.0.0.2) | attacker rate | node RSS growth | node CPU | × no attack | log growth | good peer handshake + init, median | × no attack |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const n of names) {
    const rateRow = by.get(`${n}: attacker rate`);
    const rss = by.get(`${n}: node RSS growth`);
    const cpu = by.get(`${n}: node CPU`);
    const good = by.get(`${n}: good peer handshake + init`);
    const log = by.get(`${n}: log growth`);
    out.push(
      `| ${n} | ${rateRow ? `${fmt(rateRow.value)} ${rateRow.unit}` : '—'} | ${rss ? fmt(rss.value) + ' MiB' : ''} | ${cpu ? fmt(cpu.value, 0) + ' %' : ''} | ${cpu?.ratio !== undefined ? fmt(cpu.ratio) : ''} | ${log ? fmt(log.value) + ' KiB' : ''} | ${good ? fmt(good.value) + ' ms' : ''} | ${good?.ratio !== undefined ? fmt(good.ratio) : ''} |`,
    );
  }
  return out;
}

export function renderReport(machine: MachineInfo, rows: BenchRow[]): { markdown: string; svg: string } {
  const lines: string[] = [];
  lines.push('# lnps benchmarks', '');
  lines.push('Written by `npm run bench` (bench/run.ts); raw rows in `bench/results.json`. Every ratio is');
  lines.push('measured against its baseline in the same run, so a busy machine moves both sides.', '');
  lines.push(`Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memory_gib} GiB, Node ${machine.node} (${machine.platform}), ${machine.date}.`, '');
  const groups = [...new Set(rows.map((r) => r.group))];
  for (const g of groups) {
    lines.push(`## ${g}`, '');
    if (g === HOSTILE_GROUP) {
      lines.push(...hostileTable(rows), '');
      continue;
    }
    lines.push('| measurement | value | ratio | baseline | target | met |');
    lines.push('| --- | ---: | ---: | --- | --- | --- |');
    for (const r of rows.filter((x) => x.group === g)) {
      lines.push(`| ${r.name} | ${num(r.value)} ${r.unit} | ${r.ratio === undefined ? '' : num(r.ratio)} | ${r.baseline ?? ''} | ${r.target ?? ''} | ${r.pass === undefined ? '' : r.pass ? 'yes' : '**no**'} |`);
    }
    lines.push('');
  }
  const points = growthPoints(rows);
  if (points.length > 0) {
    lines.push('## Growth', '');
    lines.push('Whole-process wall time of each command against the number of stored peers (1 KiB blobs):', '');
    lines.push('![growth](bench/growth.svg)', '');
  }
  return { markdown: lines.join('\n'), svg: growthSvg(points) };
}
