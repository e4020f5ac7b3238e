// Hostile peers against the transport over real sockets: attackers connect from 127.0.0.2, the
// well-behaved peer from 127.0.0.1. What one connection can make the node hold is bounded, and
// a flood of replayed act ones does not keep a good peer from its handshake. Every loop is
// bounded in count and time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { publicKeyOf } from '../src/core/keys.js';
import {
  acceptPeer,
  connectPeer,
  InitiatorHandshake,
  LocalKey,
  MAX_QUEUED_MESSAGES,
  ACT_TWO_SIZE,
  type PeerConnection,
} from '../src/core/transport/index.js';

const HOST = '127.0.0.1';
const ATTACKER = '127.0.0.2';
const MiB = 2 ** 20;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms);
    }),
  ]);
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Listener {
  server: Server;
  port: number;
  pubkey: Uint8Array;
  secret: Uint8Array;
  /** Accepted connections in order; failed handshakes counted by error code. */
  peers: PeerConnection[];
  failures: Map<string, number>;
  nextPeer(): Promise<PeerConnection>;
  close(): Promise<void>;
}

async function listen(timeoutMs = 20_000): Promise<Listener> {
  const secret = randomBytes(32);
  const localKey = new LocalKey(secret); // once per node, as serve does
  const peers: PeerConnection[] = [];
  const failures = new Map<string, number>();
  const waiters: ((p: PeerConnection) => void)[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    acceptPeer(socket, { localSecret: localKey, timeoutMs }).then(
      (p) => {
        const w = waiters.shift();
        if (w) w(p);
        else peers.push(p);
      },
      (err: { code?: string }) => failures.set(err.code ?? '?', (failures.get(err.code ?? '?') ?? 0) + 1),
    );
  });
  await new Promise<void>((r) => server.listen(0, HOST, r));
  return {
    server,
    port: (server.address() as AddressInfo).port,
    pubkey: publicKeyOf(secret),
    secret,
    peers,
    failures,
    nextPeer: () => {
      const p = peers.shift();
      return p ? Promise.resolve(p) : new Promise((r) => waiters.push(r));
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** A raw socket from the attacker's address, connected. */
function attackerSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: HOST, port, localAddress: ATTACKER });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

