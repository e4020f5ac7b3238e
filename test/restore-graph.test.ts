// restorefrompeer --graph for lnps's own backup: real `lnps serve` providers over 127.0.0.1,
// a describegraph fixture naming our channel peers, the command line tried first.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer, type Socket } from 'node:net';
import { getPublicKey } from '@noble/secp256k1';
import { cleanup, cli, createNode, d } from './node-harness.js';
import { deriveSealKey, seal } from '../src/core/backup/seal.js';
import { readNodeKey } from '../src/core/datadir.js';
import { providersForFile, storeAs } from './restore-helpers.js';

after(cleanup);

const providers = providersForFile(3);

// ---- lnps's own backup, with --graph ----------------------------------------------------------

test('plain restorefrompeer --graph (lncli describegraph): the command-line peer first, then the graph\'s channel peers; the newest seq wins', async () => {
  const K = await createNode();
  const secret = readNodeKey(join(K.dir, 'node.key'));
  const key = deriveSealKey(secret);
  const [a, b, c] = providers;
  try {
    const blobA = seal(Buffer.from('own backup seq 5'), { seq: 5n, key, pad: 'none' });
    const blobB = seal(Buffer.from('own backup seq 7'), { seq: 7n, key, pad: 'none' });
    await storeAs(a!, secret, blobA);
    await storeAs(b!, secret, blobB);
    const graph = {
      nodes: [
        { pub_key: a!.pubkey, addresses: [{ network: 'tcp', addr: `127.0.0.1:${a!.serve.port}` }] },
        { pub_key: b!.pubkey, addresses: [{ network: 'tcp', addr: `127.0.0.1:${b!.serve.port}` }] },
        { pub_key: c!.pubkey, addresses: [{ network: 'tcp', addr: `127.0.0.1:${c!.serve.port}` }] },
      ],
      edges: [
        { node1_pub: K.pubkey, node2_pub: a!.pubkey },
        { node1_pub: b!.pubkey, node2_pub: K.pubkey },
        { node1_pub: a!.pubkey, node2_pub: c!.pubkey },
      ],
    };
    const g = join(K.dir, 'describegraph.json');
    writeFileSync(g, JSON.stringify(graph));
    const out = join(K.dir, 'restored');
    const r = await cli(['restorefrompeer', `${b!.pubkey}@127.0.0.1:${b!.serve.port}`, '--graph', g, '--out', out, '--timeout', '3s', ...d(K.dir)]);
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.equal(j.seq, '7');
    assert.equal(j.from, b!.pubkey);
    assert.deepEqual(readFileSync(out), Buffer.from('own backup seq 7'));
    assert.deepEqual(j.graph, { kind: 'lnd', channel_peers: 2, dropped: 0 });
    assert.deepEqual(j.peers.map((x: any) => [x.peer, x.source, x.answer, x.status, x.seq]), [
      [b!.pubkey, 'command_line', 'returned', 'confirmed', '7'],
      [a!.pubkey, 'graph', 'returned', 'stale', '5'],
    ]);
    assert.match(r.stderr.split('\n')[0]!, new RegExp(`^lnps: connecting as node ${K.pubkey}: peers keep one connection per node id`));
    assert.match(r.stderr, new RegExp(`${a!.pubkey}@127\\.0\\.0\\.1:${a!.serve.port}: returned lnps backup seq 5`));
    // Neither peers nor --graph: a usage error.
    const u = await cli(['restorefrompeer', '--out', join(K.dir, 'x'), ...d(K.dir)]);
    assert.equal(u.status, 2);
    assert.match(u.stderr, /no peers to ask: give PUBKEY@HOST:PORT arguments, --graph FILE, or both/);
    // A malformed graph: one line, exit 1, nothing asked.
    writeFileSync(g, JSON.stringify({ edges: [{ node1_pub: K.pubkey, node2_pub: 7 }] }));
    const bad = await cli(['restorefrompeer', '--graph', g, '--out', join(K.dir, 'y'), ...d(K.dir)]);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /graph file .*describegraph\.json: edges\[0\]\.node2_pub: expected a node id \(66 hex digits\), got number 7/);
    assert.doesNotMatch(bad.stderr, /connecting/);
  } finally {
    key.wipe();
  }
});

test('each answer is earned: a wrong node id at an address is refused, a silent listener times out, a Tor-only peer has no address', async () => {
  const K = await createNode();
  const [a] = providers;
  // Accepts TCP and never says a word: the handshake cannot finish.
  const sockets: Socket[] = [];
  const silent = createServer((s) => sockets.push(s));
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  const silentPort = (silent.address() as { port: number }).port;
  try {
    const key = (b: number) => Buffer.from(getPublicKey(new Uint8Array(32).fill(b), true)).toString('hex');
    const wrongId = key(0x5a); // not the provider's key: the handshake fails at act two
    const torOnly = key(0x6b);
    const silentId = key(0x7c);
    const g = join(K.dir, 'graph.json');
    writeFileSync(g, JSON.stringify({ channels: [{ source: K.pubkey, destination: torOnly }], nodes: [{ nodeid: torOnly, addresses: [{ type: 'torv3', address: 'vww6ybal4bd7szmgncyruucpgfkqahzddi37ktceo3ah7ngmcopnpyyd.onion', port: 9735 }] }] }));
    const r = await cli(['restorefrompeer', `${wrongId}@127.0.0.1:${a!.serve.port}`, `${silentId}@127.0.0.1:${silentPort}`, '--graph', g, '--out', join(K.dir, 'none'), '--timeout', '1s', ...d(K.dir)]);
    assert.equal(r.status, 1, r.stderr);
    assert.ok(r.stdout.length > 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.deepEqual(j.peers.map((x: any) => [x.answer, x.status, x.source]), [
      ['refused', 'unreachable', 'command_line'],
      ['timed_out', 'unreachable', 'command_line'],
      ['no_address', 'unreachable', 'graph'],
    ]);
    assert.match(j.peers[1].reason, /handshake did not finish within 1000 ms/);
    assert.match(j.peers[2].reason, /only addresses lnps cannot dial: vww6ybal4bd7szmgncyruucpgfkqahzddi37ktceo3ah7ngmcopnpyyd\.onion:9735 \(Tor\)/);
    assert.equal(j.peers[2].address, null);
    assert.match(r.stderr, new RegExp(`${wrongId}@127\\.0\\.0\\.1:${a!.serve.port}: refused \\(`));
    assert.match(r.stderr, /: timed out \(handshake with 127\.0\.0\.1:\d+: handshake did not finish within 1000 ms\)/);
    assert.match(r.stderr, new RegExp(`${torOnly}: no address \\(only addresses lnps cannot dial`));
  } finally {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => silent.close(() => r()));
  }
});
