// A bounds-checked cursor over untrusted plaintext. Every read names its field, so a
// malformed backup fails with DecodeError(code, path) and nothing else escapes.
import { DecodeError } from '../../errors.js';

export class Cursor {
  private pos = 0;
  constructor(private readonly buf: Uint8Array, private readonly base: string) {}

  get left(): number {
    return this.buf.length - this.pos;
  }

  bytes(n: number, field: string): Uint8Array {
    if (n > this.left) throw new DecodeError('truncated', `${this.base}.${field}`, `needs ${n} bytes, ${this.left} left`);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  u8(field: string): number {
    return this.bytes(1, field)[0]!;
  }

  u16(field: string): number {
    const b = this.bytes(2, field);
    return (b[0]! << 8) | b[1]!;
  }

  u32(field: string): number {
    const b = this.bytes(4, field);
    return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
  }

  u64(field: string): bigint {
    const b = this.bytes(8, field);
    let n = 0n;
    for (const x of b) n = (n << 8n) | BigInt(x);
    return n;
  }

  /** BOLT #1 BigSize, minimally encoded. */
  bigsize(field: string): bigint {
    const first = this.u8(field);
    if (first < 0xfd) return BigInt(first);
    const [len, min] = first === 0xfd ? [2, 0xfdn] : first === 0xfe ? [4, 0x10000n] : [8, 0x100000000n];
    let n = 0n;
    for (const x of this.bytes(len, field)) n = (n << 8n) | BigInt(x);
    if (n < min) throw new DecodeError('non_minimal', `${this.base}.${field}`, `BigSize ${n} not minimally encoded`);
    return n;
  }

  /** A length that must fit in what is left (checked before anything is allocated). */
  length(n: bigint, field: string): number {
    if (n > BigInt(this.left)) throw new DecodeError('too_large', `${this.base}.${field}`, `length ${n} exceeds the ${this.left} bytes left`);
    return Number(n);
  }

  end(field = 'end'): void {
    if (this.left !== 0) throw new DecodeError('trailing', `${this.base}.${field}`, `${this.left} bytes left over`);
  }
}

export interface TlvRecord {
  type: bigint;
  value: Uint8Array;
}

/** A TLV stream filling the cursor: strictly increasing types, lengths that fit. */
export function readTlvStream(c: Cursor, path: string): TlvRecord[] {
  const out: TlvRecord[] = [];
  let last = -1n;
  while (c.left > 0) {
    const type = c.bigsize(`${path}.type`);
    if (type <= last) throw new DecodeError('tlv_order', path, `type ${type} after ${last}`);
    last = type;
    const len = c.length(c.bigsize(`${path}.${type}.length`), `${path}.${type}.length`);
    out.push({ type, value: c.bytes(len, `${path}.${type}`) });
  }
  return out;
}
