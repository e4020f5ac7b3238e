// BOLT #8 ECDH(k, rk): SHA-256 of the COMPRESSED shared point k·P, so the parity of its y
// matters. node:crypto's secp256k1 ECDH (OpenSSL, constant-time ladder) is about three times
// faster than the pure-JS ladder but returns only x. The parity comes from a second native
// multiplication by the same secret: with K = k·G our own public key,
//   x3 = x(k·(P + G)) = x(Q + K),
// and the chord through Q and K fixes y(Q) once x(Q), x3 and K are known (see sharedPoint()).
// Only public points (P, P + G, K) and the shared point itself go through BigInt arithmetic;
// the secret scalar is only ever multiplied inside OpenSSL.
import { createECDH, type ECDH } from 'node:crypto';
import { Point, etc } from '@noble/secp256k1';
import { sha256 } from '@noble/hashes/sha2.js';
import { abytes } from '../bytes.js';

/** The field prime of secp256k1. */
const FP = 2n ** 256n - 2n ** 32n - 977n;
const G = Point.BASE;
const NEG_G = G.negate();

const mod = (a: bigint): bigint => {
  const r = a % FP;
  return r < 0n ? r + FP : r;
};

function toBigInt(bytes: Uint8Array): bigint {
  return BigInt('0x' + Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex'));
}

function to32Bytes(n: bigint): Buffer {
  return Buffer.from(n.toString(16).padStart(64, '0'), 'hex');
}

/**
 * A 33-byte compressed secp256k1 public key as a curve point, or undefined when the bytes are
 * not one (the same test as isValidPubkey() in ../keys.ts).
 */
export function parsePublicKey(bytes: Uint8Array): Point | undefined {
  if (bytes.length !== 33 || (bytes[0] !== 2 && bytes[0] !== 3)) return undefined;
  try {
    return Point.fromBytes(bytes);
  } catch {
    return undefined;
  }
}

/** A secp256k1 secret key held by OpenSSL, with the public values ECDH needs. */
export class EcdhKey {
  /** Our public key, 33 bytes compressed. */
  readonly publicKey: Uint8Array;
  private readonly native: ECDH;
  private readonly kx: bigint;
  private readonly ky: bigint;
  /** 1 / (2·y(K)) mod p, fixed per key (y is never 0 on secp256k1: no point of order 2). */
  private readonly inv2ky: bigint;

  private constructor(native: ECDH) {
    this.native = native;
    const K = native.getPublicKey(); // uncompressed: 04 || x || y
    this.kx = toBigInt(K.subarray(1, 33));
    this.ky = toBigInt(K.subarray(33, 65));
    this.publicKey = Uint8Array.from(native.getPublicKey(null, 'compressed'));
    this.inv2ky = etc.invert(2n * this.ky, FP); // public input: our public key
  }

  /** The key for a given 32-byte secret (RangeError when it is 0 or not below the group order). */
  static fromSecret(secret: Uint8Array): EcdhKey {
    abytes(secret, 32, 'secret');
    const native = createECDH('secp256k1');
    try {
      native.setPrivateKey(secret);
    } catch {
      throw new RangeError('"secret" expected a valid secp256k1 secret key');
    }
    return new EcdhKey(native);
  }

  /** A fresh random key (OpenSSL draws it uniformly from [1, n-1]). */
  static generate(): EcdhKey {
    const native = createECDH('secp256k1');
    native.generateKeys();
    return new EcdhKey(native);
  }

  /**
   * The compressed shared point k·P, for a public key already parsed by parsePublicKey() (the
   * handshake validates each remote key once, then uses it twice).
   */
  sharedPoint(P: Point): Uint8Array {
    // P = ±G gives Q = ±K, which is known already (and Q + K would be doubling or infinity).
    if (P.equals(G)) return this.publicKey.slice();
    if (P.equals(NEG_G)) {
      const q = this.publicKey.slice();
      q[0] = q[0] === 2 ? 3 : 2;
      return q;
    }
    // Uncompressed points spare OpenSSL a square root.
    const xq = this.native.computeSecret(P.toBytes(false));
    const x3 = toBigInt(this.native.computeSecret(P.add(G).toBytes(false)));
    const x = toBigInt(xq);
    // Q = (x, y), K = (kx, ky), x(Q + K) = x3 with x != kx (else Q = ±K, i.e. P = ±G, handled
    // above). The chord slope l = (ky - y) / (kx - x) satisfies l^2 = x3 + x + kx, so
    //   (ky - y)^2 = (x3 + x + kx)(kx - x)^2
    // and, with y^2 = x^3 + 7, that is linear in y:
    //   y = (ky^2 + x^3 + 7 - (x3 + x + kx)(kx - x)^2) / (2 ky).
    // -y cannot also satisfy it: that would need x(K - Q) = x(K + Q), i.e. Q or K at infinity.
    const y2 = mod(x * x * x + 7n);
    const d = mod(this.kx - x);
    const y = mod((this.ky * this.ky + y2 - mod(mod(x3 + x + this.kx) * d * d)) * this.inv2ky);
    // The right y squares to x^3 + 7; anything else means the two native results disagree.
    if (mod(y * y) !== y2) throw new Error('ECDH: inconsistent shared point');
    const out = new Uint8Array(33);
    out[0] = 2 + Number(y & 1n);
    out.set(xq.length === 32 ? xq : to32Bytes(x), 1);
    return out;
  }

  /** `ECDH(k, rk)` of BOLT #8: SHA-256 of the compressed shared point. */
  ecdh(P: Point): Uint8Array {
    return sha256(this.sharedPoint(P));
  }

  /** Never print key material. */
  toJSON(): string {
    return '[EcdhKey]';
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return '[EcdhKey]';
  }
}
