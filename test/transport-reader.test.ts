// Reading into the transport's own buffers (Node's `onread`): the decryptor's readBuffer()/
// wrote() pair against a simulated socket that reads in arbitrary sizes and a shared buffer
// that other connections overwrite, and adoptAccepted() over real loopback sockets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import fc from 'fast-check';
import { toHex } from '../src/core/bytes.js';
import { MAX_FRAME_SIZE, MessageDecryptor, MessageEncryptor, SHARED_READ_SIZE, SMALL_READ_SIZE, sharedReadBuffer } from '../src/core/transport/cipher.js';
import { acceptPeer, adoptAccepted, connectPeer, readRouteOf, type PeerConnection } from '../src/core/transport/index.js';
import { publicKeyOf } from '../src/core/keys.js';
import { HANDSHAKE_READ_SIZE } from '../src/core/transport/peer.js';

const HOST = '127.0.0.1';
const KEY = randomBytes(32);
const CK = randomBytes(32);

function stream(sizes: number[]): { bytes: Buffer; messages: string[] } {
  const enc = new MessageEncryptor(KEY, CK);
  const frames: Buffer[] = [];
  const messages: string[] = [];
  sizes.forEach((n, i) => {
    const m = Buffer.alloc(n, i & 255);
    if (n >= 2) m.writeUInt16BE(i & 0xffff, 0);
    messages.push(toHex(m));
    frames.push(enc.encrypt(m));
  });
  return { bytes: Buffer.concat(frames), messages };
}

/**
 * Feed `bytes` the way a socket with `onread` does: each read goes into the buffer readBuffer()
 * chose after the previous read, takes at most `reads[i]` bytes (and what the buffer holds), and
 * then the shared buffer is overwritten, as another connection's read would. `pauses[i]` > 0
 * decrypts only that many messages after read i (the reader's queue filled and the socket
 * paused); the rest is decrypted before the next read, as a resumed socket does.
 */
function feed(bytes: Buffer, reads: number[], pauses: number[]): { out: string[]; maxPending: number } {
  const dec = new MessageDecryptor(KEY, CK);
  const out: string[] = [];
  let maxPending = 0;
  let region = dec.readBuffer();
  let off = 0;
  let i = 0;
  const drain = (limit: number) => {
    for (let k = 0; k < limit; k++) {
      const m = dec.next();
      if (m === undefined) return;
      out.push(toHex(m));
    }
  };
  while (off < bytes.length) {
    assert.ok(region.length > 0, 'never an empty read buffer');
    const n = Math.min(bytes.length - off, region.length, Math.max(1, reads[i % reads.length]!));
    bytes.copy(region, 0, off, off + n);
    off += n;
    dec.wrote(region, n);
    const pause = pauses[i % pauses.length]!;
    drain(pause > 0 ? pause : Infinity);
    maxPending = Math.max(maxPending, dec.bufferedBytes);
    const held = dec.bufferedBytes;
    region = dec.readBuffer();
    // More than a frame waiting undecrypted (a stopped reader): the next read is 64 KiB at most.
    if (held > MAX_FRAME_SIZE) assert.ok(region.length <= SMALL_READ_SIZE, `read of ${region.length} with ${held} bytes pending`);
    sharedReadBuffer().fill(0xee); // another socket's read
    if (pause > 0) drain(Infinity); // resumed
    i++;
  }
  assert.equal(dec.next(), undefined);
  assert.ok(dec.atBoundary);
  return { out, maxPending };
}

const FULL = 65535;

test('reads into our own buffers: every chunking and pause pattern gives the same messages, and pending bytes stay within one frame plus one read', () => {
  const sizes = [FULL, 0, 1, FULL, 300, 65000, FULL, FULL, 5, 40000, FULL, 2, FULL];
  const { bytes, messages } = stream(sizes);
  // Reads the size of the whole frame, of the kernel's usual 64 KiB, of the shared buffer, and odd sizes.
  for (const reads of [[MAX_FRAME_SIZE], [65536], [SHARED_READ_SIZE], [1], [17, 18, 19], [70000], [200000], [65568, 1, 2]]) {
    const r = feed(bytes, reads, [0]);
    assert.deepEqual(r.out, messages, `reads ${reads.join(',')}`);
  }
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 1, max: SHARED_READ_SIZE + 1000 }), { minLength: 1, maxLength: 12 }),
      fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 5 }),
      (reads, pauses) => {
        const r = feed(bytes, reads, pauses);
        assert.deepEqual(r.out, messages);
        assert.ok(r.maxPending <= MAX_FRAME_SIZE + SHARED_READ_SIZE, `pending ${r.maxPending}`);
      },
    ),
    { numRuns: 60 },
  );
});

