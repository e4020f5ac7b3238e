// BOLT #8 Appendix A vectors (test/vectors/bolt8.json) with the ephemeral keys injected,
// plus the pure message cipher: rotation per direction, split reads, tampering.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import fc from 'fast-check';
import { publicKeyOf } from '../src/core/keys.js';
import { fromHex, toHex } from '../src/core/bytes.js';
import {
  InitiatorHandshake,
  ResponderHandshake,
  LocalKey,
  MessageDecryptor,
  MessageEncryptor,
  SessionKeys,
  TransportError,
} from '../src/core/transport/index.js';

interface Act {
  input?: string;
  output?: string;
  error?: string;
}
interface HandshakeVector {
  name: string;
  keys: Record<string, string>;
  acts: Record<string, Act>;
  final_keys?: { sk: string; rk: string };
}
const V = JSON.parse(readFileSync(new URL('../../test/vectors/bolt8.json', import.meta.url), 'utf8')) as {
  initiator: HandshakeVector[];
  responder: HandshakeVector[];
  message_encryption: {
    keys: { ck: string; sk: string; rk: string };
    plaintext_hex: string;
    outputs: Record<string, string>;
  };
};

/** `ERROR (ACT2_BAD_VERSION 1)` → `ACT2_BAD_VERSION`. */
function errorCode(s: string): string {
  const m = /^ERROR \(([A-Z0-9_]+)/.exec(s);
  assert.ok(m, `unexpected error string ${s}`);
  return m[1]!;
}

function expectTransportError(fn: () => unknown, code: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof TransportError, `expected TransportError, got ${String(err)}`);
    assert.equal(err.code, code);
    return true;
  });
}

test('vector files hold 5 initiator and 10 responder cases', () => {
  assert.equal(V.initiator.length, 5);
  assert.equal(V.responder.length, 10);
});

for (const v of V.initiator) {
  test(`initiator vector: ${v.name}`, () => {
    const hs = new InitiatorHandshake({
      localSecret: fromHex(v.keys['ls.priv']!),
      remotePubkey: fromHex(v.keys['rs.pub']!),
      ephemeralSecret: fromHex(v.keys['e.priv']!),
    });
    assert.equal(toHex(hs.actOne()), v.acts['Act One']!.output);
    const two = v.acts['Act Two']!;
    if (two.error) {
      expectTransportError(() => hs.readActTwo(fromHex(two.input!)), errorCode(two.error));
      return;
    }
    const { actThree, result } = hs.readActTwo(fromHex(two.input!));
    assert.equal(toHex(actThree), v.acts['Act Three']!.output);
    assert.equal(toHex(result.keys.sendKey), v.final_keys!.sk);
    assert.equal(toHex(result.keys.recvKey), v.final_keys!.rk);
    assert.equal(toHex(result.remotePubkey), v.keys['rs.pub']);
  });
}

for (const v of V.responder) {
  test(`responder vector: ${v.name}`, () => {
    const hs = new ResponderHandshake({
      localSecret: fromHex(v.keys['ls.priv']!),
      ephemeralSecret: fromHex(v.keys['e.priv']!),
    });
    const one = v.acts['Act One']!;
    if (one.error) {
      expectTransportError(() => hs.readActOne(fromHex(one.input!)), errorCode(one.error));
      return;
    }
    assert.equal(toHex(hs.readActOne(fromHex(one.input!))), v.acts['Act Two']!.output);
    const three = v.acts['Act Three']!;
    if (three.error) {
      expectTransportError(() => hs.readActThree(fromHex(three.input!)), errorCode(three.error));
      return;
    }
    const result = hs.readActThree(fromHex(three.input!));
    assert.equal(toHex(result.keys.sendKey), v.final_keys!.sk);
    assert.equal(toHex(result.keys.recvKey), v.final_keys!.rk);
    // The initiator's static key from the initiator vectors.
    assert.equal(toHex(result.remotePubkey), '034f355bdcb7cc0af728ef3cceb9615d90684bb5b2ca5f859ab0f0b704075871aa');
  });
}

