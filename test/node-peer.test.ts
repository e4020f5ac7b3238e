// The peer state machine over an in-memory pipe (no transport): init exchange, ping/pong, the
// BOLT #1 unknown/malformed rules, the provider's retrieval after init, the consumer's wait.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Peer, type PeerSettings } from '../src/core/node/peer.js';
import { wireCodec } from '../src/core/node/codec.js';
import { Logger } from '../src/core/node/log.js';
import type { ConsumerPort, MessageConn, OwnBlob, ProviderPort } from '../src/core/node/types.js';
import { CHAIN_HASH, decodeMessage, encodeMessage, initMessage } from '../src/core/wire/registry.js';
import { toHex } from '../src/core/bytes.js';

class Queue {
  private items: (Uint8Array | null)[] = [];
  private waiters: ((m: Uint8Array | null) => void)[] = [];
  push(m: Uint8Array | null): void {
    const w = this.waiters.shift();
    if (w) w(m);
    else this.items.push(m);
  }
  pop(): Promise<Uint8Array | null> {
    if (this.items.length > 0) {
      const m = this.items.shift()!;
      if (m === null) this.items.unshift(null);
      return Promise.resolve(m);
    }
    return new Promise((r) => this.waiters.push(r));
  }
}

/** Two connected in-memory MessageConns. */
function pipe(keyA: Uint8Array, keyB: Uint8Array): [MessageConn & { closedFlag: boolean }, MessageConn & { closedFlag: boolean }] {
  const toA = new Queue();
  const toB = new Queue();
  const mk = (remote: Uint8Array, inbox: Queue, outbox: Queue) => {
    const c = {
      remotePubkey: remote,
      closedFlag: false,
      async send(m: Uint8Array) {
        if (c.closedFlag) throw new Error('closed');
        outbox.push(m);
      },
      read: () => (c.closedFlag ? Promise.resolve(null) : inbox.pop()),
      close() {
        if (c.closedFlag) return;
        c.closedFlag = true;
        inbox.push(null);
        outbox.push(null);
      },
    };
    return c;
  };
  return [mk(keyB, toA, toB), mk(keyA, toB, toA)];
}

const PUB_A = Uint8Array.from(Buffer.from('02' + '11'.repeat(32), 'hex'));
const PUB_B = Uint8Array.from(Buffer.from('03' + '22'.repeat(32), 'hex'));

function settings(over: Partial<PeerSettings> = {}): PeerSettings {
  return { chainHash: CHAIN_HASH.regtest, provideStorage: false, initTimeoutMs: 2000, retrievalTimeoutMs: 200, ...over };
}

function logger(lines: string[]) {
  return new Logger((l) => lines.push(l), { base: 'trace', subsystems: {} }).sub('PEER');
}

/** A raw side: reads decoded messages, writes encoded ones. */
function raw(conn: MessageConn) {
  return {
    async next(timeoutMs = 2000) {
      const m = await Promise.race([conn.read(), new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), timeoutMs))]);
      if (m === 'timeout' || m === null) return m;
      return decodeMessage(m);
    },
    send: (bytes: Uint8Array) => conn.send(bytes),
  };
}

async function startPair(peerSettings: PeerSettings, deps: { provider?: ProviderPort; consumer?: ConsumerPort } = {}, remoteFeatures: number[] = [43]) {
  const [a, b] = pipe(PUB_A, PUB_B);
  const lines: string[] = [];
  const peer = new Peer(a, true, peerSettings, { codec: wireCodec, log: logger(lines), now: Date.now, ...deps });
  const r = raw(b);
  await r.send(encodeMessage(initMessage({ features: remoteFeatures, networks: [CHAIN_HASH.regtest] })));
  await peer.start();
  const theirInit = await r.next();
  assert.ok(theirInit && theirInit !== 'timeout' && theirInit.name === 'init');
  return { peer, r, lines, a, b, theirInit };
}

