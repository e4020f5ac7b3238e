// Small byte helpers shared by the core. Checks at the boundary return the checked value,
// so a check and its use fit on one line (the noble style).
import { DecodeError, InputError } from './errors.js';

const HEX = '0123456789abcdef';
const HEX_TABLE: string[] = Array.from({ length: 256 }, (_, i) => HEX[i >> 4]! + HEX[i & 15]!);

export function toHex(bytes: Uint8Array): string {
  // Buffer's native encoder builds one flat string: as fast as the loop below for a 33-byte key
  // and far faster for blobs. The loop's `+=` builds a chain of cons strings (a key left about
  // 1 KiB of garbage per call, on the path of every stored message), so it is kept for the
  // shortest inputs only, whose strings V8 keeps flat.
  if (bytes.length > 6) return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex');
  let out = '';
  for (let i = 0; i < bytes.length; i++) out += HEX_TABLE[bytes[i]!];
  return out;
}

/**
 * Parse hex from untrusted input. Throws DecodeError('bad_hex') naming `what` on an odd
 * number of digits or a non-hex character. Accepts upper and lower case; no 0x prefix.
 */
export function fromHex(hex: string, what = 'hex'): Uint8Array {
  if (hex.length % 2 !== 0) throw new DecodeError('bad_hex', what, `odd number of hex digits (${hex.length})`);
  if (!/^[0-9a-fA-F]*$/.test(hex)) {
    const i = hex.search(/[^0-9a-fA-F]/);
    throw new DecodeError('bad_hex', what, `not hex: character ${JSON.stringify(hex[i])} at position ${i}`);
  }
  const buf = Buffer.from(hex, 'hex');
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let len = 0;
  for (const p of parts) len += p.length;
  const out = new Uint8Array(len);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/** Our own misuse: assert a Uint8Array of an exact length. */
export function abytes(value: unknown, length: number | undefined, name: string): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new TypeError(`"${name}" expected Uint8Array, got ${typeof value}`);
  if (length !== undefined && value.length !== length)
    throw new RangeError(`"${name}" expected ${length} bytes, got ${value.length}`);
  return value;
}

/** Parse a compressed secp256k1 public key given as 66 hex digits: shape only (see keys for on-curve). */
export function pubkeyHexShape(hex: string, what = 'public key'): Uint8Array {
  if (!/^0[23][0-9a-fA-F]{64}$/.test(hex))
    throw new InputError(`${what} must be 66 hex digits of a compressed key (02 or 03 then 64 digits), got ${JSON.stringify(hex.length > 80 ? hex.slice(0, 80) + '…' : hex)}`, 'bad_pubkey');
  return fromHex(hex.toLowerCase(), what);
}
