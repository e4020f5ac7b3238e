// Striping throughput (issue 7): a 1,000,000-byte backup at 16-of-24, striped into sealed
// shards and rebuilt, against sealing the same bytes as unstriped version 1 blobs (16 blobs of
// at most 65448 bytes) and opening them again, in the same run. The ratio is the striped
// throughput over the unstriped one: it prices the Reed-Solomon work (8 parity shards, and
// for a rebuild with lost data shards, the decoding) on top of the sealing both do.
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import type { BenchRow } from './types.js';
import { timeEach } from './timing.js';
import { MAX_PLAINTEXT, deriveSealKey, open, seal } from '../src/core/backup/seal.js';
import { rebuild, stripe } from '../src/core/backup/stripe.js';

const SIZE = 1_000_000;
const K = 16;
const N = 24;


export async function run(): Promise<BenchRow[]> {
  const backup = new Uint8Array(randomBytes(SIZE));
  const key = deriveSealKey(new Uint8Array(randomBytes(32)));

  const sealAll = () => {
    const blobs: Uint8Array[] = [];
    for (let off = 0; off < SIZE; off += MAX_PLAINTEXT) blobs.push(seal(backup.subarray(off, off + MAX_PLAINTEXT), { seq: 1n, key }));
    return blobs;
  };
  const openAll = (blobs: Uint8Array[]) => {
    for (const b of blobs) if (!open(b, key).ok) throw new Error('bench: blob does not open');
  };
  const blobs = sealAll();
  const striped = stripe(backup, { k: K, n: N, seq: 1n, key });
  // A restore that lost half the data shards: 8 data + 8 parity, so the decoder does real work.
  const halfLost = [...striped.shards.slice(8, 16), ...striped.shards.slice(16, 24)];
  const allData = striped.shards.slice(0, K);
  for (const set of [halfLost, allData]) {
    const r = rebuild(set, key);
    if (!r.ok || r.backup!.length !== SIZE) throw new Error(`bench: rebuild failed: ${r.message}`);
  }

  const t = timeEach({
    seal: sealAll,
    open: () => openAll(blobs),
    stripe: () => stripe(backup, { k: K, n: N, seq: 1n, key }),
    rebuildLost: () => rebuild(halfLost, key),
    rebuildData: () => rebuild(allData, key),
  }, { rounds: 7, batchMs: 150, maxBatch: 50 });
  const mbps = (ms: number) => SIZE / 1e6 / (ms / 1000);
  const seal1 = mbps(t.seal!);
  const open1 = mbps(t.open!);
  return [
    { group: 'stripe', name: `seal 1,000,000 B as ${blobs.length} unstriped blobs`, value: seal1, unit: 'MB/s' },
    { group: 'stripe', name: `open 1,000,000 B from ${blobs.length} unstriped blobs`, value: open1, unit: 'MB/s' },
    { group: 'stripe', name: `stripe 1,000,000 B at ${K}-of-${N}`, value: mbps(t.stripe!), unit: 'MB/s', baseline: 'sealing as unstriped blobs', ratio: mbps(t.stripe!) / seal1 },
    {
      group: 'stripe',
      name: `rebuild 1,000,000 B at ${K}-of-${N}, 8 data shards lost`,
      value: mbps(t.rebuildLost!),
      unit: 'MB/s',
      baseline: 'opening unstriped blobs',
      ratio: mbps(t.rebuildLost!) / open1,
    },
    {
      group: 'stripe',
      name: `rebuild 1,000,000 B at ${K}-of-${N}, all data shards`,
      value: mbps(t.rebuildData!),
      unit: 'MB/s',
      baseline: 'opening unstriped blobs',
      ratio: mbps(t.rebuildData!) / open1,
    },
  ];
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { rowLine } = await import('./run.js');
  for (const r of await run()) process.stdout.write(rowLine(r) + '\n');
}
