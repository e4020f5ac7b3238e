// secp256k1 key helpers. Loaded only by commands that need keys (decode/encode never do).
import { Point, getPublicKey } from '@noble/secp256k1';
import { InputError } from './errors.js';
import { pubkeyHexShape, toHex } from './bytes.js';

/** True when `bytes` is a 33-byte compressed point on secp256k1. */
export function isValidPubkey(bytes: Uint8Array): boolean {
  if (bytes.length !== 33 || (bytes[0] !== 2 && bytes[0] !== 3)) return false;
  try {
    Point.fromBytes(bytes);
    return true;
  } catch {
    return false;
  }
}

/** Parse an operator-given public key (66 hex digits) and check it lies on the curve. */
export function parsePubkey(hex: string, what = 'public key'): Uint8Array {
  const bytes = pubkeyHexShape(hex, what);
  if (!isValidPubkey(bytes)) throw new InputError(`${what} ${hex.toLowerCase()} is not a point on secp256k1`, 'bad_pubkey');
  return bytes;
}

/** Compressed public key of a 32-byte secret. */
export function publicKeyOf(secret: Uint8Array): Uint8Array {
  return getPublicKey(secret, true);
}

export function pubkeyHex(bytes: Uint8Array): string {
  return toHex(bytes);
}
