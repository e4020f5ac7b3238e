// BOLT #8 ECDH(k, rk): SHA-256 of the COMPRESSED shared point k·P. The handshake makes four
// curve operations per side and connection (three ECDH and one ephemeral key), so this is where
// a handshake's CPU goes. They run in libsecp256k1 compiled to WebAssembly (tiny-secp256k1):
// on the 2-core machine it does about 2,200 ECDH and 6,000 key generations per second, against
// about 670 for node:crypto's createECDH + computeSecret (which also returns only x, not the
// parity BOLT #8 hashes) and 220 for @noble/secp256k1 (bench/transport.ts measures all three).
// libsecp256k1 multiplies by a secret in constant time, and tiny-secp256k1 wipes its WebAssembly
// input buffers after each call. @noble/secp256k1 stays wherever speed does not matter (keys.ts).
import { randomBytes } from 'node:crypto';
import { isPoint, isPrivate, pointFromScalar, pointMultiply } from 'tiny-secp256k1';
import { sha256 } from '@noble/hashes/sha2.js';
import { abytes } from '../bytes.js';

/**
 * A public key that parsePublicKey() accepted: 33 bytes, compressed, on the curve. Its bytes are
 * what the handshake hashes, so the parsed form is the bytes themselves.
 */
export type PublicPoint = Uint8Array & { readonly __point: unique symbol };

/**
 * A 33-byte compressed secp256k1 public key as a checked point, or undefined when the bytes are
 * not one (the same test as isValidPubkey() in ../keys.ts).
 */
export function parsePublicKey(bytes: Uint8Array): PublicPoint | undefined {
  if (bytes.length !== 33 || (bytes[0] !== 2 && bytes[0] !== 3)) return undefined;
  return isPoint(bytes) ? (bytes as PublicPoint) : undefined;
}

/** A secp256k1 secret key with its public key, for ECDH. */
export class EcdhKey {
  /** Our public key, 33 bytes compressed. */
  readonly publicKey: Uint8Array;
  #secret: Uint8Array;

  private constructor(secret: Uint8Array, publicKey: Uint8Array) {
    this.#secret = secret;
    this.publicKey = publicKey;
  }

  /** The key for a given 32-byte secret (RangeError when it is 0 or not below the group order). */
  static fromSecret(secret: Uint8Array): EcdhKey {
    abytes(secret, 32, 'secret');
    if (!isPrivate(secret)) throw new RangeError('"secret" expected a valid secp256k1 secret key');
    const own = Uint8Array.from(secret); // the caller may wipe its copy
    return new EcdhKey(own, pointFromScalar(own, true)!);
  }

  /** A fresh random key, drawn uniformly from [1, n-1] (rejection sampling; a retry is ~2^-128 likely). */
  static generate(): EcdhKey {
    for (;;) {
      const s = randomBytes(32);
      if (isPrivate(s)) return EcdhKey.fromSecret(s);
    }
  }

  /** The compressed shared point k·P, for a public key already parsed by parsePublicKey(). */
  sharedPoint(P: PublicPoint): Uint8Array {
    // Never null: k is in [1, n-1] and P is a point of the prime-order group, so k·P is not infinity.
    return pointMultiply(P, this.#secret, true)!;
  }

  /** `ECDH(k, rk)` of BOLT #8: SHA-256 of the compressed shared point. */
  ecdh(P: PublicPoint): Uint8Array {
    return sha256(this.sharedPoint(P));
  }

  /** Overwrite the secret (an ephemeral key once its handshake is over); the key is unusable after. */
  wipe(): void {
    this.#secret.fill(0);
  }

  /** Never print key material. */
  toJSON(): string {
    return '[EcdhKey]';
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return '[EcdhKey]';
  }
}
