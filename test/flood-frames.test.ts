// The connection handler under hostile frames: after a valid handshake (and init), one peer at a
// time sends frames with broken MACs, wrong lengths, replayed nonces, garbage plaintext, unknown
// even types and mutated messages. The node must never crash; a sender that breaks the rules is
// dropped (and only it: a peer sending an unknown odd type is kept, "it's OK to be odd"); a
// well-behaved peer connected all along keeps getting its pongs and its blob stored.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { DecodeError } from '../src/core/errors.js';
import { decodeMessage, encodeMessage, peerStorage, ping } from '../src/core/wire/index.js';
import { mutatedMessages } from '../bench/fuzz.js';
import { BOLT_TYPES } from '../src/core/node/codec.js';
import {
  Rng,
  connectClient,
  createNode,
  dbPath,
  killHard,
  rawSession,
  rawSocket,
  readUntil,
  removeDir,
  secretFrom,
  seedFromEnv,
  startServe,
  stopServe,
  tempDir,
  type RawSession,
  type ServeProcess,
} from './stress-helpers.js';
import { toHex } from '../src/core/bytes.js';

type Fate = 'dropped' | 'kept';

interface Case {
  name: string;
  fate: Fate;
  /** Do the hostile part on a session (after init unless `noInit`). */
  run(s: RawSession, rng: Rng): void;
  noInit?: boolean;
}

const PING = encodeMessage(ping(4));
const msgOf = (hex: string) => Uint8Array.from(Buffer.from(hex, 'hex'));

const CASES: Case[] = [
  { name: 'length header MAC broken', fate: 'dropped', run: (s) => { const f = s.frame(PING); f[3]! ^= 1; s.write(f); } },
  { name: 'length header tag broken', fate: 'dropped', run: (s) => { const f = s.frame(PING); f[17]! ^= 0x80; s.write(f); } },
  { name: 'body MAC broken', fate: 'dropped', run: (s) => { const f = s.frame(PING); f[19]! ^= 1; s.write(f); } },
  { name: 'body tag broken', fate: 'dropped', run: (s) => { const f = s.frame(PING); f[f.length - 1]! ^= 1; s.write(f); } },
  {
    name: 'body cut short, the next frame follows (length and body disagree)',
    fate: 'dropped',
    run: (s) => {
      const f1 = s.frame(encodeMessage(peerStorage(new Uint8Array(100))));
      const f2 = s.frame(PING);
      s.write(Buffer.concat([f1.subarray(0, 18 + 50), f2]));
    },
  },
  { name: 'a frame replayed (its nonce is stale)', fate: 'dropped', run: (s) => { const f = s.frame(PING); s.write(Buffer.concat([f, f])); } },
  { name: 'random bytes instead of a frame', fate: 'dropped', run: (s, rng) => s.write(rng.bytes(200)) },
  { name: '18 random bytes as a length header', fate: 'dropped', run: (s, rng) => s.write(rng.bytes(18)) },
  { name: 'an empty message (no type)', fate: 'dropped', run: (s) => s.write(s.frame(new Uint8Array(0))) },
  { name: 'one byte message', fate: 'dropped', run: (s) => s.write(s.frame(Uint8Array.of(0))) },
  { name: 'peer_storage whose length runs past the end', fate: 'dropped', run: (s) => s.write(s.frame(msgOf('00070010aabbcc'))) },
  { name: 'peer_storage with an unknown even TLV after it', fate: 'dropped', run: (s) => s.write(s.frame(msgOf('00070001aa0201ff'))) },
  { name: 'unknown even message type', fate: 'dropped', run: (s) => s.write(s.frame(msgOf('00fe0102'))) },
  { name: 'a BOLT channel message lnps does not act on (update_add_htlc, even)', fate: 'kept', run: (s) => s.write(s.frame(msgOf('0080' + '00'.repeat(20)))) },
  { name: 'unknown odd message type', fate: 'kept', run: (s) => s.write(s.frame(msgOf('00ff0102'))) },
  { name: 'error message', fate: 'dropped', run: (s) => s.write(s.frame(msgOf('0011' + '00'.repeat(32) + '0003626164'))) },
  { name: 'a ping asking for 65535 bytes (no pong, kept)', fate: 'kept', run: (s) => s.write(s.frame(encodeMessage(ping(65535)))) },
  { name: 'garbage as the first message, before init', fate: 'dropped', noInit: true, run: (s, rng) => s.write(s.frame(Uint8Array.of(0x00, 0x07, ...rng.bytes(30)))) },
  { name: 'a ping as the first message, before init', fate: 'dropped', noInit: true, run: (s) => s.write(s.frame(PING)) },
];

/** What BOLT #1 and the node's rules make of a message that decrypted fine. */
function fateOf(msg: Uint8Array): Fate {
  try {
    const m = decodeMessage(msg);
    // Types the BOLTs define (channel, update, gossip) are known to a Lightning peer: the node
    // ignores them rather than failing the connection (src/core/node/codec.ts, BOLT_TYPES).
    if (m.name === 'unknown') return m.even && !BOLT_TYPES.has(m.type) ? 'dropped' : 'kept';
    if (m.name === 'error') return 'dropped';
    return 'kept';
  } catch (e) {
    if (e instanceof DecodeError) return 'dropped';
    throw e;
  }
}

