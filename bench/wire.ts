// Wire codec benchmarks, each ratio against a baseline measured in the same run:
// - decode and encode of a 65535-byte peer_storage against a plain copy of the same bytes
//   (target for decode: no more than the copy; the blob is a view, so it is far less);
// - decodes of a typical init message per second;
// - whole-process time of `lnps decode <hex>` against `node -e 0` (median of several runs,
//   interleaved; target <= 1.3).
import { spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BenchRow } from './types.js';
import { median, timeEach } from './timing.js';
import { toHex } from '../src/core/bytes.js';
import { CHAIN_HASH, MAX_BLOB_LEN, decodeMessage, encodeMessage, initMessage, peerStorage } from '../src/core/wire/index.js';

const BIN = fileURLToPath(new URL('../../bin/lnps.js', import.meta.url));

/** Wall time of whole processes, interleaved, median ms; at most `runs` each and about `maxMs` in all. */
export function processTimes(cmds: Record<string, string[]>, runs = 15, maxMs = 30_000): Record<string, number> {
  const names = Object.keys(cmds);
  const samples: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  const start = performance.now();
  // One warm-up each, so the file cache is equally hot for all.
  for (const n of names) spawnSync(process.execPath, cmds[n]!, { stdio: 'ignore' });
  for (let r = 0; r < runs && (r < 3 || performance.now() - start < maxMs); r++) {
    for (const n of names) {
      const t0 = performance.now();
      const res = spawnSync(process.execPath, cmds[n]!, { stdio: 'ignore' });
      const dt = performance.now() - t0;
      if (res.status !== 0) throw new Error(`bench: ${cmds[n]!.join(' ')} exited ${res.status}`);
      samples[n]!.push(dt);
    }
  }
  return Object.fromEntries(names.map((n) => [n, median(samples[n]!)]));
}

export async function run(): Promise<BenchRow[]> {
  const blob = new Uint8Array(MAX_BLOB_LEN);
  for (let i = 0; i < blob.length; i++) blob[i] = (i * 131) & 0xff;
  const msg = peerStorage(blob);
  const wire = encodeMessage(msg);
  if (wire.length !== 65535) throw new Error('bench: the largest peer_storage should be 65535 bytes');
  const init = encodeMessage({ ...initMessage({ features: [1, 5, 7, 9, 13, 15, 17, 23, 27, 39, 43, 45, 47, 51], networks: [CHAIN_HASH.mainnet] }), remoteAddr: Uint8Array.from([1, 203, 0, 113, 7, 0x26, 0x07]) });

  const t = timeEach({
    copy: () => wire.slice(),
    decode: () => decodeMessage(wire),
    encode: () => encodeMessage(msg),
    decodeInit: () => decodeMessage(init),
  }, { rounds: 9, batchMs: 30, maxBatch: 200_000 });

  const initHex = toHex(init);
  const p = processTimes({ node: ['-e', '0'], lnps: [BIN, 'decode', initHex] });

  const COPY = 'plain copy of the same 65535 bytes (Uint8Array.slice)';
  return [
    { group: 'wire', name: 'decode peer_storage, 65535 B', value: t.decode! * 1000, unit: 'µs', baseline: COPY, ratio: t.decode! / t.copy!, target: '<= 1', pass: t.decode! <= t.copy! },
    { group: 'wire', name: 'encode peer_storage, 65535 B', value: t.encode! * 1000, unit: 'µs', baseline: COPY, ratio: t.encode! / t.copy! },
    { group: 'wire', name: 'plain copy, 65535 B (baseline)', value: t.copy! * 1000, unit: 'µs' },
    { group: 'wire', name: `decode init (${init.length} B: 14 features, networks, remote_addr)`, value: 1000 / t.decodeInit!, unit: 'ops/s' },
    { group: 'wire', name: '`lnps decode <init hex>` whole process', value: p.lnps!, unit: 'ms', baseline: '`node -e 0` whole process (median, interleaved)', ratio: p.lnps! / p.node!, target: '<= 1.3', pass: p.lnps! / p.node! <= 1.3 },
    { group: 'wire', name: '`node -e 0` whole process (baseline)', value: p.node!, unit: 'ms' },
  ];
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { rowLine } = await import('./run.js');
  for (const r of await run()) process.stdout.write(rowLine(r) + '\n');
}