/**
 * A flood of `count` full frames read `kernel` bytes at a time (what the kernel had queued, at
 * most the buffer's room). Returns the messages, the reads made, and the receive buffers seen.
 */
function fullFlood(count: number, kernel: number): { out: string[]; messages: string[]; reads: number; rx: Set<ArrayBufferLike>; first: Uint8Array } {
  const { bytes, messages } = stream(Array.from({ length: count }, () => FULL));
  const dec = new MessageDecryptor(KEY, CK);
  const out: string[] = [];
  let region = dec.readBuffer();
  const first = region;
  let off = 0;
  let reads = 0;
  const rx = new Set<ArrayBufferLike>();
  while (off < bytes.length) {
    const n = Math.min(region.length, bytes.length - off, kernel);
    bytes.copy(region, 0, off, off + n);
    off += n;
    reads++;
    dec.wrote(region, n);
    for (let m = dec.next(); m !== undefined; m = dec.next()) out.push(toHex(m));
    region = dec.readBuffer();
    if (region.buffer !== sharedReadBuffer().buffer) rx.add(region.buffer);
    sharedReadBuffer().fill(0xee); // another socket's read
  }
  return { out, messages, reads, rx, first };
}

test('reads into our own buffers: a flood of full frames is read four frames at a time and decrypted where it landed', () => {
  assert.equal(SHARED_READ_SIZE, 4 * MAX_FRAME_SIZE);
  const f = fullFlood(21, Infinity);
  assert.equal(f.first.buffer, sharedReadBuffer().buffer, 'an idle connection reads into the shared buffer');
  assert.equal(f.first.length, SMALL_READ_SIZE, 'before any full-size message, 64 KiB');
  assert.deepEqual(f.out, f.messages);
  // The first frame: 64 KiB, then its rest in the receive buffer; then five reads of four.
  assert.equal(f.reads, 7);
  assert.equal(f.rx.size, 1, 'one receive buffer, for the first frame');
});

test('reads into our own buffers: when the kernel has less, the partial frame completes in one receive buffer and the next read is on a boundary', () => {
  // 100,000 bytes a read after the first frame: one whole frame and a partial one, then the
  // partial's rest, so two reads per two frames.
  const f = fullFlood(21, 100_000);
  assert.deepEqual(f.out, f.messages);
  assert.equal(f.rx.size, 1, 'one receive buffer for the whole flood');
  assert.equal(f.reads, 2 + 20);
});

test('reads into our own buffers: after small messages a read on a frame boundary stays at 64 KiB', () => {
  const sizes = [FULL, 2, 2, 100, FULL, 40000];
  const { bytes, messages } = stream(sizes);
  const dec = new MessageDecryptor(KEY, CK);
  const boundary: number[] = [];
  const out: string[] = [];
  let off = 0;
  // One frame at a time, as from a peer that waits between messages.
  for (const size of sizes) {
    const end = off + 18 + size + 16;
    while (off < end) {
      const region = dec.readBuffer();
      if (region.buffer === sharedReadBuffer().buffer) boundary.push(region.length);
      const n = Math.min(region.length, end - off);
      bytes.copy(region, 0, off, off + n);
      off += n;
      dec.wrote(region, n);
      for (let m = dec.next(); m !== undefined; m = dec.next()) out.push(toHex(m));
    }
  }
  assert.deepEqual(out, messages);
  // Reads on a frame boundary: before the first message, after it (full-size: four frames of
  // room), after each small one, after the second full-size one.
  assert.deepEqual(boundary, [SMALL_READ_SIZE, SHARED_READ_SIZE, SMALL_READ_SIZE, SMALL_READ_SIZE, SMALL_READ_SIZE, SHARED_READ_SIZE]);
});

