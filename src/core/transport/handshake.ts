// The BOLT #8 handshake, Noise_XK_secp256k1_ChaChaPoly_SHA256, as a pure state machine: bytes
// in, bytes out, no socket and no clock. The initiator knows the responder's static key in
// advance (the "K" of XK); the responder learns the initiator's in act three ("X").
//
//   initiator                         responder
//   actOne()          -- 50 bytes -->  readActOne(m)   returns act two
//   readActTwo(m)     <-- 50 bytes --                  returns act three
//                     -- 66 bytes -->  readActThree(m) returns the session keys
//
// The ephemeral key is a parameter so the spec's test vectors can be replayed; in use it is
// random and fresh for every handshake.
//
// Cheap rejection (a responder is on a public port): our static key is prepared once per node
// (LocalKey), not per connection, and the responder draws its ephemeral key only after act one
// has passed its MAC check. A connection that sends nothing costs no curve operation at all; a
// bad act one costs at most one point check and one ECDH.
import { abytes, concatBytes } from '../bytes.js';
import { TransportError, type TransportErrorCode } from './errors.js';
import { decryptWithAD, encryptWithAD, hkdf2, sha256 } from './primitives.js';
import { EcdhKey, parsePublicKey, type PublicPoint } from './ecdh.js';
import { SessionKeys } from './cipher.js';

export const PROTOCOL_NAME = 'Noise_XK_secp256k1_ChaChaPoly_SHA256';
export const PROLOGUE = 'lightning';
/** Sizes of the three acts on the wire. */
export const ACT_ONE_SIZE = 50;
export const ACT_TWO_SIZE = 50;
export const ACT_THREE_SIZE = 66;

const HANDSHAKE_VERSION = 0;
const EMPTY = new Uint8Array(0);
const utf8 = (s: string) => new TextEncoder().encode(s);

// h and ck at the start are the same for every handshake: SHA-256 of the protocol name, then h
// mixes in the prologue. Computed once.
const CK0 = sha256(utf8(PROTOCOL_NAME));
const H0 = sha256(concatBytes(CK0, utf8(PROLOGUE)));

export interface HandshakeResult {
  /** The other side's static public key (33 bytes, compressed). */
  remotePubkey: Uint8Array;
  /** Our static public key (33 bytes, compressed). */
  localPubkey: Uint8Array;
  /** Keys and chaining key for the encrypted message stream. */
  keys: SessionKeys;
}

function fail(code: TransportErrorCode, message: string): never {
  throw new TransportError(code, message);
}

/** Checks shared by acts one and two: exact size, version 0, a valid ephemeral key. */
function parseEphemeralAct(act: 'ACT1' | 'ACT2', m: Uint8Array): { rePoint: PublicPoint; c: Uint8Array } {
  if (m.length !== 50) fail(`${act}_READ_FAILED`, `${act === 'ACT1' ? 'act one' : 'act two'}: expected 50 bytes, got ${m.length}`);
  // "If v is an unrecognized handshake version, then the responder MUST abort the connection attempt."
  if (m[0] !== HANDSHAKE_VERSION) fail(`${act}_BAD_VERSION`, `${act === 'ACT1' ? 'act one' : 'act two'}: unknown handshake version ${m[0]}`);
  const re = m.subarray(1, 34);
  // re "is to be deserialized into a point on the curve": bytes that are not one end the
  // handshake (the vectors' BAD_PUBKEY cases), before any ECDH is tried.
  const rePoint = parsePublicKey(re);
  if (!rePoint) fail(`${act}_BAD_PUBKEY`, `${act === 'ACT1' ? 'act one' : 'act two'}: ephemeral key is not a valid secp256k1 point`);
  return { rePoint, c: m.subarray(34, 50) };
}

/** "h = SHA-256(h || rs.pub.serializeCompressed())": both sides start by mixing in the responder's key. */
function initialHash(responderStatic: Uint8Array): Uint8Array {
  return sha256(concatBytes(H0, responderStatic));
}

/**
 * Our node's static key, prepared once per node and shared by all its handshakes: parsing the
 * secret into a curve key and hashing the responder's starting h are done here, not per
 * connection. Pass it as `localSecret` (a raw 32-byte secret works too, and is prepared per call).
 */