test('responder vectors with one LocalKey prepared once and shared by every handshake', () => {
  const secrets = new Set(V.responder.map((v) => v.keys['ls.priv']!));
  assert.equal(secrets.size, 1);
  const local = new LocalKey(fromHex([...secrets][0]!));
  assert.equal(toHex(local.publicKey), toHex(publicKeyOf(fromHex([...secrets][0]!))));
  let completed = 0;
  for (const v of V.responder) {
    const hs = new ResponderHandshake({ localSecret: local, ephemeralSecret: fromHex(v.keys['e.priv']!) });
    const one = v.acts['Act One']!;
    if (one.error) {
      expectTransportError(() => hs.readActOne(fromHex(one.input!)), errorCode(one.error));
      continue;
    }
    assert.equal(toHex(hs.readActOne(fromHex(one.input!))), v.acts['Act Two']!.output, v.name);
    const three = v.acts['Act Three']!;
    if (three.error) {
      expectTransportError(() => hs.readActThree(fromHex(three.input!)), errorCode(three.error));
      continue;
    }
    const result = hs.readActThree(fromHex(three.input!));
    assert.equal(toHex(result.keys.sendKey), v.final_keys!.sk, v.name);
    assert.equal(toHex(result.keys.recvKey), v.final_keys!.rk, v.name);
    completed++;
  }
  assert.equal(completed, 1);
  assert.equal(JSON.stringify({ local }), '{"local":"[LocalKey]"}');
  assert.equal(inspect(local), '[LocalKey]');
});

test('the responder draws its ephemeral key only after act one passes its MAC check', () => {
  // An injected ephemeral secret of 0 is not a key: using it is a RangeError. So a handshake that
  // reaches it shows when the ephemeral key is made.
  const v = V.responder.find((x) => !x.acts['Act One']!.error && !x.acts['Act Three']!.error)!;
  const ls = fromHex(v.keys['ls.priv']!);
  const actOne = fromHex(v.acts['Act One']!.input!);
  const zero = new Uint8Array(32);
  // Not at construction: nothing is computed before a byte arrives.
  const bad = new ResponderHandshake({ localSecret: ls, ephemeralSecret: zero });
  const forged = actOne.slice();
  forged[49]! ^= 1;
  expectTransportError(() => bad.readActOne(forged), 'ACT1_BAD_TAG');
  const badPoint = actOne.slice();
  badPoint[1] = 4;
  expectTransportError(() => new ResponderHandshake({ localSecret: ls, ephemeralSecret: zero }).readActOne(badPoint), 'ACT1_BAD_PUBKEY');
  // An authentic act one reaches the ephemeral key.
  assert.throws(() => new ResponderHandshake({ localSecret: ls, ephemeralSecret: zero }).readActOne(actOne), RangeError);
  // A wrong length is still refused at once: our misuse.
  assert.throws(() => new ResponderHandshake({ localSecret: ls, ephemeralSecret: new Uint8Array(31) }), RangeError);
});

test('both sides agree on crossed keys and the remote key after a random handshake', () => {
  const a = randomBytes(32);
  const b = randomBytes(32);
  const resp = new ResponderHandshake({ localSecret: b });
  const init = new InitiatorHandshake({ localSecret: a, remotePubkey: publicKeyOf(b) });
  const two = resp.readActOne(init.actOne());
  const { actThree, result: ri } = init.readActTwo(two);
  const rr = resp.readActThree(actThree);
  assert.deepEqual(ri.keys.sendKey, rr.keys.recvKey);
  assert.deepEqual(ri.keys.recvKey, rr.keys.sendKey);
  assert.deepEqual(ri.keys.chainingKey, rr.keys.chainingKey);
  assert.deepEqual(rr.remotePubkey, publicKeyOf(a));
});

test('a handshake aimed at the wrong node key fails act one with ACT1_BAD_TAG', () => {
  const resp = new ResponderHandshake({ localSecret: randomBytes(32) });
  const init = new InitiatorHandshake({ localSecret: randomBytes(32), remotePubkey: publicKeyOf(randomBytes(32)) });
  expectTransportError(() => resp.readActOne(init.actOne()), 'ACT1_BAD_TAG');
});

test('acts out of order are our misuse (plain Error), not a TransportError', () => {
  const init = new InitiatorHandshake({ localSecret: randomBytes(32), remotePubkey: publicKeyOf(randomBytes(32)) });
  assert.throws(() => init.readActTwo(new Uint8Array(50)), (e: unknown) => e instanceof Error && !(e instanceof TransportError));
  assert.throws(() => new InitiatorHandshake({ localSecret: new Uint8Array(31), remotePubkey: new Uint8Array(33) }), RangeError);
});

