// Crash consistency of the CLI: importpeerstorage and prunepeerbackup killed with SIGKILL at
// random moments leave the database exactly as before or exactly as after, never between.
// The seed is printed (replay with LNPS_SEED=...); `npm run stress` runs many more rounds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cliCrash, type CrashCommand } from '../bench/stress.js';
import { seedFromEnv } from './stress-helpers.js';

const ROUNDS = 6;

for (const command of ['importpeerstorage', 'prunepeerbackup'] as CrashCommand[]) {
  test(`crash: ${command} killed mid-way leaves the database as before or as after`, async () => {
    const seed = seedFromEnv();
    const lines: string[] = [];
    const r = await cliCrash(command, { rounds: ROUNDS, seed, peers: 1500, blobBytes: 3000, log: (l) => lines.push(l) });
    process.stdout.write(`# ${command} crash: seed ${seed}, ${r.rounds} rounds, ${r.killed} killed mid-way (${r.before} as before, ${r.after} as after), full run ${r.fullMs.toFixed(0)} ms\n`);
    assert.deepEqual(r.failures, [], `seed ${seed}\n${lines.join('\n')}`);
    assert.equal(r.rounds, ROUNDS);
    assert.equal(r.before + r.after, r.killed);
  });
}