test('init: a provider advertises only bit 43 and the networks TLV of its chain', async () => {
  const { peer, theirInit } = await startPair(settings({ provideStorage: true }));
  assert.equal(toHex(theirInit.features), '080000000000');
  assert.equal(theirInit.networks!.length, 1);
  assert.equal(toHex(theirInit.networks![0]!), toHex(CHAIN_HASH.regtest));
  assert.equal(peer.state, 'active');
  assert.equal(peer.providesStorage, true);
  peer.close('done');
});

test('init: a non-provider advertises no features; a peer on another chain is refused with a warning', async () => {
  const { peer, theirInit } = await startPair(settings());
  assert.equal(theirInit.features.length, 0);
  peer.close('done');

  const [a, b] = pipe(PUB_A, PUB_B);
  const p2 = new Peer(a, true, settings(), { codec: wireCodec, log: logger([]), now: Date.now });
  await b.send(encodeMessage(initMessage({ features: [], networks: [CHAIN_HASH.mainnet] })));
  await assert.rejects(p2.start(), /another network/);
  const r = raw(b);
  const ours = await r.next();
  assert.ok(ours && ours !== 'timeout' && ours.name === 'init');
  const w = await r.next();
  assert.ok(w && w !== 'timeout' && w.name === 'warning');
  assert.equal(p2.state, 'closed');
});

test('ping gets a pong of the asked size; 65532 or more gets none', async () => {
  const { peer, r } = await startPair(settings());
  await r.send(encodeMessage({ type: 18, name: 'ping', numPongBytes: 65532, ignored: new Uint8Array(0) }));
  await r.send(encodeMessage({ type: 18, name: 'ping', numPongBytes: 7, ignored: new Uint8Array(3) }));
  const m = await r.next();
  assert.ok(m && m !== 'timeout' && m.name === 'pong');
  assert.equal(m.ignored.length, 7);
  await r.send(encodeMessage({ type: 18, name: 'ping', numPongBytes: 65531, ignored: new Uint8Array(0) }));
  const big = await r.next();
  assert.ok(big && big !== 'timeout' && big.name === 'pong');
  assert.equal(big.ignored.length, 65531);
  peer.close('done');
});

test('an unknown odd type is ignored; an unknown even type gets a warning and closes the connection', async () => {
  const { peer, r } = await startPair(settings());
  await r.send(Uint8Array.of(0x80, 0x01, 1, 2, 3)); // type 32769, odd
  await r.send(encodeMessage({ type: 18, name: 'ping', numPongBytes: 1, ignored: new Uint8Array(0) }));
  const m = await r.next();
  assert.ok(m && m !== 'timeout' && m.name === 'pong', 'still answering after the odd type');
  await r.send(Uint8Array.of(0x80, 0x02)); // type 32770, even
  const w = await r.next();
  assert.ok(w && w !== 'timeout' && w.name === 'warning');
  assert.match(Buffer.from(w.channelId).toString('hex'), /^0{64}$/);
  assert.match(new TextDecoder().decode(w.data), /unknown even message type 32770/);
  assert.equal(await peer.closed, 'unknown even message type 32770');
});

test('messages the BOLTs define but lnps does not use (gossip, channel) are ignored, even ones included', async () => {
  const { peer, r } = await startPair(settings());
  await r.send(Uint8Array.of(0x01, 0x02, 0, 0, 0)); // 258 channel_update (even)
  await r.send(Uint8Array.of(0x00, 0x88, 1)); // 136 channel_reestablish (even)
  await r.send(encodeMessage({ type: 18, name: 'ping', numPongBytes: 2, ignored: new Uint8Array(0) }));
  const m = await r.next();
  assert.ok(m && m !== 'timeout' && m.name === 'pong');
  assert.equal(peer.state, 'active');
  peer.close('done');
});

test('a malformed known message (truncated peer_storage) gets a warning and closes', async () => {
  const { peer, r } = await startPair(settings({ provideStorage: true }));
  await r.send(Uint8Array.of(0, 7, 0, 10, 1, 2)); // says 10 bytes, has 2
  const w = await r.next();
  assert.ok(w && w !== 'timeout' && w.name === 'warning');
  assert.match(new TextDecoder().decode(w.data), /^malformed message type 7/);
  assert.match(await peer.closed, /^malformed message type 7/);
});

