// Crash consistency of the node: `lnps serve` flooded with peer_storage by several peers over
// the real transport, SIGKILLed at random moments, restarted, and checked every round (see
// nodeCrash in bench/stress.ts). The seed is printed; replay with LNPS_SEED=...;
// `npm run stress -- --rounds N` runs more rounds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nodeCrash } from '../bench/stress.js';
import { seedFromEnv } from './stress-helpers.js';

const ROUNDS = 20;

test(`crash: lnps serve killed ${ROUNDS} times under a peer_storage flood keeps only blobs peers sent, and the settled newest`, { timeout: 120_000 }, async () => {
  const seed = seedFromEnv();
  const lines: string[] = [];
  const t0 = Date.now();
  const r = await nodeCrash({ rounds: ROUNDS, seed, peers: 6, cooldownMs: 300, log: (l) => lines.push(l) });
  process.stdout.write(
    `# node crash: seed ${seed}, ${r.rounds} rounds survived, ${r.sent} peer_storage sent, ${r.settledChecks} settled checks, ${r.newestStored} newest stored, ${((Date.now() - t0) / 1000).toFixed(1)} s\n`,
  );
  assert.deepEqual(r.failures, [], `seed ${seed}\n${lines.join('\n')}`);
  assert.equal(r.rounds, ROUNDS);
  assert.ok(r.settledChecks > 0, 'no round had a settled peer: the newest-blob rule was never checked');
});
