// Summarise a V8 CPU profile (`node --cpu-prof`): the functions with the most self time, as
// shares of the busy (non-idle) samples. Used for the profile tables in BENCHMARKS.md:
//   LNPS_BENCH_SERVE_NODE_ARGS="--cpu-prof --cpu-prof-dir=DIR" node dist/bench/serve-cpu.js 5
//   node dist/bench/cpuprofile.js DIR/*.cpuprofile 15
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  name: string;
  ms: number;
  share: number; // of busy time
}

/** Self time per function (name, file and line), largest first, idle excluded. */
export function selfTimes(profile: Profile): { busyMs: number; rows: SelfTime[] } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const perNode = new Map<number, number>();
  profile.samples.forEach((id, i) => perNode.set(id, (perNode.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const perName = new Map<string, number>();
  for (const [id, us] of perNode) {
    const cf = byId.get(id)!.callFrame;
    if (cf.functionName === '(idle)') continue;
    const file = cf.url.split('/').slice(-2).join('/');
    const name = `${cf.functionName || '(anonymous)'}${file ? ` ${file}:${cf.lineNumber + 1}` : ''}`;
    perName.set(name, (perName.get(name) ?? 0) + us);
  }
  const busy = [...perName.values()].reduce((a, b) => a + b, 0);
  const rows = [...perName].map(([name, us]) => ({ name, ms: us / 1000, share: us / busy })).sort((a, b) => b.ms - a.ms);
  return { busyMs: busy / 1000, rows };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [file, top] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: node dist/bench/cpuprofile.js FILE.cpuprofile [TOP]\n');
    process.exitCode = 2;
  } else {
    const { busyMs, rows } = selfTimes(JSON.parse(readFileSync(file, 'utf8')) as Profile);
    process.stdout.write(`busy ${busyMs.toFixed(0)} ms\n| self time | function |\n| ---: | --- |\n`);
    for (const r of rows.slice(0, Number(top ?? 15))) process.stdout.write(`| ${(100 * r.share).toFixed(1)}% | \`${r.name}\` |\n`);
  }
}
