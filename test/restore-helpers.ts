// Helpers of the restore tests: lnps serve providers, storing a blob as a given node, a port
// with nothing listening.
import { after, before } from 'node:test';
import { createServer } from 'node:net';
import { getPublicKey } from '@noble/secp256k1';
import { createNode, sha, storedSha, until, RawPeer, Serve } from './node-harness.js';

export interface Provider {
  dir: string;
  pubkey: string;
  serve: Serve;
}

/** `n` lnps serve providers on 127.0.0.1 that store for anyone. */
export async function startProviders(n: number): Promise<Provider[]> {
  const nodes = await Promise.all(Array.from({ length: n }, () => createNode()));
  const serves = await Promise.all(nodes.map((x) => Serve.start(x.dir, ['--storage-policy', 'any'])));
  return nodes.map((x, i) => ({ dir: x.dir, pubkey: x.pubkey, serve: serves[i]! }));
}

/**
 * `n` providers shared by the tests of one file: started before its first test, stopped after
 * its last. The array is filled in place once they run.
 */
export function providersForFile(n: number): Provider[] {
  const providers: Provider[] = [];
  before(async () => {
    providers.push(...(await startProviders(n)));
  });
  after(async () => {
    await Promise.all(providers.map((p) => p.serve.stop()));
  });
  return providers;
}

export const addr = (p: Provider): string => `${p.pubkey}@127.0.0.1:${p.serve.port}`;

/** A TCP port on 127.0.0.1 with nothing listening (bound, then closed). */
export async function deadPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Store `blob` with a provider, connected as the node whose key is `nodeKey`; waits until it is stored. */
export async function storeAs(p: Provider, nodeKey: Uint8Array, blob: Uint8Array): Promise<void> {
  const peer = await RawPeer.connect(p.serve.port, p.pubkey, { secret: nodeKey });
  await peer.send({ type: 7, name: 'peer_storage', blob });
  await peer.sync();
  peer.close();
  const id = Buffer.from(getPublicKey(nodeKey, true)).toString('hex');
  await until(async () => (await storedSha(p.dir, id)) === sha(blob), `provider to store the blob of ${id}`);
}
