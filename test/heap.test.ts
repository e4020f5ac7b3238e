// The serve process's heap set-up (src/core/node/heap.ts), observed in a child process: after
// the same allocations that grow V8's young generation (as loading the CLI does), the new space
// stays at its initial size when tuned and grows when not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { runsServe } from '../src/core/node/heap.js';

const HEAP = new URL('../src/core/node/heap.js', import.meta.url).href;

function newSpaceAfterGrowth(tune: boolean): number {
  const script = `
    import v8 from 'node:v8';
    if (${tune}) (await import(${JSON.stringify(HEAP)})).tuneHeapForServing();
    const keep = [];
    for (let i = 0; i < 300000; i++) keep[i % 100000] = { i, s: 'x' + i }; // each object lives for 100000 more
    process.stdout.write(String(v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size));
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, r.stderr);
  return Number(r.stdout);
}

test('tuneHeapForServing keeps the young generation at its initial size; untuned it grows', () => {
  const tuned = newSpaceAfterGrowth(true);
  const untuned = newSpaceAfterGrowth(false);
  assert.ok(tuned > 0 && tuned <= 2 * 1024 * 1024, `tuned new space ${tuned}`);
  assert.ok(untuned > 4 * 1024 * 1024, `untuned new space ${untuned}`);
});

test('runsServe finds the serve command after the node and script paths, with global flags first', () => {
  assert.equal(runsServe(['node', 'lnps', 'serve']), true);
  assert.equal(runsServe(['node', 'lnps', '--datadir', '/x', 'serve', '--listen', '127.0.0.1:0']), true);
  assert.equal(runsServe(['node', 'lnps', 'listpeerstorage']), false);
  assert.equal(runsServe(['serve', 'serve']), false);
});