export class LocalKey {
  /** Our static public key, 33 bytes compressed. */
  readonly publicKey: Uint8Array;
  /** @internal */
  readonly key: EcdhKey;
  /** @internal The responder's h before act one. */
  readonly responderH: Uint8Array;
  /** RangeError when `secret` is not a valid secp256k1 secret key. The secret is copied. */
  constructor(secret: Uint8Array) {
    this.key = EcdhKey.fromSecret(abytes(secret, 32, 'localSecret'));
    this.publicKey = this.key.publicKey;
    this.responderH = initialHash(this.publicKey);
  }
  /** Never print key material. */
  toJSON(): string {
    return '[LocalKey]';
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return '[LocalKey]';
  }
}

function localKeyOf(k: Uint8Array | LocalKey): LocalKey {
  return k instanceof LocalKey ? k : new LocalKey(k);
}

class SymmetricState {
  ck: Uint8Array = CK0;
  tempK: Uint8Array = EMPTY;

  constructor(public h: Uint8Array) {}
  mixHash(data: Uint8Array): void {
    this.h = sha256(concatBytes(this.h, data));
  }
  mixKey(ss: Uint8Array): void {
    [this.ck, this.tempK] = hkdf2(this.ck, ss);
  }
}

// ECDH runs in libsecp256k1 (see ecdh.ts); each remote key is checked once even when it is
// used twice.
function makeEphemeral(given: Uint8Array | undefined): EcdhKey {
  return given === undefined ? EcdhKey.generate() : EcdhKey.fromSecret(given);
}

export interface InitiatorOptions {
  /** Our static (node) key: the 32-byte secret, or a LocalKey prepared once per node. */
  localSecret: Uint8Array | LocalKey;
  /** The responder's static public key, 33 bytes compressed. */
  remotePubkey: Uint8Array;
  /** Tests only: a fixed ephemeral secret. Omit in use (a fresh random key is drawn). */
  ephemeralSecret?: Uint8Array;
}

/** The side that opens the connection and knows the other's node key. */
export class InitiatorHandshake {
  private readonly s: EcdhKey;
  private readonly rs: Uint8Array;
  private readonly rsPoint: PublicPoint;
  private readonly e: EcdhKey;
  private readonly st: SymmetricState;
  private step: 'act1' | 'act2' | 'done' | 'failed' = 'act1';

  constructor(opts: InitiatorOptions) {
    this.s = localKeyOf(opts.localSecret).key;
    this.rs = Uint8Array.from(abytes(opts.remotePubkey, 33, 'remotePubkey'));
    const rsPoint = parsePublicKey(this.rs);
    if (!rsPoint) throw new RangeError('"remotePubkey" expected a valid compressed secp256k1 point');
    this.rsPoint = rsPoint;
    this.e = makeEphemeral(opts.ephemeralSecret);
    this.st = new SymmetricState(initialHash(this.rs));
  }

  /** Act one, 50 bytes: `0 || e.pub || encryptWithAD(temp_k1, 0, h, "")`. */
  actOne(): Uint8Array {
    if (this.step !== 'act1') throw new Error('actOne() called out of order');
    const st = this.st;
    st.mixHash(this.e.publicKey);
    st.mixKey(this.e.ecdh(this.rsPoint));
    const c = encryptWithAD(st.tempK, 0, st.h, EMPTY);
    st.mixHash(c);
    this.step = 'act2';
    return concatBytes(Uint8Array.of(HANDSHAKE_VERSION), this.e.publicKey, c);
  }

  /** Read act two (exactly 50 bytes) and return act three, 66 bytes. Throws TransportError ACT2_*. */
  readActTwo(m: Uint8Array): { actThree: Uint8Array; result: HandshakeResult } {
    if (this.step !== 'act2') throw new Error('readActTwo() called out of order');
    this.step = 'failed';
    const st = this.st;
    const { rePoint, c } = parseEphemeralAct('ACT2', m);
    st.mixHash(rePoint);
    st.mixKey(this.e.ecdh(rePoint));
    this.e.wipe(); // its last use
    // "If the MAC check in this operation fails, then the initiator MUST terminate the connection"
    if (decryptWithAD(st.tempK, 0, st.h, c) === undefined) fail('ACT2_BAD_TAG', 'act two: MAC check failed');
    st.mixHash(c);

    const c3 = encryptWithAD(st.tempK, 1, st.h, this.s.publicKey);
    st.mixHash(c3);
    st.mixKey(this.s.ecdh(rePoint));
    const t = encryptWithAD(st.tempK, 0, st.h, EMPTY);
    const [sk, rk] = hkdf2(st.ck, EMPTY);
    this.step = 'done';
    return {
      actThree: concatBytes(Uint8Array.of(HANDSHAKE_VERSION), c3, t),
      result: { remotePubkey: this.rs, localPubkey: this.s.publicKey, keys: new SessionKeys(sk, rk, st.ck) },
    };
  }
}

