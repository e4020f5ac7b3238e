// importchannels reads Core Lightning's `lightning-cli listpeerchannels` JSON (open or closed by
// each channel's state) and `-` for standard input. Real CLI processes on a real database.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { cleanup, cli, cliJson, createNode, d, CLN_CHANNELS } from './node-harness.js';

after(cleanup);

const cliStdin = (args: string[], input: string) => cli(args, undefined, input);

test('importchannels --listpeerchannels: CHANNELD_NORMAL is open, ONCHAIN closed, a channel with no funding yet is skipped', async () => {
  const A = await createNode();
  const r = await cliJson(['importchannels', '--listpeerchannels', CLN_CHANNELS.file, ...d(A.dir)]);
  assert.equal(r.channels, 2);
  assert.equal(r.added, 2);
  const list = (await cliJson(['listchannels', ...d(A.dir)])).channels as { peer: string; state: string; chan_point: string }[];
  const byPeer = Object.fromEntries(list.map((c) => [c.peer, c]));
  assert.equal(byPeer[CLN_CHANNELS.openPeer]!.state, 'open');
  assert.equal(byPeer[CLN_CHANNELS.openPeer]!.chan_point, 'e7d6c5b4a3928170f6e5d4c3b2a1f8f5f9c3e2b7d5ead1c36a0bde0b2b7c4c6d:0');
  assert.equal(byPeer[CLN_CHANNELS.closedPeer]!.state, 'closed');
  assert.equal(list.length, 2);
});

test('importchannels reads - from standard input, and the CLN format is recognised under --listchannels too', async () => {
  const A = await createNode();
  const text = readFileSync(CLN_CHANNELS.file, 'utf8');
  const r = await cliStdin(['importchannels', '--listchannels', '-', ...d(A.dir)], text);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).added, 2);
  // stdin can be read once.
  const twice = await cli(['importchannels', '--listchannels', '-', '--listpeerchannels', '-', ...d(A.dir)]);
  assert.equal(twice.status, 2);
  assert.match(twice.stderr, /^lnps: standard input \(-\) can be read once/);
  // A broken entry names its index and field, and nothing is written.
  const bad = await cliStdin(['importchannels', '--listpeerchannels', '-', ...d(A.dir)], JSON.stringify({ channels: [{ peer_id: CLN_CHANNELS.openPeer, state: 'CHANNELD_NORMAL', funding_txid: 'ab'.repeat(32), funding_outnum: 'x' }] }));
  assert.equal(bad.status, 1);
  assert.equal(bad.stderr, 'lnps: standard input: channels[0].funding_outnum: expected an output index, got "x"\n');
  const notJson = await cliStdin(['importchannels', '--listpeerchannels', '-', ...d(A.dir)], 'nope');
  assert.equal(notJson.status, 1);
  assert.match(notJson.stderr, /^lnps: standard input: not valid JSON/);
});