test('reads into our own buffers: the receive buffer is kept after a large message and given back after a small one', () => {
  const { bytes, messages } = stream([FULL, FULL, 10, FULL]);
  const f1 = bytes.subarray(0, MAX_FRAME_SIZE);
  const f2 = bytes.subarray(MAX_FRAME_SIZE, 2 * MAX_FRAME_SIZE);
  const f3 = bytes.subarray(2 * MAX_FRAME_SIZE, 2 * MAX_FRAME_SIZE + 18 + 10 + 16);
  const f4 = bytes.subarray(2 * MAX_FRAME_SIZE + 18 + 10 + 16);
  const dec = new MessageDecryptor(KEY, CK);
  const out: string[] = [];
  const part = 65536; // what the kernel had when the read was made
  /** A large frame in two reads: `part` bytes into the shared buffer, the rest behind them. Returns the receive buffer used. */
  const large = (frame: Uint8Array): ArrayBufferLike => {
    const region = dec.readBuffer();
    assert.equal(region.buffer, sharedReadBuffer().buffer, 'on a frame boundary, reads go to the shared buffer');
    region.set(frame.subarray(0, part));
    dec.wrote(region, part);
    assert.equal(dec.next(), undefined);
    const rest = dec.readBuffer();
    assert.notEqual(rest.buffer, sharedReadBuffer().buffer, 'a partial frame moves to the receive buffer');
    // (the header was decrypted and dropped: the body's first bytes sit at the front)
    assert.equal(rest.length, MAX_FRAME_SIZE - (part - 18));
    rest.set(frame.subarray(part));
    dec.wrote(rest, frame.length - part);
    out.push(toHex(dec.next()!));
    return rest.buffer;
  };
  const rx1 = large(f1);
  assert.equal(large(f2), rx1, 'kept after a large message');
  // The small one arrives alone (a short read): the receive buffer goes.
  const region = dec.readBuffer();
  region.set(f3);
  dec.wrote(region, f3.length);
  out.push(toHex(dec.next()!));
  assert.notEqual(large(f4), rx1, 'given back after a small message: the next partial frame needs a new one');
  assert.deepEqual(out, messages);
});

test('reads into our own buffers: bytes pushed beyond one frame and left undecrypted survive reads into the shared buffer', () => {
  const { bytes, messages } = stream([FULL, FULL, FULL]);
  const dec = new MessageDecryptor(KEY, CK);
  dec.push(bytes.subarray(0, MAX_FRAME_SIZE + 100)); // more than a frame, none decrypted yet
  const shared = sharedReadBuffer();
  const region = dec.readBuffer();
  assert.equal(region.buffer, shared.buffer);
  assert.equal(region.length, SMALL_READ_SIZE);
  const rest = bytes.subarray(MAX_FRAME_SIZE + 100);
  let off = 0;
  let r = region;
  while (off < rest.length) {
    const n = Math.min(r.length, rest.length - off);
    rest.copy(r, 0, off, off + n);
    off += n;
    dec.wrote(r, n);
    r = dec.readBuffer();
    shared.fill(0x55);
  }
  const out: string[] = [];
  for (let m = dec.next(); m !== undefined; m = dec.next()) out.push(toHex(m));
  assert.deepEqual(out, messages);
});

test('reads into our own buffers: wrote() refuses a count beyond the buffer', () => {
  const dec = new MessageDecryptor(KEY, CK);
  const region = dec.readBuffer();
  assert.throws(() => dec.wrote(region, region.length + 1), RangeError);
  assert.throws(() => dec.wrote(region, -1), RangeError);
  assert.equal(dec.bufferedBytes, 0);
});

async function listenAdopting(secret: Uint8Array, opts: { highWaterMark?: number } = {}) {
  const accepted: PeerConnection[] = [];
  const adopted: Socket[] = [];
  const waiters: Array<(c: PeerConnection) => void> = [];
  const server = createServer({ pauseOnConnect: true }, (s) => {
    const socket = adoptAccepted(s);
    adopted.push(socket);
    socket.on('error', () => {});
    void acceptPeer(socket, { localSecret: secret, ...opts }).then((c) => {
      const w = waiters.shift();
      if (w) w(c);
      else accepted.push(c);
    }, () => {});
  });
  await new Promise<void>((r) => server.listen(0, HOST, r));
  const next = () => new Promise<PeerConnection>((resolve) => {
    const c = accepted.shift();
    if (c) resolve(c);
    else waiters.push(resolve);
  });
  return { server, port: (server.address() as AddressInfo).port, adopted, next };
}

