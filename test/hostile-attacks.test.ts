// Hostile peers against a real `lnps serve` over real sockets. Each attack comes from
// 127.0.0.2 for a few seconds, while a well-behaved peer connects from 127.0.0.1. For each:
// - the node's resident memory (VmRSS, sampled every 100 ms) grows by at most 64 MiB;
// - the good peer completes the handshake and init every time, each within 10 s (a bound that
//   says the node still serves, not a speed goal: speeds are in bench/hostile.ts);
// - the log file grows by at most a few KiB (LOG_BOUND, lines after the attacker left included);
// - the node is still running afterwards.
// Plus what each attack aims at: the channel peer's blob is stored after throwaway identities
// filled the quota, peer strings reach the log without control or format characters,
// unsolicited retrievals leave no record, and a crafted import leaves the node running.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { openSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { ATTACKS, EVIL_TEXT, observe, rssOf, sessionFrom, sizeOf, type Attack, type Target } from './hostile-helpers.js';
import { cli, createNode, killHard, pubkeyHexOf, readUntil, removeDir, startServe, stopServe, tempDir, withTimeout, type ServeProcess } from './stress-helpers.js';
import { cli as cliAsync } from './node-harness.js';
import { CONNECTION_LOG_BUDGET } from '../src/core/node/node.js';
import { connectPeer } from '../src/core/transport/index.js';
import { CHAIN_HASH, decodeMessage, encodeMessage, initMessage } from '../src/core/wire/registry.js';

const SECONDS = 3;
const MIB = 1024 * 1024;
/**
 * What one attack may add to the log: the good peer's lines and a few more, plus what each
 * attacking connection may add by design (Attack.logPerConnection: a few lines of at most
 * 1 KiB), for at most CONNECTION_LOG_BUDGET connections of one address a minute.
 */
const LOG_BASE = 4 * 1024;
const LOG_BOUND = LOG_BASE;

interface Node {
  dir: string;
  serve: ServeProcess;
  log: string;
  target: Target;
}
const nodes: Node[] = [];

async function startNode(extra: string[]): Promise<Node> {
  const dir = tempDir('lnps-hostile-');
  createNode(dir);
  const log = join(dir, 'serve.log');
  const serve = await startServe(dir, ['--log-file', log, ...extra]);
  const n = { dir, serve, log, target: { port: serve.port, pubkey: serve.pubkey } };
  nodes.push(n);
  return n;
}

let plain: Node;
let any: Node;
const CHANNEL_SECRET = randomBytes(32);
const CHANNEL_PEER = pubkeyHexOf(CHANNEL_SECRET);

before(async () => {
  // The default policy (channel peers only) for most attacks; `any` with a small quota for
  // the throwaway identities, with one channel peer the node must still store for.
  plain = await startNode([]);
  any = await startNode(['--storage-policy', 'any', '--max-peers', '20']);
  const ch = cli(['addchannel', CHANNEL_PEER, '--chan-point', `${'ab'.repeat(32)}:0`, '--datadir', any.dir, '--network', 'regtest']);
  assert.equal(ch.code, 0, ch.stderr);
});

after(async () => {
  for (const n of nodes) {
    await stopServe(n.serve);
    await killHard(n.serve.child);
    removeDir(n.dir);
  }
});

function alive(n: Node): void {
  assert.equal(n.serve.child.exitCode, null, `the node exited: ${n.serve.log().slice(-2000)}`);
  assert.equal(n.serve.child.signalCode, null);
}

async function attackAndCheck(n: Node, a: Attack): Promise<string> {
  const o = await observe(n.serve.pid, n.target, n.log, a, SECONDS * 1000, 2);
  const summary = `${a.name}: sent ${o.sent.messages} messages on ${o.sent.connections} connections in ${o.seconds.toFixed(1)} s; RSS +${(o.rssGrowth / MIB).toFixed(1)} MiB; log +${o.logGrowth} B; good peer ${o.good.map((x) => x.toFixed(0)).join(', ')} ms`;
  alive(n);
  assert.ok(o.sent.connections > 0 && (o.sent.messages > 0 || a.unit === 'conn/s'), `the attack ran: ${summary}`);
  assert.ok(o.rssGrowth <= 64 * MIB, `RSS grew by at most 64 MiB: ${summary}`);
  assert.equal(o.good.length, 2, summary);
  // Past CONNECTION_LOG_BUDGET connections a minute, an address's connections log at debug
  // level, with one line saying so: the log does not grow with the number of connections.
  const bound = LOG_BASE + a.logPerConnection * Math.min(o.sent.connections, CONNECTION_LOG_BUDGET) + 1024;
  assert.ok(o.logGrowth <= bound, `the log grew by at most ${bound} bytes: ${summary}\n${n.serve.log().slice(-3000)}`);
  return summary;
}

