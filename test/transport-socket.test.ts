// The transport over real sockets on 127.0.0.1: handshakes both ways, 1,200 messages each way at
// once across key rotation, split writes, failures that close one socket only, timeouts, and
// backpressure. Every wait is bounded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket, type AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { publicKeyOf } from '../src/core/keys.js';
import {
  acceptPeer,
  adoptAccepted,
  connectPeer,
  InitiatorHandshake,
  TransportError,
  type MessageDecryptor,
  type MessageEncryptor,
  type PeerConnection,
} from '../src/core/transport/index.js';
import { MAX_FRAME_SIZE, SHARED_READ_SIZE } from '../src/core/transport/cipher.js';

const HOST = '127.0.0.1';

/** Reject if `p` takes longer than `ms`: no test can hang. */
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

interface Node {
  secret: Uint8Array;
  pubkey: Uint8Array;
  server: Server;
  port: number;
  /** Accepted connections, or the errors of failed handshakes, in arrival order. */
  accepted: Array<Promise<PeerConnection>>;
  nextAccepted(): Promise<PeerConnection>;
  close(): Promise<void>;
}

async function startNode(opts: { timeoutMs?: number; highWaterMark?: number; adopt?: boolean } = {}): Promise<Node> {
  const { adopt, ...peerOpts } = opts;
  const secret = randomBytes(32);
  const accepted: Array<Promise<PeerConnection>> = [];
  const waiters: Array<(p: Promise<PeerConnection>) => void> = [];
  const sockets = new Set<Socket>();
  // adopt: accepted sockets read into the transport's buffers (adoptAccepted), as lnps serve does.
  const server = createServer({ pauseOnConnect: adopt === true }, (incoming) => {
    const socket = adopt ? adoptAccepted(incoming) : incoming;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    const p = acceptPeer(socket, { localSecret: secret, ...peerOpts });
    p.catch(() => {}); // observed by the test through `accepted`
    const w = waiters.shift();
    if (w) w(p);
    else accepted.push(p);
  });
  await new Promise<void>((r) => server.listen(0, HOST, r));
  const port = (server.address() as AddressInfo).port;
  return {
    secret,
    pubkey: publicKeyOf(secret),
    server,
    port,
    accepted,
    nextAccepted: () => {
      const p = accepted.shift();
      return p ?? new Promise<PeerConnection>((resolve, reject) => waiters.push((q) => q.then(resolve, reject)));
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

async function pair(a: Node, b: Node): Promise<[PeerConnection, PeerConnection]> {
  const out = connectPeer({ host: HOST, port: b.port, localSecret: a.secret, remotePubkey: b.pubkey, timeoutMs: 3000 });
  const [x, y] = await within(Promise.all([out, b.nextAccepted()]), 5000, 'handshake');
  return [x, y];
}

function expectCode(code: string) {
  return (err: unknown) => {
    assert.ok(err instanceof TransportError, `expected TransportError, got ${String(err)}`);
    assert.equal(err.code, code);
    return true;
  };
}

test('a real handshake over loopback, both ways: keys authenticated, messages flow, close is seen', async () => {
  const a = await startNode();
  const b = await startNode();
  try {
    for (const [from, to] of [
      [a, b],
      [b, a],
    ] as const) {
      const [out, inc] = await pair(from, to);
      assert.deepEqual(out.remotePubkey, to.pubkey);
      assert.deepEqual(inc.remotePubkey, from.pubkey);
      assert.equal(out.initiator, true);
      assert.equal(inc.initiator, false);
      await out.send(Buffer.from('ping from initiator'));
      await inc.send(Buffer.from('pong from responder'));
      assert.equal(Buffer.from((await within(inc.read(), 2000, 'read'))!).toString(), 'ping from initiator');
      assert.equal(Buffer.from((await within(out.read(), 2000, 'read'))!).toString(), 'pong from responder');
      const closedReason = new Promise<Error | undefined>((r) => inc.once('close', r));
      await within(out.close(), 3000, 'close');
      assert.equal(await within(inc.read(), 2000, 'read after close'), null);
      assert.equal(await within(closedReason, 2000, 'close event'), undefined);
      assert.equal(out.closeReason, undefined);
      await assert.rejects(out.send(Uint8Array.of(1)), expectCode('CLOSED'));
    }
  } finally {
    await a.close();
    await b.close();
  }
});

test('1,200 messages each way at the same time cross key rotation in both directions', async () => {
  const a = await startNode();
  const b = await startNode();
  try {
    const [x, y] = await pair(a, b);
    const N = 1200;
    const make = (tag: number) =>
      Array.from({ length: N }, (_, i) => {
        const m = randomBytes(3 + ((i * 131) % 900));
        m[0] = tag;
        m.writeUInt16BE(i, 1);
        return m;
      });
    const fromX = make(1);
    const fromY = make(2);
    const sendAll = async (c: PeerConnection, msgs: Buffer[]) => {
      for (const m of msgs) await c.send(m);
    };
    const readAll = async (c: PeerConnection) => {
      const got: Uint8Array[] = [];
      while (got.length < N) {
        const m = await c.read();
        if (m === null) break;
        got.push(m);
      }
      return got;
    };
    const [, , gotY, gotX] = await within(
      Promise.all([sendAll(x, fromX), sendAll(y, fromY), readAll(y), readAll(x)]),
      20_000,
      '1,200 messages each way',
    );
    assert.equal(gotY.length, N);
    assert.equal(gotX.length, N);
    for (let i = 0; i < N; i++) {
      assert.ok(Buffer.from(gotY[i]!).equals(fromX[i]!), `x→y message ${i}`);
      assert.ok(Buffer.from(gotX[i]!).equals(fromY[i]!), `y→x message ${i}`);
    }
    // Both still work after the rotations (the 1,201st message each way).
    await x.send(Uint8Array.of(9));
    await y.send(Uint8Array.of(8));
    assert.deepEqual(await within(y.read(), 2000, 'read'), Uint8Array.of(9));
    assert.deepEqual(await within(x.read(), 2000, 'read'), Uint8Array.of(8));
    x.destroy();
    y.destroy();
  } finally {
    await a.close();
    await b.close();
  }
});

/** A hand-driven initiator on a raw socket, so tests control how bytes are cut into writes. */
async function rawInitiator(
  to: Node,
  secret = randomBytes(32),
): Promise<{ socket: Socket; enc: MessageEncryptor; dec: MessageDecryptor; actThree: Uint8Array }> {
  const hs = new InitiatorHandshake({ localSecret: secret, remotePubkey: to.pubkey });
  const socket = connect({ host: HOST, port: to.port, noDelay: true });
  await new Promise<void>((r, j) => socket.once('connect', r).once('error', j));
  const act1 = hs.actOne();
  // Act one in two writes, far apart: the responder must wait for all 50 bytes.
  socket.write(act1.subarray(0, 7));
  await sleep(20);
  socket.write(act1.subarray(7));
  const act2 = await new Promise<Buffer>((resolve) => {
    let buf = Buffer.alloc(0);
    const onData = (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      if (buf.length >= 50) {
        socket.off('data', onData);
        socket.pause();
        resolve(buf);
      }
    };
    socket.on('data', onData);
  });
  assert.equal(act2.length, 50, 'act two arrives alone, in one piece');
  const { actThree, result } = hs.readActTwo(act2);
  return { socket, enc: result.keys.encryptor(), dec: result.keys.decryptor(), actThree };
}

test('split writes: act three and frames cut into many pieces decode as whole messages', async () => {
  const b = await startNode();
  try {
    const { socket, enc, actThree } = await rawInitiator(b);
    const msgs = [Buffer.from('first'), randomBytes(1000), Buffer.alloc(0), Buffer.from('last')];
    const stream = Buffer.concat([actThree, ...msgs.map((m) => enc.encrypt(m))]);
    // Cut points: every byte of act three and the first frame, then bigger pieces.
    const cuts: number[] = [];
    for (let i = 1; i < 66 + 23 + 5; i++) cuts.push(i);
    for (let i = 100; i < stream.length; i += 97) cuts.push(i);
    cuts.push(stream.length);
    let prev = 0;
    for (const c of cuts) {
      socket.write(stream.subarray(prev, c));
      prev = c;
      if (c % 11 === 0) await sleep(1); // let some pieces arrive as separate reads
    }
    const conn = await within(b.nextAccepted(), 3000, 'accept');
    for (const m of msgs) assert.ok(Buffer.from((await within(conn.read(), 2000, 'read'))!).equals(m));
    conn.destroy();
    socket.destroy();
  } finally {
    await b.close();
  }
});

test('a first message in the same write as act three is not lost', async () => {
  const b = await startNode();
  try {
    const { socket, enc, actThree } = await rawInitiator(b);
    socket.write(Buffer.concat([actThree, enc.encrypt(Buffer.from('init right behind act three'))]));
    const conn = await within(b.nextAccepted(), 3000, 'accept');
    assert.equal(Buffer.from((await within(conn.read(), 2000, 'read'))!).toString(), 'init right behind act three');
    conn.destroy();
    socket.destroy();
  } finally {
    await b.close();
  }
});

test('a wrong remote key fails that handshake only: a second peer on the same server keeps working', async () => {
  const a = await startNode();
  const b = await startNode();
  try {
    const [good, goodIn] = await pair(a, b);
    const wrong = publicKeyOf(randomBytes(32));
    await assert.rejects(
      within(connectPeer({ host: HOST, port: b.port, localSecret: a.secret, remotePubkey: wrong, timeoutMs: 3000 }), 5000, 'bad'),
      expectCode('ACT2_READ_FAILED'), // the responder hangs up without a word, as the spec requires
    );
    await assert.rejects(within(b.nextAccepted(), 3000, 'failed accept'), expectCode('ACT1_BAD_TAG'));
    await good.send(Buffer.from('still here'));
    assert.equal(Buffer.from((await within(goodIn.read(), 2000, 'read'))!).toString(), 'still here');
    assert.equal(goodIn.isClosed, false);
    good.destroy();
    goodIn.destroy();
  } finally {
    await a.close();
    await b.close();
  }
});

test('a tampered frame after the handshake: earlier messages are delivered, then null with MSG_BAD_TAG', async () => {
  const b = await startNode();
  try {
    const { socket, enc, actThree } = await rawInitiator(b);
    const good = enc.encrypt(Buffer.from('good'));
    const bad = enc.encrypt(Buffer.from('tampered'));
    bad[bad.length - 1]! ^= 0x80;
    socket.write(Buffer.concat([actThree, good, bad]));
    const conn = await within(b.nextAccepted(), 3000, 'accept');
    const closed = new Promise<Error | undefined>((r) => conn.once('close', r));
    assert.equal(Buffer.from((await within(conn.read(), 2000, 'read'))!).toString(), 'good');
    assert.equal(await within(conn.read(), 2000, 'read'), null);
    const reason = await within(closed, 2000, 'close');
    expectCode('MSG_BAD_TAG')(reason);
    // The server socket is gone: the attacker's side sees the close.
    await within(new Promise((r) => (socket.destroyed ? r(null) : socket.once('close', r).resume())), 2000, 'peer closed');
  } finally {
    await b.close();
  }
});

test('timeouts and refused connections fail cleanly with typed errors', async () => {
  const b = await startNode({ timeoutMs: 200 });
  // A server that accepts and never answers.
  const silent = createServer(() => {});
  const silentSockets: Socket[] = [];
  silent.on('connection', (s) => silentSockets.push(s));
  await new Promise<void>((r) => silent.listen(0, HOST, r));
  try {
    // An initiator that connects and sends nothing: the responder gives up.
    const idle = connect({ host: HOST, port: b.port });
    idle.on('error', () => {});
    const t0 = Date.now();
    await assert.rejects(within(b.nextAccepted(), 3000, 'idle accept'), expectCode('HANDSHAKE_TIMEOUT'));
    assert.ok(Date.now() - t0 < 2000);
    await within(new Promise((r) => idle.once('close', r).resume()), 2000, 'idle socket closed by server');

    const port = (silent.address() as AddressInfo).port;
    await assert.rejects(
      within(connectPeer({ host: HOST, port, localSecret: randomBytes(32), remotePubkey: b.pubkey, timeoutMs: 200 }), 3000, 'silent'),
      expectCode('HANDSHAKE_TIMEOUT'),
    );

    // A port with no listener: close the silent server first, then dial its port.
    for (const s of silentSockets) s.destroy();
    await new Promise<void>((r) => silent.close(() => r()));
    await assert.rejects(
      within(connectPeer({ host: HOST, port, localSecret: randomBytes(32), remotePubkey: b.pubkey, timeoutMs: 2000 }), 3000, 'refused'),
      expectCode('CONNECT_FAILED'),
    );
  } finally {
    if (silent.listening) silent.close();
    await b.close();
  }
});

for (const adopt of [false, true]) test(`backpressure${adopt ? ' (adopted socket)' : ''}: a reader that stops reading leaves send() pending; memory stays bounded`, async () => {
  const hwm = 256 * 1024;
  const a = await startNode();
  const b = await startNode({ highWaterMark: hwm, adopt });
  try {
    const [x, y] = await pair(a, b);
    const msg = randomBytes(65535);
    let sent = 0;
    let stalled = false;
    // Send until one send() stays pending for 300 ms; bounded at 400 messages (26 MB).
    for (let i = 0; i < 400; i++) {
      const p = x.send(msg);
      const r = await Promise.race([p.then(() => 'ok' as const), sleep(300).then(() => 'pending' as const)]);
      sent++;
      if (r === 'pending') {
        stalled = true;
        // While stalled, the receiver holds a bounded amount: hwm + one frame + one socket read
        // (64 KiB through 'data' events, the shared read buffer's four frames when adopted).
        assert.ok(y.bufferedBytes <= hwm + MAX_FRAME_SIZE + (adopt ? SHARED_READ_SIZE : 65536), `receiver buffers ${y.bufferedBytes} bytes`);
        // Now read everything; the pending send completes.
        let got = 0;
        const reader = (async () => {
          while (got < sent) {
            const m = await y.read();
            assert.ok(m !== null);
            assert.equal(m.length, 65535);
            got++;
          }
        })();
        await within(p, 10_000, 'pending send after reading resumed');
        await within(reader, 10_000, 'reader');
        assert.equal(got, sent);
        break;
      }
    }
    assert.ok(stalled, `send() never stalled in ${sent} messages of 64 KiB`);
    assert.ok(sent < 400);
    x.destroy();
    y.destroy();
  } finally {
    await a.close();
    await b.close();
  }
});

test('misuse is a RangeError/TypeError; destroy(reason) reaches the close event; a pending read gets null', async () => {
  const a = await startNode();
  const b = await startNode();
  try {
    await assert.rejects(
      connectPeer({ host: HOST, port: b.port, localSecret: a.secret, remotePubkey: new Uint8Array(32) }),
      RangeError,
    );
    await assert.rejects(
      connectPeer({ host: HOST, port: b.port, localSecret: a.secret, remotePubkey: b.pubkey, timeoutMs: -1 }),
      RangeError,
    );
    const [x, y] = await pair(a, b);
    await assert.rejects(x.send(new Uint8Array(65536)), RangeError);
    await assert.rejects(x.send('text' as unknown as Uint8Array), TypeError);
    // The failed sends used no nonce: the next message still decrypts.
    await x.send(Uint8Array.of(42));
    assert.deepEqual(await within(y.read(), 2000, 'read'), Uint8Array.of(42));
    const pending = y.read();
    const yClosed = new Promise<Error | undefined>((r) => y.once('close', r));
    const xClosed = new Promise<Error | undefined>((r) => x.once('close', r));
    const why = new Error('peer sent an unknown even message');
    x.destroy(why);
    assert.equal(await within(xClosed, 2000, 'x close'), why);
    assert.equal(x.closeReason, why);
    assert.equal(await within(pending, 2000, 'pending read'), null);
    await within(yClosed, 2000, 'y close');
    assert.equal(y.isClosed, true);
  } finally {
    await a.close();
    await b.close();
  }
});