export interface ResponderOptions {
  /** Our static (node) key: the 32-byte secret, or a LocalKey prepared once per node. */
  localSecret: Uint8Array | LocalKey;
  /** Tests only: a fixed ephemeral secret. Omit in use (a fresh random key is drawn after act one). */
  ephemeralSecret?: Uint8Array;
}

/** The side that accepts the connection; it learns who connected in act three. */
export class ResponderHandshake {
  private readonly s: EcdhKey;
  /** Drawn in readActOne(), once act one has passed its MAC check. */
  private e: EcdhKey | undefined;
  private readonly givenEphemeral: Uint8Array | undefined;
  private readonly st: SymmetricState;
  private step: 'act1' | 'act3' | 'done' | 'failed' = 'act1';

  constructor(opts: ResponderOptions) {
    const local = localKeyOf(opts.localSecret);
    this.s = local.key;
    // Checked now (a wrong length is our misuse, not the peer's), made into a key only after act one.
    this.givenEphemeral = opts.ephemeralSecret === undefined ? undefined : Uint8Array.from(abytes(opts.ephemeralSecret, 32, 'ephemeralSecret'));
    this.st = new SymmetricState(local.responderH);
  }

  /** Read act one (exactly 50 bytes) and return act two, 50 bytes. Throws TransportError ACT1_*. */
  readActOne(m: Uint8Array): Uint8Array {
    if (this.step !== 'act1') throw new Error('readActOne() called out of order');
    this.step = 'failed';
    const st = this.st;
    const { rePoint, c } = parseEphemeralAct('ACT1', m);
    st.mixHash(rePoint);
    st.mixKey(this.s.ecdh(rePoint));
    // "If the MAC check in this operation fails, then the responder MUST terminate the connection"
    if (decryptWithAD(st.tempK, 0, st.h, c) === undefined) fail('ACT1_BAD_TAG', 'act one: MAC check failed');
    st.mixHash(c);

    // Only now, with act one authenticated, is the ephemeral key worth drawing.
    const e = (this.e = makeEphemeral(this.givenEphemeral));
    this.givenEphemeral?.fill(0);
    st.mixHash(e.publicKey);
    st.mixKey(e.ecdh(rePoint));
    const c2 = encryptWithAD(st.tempK, 0, st.h, EMPTY);
    st.mixHash(c2);
    this.step = 'act3';
    return concatBytes(Uint8Array.of(HANDSHAKE_VERSION), e.publicKey, c2);
  }

  /** Read act three (exactly 66 bytes): the initiator's key and the session. Throws TransportError ACT3_*. */
  readActThree(m: Uint8Array): HandshakeResult {
    if (this.step !== 'act3') throw new Error('readActThree() called out of order');
    this.step = 'failed';
    const st = this.st;
    if (m.length !== ACT_THREE_SIZE) fail('ACT3_READ_FAILED', `act three: expected 66 bytes, got ${m.length}`);
    // "If v is an unrecognized handshake version, then the responder MUST abort the connection attempt."
    if (m[0] !== HANDSHAKE_VERSION) fail('ACT3_BAD_VERSION', `act three: unknown handshake version ${m[0]}`);
    const c = m.subarray(1, 50);
    const t = m.subarray(50, 66);
    const rs = decryptWithAD(st.tempK, 1, st.h, c);
    if (rs === undefined) fail('ACT3_BAD_CIPHERTEXT', 'act three: MAC check of the encrypted static key failed');
    const rsPoint = parsePublicKey(rs);
    if (!rsPoint) fail('ACT3_BAD_PUBKEY', 'act three: static key is not a valid secp256k1 point');
    st.mixHash(c);
    st.mixKey(this.e!.ecdh(rsPoint));
    this.e!.wipe(); // its last use
    // "If the MAC check in this operation fails, then the responder MUST terminate the connection"
    if (decryptWithAD(st.tempK, 0, st.h, t) === undefined) fail('ACT3_BAD_TAG', 'act three: MAC check failed');
    const [rk, sk] = hkdf2(st.ck, EMPTY);
    this.step = 'done';
    return { remotePubkey: rs.slice(), localPubkey: this.s.publicKey, keys: new SessionKeys(sk, rk, st.ck) };
  }
}