for (const a of ATTACKS) {
  test(`attack ${a.name} (${a.what}): memory, log and the good peer stay within bounds`, async (t) => {
    const n = a.node === 'any' ? any : plain;
    const logBefore = sizeOf(n.log);
    t.diagnostic(await attackAndCheck(n, a));
    if (a.name === 'every-feature-init') {
      // Hundreds of connections: past the budget the address's connections are quieted, said once.
      assert.match(n.serve.log(), new RegExp(`more than ${CONNECTION_LOG_BUDGET} connections from 127\\.0\\.0\\.2 this minute`));
    }
    if (a.name === 'control-characters') {
      const text = n.serve.log().slice(-(sizeOf(n.log) - logBefore + 4096));
      assert.ok(/sent warning: ok/.test(text), text.slice(-2000));
      // Nothing a peer sent shows a line break, an escape or a bidi override in the log.
      const bad = text.replace(/\n/g, '').match(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu);
      assert.equal(bad, null, `characters left in the log: ${JSON.stringify(bad)}`);
      // The forged line stays inside the peer's line, escaped: no line of the log begins with it.
      assert.ok(EVIL_TEXT.includes('\r\n2026-01-01 00:00:00.000 [CRT] SRVR: forged'));
      assert.equal(/^2026-01-01 00:00:00\.000 \[CRT\] SRVR: forged/m.test(text), false);
      assert.ok(/sent warning: ok\\u2028FAKE\\x85LINE\\x9b2J\\u202eesrever\\x1b\[31mred\\x0d 2026-01-01/.test(text), text.slice(-1500));
    }
    if (a.name === 'quota-fill') {
      // The quota is full of throwaway identities; the channel peer still gets its blob stored.
      const blob = randomBytes(2000);
      const conn = await connectPeer({ host: '127.0.0.1', port: n.target.port, remotePubkey: Buffer.from(n.target.pubkey, 'hex'), localSecret: CHANNEL_SECRET, timeoutMs: 10_000 });
      try {
        await conn.send(encodeMessage(initMessage({ features: [], networks: [CHAIN_HASH.regtest] })));
        assert.ok(await readUntil(conn, (m) => m.name === 'init', 10_000));
        await conn.send(encodeMessage({ type: 7, name: 'peer_storage', blob }));
        await conn.send(encodeMessage({ type: 18, name: 'ping', numPongBytes: 1, ignored: new Uint8Array(0) }));
        assert.ok(await readUntil(conn, (m) => m.name === 'pong', 10_000));
      } finally {
        conn.destroy();
      }
      const stored = cli(['listpeerstorage', '--datadir', n.dir, '--network', 'regtest']);
      assert.equal(stored.code, 0, stored.stderr);
      const rows = JSON.parse(stored.stdout).peers as { peer: string }[];
      assert.ok(rows.length <= 20, `the quota holds: ${rows.length} peers stored`);
      await withTimeout(
        (async () => {
          for (;;) {
            const g = cli(['getpeerstorage', CHANNEL_PEER, '--datadir', n.dir, '--network', 'regtest']);
            if (g.code === 0 && JSON.parse(g.stdout).blob === blob.toString('hex')) return;
            await new Promise((r) => setTimeout(r, 200));
          }
        })(),
        10_000,
        "the channel peer's blob was not stored",
      );
    }
    if (a.name === 'unsolicited-retrieval') {
      const lb = cli(['listbackups', '--datadir', n.dir, '--network', 'regtest']);
      assert.equal(lb.code, 0, lb.stderr);
      assert.deepEqual(JSON.parse(lb.stdout).backups, [], 'no retrieval from a peer we never sent to is recorded');
    }
  });
}

test('attack crafted-import (a 64 MiB file of one line, into the running node): one line, exit 1, the node keeps running', async (t) => {
  const n = plain;
  const file = join(n.dir, 'huge.jsonl');
  const fd = openSync(file, 'w', 0o600);
  const chunk = Buffer.alloc(MIB, 'a');
  writeSync(fd, '{"peer":"');
  for (let i = 0; i < 64; i++) writeSync(fd, chunk);
  closeSync(fd);
  const rss0 = rssOf(n.serve.pid);
  const log0 = sizeOf(n.log);
  let peak = rss0;
  const sampler = setInterval(() => (peak = Math.max(peak, rssOf(n.serve.pid))), 100);
  try {
    // A child process run asynchronously, so the memory sampler keeps running meanwhile.
    const r = await cliAsync(['importpeerstorage', file, '--datadir', n.dir, '--network', 'regtest'], 60_000);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /^lnps: [^\n]+\n$/);
    t.diagnostic(r.stderr.trim());
  } finally {
    clearInterval(sampler);
  }
  alive(n);
  peak = Math.max(peak, rssOf(n.serve.pid));
  assert.ok(peak - rss0 <= 64 * MIB, `RSS grew by ${((peak - rss0) / MIB).toFixed(1)} MiB`);
  assert.ok(sizeOf(n.log) - log0 <= LOG_BOUND);
  // Still serving: the control socket answers and a peer completes its handshake.
  const info = cli(['getinfo', '--datadir', n.dir, '--network', 'regtest']);
  assert.equal(info.code, 0, info.stderr);
  assert.equal(JSON.parse(info.stdout).started_at !== null, true);
  const s = await sessionFrom(n.target, { local: '127.0.0.1', read: true });
  const got = await withTimeout(
    new Promise<boolean>((resolve) => {
      const check = () => {
        const m = s.dec.next();
        if (m !== undefined && decodeMessage(m).name === 'init') resolve(true);
        else setTimeout(check, 20);
      };
      check();
    }),
    10_000,
    'no init from the node after the import',
  );
  assert.equal(got, true);
  s.socket.destroy();
});