test('adoptAccepted: an accepted socket moves onto our reads, and messages of every size flow both ways', async () => {
  const secret = randomBytes(32);
  const srv = await listenAdopting(secret);
  try {
    const [x, y] = await Promise.all([
      connectPeer({ host: HOST, port: srv.port, localSecret: randomBytes(32), remotePubkey: publicKeyOf(secret), timeoutMs: 3000 }),
      srv.next(),
    ]);
    assert.equal(srv.adopted.length, 1);
    assert.ok(readRouteOf(srv.adopted[0]!) !== undefined, 'the adopted socket reads through a route');
    const sizes = [0, 1, 2, 100, 4095, 4096, 65535, 65535, 30000, 65535, 7, 65534];
    const msgs = Array.from({ length: 120 }, (_, i) => randomBytes(sizes[i % sizes.length]!));
    const receive = async (c: PeerConnection) => {
      const got: string[] = [];
      for (let i = 0; i < msgs.length; i++) {
        const m = await c.read();
        assert.ok(m !== null, 'connection closed early');
        got.push(toHex(m));
      }
      return got;
    };
    const [gotY, gotX] = await Promise.all([
      receive(y),
      receive(x),
      (async () => {
        for (const m of msgs) await x.send(m);
      })(),
      (async () => {
        for (const m of msgs) await y.send(m);
      })(),
    ]);
    const want = msgs.map((m) => toHex(m));
    assert.deepEqual(gotY, want);
    assert.deepEqual(gotX, want);
    x.destroy();
    assert.equal(await y.read(), null);
    await y.closed;
  } finally {
    await new Promise<void>((r) => srv.server.close(() => r()));
  }
});

test('adoptAccepted: several connections streaming at once through the shared buffer keep their own bytes', async () => {
  const secret = randomBytes(32);
  const srv = await listenAdopting(secret);
  try {
    const conns = 4;
    const pairs = await Promise.all(
      Array.from({ length: conns }, async () => {
        const [x, y] = await Promise.all([
          connectPeer({ host: HOST, port: srv.port, localSecret: randomBytes(32), remotePubkey: publicKeyOf(secret), timeoutMs: 3000 }),
          srv.next(),
        ]);
        return { x, y };
      }),
    );
    // Each sender's messages carry its own fill byte, so a byte from another connection shows.
    await Promise.all(
      pairs.map(async ({ x, y }, k) => {
        const sizes = [65535, 1000, 65535, 3, 65000];
        const send = (async () => {
          for (let i = 0; i < 40; i++) await x.send(Buffer.alloc(sizes[i % sizes.length]!, k + 1));
        })();
        for (let i = 0; i < 40; i++) {
          const m = await y.read();
          assert.ok(m !== null);
          assert.equal(m.length, sizes[i % sizes.length]);
          assert.ok(m.every((b) => b === k + 1), `connection ${k}, message ${i}: foreign bytes`);
        }
        await send;
        x.destroy();
      }),
    );
  } finally {
    await new Promise<void>((r) => srv.server.close(() => r()));
  }
});

test('adoptAccepted: a socket it cannot take over comes back unchanged and is read through data events', async () => {
  const server = createServer({ pauseOnConnect: true }, (s) => {
    s.destroy();
    assert.equal(adoptAccepted(s), s, 'a destroyed socket is returned as it is');
    assert.equal(readRouteOf(s), undefined);
    server.close();
  });
  await new Promise<void>((r) => server.listen(0, HOST, r));
  const port = (server.address() as AddressInfo).port;
  const { connect } = await import('node:net');
  const c = connect(port, HOST);
  c.on('error', () => {});
  await new Promise<void>((r) => server.on('close', () => r()));
  c.destroy();
});

test('adoptAccepted: before the peer is authenticated a read takes at most HANDSHAKE_READ_SIZE bytes; after, 64 KiB, and four frames once full-size messages come', async () => {
  const secret = randomBytes(32);
  const srv = await listenAdopting(secret);
  let raw: Socket | undefined;
  try {
    // A client that connects and sends nothing: the responder waits for act one.
    raw = await new Promise<Socket>((resolve, reject) => {
      const s = connect({ host: HOST, port: srv.port }, () => resolve(s));
      s.on('error', reject);
    });
    for (let i = 0; i < 200 && srv.adopted.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(srv.adopted.length, 1);
    const route = readRouteOf(srv.adopted[0]!)!;
    assert.equal(route.onread.buffer().length, HANDSHAKE_READ_SIZE);
    raw.destroy();
    // An authenticated connection between frames reads into the whole shared buffer.
    const [x, y] = await Promise.all([
      connectPeer({ host: HOST, port: srv.port, localSecret: randomBytes(32), remotePubkey: publicKeyOf(secret), timeoutMs: 3000 }),
      srv.next(),
    ]);
    const authed = readRouteOf(srv.adopted[1]!)!;
    assert.equal(authed.onread.buffer().length, SMALL_READ_SIZE);
    await x.send(new Uint8Array(65535));
    assert.equal((await y.read())!.length, 65535);
    assert.equal(authed.onread.buffer().length, SHARED_READ_SIZE, 'after a full-size message, four frames');
    x.destroy();
    y.destroy();
  } finally {
    raw?.destroy();
    await new Promise<void>((r) => srv.server.close(() => r()));
  }
});
