// Timing shared by the benchmarks: candidates are measured in interleaved rounds, so drift on a
// shared machine hits every candidate alike, and every loop is bounded in count and time.

export interface TimingOptions {
  rounds: number; // samples per candidate
  batchMs: number; // a batch is sized to about this long (after a warm-up of the same length)
  maxBatch: number; // and holds at most this many calls
}

/** Keeps results alive so the optimiser cannot drop the measured call. */
export let sink: unknown;

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/** Median ms per call of each candidate. */
export function timeEach(fns: Record<string, () => unknown>, opts: TimingOptions): Record<string, number> {
  const names = Object.keys(fns);
  const batch: Record<string, number> = {};
  for (const n of names) {
    const f = fns[n]!;
    const t0 = performance.now();
    let i = 0;
    while (i < opts.maxBatch && performance.now() - t0 < opts.batchMs) {
      sink = f();
      i++;
    }
    batch[n] = Math.max(1, i);
  }
  const samples: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (let r = 0; r < opts.rounds; r++) {
    for (const n of names) {
      const f = fns[n]!;
      const count = batch[n]!;
      const t0 = performance.now();
      for (let i = 0; i < count; i++) sink = f();
      samples[n]!.push((performance.now() - t0) / count);
    }
  }
  return Object.fromEntries(names.map((n) => [n, median(samples[n]!)]));
}
