// importchannels reads Core Lightning's `lightning-cli listpeerchannels` JSON (open or closed by
// each channel's state) and `-` for standard input. Real CLI processes on a real database.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BIN, cleanup, cli, cliJson, createNode, d } from './node-harness.js';

after(cleanup);

const FIXTURE = fileURLToPath(new URL('../../test/fixtures/cln-listpeerchannels.json', import.meta.url));
const OPEN_PEER = '02eec7245d6b7d2ccb30380bfbe2a3648cd7a942653f5aa340edcea1f283686619';
const CLOSED_PEER = '0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798';

function cliStdin(args: string[], input: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
    child.stdin.end(input);
  });
}

test('importchannels --listpeerchannels: CHANNELD_NORMAL is open, ONCHAIN closed, a channel with no funding yet is skipped', async () => {
  const A = await createNode();
  const r = await cliJson(['importchannels', '--listpeerchannels', FIXTURE, ...d(A.dir)]);
  assert.equal(r.channels, 2);
  assert.equal(r.added, 2);
  const list = (await cliJson(['listchannels', ...d(A.dir)])).channels as { peer: string; state: string; chan_point: string }[];
  const byPeer = Object.fromEntries(list.map((c) => [c.peer, c]));
  assert.equal(byPeer[OPEN_PEER]!.state, 'open');
  assert.equal(byPeer[OPEN_PEER]!.chan_point, 'e7d6c5b4a3928170f6e5d4c3b2a1f8f5f9c3e2b7d5ead1c36a0bde0b2b7c4c6d:0');
  assert.equal(byPeer[CLOSED_PEER]!.state, 'closed');
  assert.equal(list.length, 2);
});

test('importchannels reads - from standard input, and the CLN format is recognised under --listchannels too', async () => {
  const A = await createNode();
  const text = readFileSync(FIXTURE, 'utf8');
  const r = await cliStdin(['importchannels', '--listchannels', '-', ...d(A.dir)], text);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).added, 2);
  // stdin can be read once.
  const twice = await cli(['importchannels', '--listchannels', '-', '--listpeerchannels', '-', ...d(A.dir)]);
  assert.equal(twice.status, 2);
  assert.match(twice.stderr, /^lnps: standard input \(-\) can be read once/);
  // A broken entry names its index and field, and nothing is written.
  const bad = await cliStdin(['importchannels', '--listpeerchannels', '-', ...d(A.dir)], JSON.stringify({ channels: [{ peer_id: OPEN_PEER, state: 'CHANNELD_NORMAL', funding_txid: 'ab'.repeat(32), funding_outnum: 'x' }] }));
  assert.equal(bad.status, 1);
  assert.equal(bad.stderr, 'lnps: standard input: channels[0].funding_outnum: expected an output index, got "x"\n');
  const notJson = await cliStdin(['importchannels', '--listpeerchannels', '-', ...d(A.dir)], 'nope');
  assert.equal(notJson.status, 1);
  assert.match(notJson.stderr, /^lnps: standard input: not valid JSON/);
});