test('provider: peer_storage_retrieval is the first message after init; blobs go to the provider', async () => {
  const held = Uint8Array.of(9, 9, 9);
  const got: string[] = [];
  const provider: ProviderPort = {
    receive: (peer, blob) => {
      got.push(`${toHex(peer)}:${toHex(blob)}`);
      return { status: 'stored' };
    },
    retrieval: () => held,
    flush: () => undefined,
  };
  const { peer, r } = await startPair(settings({ provideStorage: true }), { provider });
  const m = await r.next();
  assert.ok(m && m !== 'timeout' && m.name === 'peer_storage_retrieval');
  assert.equal(toHex(m.blob), '090909');
  await r.send(encodeMessage({ type: 7, name: 'peer_storage', blob: Uint8Array.of(1, 2) }));
  await r.send(encodeMessage({ type: 18, name: 'ping', numPongBytes: 0, ignored: new Uint8Array(0) }));
  await r.next(); // pong: the blob before it was handled
  assert.deepEqual(got, [`${toHex(PUB_B)}:0102`]);
  peer.close('done');
});

test('not providing storage: peer_storage is ignored and no retrieval is sent', async () => {
  let calls = 0;
  const provider: ProviderPort = { receive: () => (calls++, { status: 'stored' }), retrieval: () => Uint8Array.of(1), flush: () => undefined };
  const { peer, r } = await startPair(settings({ provideStorage: false }), { provider });
  await r.send(encodeMessage({ type: 7, name: 'peer_storage', blob: Uint8Array.of(1, 2) }));
  await r.send(encodeMessage({ type: 18, name: 'ping', numPongBytes: 0, ignored: new Uint8Array(0) }));
  const m = await r.next();
  assert.ok(m && m !== 'timeout' && m.name === 'pong', 'no retrieval before the pong');
  assert.equal(calls, 0);
  peer.close('done');
});

function fakeConsumer(newest: OwnBlob | undefined, classify: (blob: Uint8Array) => { status: 'confirmed' | 'stale' | 'corrupt' | 'foreign'; seq?: bigint }) {
  const sent: bigint[] = [];
  const consumer: ConsumerPort = {
    newest: () => newest,
    onRetrieval: async (_p, blob) => classify(blob),
    recordSent: (_p, b) => void sent.push(b.seq),
  };
  return { consumer, sent };
}

const OWN: OwnBlob = { seq: 5n, sealed: Uint8Array.of(5, 5, 5), sha256: new Uint8Array(32) };

test('consumer: with no retrieval, our newest blob goes out only after the wait', async () => {
  const { consumer, sent } = fakeConsumer(OWN, () => ({ status: 'confirmed', seq: 5n }));
  const t0 = Date.now();
  const { peer, r } = await startPair(settings({ retrievalTimeoutMs: 150 }), { consumer });
  const m = await r.next();
  assert.ok(m && m !== 'timeout' && m.name === 'peer_storage');
  assert.ok(Date.now() - t0 >= 140, 'sent after the retrieval wait');
  assert.equal(toHex(m.blob), '050505');
  assert.deepEqual(sent, [5n]);
  peer.close('done');
});

test('consumer: a retrieval holding a newer seq (a restored node) is never overwritten', async () => {
  const { consumer, sent } = fakeConsumer(OWN, () => ({ status: 'confirmed', seq: 9n }));
  const { peer, r } = await startPair(settings({ retrievalTimeoutMs: 100 }), { consumer });
  await r.send(encodeMessage({ type: 9, name: 'peer_storage_retrieval', blob: Uint8Array.of(7) }));
  assert.equal(await r.next(300), 'timeout');
  assert.deepEqual(sent, []);
  assert.equal(peer.retrievalStatus, 'confirmed');
  assert.equal(await peer.offerBackup(), undefined);
  peer.close('done');
});