let datadir = '';
let node: ServeProcess | undefined;
after(async () => {
  if (node) await killHard(node.child);
  if (datadir) removeDir(datadir);
});

async function outcome(s: RawSession): Promise<Fate> {
  // Dropped: the node closes the socket. Kept: a ping sent now is answered.
  s.write(s.frame(PING));
  const pong = await s.waitFor((m) => m.length >= 2 && m[0] === 0 && m[1] === 19, 5000).catch(() => undefined);
  if (pong) return 'kept';
  await Promise.race([s.closed, new Promise((r) => setTimeout(r, 5000))]);
  return s.isClosed() ? 'dropped' : ('neither' as Fate);
}

test('hostile frames: the node never crashes, drops only the sender, and other peers keep working', { timeout: 120_000 }, async () => {
  const seed = seedFromEnv();
  const rng = new Rng(seed);
  datadir = tempDir('lnps-frames-');
  createNode(datadir);
  node = await startServe(datadir, ['--storage-policy', 'any', '--cooldown', '100ms', '--ping-interval', '2s', '--pong-timeout', '1s', '--debuglevel', 'info,PEER=warn']);
  const n = node;

  // The well-behaved peer: pings every 150 ms all along, and each ping must be answered.
  const goodSecret = secretFrom(rng);
  const good = await connectClient(n.port, n.pubkey, goodSecret);
  let stop = false;
  let goodPongs = 0;
  const goodErrors: string[] = [];
  const keepalive = (async () => {
    while (!stop) {
      try {
        await good.conn.send(encodeMessage(ping(8)));
        const p = await readUntil(good.conn, (m) => m.name === 'pong', 5000);
        if (p === null) {
          goodErrors.push(`the good peer was disconnected: ${String(good.conn.closeReason)}`);
          return;
        }
        goodPongs++;
      } catch (e) {
        goodErrors.push((e as Error).message);
        return;
      }
      await new Promise((r) => setTimeout(r, 150));
    }
  })();

  const failures: string[] = [];
  let tried = 0;
  const check = async (name: string, want: Fate, run: (s: RawSession) => void, noInit = false) => {
    const s = await rawSession(n.port, n.pubkey, secretFrom(rng), { init: !noInit });
    try {
      run(s);
      tried++;
      const got = await outcome(s);
      if (got !== want) failures.push(`${name}: ${got}, expected ${want}`);
    } finally {
      s.socket.destroy();
    }
  };

  for (const c of CASES) await check(c.name, c.fate, (s) => c.run(s, rng), c.noInit);

  // Handshake-level garbage: the node drops the socket.
  for (const [name, act] of [
    ['garbage act one', rng.bytes(50)],
    ['act one with handshake version 1', Uint8Array.of(1, ...rng.bytes(49))],
    ['a short act one, then silence broken by a close', rng.bytes(20)],
  ] as const) {
    const r = await rawSocket(n.port);
    try {
      r.socket.write(act);
      if (act.length < 50) r.socket.end();
      await Promise.race([r.closed, new Promise((res) => setTimeout(res, 5000))]);
      tried++;
      if (!r.isClosed()) failures.push(`${name}: the node kept the socket open`);
    } finally {
      r.socket.destroy();
    }
  }

  // Mutated messages, each in a valid frame on its own session.
  const mutated = mutatedMessages(seed, 40).filter((m) => m.length <= 65535);
  const fates = { dropped: 0, kept: 0 };
  for (const [i, m] of mutated.entries()) {
    const want = fateOf(m);
    fates[want]++;
    await check(`mutated message ${i} (${toHex(m.subarray(0, 24))}…, ${m.length} bytes)`, want, (s) => s.write(s.frame(m)));
  }

  // The good peer stores a blob; after a clean stop it is there.
  const blob = rng.bytes(500);
  await good.conn.send(encodeMessage(peerStorage(blob)));
  await new Promise((r) => setTimeout(r, 300));
  stop = true;
  await keepalive;
  assert.equal(n.child.exitCode, null, `the node exited: ${n.log().slice(-2000)}`);
  good.conn.destroy();
  await stopServe(n);
  assert.equal(n.child.exitCode, 0, 'lnps serve did not stop cleanly');
  const log = n.log();
  process.stdout.write(
    `# hostile frames (seed ${seed}): ${tried} hostile sessions (${CASES.length} crafted, 3 handshake, ${mutated.length} mutated: ${fates.dropped} to drop, ${fates.kept} to keep); good peer answered ${goodPongs} pings\n`,
  );
  assert.deepEqual(failures, []);
  assert.deepEqual(goodErrors, []);
  assert.ok(goodPongs >= 10);
  assert.doesNotMatch(log, /internal error|Uncaught|TypeError|RangeError|\[CRT\]|\[ERR\]/);
  const { openLevelKv } = await import('../src/core/store/level.js');
  const { LnpsStore } = await import('../src/core/store/store.js');
  const store = await LnpsStore.open(await openLevelKv(dbPath(datadir)));
  try {
    const rec = await store.peerBlob(Buffer.from(good.pubkey, 'hex'));
    assert.ok(rec !== undefined, 'the good peer has no blob stored');
    assert.equal(toHex(rec.blob), toHex(blob));
  } finally {
    await store.close();
  }
});
