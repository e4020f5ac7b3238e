// A bounds-checked cursor over untrusted bytes. Every read checks the bytes left first, so a
// decoder can never read past the end, and a length prefix is checked against what is left
// before anything is sliced: no allocation is ever sized by an unchecked length.
import { DecodeError } from '../errors.js';

export class Reader {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    start = 0,
    readonly end = buf.length,
  ) {
    this.pos = start;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  /** Throws `truncated` naming `path` unless `n` more bytes are there. */
  need(n: number, path: string): void {
    if (this.end - this.pos < n) {
      throw new DecodeError('truncated', path, `needs ${n} byte${n === 1 ? '' : 's'}, only ${this.end - this.pos} left`);
    }
  }

  u8(path: string): number {
    this.need(1, path);
    return this.buf[this.pos++]!;
  }

  u16(path: string): number {
    this.need(2, path);
    const b = this.buf;
    const v = (b[this.pos]! << 8) | b[this.pos + 1]!;
    this.pos += 2;
    return v;
  }

  u32(path: string): number {
    this.need(4, path);
    const b = this.buf;
    const p = this.pos;
    this.pos += 4;
    return ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
  }

  u64(path: string): bigint {
    this.need(8, path);
    const hi = this.u32(path);
    const lo = this.u32(path);
    return (BigInt(hi) << 32n) | BigInt(lo);
  }

  /** `n` bytes as a view of the input (no copy): decoding a 64 KiB blob costs nothing. */
  bytes(n: number, path: string): Uint8Array {
    this.need(n, path);
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  /** Everything left, as a view. */
  rest(): Uint8Array {
    const v = this.buf.subarray(this.pos, this.end);
    this.pos = this.end;
    return v;
  }
}