test('consumer: a stale retrieval gets a warning, then the newest blob', async () => {
  const { consumer, sent } = fakeConsumer(OWN, () => ({ status: 'stale', seq: 3n }));
  const { peer, r } = await startPair(settings({ retrievalTimeoutMs: 5000 }), { consumer });
  await r.send(encodeMessage({ type: 9, name: 'peer_storage_retrieval', blob: Uint8Array.of(3) }));
  const w = await r.next();
  assert.ok(w && w !== 'timeout' && w.name === 'warning');
  assert.match(new TextDecoder().decode(w.data), /seq 3, older/);
  const m = await r.next();
  assert.ok(m && m !== 'timeout' && m.name === 'peer_storage');
  assert.equal(toHex(m.blob), '050505');
  assert.deepEqual(sent, [5n]);
  peer.close('done');
});

test('consumer: a peer that does not store gets nothing', async () => {
  const { consumer, sent } = fakeConsumer(OWN, () => ({ status: 'confirmed', seq: 5n }));
  const { peer, r } = await startPair(settings({ retrievalTimeoutMs: 50 }), { consumer }, []);
  assert.equal(await r.next(200), 'timeout');
  assert.deepEqual(sent, []);
  peer.close('done');
});

test('consumer: only the first retrieval of a connection is judged; warnings stop being logged after ten', async () => {
  let judged = 0;
  const { consumer } = fakeConsumer(undefined, () => (judged++, { status: 'confirmed', seq: 1n }));
  const { peer, r, lines } = await startPair(settings({ retrievalTimeoutMs: 5000 }), { consumer });
  for (let i = 0; i < 5; i++) await r.send(encodeMessage({ type: 9, name: 'peer_storage_retrieval', blob: Uint8Array.of(i) }));
  for (let i = 0; i < 30; i++) await r.send(encodeMessage({ type: 1, name: 'warning', channelId: new Uint8Array(32), data: new TextEncoder().encode(`w${i}`) }));
  await r.send(encodeMessage({ type: 18, name: 'ping', numPongBytes: 0, ignored: new Uint8Array(0) }));
  await r.next();
  assert.equal(judged, 1);
  assert.equal(lines.filter((l) => / sent warning: w\d+$/.test(l)).length, 10);
  assert.equal(lines.filter((l) => /keeps sending warnings; no more are logged/.test(l)).length, 1);
  peer.close('done');
});

test('a silent peer is pinged, then dropped', async () => {
  const lines: string[] = [];
  const [a, b] = pipe(PUB_A, PUB_B);
  const peer = new Peer(a, false, settings(), { codec: wireCodec, log: logger(lines), now: Date.now });
  await b.send(encodeMessage(initMessage({ features: [], networks: [CHAIN_HASH.regtest] })));
  await peer.start();
  const r = raw(b);
  await r.next(); // init
  const t = peer.lastReceivedAt;
  assert.equal(peer.tick(t + 50, 100, 100), false);
  assert.equal(peer.tick(t + 100, 100, 100), false);
  const p = await r.next();
  assert.ok(p && p !== 'timeout' && p.name === 'ping');
  assert.equal(peer.tick(t + 150, 100, 100), false);
  assert.equal(peer.tick(t + 200, 100, 100), true);
  assert.equal(await peer.closed, 'ping timeout');
  assert.ok(lines.some((l) => /\[INF\] PEER: Peer\(03(22){32}\) silent for \d+ ms, no pong: disconnecting$/.test(l)), lines.join('\n'));
});

const pingMsg = (numPongBytes: number, ignored = 0) => encodeMessage({ type: 18, name: 'ping', numPongBytes, ignored: new Uint8Array(ignored) });

/** Send a marker ping (3 bytes, free) and collect the sizes of the pongs before its pong. */
async function pongs(r: ReturnType<typeof raw>): Promise<number[]> {
  await r.send(pingMsg(3, 3));
  const out: number[] = [];
  for (let i = 0; i < 100_000; i++) {
    const m = await r.next(5000);
    if (m === 'timeout' || m === null) throw new Error(`no marker pong: ${m}`);
    if (m.name !== 'pong') continue;
    if (m.ignored.length === 3) return out;
    out.push(m.ignored.length);
  }
  return out;
}