const ME = V.message_encryption;

function vectorEncryptor(): MessageEncryptor {
  return new SessionKeys(fromHex(ME.keys.sk), fromHex(ME.keys.rk), fromHex(ME.keys.ck)).encryptor();
}

test('message vector: outputs 0, 1, 500, 501, 1000, 1001 across key rotation', () => {
  const enc = vectorEncryptor();
  const hello = fromHex(ME.plaintext_hex);
  const got: Record<string, string> = {};
  for (let i = 0; i <= 1001; i++) {
    const frame = enc.encrypt(hello);
    if (ME.outputs[String(i)] !== undefined) got[String(i)] = toHex(frame);
  }
  assert.deepEqual(got, ME.outputs);
});

test('message vector: the receiving side decrypts all 1002 frames, rotating in step', () => {
  const enc = vectorEncryptor();
  // The responder receives with the initiator's sk; both start from the same ck.
  const dec = new MessageDecryptor(fromHex(ME.keys.sk), fromHex(ME.keys.ck));
  const hello = fromHex(ME.plaintext_hex);
  for (let i = 0; i <= 1001; i++) {
    dec.push(enc.encrypt(hello));
    assert.equal(toHex(dec.next()!), ME.plaintext_hex, `message ${i}`);
    assert.equal(dec.next(), undefined);
  }
});

test('each direction rotates with its own chaining key: 1,200 messages each way interleaved', () => {
  const a = randomBytes(32);
  const b = randomBytes(32);
  const resp = new ResponderHandshake({ localSecret: b });
  const init = new InitiatorHandshake({ localSecret: a, remotePubkey: publicKeyOf(b) });
  const { actThree, result: ri } = init.readActTwo(resp.readActOne(init.actOne()));
  const rr = resp.readActThree(actThree);
  const aEnc = ri.keys.encryptor();
  const aDec = ri.keys.decryptor();
  const bEnc = rr.keys.encryptor();
  const bDec = rr.keys.decryptor();
  for (let i = 0; i < 1200; i++) {
    const m1 = Uint8Array.of(1, i & 255, i >> 8);
    const m2 = Uint8Array.of(2, i & 255, i >> 8);
    bDec.push(aEnc.encrypt(m1));
    aDec.push(bEnc.encrypt(m2));
    assert.deepEqual(bDec.next(), m1);
    assert.deepEqual(aDec.next(), m2);
  }
});

test('messages: 0 and 65535 bytes round-trip, 65536 is a RangeError', () => {
  const enc = vectorEncryptor();
  const dec = new MessageDecryptor(fromHex(ME.keys.sk), fromHex(ME.keys.ck));
  const big = randomBytes(65535);
  const f0 = enc.encrypt(new Uint8Array(0));
  assert.equal(f0.length, 34);
  const f1 = enc.encrypt(big);
  assert.equal(f1.length, 65569);
  dec.push(f0);
  dec.push(f1);
  assert.deepEqual(dec.next(), new Uint8Array(0));
  assert.deepEqual(Buffer.from(dec.next()!), big);
  assert.throws(() => enc.encrypt(new Uint8Array(65536)), RangeError);
});

/** A recorded stream of frames of varied sizes, incl. across a rotation. */
function recordStream(count: number): { stream: Uint8Array; messages: Uint8Array[] } {
  const enc = vectorEncryptor();
  const messages: Uint8Array[] = [];
  const frames: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const m = new Uint8Array((i * 37) % 300).fill(i & 255);
    messages.push(m);
    frames.push(enc.encrypt(m));
  }
  return { stream: Buffer.concat(frames), messages };
}

test('split reads: the stream cut at every byte boundary decodes like one whole read', () => {
  const { stream, messages } = recordStream(6);
  for (let cut = 0; cut <= stream.length; cut++) {
    const dec = new MessageDecryptor(fromHex(ME.keys.sk), fromHex(ME.keys.ck));
    const out: Uint8Array[] = [];
    for (const part of [stream.subarray(0, cut), stream.subarray(cut)]) {
      dec.push(part);
      for (let m = dec.next(); m !== undefined; m = dec.next()) out.push(m);
    }
    assert.deepEqual(out.map((m) => toHex(m)), messages.map((m) => toHex(m)), `cut at ${cut}`);
    assert.ok(dec.atBoundary);
  }
});

