// BigSize (BOLT #1, Appendix A): 1, 3, 5 or 9 bytes, big-endian, and it must be minimal:
// "All values decoded with BigSize should be checked to ensure they are minimally encoded."
import { DecodeError } from '../errors.js';
import { Reader } from './reader.js';

export const BIGSIZE_MAX = 0xffff_ffff_ffff_ffffn;

/** Read one BigSize as a bigint (values reach 2^64 - 1). */
export function readBigSize(r: Reader, path: string): bigint {
  const first = r.u8(path);
  if (first < 0xfd) return BigInt(first);
  if (first === 0xfd) {
    const v = r.u16(path);
    if (v < 0xfd) throw new DecodeError('non_minimal', path, `BigSize 0x${v.toString(16)} not minimally encoded (3 bytes for a value below 0xfd)`);
    return BigInt(v);
  }
  if (first === 0xfe) {
    const v = r.u32(path);
    if (v < 0x10000) throw new DecodeError('non_minimal', path, `BigSize 0x${v.toString(16)} not minimally encoded (5 bytes for a value below 0x10000)`);
    return BigInt(v);
  }
  const v = r.u64(path);
  if (v < 0x1_0000_0000n) throw new DecodeError('non_minimal', path, `BigSize 0x${v.toString(16)} not minimally encoded (9 bytes for a value below 0x100000000)`);
  return v;
}

/**
 * Read one BigSize that is used as a length: the same checks, returned as a number. Any length
 * above 2^32 is larger than a message can be, so the caller's bounds check rejects it anyway;
 * it is clamped to a safe integer rather than losing precision.
 */
export function readBigSizeLength(r: Reader, path: string): number {
  const first = r.buf[r.pos];
  if (first !== undefined && first < 0xfd && r.pos < r.end) {
    r.pos++;
    return first;
  }
  const v = readBigSize(r, path);
  return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v);
}

/** Decode a buffer that holds exactly one BigSize. */
export function decodeBigSize(bytes: Uint8Array): bigint {
  const r = new Reader(bytes);
  const v = readBigSize(r, 'bigsize');
  if (r.remaining !== 0) throw new DecodeError('trailing', 'bigsize', `${r.remaining} byte(s) after the BigSize`);
  return v;
}

function checkValue(value: bigint | number): bigint {
  const v = typeof value === 'bigint' ? value : Number.isSafeInteger(value) ? BigInt(value) : NaN;
  if (typeof v !== 'bigint' || v < 0n || v > BIGSIZE_MAX) throw new RangeError(`"BigSize" expected an integer in 0..2^64-1, got ${String(value)}`);
  return v;
}

/** How many bytes the minimal encoding of `value` takes. */
export function bigSizeLength(value: bigint | number): number {
  const v = checkValue(value);
  return v < 0xfdn ? 1 : v < 0x10000n ? 3 : v < 0x1_0000_0000n ? 5 : 9;
}

/** Write the minimal encoding of `value` at `off`; returns the offset after it. */
export function writeBigSize(value: bigint | number, out: Uint8Array, off: number): number {
  const v = checkValue(value);
  if (v < 0xfdn) {
    out[off] = Number(v);
    return off + 1;
  }
  if (v < 0x10000n) {
    const n = Number(v);
    out[off] = 0xfd;
    out[off + 1] = n >>> 8;
    out[off + 2] = n & 0xff;
    return off + 3;
  }
  if (v < 0x1_0000_0000n) {
    const n = Number(v);
    out[off] = 0xfe;
    out[off + 1] = n >>> 24;
    out[off + 2] = (n >>> 16) & 0xff;
    out[off + 3] = (n >>> 8) & 0xff;
    out[off + 4] = n & 0xff;
    return off + 5;
  }
  out[off] = 0xff;
  for (let i = 8; i >= 1; i--) out[off + i] = Number((v >> BigInt((8 - i) * 8)) & 0xffn);
  return off + 9;
}

export function encodeBigSize(value: bigint | number): Uint8Array {
  const out = new Uint8Array(bigSizeLength(value));
  writeBigSize(value, out, 0);
  return out;
}