test('pings: pong bytes beyond the ping\'s own size come from a 256 KiB budget; small pings are always answered', async () => {
  const { peer, r, lines } = await startPair(settings());
  // Full-size pongs for 40-byte pings: amplification, answered while the budget lasts (4 of them).
  for (let i = 0; i < 20; i++) await r.send(pingMsg(65531, 34));
  const big = await pongs(r);
  assert.deepEqual(big, [65531, 65531, 65531, 65531]);
  assert.equal(peer.state, 'active', 'never dropped for pinging');
  // Round-trip pings whose pong is no larger than the ping cost nothing: every one answered.
  for (let i = 0; i < 2000; i++) {
    await r.send(pingMsg(8, 8));
    const m = await r.next();
    assert.ok(m && m !== 'timeout' && m.name === 'pong' && m.ignored.length === 8, `round trip ${i}`);
  }
  // A ping asking for more than is left is ignored; a symmetric large ping is still answered.
  await r.send(pingMsg(65531, 0));
  await r.send(pingMsg(60_000, 60_000));
  assert.deepEqual(await pongs(r), [60_000]);
  peer.close('done');
  assert.ok(lines.some((l) => /on this connection: 17 pings ignored/.test(l)), lines.slice(-3).join('\n'));
});

test('pings: at most one pong owed; a peer that does not read what we send is dropped after the pong timeout', async () => {
  const [a, b] = pipe(PUB_A, PUB_B);
  // The socket takes nothing: every send stays pending, as with a peer that never reads.
  let stuck = false;
  const sends: Uint8Array[] = [];
  const conn: MessageConn = {
    remotePubkey: a.remotePubkey,
    send: (m) => (stuck ? (sends.push(m), new Promise<void>(() => {})) : a.send(m)),
    read: () => a.read(),
    close: () => a.close(),
  };
  const lines: string[] = [];
  const peer = new Peer(conn, true, settings(), { codec: wireCodec, log: logger(lines), now: Date.now });
  await b.send(encodeMessage(initMessage({ features: [], networks: [CHAIN_HASH.regtest] })));
  await peer.start();
  stuck = true;
  for (let i = 0; i < 50; i++) await b.send(pingMsg(1000));
  await b.send(pingMsg(1, 0)); // let the loop reach the end
  for (let i = 0; i < 20 && peer.pingsIgnored < 50; i++) await new Promise((res) => setTimeout(res, 10));
  assert.equal(sends.length, 1, 'one pong owed, the other pings ignored');
  assert.equal(peer.pingsIgnored, 50);
  const t = Date.now();
  assert.equal(peer.tick(t + 100, 60_000, 30_000), false);
  assert.equal(peer.tick(t + 30_001, 60_000, 30_000), true);
  assert.equal(await peer.closed, 'not reading: send not drained');
  assert.ok(lines.some((l) => /has not read what we sent for \d+ ms: disconnecting/.test(l)));
});

test('provider refusals: the first is logged, the rest on the connection are counted, refused without asking for a second, summed at close', async () => {
  let asked = 0;
  const provider: ProviderPort = {
    receive: () => (asked++, { status: 'refused', reason: 'policy', detail: 'policy channel-peers: no open channel with this peer' }),
    retrieval: () => undefined,
    flush: () => undefined,
  };
  const { peer, r, lines } = await startPair(settings({ provideStorage: true }), { provider });
  for (let i = 0; i < 500; i++) await r.send(encodeMessage({ type: 7, name: 'peer_storage', blob: Uint8Array.of(i & 0xff) }));
  await r.send(pingMsg(0));
  // The sender hears why in one warning for the whole connection, then the pong.
  const w = await r.next();
  assert.ok(w && w !== 'timeout' && w.name === 'warning');
  assert.equal(Buffer.from((w as any).data).toString('utf8'), 'peer_storage refused (policy): policy channel-peers: no open channel with this peer');
  const m = await r.next();
  assert.ok(m && m !== 'timeout' && m.name === 'pong');
  assert.equal(asked, 1, 'refused again without a lookup within the hold');
  assert.equal(lines.filter((l) => /peer_storage 1 bytes: refused/.test(l)).length, 1);
  peer.close('done');
  assert.equal(lines.filter((l) => /on this connection: 499 more peer_storage refused/.test(l)).length, 1);
});

