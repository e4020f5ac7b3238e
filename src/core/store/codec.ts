// Versioned binary records. A record's layout is declared once, as a list of fields, and both
// encode and decode come from that declaration so they cannot drift. Every value starts with
// a version byte; a decoder reads only versions it knows, must consume every byte, and names
// the failing field (`peer_meta.blob_len`) in its DecodeError.
import { DecodeError } from '../errors.js';

export interface Field<T> {
  size(v: T): number;
  write(v: T, out: Uint8Array, dv: DataView, off: number): number;
  read(bytes: Uint8Array, dv: DataView, off: number, path: string): [T, number];
}

function need(bytes: Uint8Array, off: number, n: number, path: string): void {
  if (off + n > bytes.length) throw new DecodeError('truncated', path, `needs ${n} bytes at offset ${off}, only ${bytes.length - off} left`);
}

function uint(bytes: 1 | 2 | 4): Field<number> {
  const max = 2 ** (8 * bytes) - 1;
  return {
    size: () => bytes,
    write(v, _out, dv, off) {
      if (!Number.isInteger(v) || v < 0 || v > max) throw new RangeError(`expected an integer in [0, ${max}], got ${v}`);
      if (bytes === 1) dv.setUint8(off, v);
      else if (bytes === 2) dv.setUint16(off, v);
      else dv.setUint32(off, v);
      return off + bytes;
    },
    read(b, dv, off, path) {
      need(b, off, bytes, path);
      const v = bytes === 1 ? dv.getUint8(off) : bytes === 2 ? dv.getUint16(off) : dv.getUint32(off);
      return [v, off + bytes];
    },
  };
}

export const u8 = uint(1);
export const u16 = uint(2);
export const u32 = uint(4);

/** u64 as a bigint (sequence numbers may use all 64 bits). */
export const u64: Field<bigint> = {
  size: () => 8,
  write(v, _out, dv, off) {
    if (typeof v !== 'bigint' || v < 0n || v >= 1n << 64n) throw new RangeError(`expected a u64 bigint, got ${v}`);
    dv.setBigUint64(off, v);
    return off + 8;
  },
  read(b, dv, off, path) {
    need(b, off, 8, path);
    return [dv.getBigUint64(off), off + 8];
  },
};

/** u64 holding a safe integer as a number: times in milliseconds, counters, byte totals. */
export const u53: Field<number> = {
  size: () => 8,
  write(v, _out, dv, off) {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`expected a non-negative safe integer, got ${v}`);
    dv.setBigUint64(off, BigInt(v));
    return off + 8;
  },
  read(b, dv, off, path) {
    need(b, off, 8, path);
    const v = dv.getBigUint64(off);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new DecodeError('bad_value', path, `value ${v} is larger than 2^53-1`);
    return [Number(v), off + 8];
  },
};

/** Exactly `n` bytes. */
export function fixed(n: number): Field<Uint8Array> {
  return {
    size: () => n,
    write(v, out, _dv, off) {
      if (!(v instanceof Uint8Array) || v.length !== n) throw new RangeError(`expected ${n} bytes, got ${v?.length}`);
      out.set(v, off);
      return off + n;
    },
    read(b, _dv, off, path) {
      need(b, off, n, path);
      return [b.slice(off, off + n), off + n];
    },
  };
}

/** u16 length, then that many bytes (a peer storage blob is at most 65531 bytes). */
export const varbytes: Field<Uint8Array> = {
  size: (v) => 2 + v.length,
  write(v, out, dv, off) {
    if (v.length > 0xffff) throw new RangeError(`expected at most 65535 bytes, got ${v.length}`);
    dv.setUint16(off, v.length);
    out.set(v, off + 2);
    return off + 2 + v.length;
  },
  read(b, dv, off, path) {
    need(b, off, 2, path);
    const len = dv.getUint16(off);
    need(b, off + 2, len, path);
    return [b.slice(off + 2, off + 2 + len), off + 2 + len];
  },
};

/** A presence byte (0 absent, 1 present), then the value when present. */
export function optional<T>(inner: Field<T>): Field<T | undefined> {
  return {
    size: (v) => (v === undefined ? 1 : 1 + inner.size(v)),
    write(v, out, dv, off) {
      if (v === undefined) {
        dv.setUint8(off, 0);
        return off + 1;
      }
      dv.setUint8(off, 1);
      return inner.write(v, out, dv, off + 1);
    },
    read(b, dv, off, path) {
      need(b, off, 1, path);
      const flag = dv.getUint8(off);
      if (flag === 0) return [undefined, off + 1];
      if (flag !== 1) throw new DecodeError('bad_value', path, `presence byte must be 0 or 1, got ${flag}`);
      return inner.read(b, dv, off + 1, path);
    },
  };
}

/** A u8 that names one of a fixed list of values. */
export function enumOf<const T extends readonly string[]>(values: T): Field<T[number]> {
  return {
    size: () => 1,
    write(v, _out, dv, off) {
      const i = values.indexOf(v);
      if (i < 0) throw new RangeError(`expected one of ${values.join('|')}, got ${v}`);
      dv.setUint8(off, i);
      return off + 1;
    },
    read(b, dv, off, path) {
      need(b, off, 1, path);
      const i = dv.getUint8(off);
      if (i >= values.length) throw new DecodeError('bad_value', path, `unknown value ${i}`);
      return [values[i]!, off + 1];
    },
  };
}

type FieldsOf<S> = { [K in keyof S]: S[K] extends Field<infer T> ? T : never };

export interface RecordCodec<T> {
  readonly name: string;
  readonly version: number;
  encode(value: T): Uint8Array;
  /** Total: returns the record or throws DecodeError naming the field. */
  decode(bytes: Uint8Array): T;
}

/** Declare a record: a version byte, then the fields in order. */
export function record<S extends Record<string, Field<any>>>(name: string, version: number, fields: S): RecordCodec<FieldsOf<S>> {
  const entries = Object.entries(fields) as [string, Field<unknown>][];
  return {
    name,
    version,
    encode(value) {
      const v = value as Record<string, unknown>;
      let size = 1;
      for (const [k, f] of entries) size += f.size(v[k]);
      const out = new Uint8Array(size);
      const dv = new DataView(out.buffer);
      out[0] = version;
      let off = 1;
      for (const [k, f] of entries) {
        try {
          off = f.write(v[k], out, dv, off);
        } catch (e) {
          throw new RangeError(`${name}.${k}: ${(e as Error).message}`);
        }
      }
      return out;
    },
    decode(bytes) {
      if (bytes.length < 1) throw new DecodeError('truncated', `${name}.version`, 'empty record');
      if (bytes[0] !== version) throw new DecodeError('bad_value', `${name}.version`, `unknown record version ${bytes[0]} (this lnps reads version ${version})`);
      const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
      const out: Record<string, unknown> = {};
      let off = 1;
      for (const [k, f] of entries) {
        const [val, next] = f.read(bytes, dv, off, `${name}.${k}`);
        out[k] = val;
        off = next;
      }
      if (off !== bytes.length) throw new DecodeError('trailing', name, `${bytes.length - off} bytes after the last field`);
      return out as FieldsOf<S>;
    },
  };
}