/** Heap plus off-heap buffers, after a full collection. */
function liveBytes(): number {
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

test('a flood of tiny messages at a reader that does not read: memory stays bounded, nothing is lost', async () => {
  const node = await listen();
  let sock: Socket | undefined;
  try {
    // The attacker runs the handshake by hand over a socket from 127.0.0.2, then writes frames
    // as fast as the socket takes them (it never reads).
    sock = await attackerSocket(node.port);
    const hs = new InitiatorHandshake({ localSecret: randomBytes(32), remotePubkey: node.pubkey });
    const actTwo = new Promise<Buffer>((resolve) => {
      let buf = Buffer.alloc(0);
      const onData = (c: Buffer) => {
        buf = Buffer.concat([buf, c]);
        if (buf.length >= ACT_TWO_SIZE) {
          sock!.off('data', onData);
          resolve(buf);
        }
      };
      sock!.on('data', onData);
    });
    sock.write(hs.actOne());
    const { actThree, result } = hs.readActTwo(await within(actTwo, 10_000, 'act two'));
    sock.write(actThree);
    const victim = await within(node.nextPeer(), 10_000, 'accepted');
    const enc = result.keys.encryptor();
    const msg = Uint8Array.of(0, 18); // 2 bytes: the smallest message with a type
    const baseRss = process.memoryUsage().rss;
    const baseLive = liveBytes();

    // Up to 400,000 messages (14 MB on the wire; with 400 bytes of heap each, 150 MiB if they
    // were all queued), in batches of 2,000 frames; stop once the socket stays blocked 1.5 s.
    const MAX = 400_000;
    let sent = 0;
    let blocked = false;
    const t0 = performance.now();
    while (sent < MAX && performance.now() - t0 < 30_000) {
      const frames: Buffer[] = [];
      for (let i = 0; i < 2000; i++) frames.push(enc.encrypt(msg));
      sent += frames.length;
      if (!sock.write(Buffer.concat(frames))) {
        const drained = await Promise.race([
          new Promise<boolean>((r) => sock!.once('drain', () => r(true))),
          sleep(1500).then(() => false),
        ]);
        if (!drained) {
          blocked = true;
          break;
        }
      }
    }
    assert.ok(blocked, `the node never stopped reading the flood (${sent} messages sent)`);
    await sleep(300);
    const rssGrowth = process.memoryUsage().rss - baseRss;
    const liveGrowth = liveBytes() - baseLive;
    // The transport's own account: queue at its caps, the rest still encrypted or in the kernel.
    assert.ok(victim.bufferedBytes <= 512 * 1024 + 65535 + 65569 + 65536, `buffered ${victim.bufferedBytes}`);
    assert.ok(liveGrowth < 8 * MiB, `live memory grew by ${(liveGrowth / MiB).toFixed(1)} MiB`);
    assert.ok(rssGrowth < 64 * MiB, `RSS grew by ${(rssGrowth / MiB).toFixed(1)} MiB`);

    // Backpressure, not loss: reading resumes the flow and every message arrives intact.
    sock.end();
    let got = 0;
    const reader = (async () => {
      for (;;) {
        const m = await victim.read();
        if (m === null) return;
        assert.deepEqual(m, msg);
        got++;
      }
    })();
    await within(reader, 60_000, 'draining the flood');
    assert.equal(got, sent);
    assert.equal(victim.closeReason, undefined);
  } finally {
    sock?.destroy();
    await node.close();
  }
});

test('the receive queue holds at most MAX_QUEUED_MESSAGES, whatever highWaterMark says', async () => {
  const secret = randomBytes(32);
  let resolveIn!: (p: PeerConnection) => void;
  const incoming = new Promise<PeerConnection>((r) => (resolveIn = r));
  const server = createServer((s) => void acceptPeer(s, { localSecret: secret, highWaterMark: 64 * MiB }).then(resolveIn, () => {}));
  await new Promise<void>((r) => server.listen(0, HOST, r));
  const port = (server.address() as AddressInfo).port;
  const out = await connectPeer({ host: HOST, port, localSecret: randomBytes(32), remotePubkey: publicKeyOf(secret), timeoutMs: 10_000 });
  try {
    const inc = await within(incoming, 10_000, 'accepted');
    // 3 × the cap in empty messages, sent without waiting; then an end marker.
    const n = 3 * MAX_QUEUED_MESSAGES;
    const sends: Promise<void>[] = [];
    for (let i = 0; i < n; i++) sends.push(out.send(new Uint8Array(0)));
    const done = Promise.all(sends);
    await sleep(500);
    // 0-byte messages: the charge is MESSAGE_OVERHEAD each, far below 64 MiB; the count caps.
    assert.equal(inc.queuedMessages, MAX_QUEUED_MESSAGES);
    let got = 0;
    while (got < n) {
      const m = await within(inc.read(), 10_000, 'read');
      assert.ok(m !== null);
      assert.equal(m.length, 0);
      got++;
    }
    await within(done, 10_000, 'sends');
    assert.equal(got, n);
  } finally {
    out.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  }
});

test('under a flood of 300 replayed act ones from 127.0.0.2, a good peer from 127.0.0.1 completes its handshake', async () => {
  const node = await listen();
  const attackers: Socket[] = [];
  try {
    // One act one recorded from a real initiator: it authenticates every time it is replayed.
    const recorded = new InitiatorHandshake({ localSecret: randomBytes(32), remotePubkey: node.pubkey }).actOne();
    const REPLAYS = 300;
    let actTwos = 0;
    const replays = Array.from({ length: REPLAYS }, () =>
      attackerSocket(node.port).then(
        (s) =>
          new Promise<void>((resolve) => {
            attackers.push(s);
            let n = 0;
            s.on('data', (c: Buffer) => {
              n += c.length;
              if (n >= ACT_TWO_SIZE) {
                actTwos++;
                s.destroy(); // never sends act three
              }
            });
            s.on('error', () => {});
            s.on('close', () => resolve());
            s.write(recorded);
          }),
        () => undefined, // a refused attacker socket is fine
      ),
    );
    // The good peer starts while the flood is in flight.
    await sleep(20);
    const t0 = performance.now();
    const good = await within(
      connectPeer({ host: HOST, port: node.port, localSecret: randomBytes(32), remotePubkey: node.pubkey, timeoutMs: 20_000 }),
      20_000,
      'the good peer handshake',
    );
    const ms = performance.now() - t0;
    assert.deepEqual(good.remotePubkey, node.pubkey);
    const accepted = await within(node.nextPeer(), 5000, 'accepted');
    assert.equal(accepted.remoteAddress, HOST);
    // Messages flow on the good connection.
    await good.send(Uint8Array.of(0, 18, 0, 0));
    assert.deepEqual(await within(accepted.read(), 5000, 'read'), Uint8Array.of(0, 18, 0, 0));
    await within(Promise.all(replays), 30_000, 'replays');
    // Replays authenticate (act one has no freshness of its own), get an act two each, and fail
    // when act three never comes; none became a connection.
    assert.equal(actTwos, REPLAYS);
    assert.equal(node.peers.length, 0);
    for (let i = 0; i < 50 && (node.failures.get('ACT3_READ_FAILED') ?? 0) < REPLAYS; i++) await sleep(100);
    assert.equal(node.failures.get('ACT3_READ_FAILED'), REPLAYS);
    process.stderr.write(`# good peer handshake under ${REPLAYS} replays: ${ms.toFixed(0)} ms\n`);
    good.destroy();
  } finally {
    for (const s of attackers) s.destroy();
    await node.close();
  }
});
