// One row of a benchmark report. Every ratio is measured against a baseline in the same run.
export interface BenchRow {
  group: string; // the issue area: wire, store, seal, transport, stripe, formats, ...
  name: string; // what was measured
  value: number;
  unit: string; // 'ms', 'ops/s', 'MB/s', 'MB', 'x' ...
  baseline?: string; // what `ratio` is measured against
  ratio?: number;
  target?: string; // the goal in words, e.g. '<= 1.3'
  pass?: boolean; // whether the target is met, when there is one
}
