// Seal and open of the largest plaintext (65448 bytes) against the bare ciphers on the same
// bytes, in one run: @noble/ciphers' xchacha20poly1305 (the target: at most 1.2 times its time)
// and node:crypto's chacha20-poly1305 (the native limit). Also compares our two XChaCha paths:
// HChaCha20 + native AEAD (the default) against noble alone.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import type { BenchRow } from './types.js';
import { timeEach } from './timing.js';
import { MAX_PLAINTEXT, deriveSealKey, open, seal, setCipherBackend } from '../src/core/backup/seal.js';

type Fn = () => unknown;


export async function run(): Promise<BenchRow[]> {
  const pt = new Uint8Array(randomBytes(MAX_PLAINTEXT));
  const key = deriveSealKey(new Uint8Array(randomBytes(32)));
  const rawKey = new Uint8Array(randomBytes(32));
  const nonce24 = new Uint8Array(randomBytes(24));
  const nonce12 = randomBytes(12);
  const aad = new Uint8Array(25);

  setCipherBackend(undefined);
  const sealed = seal(pt, { seq: 1n, key });
  setCipherBackend('noble');
  const sealedNoble = seal(pt, { seq: 1n, key });
  setCipherBackend(undefined);
  const bareCt = xchacha20poly1305(rawKey, nonce24, aad).encrypt(pt);
  const nodeEnc = () => {
    const c = createCipheriv('chacha20-poly1305', rawKey, nonce12, { authTagLength: 16 });
    c.setAAD(aad, { plaintextLength: pt.length });
    const ct = c.update(pt);
    c.final();
    return { ct, tag: c.getAuthTag() };
  };
  const { ct: nodeCt, tag: nodeTag } = nodeEnc();
  if (!open(sealed, key).ok || !open(sealedNoble, key).ok) throw new Error('bench: sealed blob does not open');

  const t = timeEach({
    seal: () => seal(pt, { seq: 1n, key }),
    open: () => open(sealed, key),
    sealNoble: () => {
      setCipherBackend('noble');
      seal(pt, { seq: 1n, key });
      setCipherBackend(undefined);
    },
    openNoble: () => {
      setCipherBackend('noble');
      open(sealed, key);
      setCipherBackend(undefined);
    },
    xEnc: () => xchacha20poly1305(rawKey, nonce24, aad).encrypt(pt),
    xDec: () => xchacha20poly1305(rawKey, nonce24, aad).decrypt(bareCt),
    nodeEnc,
    nodeDec: () => {
      const d = createDecipheriv('chacha20-poly1305', rawKey, nonce12, { authTagLength: 16 });
      d.setAAD(aad, { plaintextLength: nodeCt.length });
      d.setAuthTag(nodeTag);
      d.update(nodeCt);
      d.final();
    },
  }, { rounds: 9, batchMs: 40, maxBatch: 2000 });

  const MB = pt.length / 1e6;
  const row = (name: string, ms: number, baseline: string, base: number, target?: number): BenchRow => ({
    group: 'seal',
    name,
    value: ms,
    unit: 'ms',
    baseline,
    ratio: ms / base,
    ...(target !== undefined ? { target: `<= ${target}`, pass: ms / base <= target } : {}),
  });
  const X = 'bare @noble/ciphers xchacha20poly1305, same 65448 bytes';
  const N = 'node:crypto chacha20-poly1305, same 65448 bytes';
  return [
    row('seal 65448 B (full pad, default path)', t.seal!, `${X} encrypt`, t.xEnc!, 1.2),
    row('open 65448 B (default path)', t.open!, `${X} decrypt`, t.xDec!, 1.2),
    row('seal 65448 B, noble-only cipher path', t.sealNoble!, `${X} encrypt`, t.xEnc!),
    row('open 65448 B, noble-only cipher path', t.openNoble!, `${X} decrypt`, t.xDec!),
    row('seal 65448 B vs the native limit', t.seal!, `${N} encrypt`, t.nodeEnc!),
    row('open 65448 B vs the native limit', t.open!, `${N} decrypt`, t.nodeDec!),
    { group: 'seal', name: 'seal throughput (default path)', value: MB / (t.seal! / 1000), unit: 'MB/s' },
    { group: 'seal', name: 'open throughput (default path)', value: MB / (t.open! / 1000), unit: 'MB/s' },
    { group: 'seal', name: 'bare noble xchacha20poly1305 encrypt throughput', value: MB / (t.xEnc! / 1000), unit: 'MB/s' },
  ];
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { rowLine } = await import('./run.js');
  for (const r of await run()) process.stdout.write(rowLine(r) + '\n');
}
