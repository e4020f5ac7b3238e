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
import type { Point } from '@noble/secp256k1';
import { abytes, concatBytes } from '../bytes.js';
import { TransportError, type TransportErrorCode } from './errors.js';
import { decryptWithAD, encryptWithAD, hkdf2, sha256 } from './primitives.js';
import { EcdhKey, parsePublicKey } from './ecdh.js';
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
function parseEphemeralAct(act: 'ACT1' | 'ACT2', m: Uint8Array): { re: Uint8Array; rePoint: Point; c: Uint8Array } {
  if (m.length !== 50) fail(`${act}_READ_FAILED`, `${act === 'ACT1' ? 'act one' : 'act two'}: expected 50 bytes, got ${m.length}`);
  // "If v is an unrecognized handshake version, then the responder MUST abort the connection attempt."
  if (m[0] !== HANDSHAKE_VERSION) fail(`${act}_BAD_VERSION`, `${act === 'ACT1' ? 'act one' : 'act two'}: unknown handshake version ${m[0]}`);
  const re = m.subarray(1, 34);
  // re "is to be deserialized into a point on the curve": bytes that are not one end the
  // handshake (the vectors' BAD_PUBKEY cases), before any ECDH is tried.
  const rePoint = parsePublicKey(re);
  if (!rePoint) fail(`${act}_BAD_PUBKEY`, `${act === 'ACT1' ? 'act one' : 'act two'}: ephemeral key is not a valid secp256k1 point`);
  return { re, rePoint, c: m.subarray(34, 50) };
}

class SymmetricState {
  ck: Uint8Array = CK0;
  h: Uint8Array;
  tempK: Uint8Array = EMPTY;

  constructor(responderStatic: Uint8Array) {
    // "h = SHA-256(h || rs.pub.serializeCompressed())": both sides mix in the responder's key.
    this.h = sha256(concatBytes(H0, responderStatic));
  }
  mixHash(data: Uint8Array): void {
    this.h = sha256(concatBytes(this.h, data));
  }
  mixKey(ss: Uint8Array): void {
    [this.ck, this.tempK] = hkdf2(this.ck, ss);
  }
}

// ECDH runs in node:crypto (see ecdh.ts); keys are held there, and each remote key is parsed
// into a point once even when it is used twice.
function makeEphemeral(given: Uint8Array | undefined): EcdhKey {
  return given === undefined ? EcdhKey.generate() : EcdhKey.fromSecret(abytes(given, 32, 'ephemeralSecret'));
}

export interface InitiatorOptions {
  /** Our static (node) secret key, 32 bytes. */
  localSecret: Uint8Array;
  /** The responder's static public key, 33 bytes compressed. */
  remotePubkey: Uint8Array;
  /** Tests only: a fixed ephemeral secret. Omit in use (a fresh random key is drawn). */
  ephemeralSecret?: Uint8Array;
}

/** The side that opens the connection and knows the other's node key. */
export class InitiatorHandshake {
  private readonly s: EcdhKey;
  private readonly rs: Uint8Array;
  private readonly rsPoint: Point;
  private readonly e: EcdhKey;
  private readonly st: SymmetricState;
  private step: 'act1' | 'act2' | 'done' | 'failed' = 'act1';

  constructor(opts: InitiatorOptions) {
    this.s = EcdhKey.fromSecret(abytes(opts.localSecret, 32, 'localSecret'));
    this.rs = abytes(opts.remotePubkey, 33, 'remotePubkey');
    const rsPoint = parsePublicKey(this.rs);
    if (!rsPoint) throw new RangeError('"remotePubkey" expected a valid compressed secp256k1 point');
    this.rsPoint = rsPoint;
    this.e = makeEphemeral(opts.ephemeralSecret);
    this.st = new SymmetricState(this.rs);
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
    const { re, rePoint, c } = parseEphemeralAct('ACT2', m);
    st.mixHash(re);
    st.mixKey(this.e.ecdh(rePoint));
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
  /** Our static (node) secret key, 32 bytes. */
  localSecret: Uint8Array;
  /** Tests only: a fixed ephemeral secret. Omit in use (a fresh random key is drawn). */
  ephemeralSecret?: Uint8Array;
}

/** The side that accepts the connection; it learns who connected in act three. */
export class ResponderHandshake {
  private readonly s: EcdhKey;
  private readonly e: EcdhKey;
  private readonly st: SymmetricState;
  private step: 'act1' | 'act3' | 'done' | 'failed' = 'act1';

  constructor(opts: ResponderOptions) {
    this.s = EcdhKey.fromSecret(abytes(opts.localSecret, 32, 'localSecret'));
    this.e = makeEphemeral(opts.ephemeralSecret);
    this.st = new SymmetricState(this.s.publicKey);
  }

  /** Read act one (exactly 50 bytes) and return act two, 50 bytes. Throws TransportError ACT1_*. */
  readActOne(m: Uint8Array): Uint8Array {
    if (this.step !== 'act1') throw new Error('readActOne() called out of order');
    this.step = 'failed';
    const st = this.st;
    const { re, rePoint, c } = parseEphemeralAct('ACT1', m);
    st.mixHash(re);
    st.mixKey(this.s.ecdh(rePoint));
    // "If the MAC check in this operation fails, then the responder MUST terminate the connection"
    if (decryptWithAD(st.tempK, 0, st.h, c) === undefined) fail('ACT1_BAD_TAG', 'act one: MAC check failed');
    st.mixHash(c);

    st.mixHash(this.e.publicKey);
    st.mixKey(this.e.ecdh(rePoint));
    const c2 = encryptWithAD(st.tempK, 0, st.h, EMPTY);
    st.mixHash(c2);
    this.step = 'act3';
    return concatBytes(Uint8Array.of(HANDSHAKE_VERSION), this.e.publicKey, c2);
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
    st.mixKey(this.e.ecdh(rsPoint));
    // "If the MAC check in this operation fails, then the responder MUST terminate the connection"
    if (decryptWithAD(st.tempK, 0, st.h, t) === undefined) fail('ACT3_BAD_TAG', 'act three: MAC check failed');
    const [rk, sk] = hkdf2(st.ck, EMPTY);
    this.step = 'done';
    return { remotePubkey: rs.slice(), localPubkey: this.s.publicKey, keys: new SessionKeys(sk, rk, st.ck) };
  }
}
