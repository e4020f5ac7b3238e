// The channel graph as a map back to our peers: lncli describegraph and Core Lightning
// listchannels/listnodes shapes, a stable order, undialable addresses kept as notes, and
// one-line errors for every wrong shape.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { channelPeersFromGraph, readGraphFile, MAX_GRAPH_PEERS, type GraphDoc } from '../src/core/node/graph.js';
import { InputError, StoreError } from '../src/core/errors.js';
import { getPublicKey } from '@noble/secp256k1';

const dir = mkdtempSync(join(tmpdir(), 'lnps-graph-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A node id on the curve: the public key of a secret filled with `n`. */
const id = (n: number): string => Buffer.from(getPublicKey(new Uint8Array(32).fill(n), true)).toString('hex');
const OURS = id(0x10);
const ours = Uint8Array.from(Buffer.from(OURS, 'hex'));
const A = id(0xa1);
const B = id(0xb2);
const C = id(0xc3);
const X = id(0xee); // a node with no channel to ours

const doc = (json: unknown, source = 'g.json'): GraphDoc => ({ source, json });
/** Rows in node id order: the order the reader promises. */
const byId = <T extends unknown[]>(rows: T[]): T[] => [...rows].sort((x, y) => String(x[0]).localeCompare(String(y[0])));
const summary = (r: ReturnType<typeof channelPeersFromGraph>) => r.peers.map((p) => [p.id, p.addresses.map((a) => `${a.host}:${a.port}`), p.undialable]);

test('lncli describegraph: peers of either end of an edge, addresses from nodes[].addresses[].addr, ordered by node id', () => {
  const g = {
    nodes: [
      { pub_key: C, addresses: [{ network: 'tcp', addr: '127.0.0.1:9737' }, { network: 'tcp', addr: 'abcdefghijklmnop.onion:9735' }] },
      { pub_key: A, addresses: [{ network: 'tcp', addr: '[::1]:9735' }, { network: 'tcp', addr: 'node-a.example.org:9736' }, { network: 'tcp', addr: '[::1]:9735' }] },
      { pub_key: X, addresses: [{ network: 'tcp', addr: '10.0.0.9:9735' }] },
      { pub_key: B, addresses: [] },
    ],
    edges: [
      { channel_id: '1', node1_pub: OURS, node2_pub: C },
      { channel_id: '2', node1_pub: A, node2_pub: OURS },
      { channel_id: '3', node1_pub: A, node2_pub: X },
      { channel_id: '4', node1_pub: B, node2_pub: OURS },
      { channel_id: '5', node1_pub: OURS.toUpperCase(), node2_pub: A }, // a second channel with A; case does not matter
    ],
  };
  const r = channelPeersFromGraph([doc(g)], ours);
  assert.equal(r.kind, 'lnd');
  assert.equal(r.dropped, 0);
  assert.deepEqual(
    summary(r),
    byId([
      [A, ['::1:9735', 'node-a.example.org:9736'], []],
      [B, [], []],
      [C, ['127.0.0.1:9737'], ['abcdefghijklmnop.onion:9735 (Tor)']],
    ]),
  );
});

test('Core Lightning: listchannels and listnodes in two files, or both in one object, give the same peers', () => {
  const channels = {
    channels: [
      { source: OURS, destination: B, short_channel_id: '1x1x0' },
      { source: B, destination: OURS, short_channel_id: '1x1x0' },
      { source: A, destination: OURS, short_channel_id: '2x1x0' },
      { source: A, destination: X, short_channel_id: '3x1x0' },
    ],
  };
  const nodes = {
    nodes: [
      { nodeid: A, addresses: [{ type: 'ipv4', address: '127.0.0.1', port: 9735 }, { type: 'torv3', address: 'vww6ybal4bd7szmgncyruucpgfkqahzddi37ktceo3ah7ngmcopnpyyd.onion', port: 9735 }] },
      { nodeid: B, addresses: [{ type: 'ipv6', address: '::1', port: 19735 }, { type: 'dns', address: 'b.example.org', port: 9735 }, { type: 'websocket', address: 'x', port: 1 }] },
      { nodeid: X, addresses: [{ type: 'ipv4', address: '10.0.0.1', port: 9735 }] },
      { nodeid: C }, // never announced: no addresses field
    ],
  };
  const two = channelPeersFromGraph([doc(channels, 'channels.json'), doc(nodes, 'nodes.json')], ours);
  const one = channelPeersFromGraph([doc({ ...channels, ...nodes })], ours);
  assert.equal(two.kind, 'cln');
  const want = byId([
    [A, ['127.0.0.1:9735'], ['vww6ybal4bd7szmgncyruucpgfkqahzddi37ktceo3ah7ngmcopnpyyd.onion:9735 (Tor)']],
    [B, ['::1:19735', 'b.example.org:9735'], ['x:1 (websocket)']],
  ]);
  assert.deepEqual(summary(two), want);
  assert.deepEqual(summary(one), want);
  // listchannels alone: the peers, without addresses.
  assert.deepEqual(summary(channelPeersFromGraph([doc(channels)], ours)), byId([[A, [], []], [B, [], []]]));
});

test('a graph with more channel peers than the bound keeps the first by node id and counts the rest', () => {
  const ids = Array.from({ length: MAX_GRAPH_PEERS + 5 }, (_, i) => Buffer.from(getPublicKey(Uint8Array.from(Buffer.from((i + 1).toString(16).padStart(64, '0'), 'hex')), true)).toString('hex'));
  const edges = ids.map((x) => ({ node1_pub: OURS, node2_pub: x }));
  const r = channelPeersFromGraph([doc({ nodes: [], edges })], ours);
  assert.equal(r.peers.length, MAX_GRAPH_PEERS);
  assert.equal(r.dropped, 5);
  assert.deepEqual(r.peers.map((p) => p.id), [...ids].sort().slice(0, MAX_GRAPH_PEERS));
});

test('wrong shapes are one line naming the file and the field, exit 1 (InputError)', () => {
  const cases: [unknown, RegExp][] = [
    [[], /g\.json: \(top level\): expected an object, got an array/],
    [{ hello: 1 }, /g\.json: \(top level\): neither lncli describegraph/],
    [{ edges: {} }, /g\.json: edges: expected an array, got an object/],
    [{ edges: [{ node1_pub: OURS, node2_pub: 'zz' }] }, /g\.json: edges\[0\]\.node2_pub: expected a node id \(66 hex digits\), got "zz"/],
    [{ edges: [], nodes: [{ pub_key: A, addresses: [{ addr: 5 }] }] }, /nodes\[0\]\.addresses\[0\]\.addr: expected "host:port", got number 5/],
    [{ channels: [{ source: OURS, destination: 'x'.repeat(100) }] }, /channels\[0\]\.destination: expected a node id \(66 hex digits\), got a string of 100 characters/],
    [{ channels: [], nodes: [{ nodeid: A, addresses: [{ type: 'ipv4', address: '1.2.3.4', port: '9735' }] }] }, /nodes\[0\]\.addresses\[0\]\.port: expected a port number, got "9735"/],
  ];
  for (const [json, re] of cases) {
    // Address checks run for channel peers only: make A one.
    const j = json as Record<string, unknown>;
    if (Array.isArray(j.edges) && j.edges.length === 0) j.edges = [{ node1_pub: OURS, node2_pub: A }];
    if (Array.isArray(j.channels) && j.channels.length === 0) j.channels = [{ source: OURS, destination: A }];
    assert.throws(
      () => channelPeersFromGraph([doc(json)], ours),
      (e: unknown) => e instanceof InputError && re.test(e.message) && !e.message.includes('\n'),
      JSON.stringify(json).slice(0, 80),
    );
  }
  // A channel peer whose id is not on the curve: named, never dialled.
  const offCurve = '02' + 'ff'.repeat(32);
  assert.throws(() => channelPeersFromGraph([doc({ edges: [{ node1_pub: OURS, node2_pub: offCurve }] })], ours), new RegExp(`graph: node id ${offCurve}, a channel peer of ours, is not a point on secp256k1`));
  // An lnd file and a CLN file together are refused.
  assert.throws(() => channelPeersFromGraph([doc({ edges: [] }, 'a'), doc({ channels: [] }, 'b')], ours), /graph file b: \(top level\): an cln graph mixed with an lnd one/);
  // A malformed address string is a note, not an error.
  const r = channelPeersFromGraph([doc({ edges: [{ node1_pub: OURS, node2_pub: A }], nodes: [{ pub_key: A, addresses: [{ addr: 'no port here' }, { addr: 'h:99999' }] }] })], ours);
  assert.deepEqual(summary(r), [[A, [], ['no port here (not host:port)', 'h:99999 (port out of range)']]]);
});

test('readGraphFile: missing file is exit 3, not JSON and too large are exit 1, each one line', () => {
  assert.throws(() => readGraphFile(join(dir, 'missing.json')), (e: unknown) => e instanceof StoreError && /cannot read graph file .*missing\.json: no such file/.test(e.message));
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, '{"edges": [');
  assert.throws(() => readGraphFile(bad), (e: unknown) => e instanceof InputError && /^graph file .*bad\.json: not JSON \(/.test(e.message) && !e.message.includes('\n'));
  const big = join(dir, 'big.json');
  writeFileSync(big, JSON.stringify({ edges: [], pad: 'x'.repeat(2000) }));
  assert.throws(() => readGraphFile(big, 1000), (e: unknown) => e instanceof InputError && /big\.json: \d+ bytes, more than the 1000 read/.test(e.message));
  const ok = readGraphFile(big, 4000);
  assert.deepEqual((ok.json as { edges: unknown[] }).edges, []);
  assert.throws(() => readGraphFile(dir), (e: unknown) => e instanceof InputError && /not a regular file/.test(e.message));
});