test('split reads: one byte at a time, and random chunkings (property), across rotation', () => {
  const { stream, messages } = recordStream(510);
  const want = messages.map((m) => toHex(m));
  const decodeIn = (sizes: number[]): string[] => {
    const dec = new MessageDecryptor(fromHex(ME.keys.sk), fromHex(ME.keys.ck));
    const out: string[] = [];
    let off = 0;
    let i = 0;
    while (off < stream.length) {
      const n = sizes.length ? Math.max(1, sizes[i++ % sizes.length]!) : 1;
      dec.push(stream.subarray(off, off + n));
      off += n;
      for (let m = dec.next(); m !== undefined; m = dec.next()) out.push(toHex(m));
    }
    return out;
  };
  assert.deepEqual(decodeIn([]), want);
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 1, max: 400 }), { minLength: 1, maxLength: 20 }), (sizes) => {
      assert.deepEqual(decodeIn(sizes), want);
    }),
    { numRuns: 30 },
  );
});

test('tampering: any flipped bit in a frame fails with the right code, and the stream stays dead', () => {
  const enc = vectorEncryptor();
  const frame = enc.encrypt(fromHex(ME.plaintext_hex));
  for (let i = 0; i < frame.length; i++) {
    const bad = Buffer.from(frame);
    bad[i]! ^= 1;
    const dec = new MessageDecryptor(fromHex(ME.keys.sk), fromHex(ME.keys.ck));
    dec.push(bad);
    const code = i < 18 ? 'MSG_LENGTH_BAD_TAG' : 'MSG_BAD_TAG';
    expectTransportError(() => dec.next(), code);
    expectTransportError(() => dec.next(), code);
  }
});

test('session keys never print', () => {
  const keys = new SessionKeys(fromHex(ME.keys.sk), fromHex(ME.keys.rk), fromHex(ME.keys.ck));
  assert.equal(JSON.stringify({ keys }), '{"keys":"[SessionKeys]"}');
  assert.equal(inspect(keys), '[SessionKeys]');
});

test('encryptParts() writes the same bytes as encrypt(), small and large, across rotation', () => {
  const a = vectorEncryptor();
  const b = vectorEncryptor();
  const sizes = [0, 5, 4095, 4096, 65535];
  for (let i = 0; i < 1100; i++) {
    const m = new Uint8Array(sizes[i % sizes.length]!).fill(i & 255);
    assert.ok(Buffer.concat(b.encryptParts(m)).equals(a.encrypt(m)), `message ${i}`);
  }
  assert.throws(() => b.encryptParts(new Uint8Array(65536)), RangeError);
});

test('frames spanning reads in two decryptors at once: each message keeps its own bytes', () => {
  // Large frames that span pushes are gathered in a buffer shared by all decryptors; messages
  // already returned must never change when another decryptor gathers its next frame.
  const sizes = [65535, 70, 65535, 40000, 1, 65535];
  const sides = [0, 1].map((side) => {
    const enc = vectorEncryptor();
    const messages = sizes.map((n, i) => new Uint8Array(n).fill((side * 100 + i * 7 + 1) & 255));
    const stream = Buffer.concat(messages.map((m) => enc.encrypt(m)));
    return { dec: new MessageDecryptor(fromHex(ME.keys.sk), fromHex(ME.keys.ck)), messages, stream, off: 0, out: [] as Uint8Array[] };
  });
  // 65536-byte pushes like socket reads, alternating between the two streams.
  while (sides.some((s) => s.off < s.stream.length)) {
    for (const s of sides) {
      if (s.off >= s.stream.length) continue;
      s.dec.push(s.stream.subarray(s.off, s.off + 65536));
      s.off += 65536;
      for (let m = s.dec.next(); m !== undefined; m = s.dec.next()) s.out.push(m);
    }
  }
  for (const s of sides) {
    assert.equal(s.out.length, sizes.length);
    s.out.forEach((m, i) => assert.ok(Buffer.from(m).equals(s.messages[i]!), `message ${i}`));
  }
});