test('init with every feature bit set: logged as a count and the known names, in one short line, cheaply', async () => {
  const [a, b] = pipe(PUB_A, PUB_B);
  const lines: string[] = [];
  const peer = new Peer(a, true, settings(), { codec: wireCodec, log: logger(lines), now: Date.now });
  const all = new Uint8Array(65000).fill(0xff);
  // init: type 16, gflen 0, flen, features; no TLVs.
  const init = Buffer.concat([Buffer.from([0, 16, 0, 0, 65000 >> 8, 65000 & 0xff]), all]);
  await b.send(init);
  await peer.start();
  const line = lines.find((l) => /connection active/.test(l))!;
  assert.match(line, /connection active, 520000 feature bits \(option_data_loss_protect, .*option_provide_storage.*\), provides storage$/);
  assert.ok(Buffer.byteLength(line) <= 1024, `${Buffer.byteLength(line)} bytes`);
  assert.ok(lines.every((l) => Buffer.byteLength(l) <= 1024));
  assert.equal(peer.features.size, 1024, 'bits kept by number stop at 1023');
  peer.close('done');
});

test('the codec keeps the last pong it built: the same bytes for the same length, a new pong for another', () => {
  const full = wireCodec.pong(65531);
  assert.equal(full.length, 65535);
  assert.deepEqual([...full.subarray(0, 4)], [0, 19, 0xff, 0xfb]); // type 19, byteslen 65531
  assert.equal(full.subarray(4).every((b) => b === 0), true);
  assert.equal(wireCodec.pong(65531), full); // not rebuilt
  const small = wireCodec.pong(3);
  assert.deepEqual([...small], [0, 19, 0, 3, 0, 0, 0]);
  const decoded = decodeMessage(wireCodec.pong(65531));
  assert.equal(decoded.name, 'pong');
  assert.notEqual(wireCodec.pong(65531), full); // rebuilt after another length, equal bytes
  assert.deepEqual(wireCodec.pong(65531), full);
});

test('consumer: a refusal on record is known before the peer is active, so nothing lists it as accepting meanwhile', async () => {
  const { consumer, sent } = fakeConsumer(OWN, () => ({ status: 'confirmed', seq: 5n }));
  let release: (() => void) | undefined;
  const lookedUp = new Promise<void>((resolve) => {
    consumer.onInit = async () => {
      resolve();
      await new Promise<void>((r) => (release = r));
      return { refused: 'peer_storage refused (policy): no channel' };
    };
  });
  const [a, b] = pipe(PUB_A, PUB_B);
  const lines: string[] = [];
  const peer = new Peer(a, true, settings({ retrievalTimeoutMs: 50 }), { codec: wireCodec, log: logger(lines), now: Date.now, consumer });
  const r = raw(b);
  await r.send(encodeMessage(initMessage({ features: [43], networks: [CHAIN_HASH.regtest] })));
  const started = peer.start();
  await lookedUp;
  assert.equal(peer.state, 'init', 'not active while its refusal is looked up');
  release!();
  await started;
  assert.equal(peer.state, 'active');
  assert.equal(peer.refused, 'peer_storage refused (policy): no channel');
  const theirInit = await r.next();
  assert.ok(theirInit && theirInit !== 'timeout' && theirInit.name === 'init');
  // Past the retrieval wait: a peer that refused before with the same features is not sent our blob.
  assert.equal(await r.next(300), 'timeout');
  assert.deepEqual(sent, []);
  assert.ok(lines.some((l) => l.includes('refused our backup before (peer_storage refused (policy): no channel)')));
  peer.close('done');
});
