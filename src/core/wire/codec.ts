// The shared machinery of the wire codec: a bounds-checked reader, BigSize, TLV streams, and the
// codec builder with which each message is declared once (src/core/wire/registry.ts).
//
// Why one module and not one per part: every ESM module costs the CLI about a millisecond at
// start-up, and `lnps decode` must start within 1.3x of bare node (see README, "Start-up").
import { DecodeError, InputError } from '../errors.js';

// ==== Reader ======================================================================================

// A bounds-checked cursor over untrusted bytes. Every read checks the bytes left first, so a
// decoder can never read past the end, and a length prefix is checked against what is left
// before anything is sliced: no allocation is ever sized by an unchecked length.

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

// ==== BigSize =====================================================================================

// BigSize (BOLT #1, Appendix A): 1, 3, 5 or 9 bytes, big-endian, and it must be minimal:
// "All values decoded with BigSize should be checked to ensure they are minimally encoded."

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

// ==== TLV streams =================================================================================

// TLV streams (BOLT #1, "Type-Length-Value Format"). The reader applies every receiving rule of
// the spec; unknown odd records are kept verbatim, so a decoded stream re-encodes byte for byte.

/** One record of a TLV stream. `type` is a BigSize, so it can exceed 2^53. */
export interface TlvRecord {
  type: bigint;
  value: Uint8Array;
}

/** Checks the value of a known record; throws DecodeError('tlv_length' | ...) naming `path`. */
export type TlvValueCheck = (value: Uint8Array, path: string) => void;

/** The records a stream knows, by type; every other even type is refused. */
export type TlvNamespace = ReadonlyMap<bigint, { name: string; check?: TlvValueCheck }>;

const NO_RECORDS: TlvNamespace = new Map();

/**
 * Read records until `r` is exhausted. Values are views of the input.
 * @param path names the stream in errors, e.g. `init.tlvs`
 */
export function readTlvStream(r: Reader, path: string, known: TlvNamespace = NO_RECORDS): TlvRecord[] {
  const records: TlvRecord[] = [];
  let prev = -1n;
  // Every record takes at least 2 bytes, so this loop ends after at most remaining/2 turns.
  while (r.remaining > 0) {
    const at = `${path}[${records.length}]`;
    const type = readBigSize(r, `${at}.type`);
    // "if decoded types are not strictly-increasing (including ... the same type): MUST fail"
    if (type <= prev) {
      throw new DecodeError('tlv_order', `${at}.type`, `type ${type} after type ${prev}: types must be strictly increasing`);
    }
    prev = type;
    const length = readBigSizeLength(r, `${at}.length`);
    // "if length exceeds the number of bytes remaining in the message: MUST fail"
    if (length > r.remaining) {
      throw new DecodeError('tlv_length', `${at}.length`, `record type ${type} claims ${length} bytes, only ${r.remaining} left`);
    }
    const value = r.bytes(length, `${at}.value`);
    const spec = known.get(type);
    if (spec) {
      spec.check?.(value, `${path}.${spec.name}`);
    } else if ((type & 1n) === 0n) {
      // "if type is unknown: if type is even: MUST fail to parse the tlv_stream" (it's OK to be odd)
      throw new DecodeError('tlv_unknown_even', `${at}.type`, `unknown even record type ${type}`);
    }
    records.push({ type, value });
  }
  return records;
}

/** Decode bytes that hold exactly one TLV stream. */
export function decodeTlvStream(bytes: Uint8Array, path = 'tlv', known?: TlvNamespace): TlvRecord[] {
  return readTlvStream(new Reader(bytes), path, known);
}

/**
 * Check that records can be written as a stream: strictly increasing types, no unknown even
 * type (the writer keeps the reader's rules, so whatever we encode we can decode).
 */
export function checkTlvRecords(records: readonly TlvRecord[], path: string, known: TlvNamespace = NO_RECORDS): void {
  let prev = -1n;
  for (let i = 0; i < records.length; i++) {
    const rec = records[i]!;
    if (typeof rec.type !== 'bigint' || !(rec.value instanceof Uint8Array)) {
      throw new TypeError(`"${path}[${i}]" expected {type: bigint, value: Uint8Array}`);
    }
    bigSizeLength(rec.type); // range check
    // "MUST order tlv_records in a tlv_stream by strictly-increasing type"
    if (rec.type <= prev) throw new InputError(`${path}[${i}]: type ${rec.type} after type ${prev}: TLV types must be strictly increasing`, 'tlv_order');
    prev = rec.type;
    if (!known.has(rec.type) && (rec.type & 1n) === 0n) {
      throw new InputError(`${path}[${i}]: unknown even TLV type ${rec.type} would make every reader fail; use an odd type`, 'tlv_unknown_even');
    }
  }
}

/** Bytes the stream takes on the wire. */
export function tlvStreamLength(records: readonly TlvRecord[]): number {
  let n = 0;
  for (const rec of records) n += bigSizeLength(rec.type) + bigSizeLength(rec.value.length) + rec.value.length;
  return n;
}

/** Write records (already checked) at `off`; returns the offset after them. */
export function writeTlvStream(records: readonly TlvRecord[], out: Uint8Array, off: number): number {
  for (const rec of records) {
    off = writeBigSize(rec.type, out, off);
    off = writeBigSize(rec.value.length, out, off);
    out.set(rec.value, off);
    off += rec.value.length;
  }
  return off;
}

export function encodeTlvStream(records: readonly TlvRecord[], path = 'tlv', known?: TlvNamespace): Uint8Array {
  checkTlvRecords(records, path, known);
  const out = new Uint8Array(tlvStreamLength(records));
  writeTlvStream(records, out, 0);
  return out;
}

// ==== The codec builder ===========================================================================

// The codec builder: a message is declared once, as its type, its name, its payload fields
// in order and the known records of its TLV stream, and both decode and encode come from that
// declaration, so they cannot drift apart.

/** "the maximum possible size is 65535 bytes" (the transport's u16 length). */
export const MAX_MESSAGE_LEN = 65535;

/** One payload field: how many bytes it takes, how to write it, how to read it. */
export interface FieldCodec<T> {
  /** Throws InputError if `v` cannot be written (out of its wire domain), TypeError for a wrong JS type. */
  check(v: unknown, path: string): void;
  size(v: T): number;
  write(v: T, out: Uint8Array, off: number): number;
  read(r: Reader, path: string): T;
}

function isInt(v: unknown, max: number): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= max;
}

export const u16: FieldCodec<number> = {
  check(v, path) {
    if (typeof v !== 'number') throw new TypeError(`"${path}" expected number, got ${typeof v}`);
    if (!isInt(v, 0xffff)) throw new InputError(`${path} must be an integer in 0..65535, got ${v}`, 'bad_value');
  },
  size: () => 2,
  write(v, out, off) {
    out[off] = v >>> 8;
    out[off + 1] = v & 0xff;
    return off + 2;
  },
  read: (r, path) => r.u16(path),
};

function assertBytes(v: unknown, path: string): asserts v is Uint8Array {
  if (!(v instanceof Uint8Array)) throw new TypeError(`"${path}" expected Uint8Array, got ${v === null ? 'null' : typeof v}`);
}

/** Exactly `n` bytes (a channel_id, a chain_hash). */
export function fixedBytes(n: number): FieldCodec<Uint8Array> {
  return {
    check(v, path) {
      assertBytes(v, path);
      if (v.length !== n) throw new InputError(`${path} must be ${n} bytes, got ${v.length}`, 'bad_value');
    },
    size: () => n,
    write(v, out, off) {
      out.set(v, off);
      return off + n;
    },
    read: (r, path) => r.bytes(n, path),
  };
}

/** `u16 len` then `len` bytes, at most `max`. Decoding gives a view of the input, not a copy. */
export function u16Bytes(max = 0xffff): FieldCodec<Uint8Array> {
  return {
    check(v, path) {
      assertBytes(v, path);
      if (v.length > max) throw new InputError(`${path} is ${v.length} bytes, at most ${max} fit`, 'too_large');
    },
    size: (v) => 2 + v.length,
    write(v, out, off) {
      out[off] = v.length >>> 8;
      out[off + 1] = v.length & 0xff;
      out.set(v, off + 2);
      return off + 2 + v.length;
    },
    read(r, path) {
      const len = r.u16(`${path}_len`);
      if (len > max) throw new DecodeError('too_large', `${path}_len`, `length ${len} over the limit of ${max}`);
      return r.bytes(len, path);
    },
  };
}

/** A known record of a message's TLV stream, mapped to a field of the message object. */
export interface TlvField<T> {
  type: bigint;
  /** Spec name of the record, used in error paths (`init.tlvs.networks`). */
  name: string;
  /** Key of the message object that holds the decoded value. */
  key: string;
  /** Decode a value; throws DecodeError naming `path` when it has the wrong size. */
  read(value: Uint8Array, path: string): T;
  check(v: unknown, path: string): void;
  write(v: T): Uint8Array;
}

/** The declaration of one message. */
export interface MessageDef {
  type: number;
  name: string;
  /** Payload fields in wire order: [key of the message object, codec, spec name for error paths]. */
  fields: ReadonlyArray<readonly [key: string, codec: FieldCodec<any>, specName?: string]>;
  /** Known records of the TLV stream that follows; any other record lands in `extension`. */
  tlvs?: ReadonlyArray<TlvField<any>>;
  /** What to call the stream in error paths: `tlvs` when the spec names it, else `extension`. */
  streamName?: string;
}

/** A built codec: the declaration plus decode and encode. */
export interface MessageCodec<M> {
  def: MessageDef;
  /** Decode the whole message, type included, already checked to be `def.type`. */
  decode(bytes: Uint8Array): M;
  encode(msg: M): Uint8Array;
}

function namespaceOf(def: MessageDef): TlvNamespace {
  const m = new Map<bigint, { name: string; check?: (v: Uint8Array, p: string) => void }>();
  for (const t of def.tlvs ?? []) m.set(t.type, { name: t.name, check: (v, p) => void t.read(v, p) });
  return m;
}

export function defineMessage<M extends { type: number; name: string; extension?: TlvRecord[] }>(def: MessageDef): MessageCodec<M> {
  const stream = `${def.name}.${def.streamName ?? 'extension'}`;
  const namespace = namespaceOf(def);
  const tlvs = def.tlvs ?? [];
  const fieldPaths = def.fields.map(([key, , spec]) => `${def.name}.${spec ?? key}`);

  function decode(bytes: Uint8Array): M {
    const r = new Reader(bytes, 2);
    const msg: Record<string, unknown> = { type: def.type, name: def.name };
    for (let i = 0; i < def.fields.length; i++) {
      const [key, codec] = def.fields[i]!;
      msg[key] = codec.read(r, fieldPaths[i]!);
    }
    // "3. extension: an optional TLV stream": whatever follows the payload must be one.
    if (r.remaining > 0) {
      const records = readTlvStream(r, stream, namespace);
      let extension: TlvRecord[] | undefined;
      for (const rec of records) {
        const known = tlvs.length > 0 ? tlvs.find((t) => t.type === rec.type) : undefined;
        if (known) msg[known.key] = known.read(rec.value, `${stream}.${known.name}`);
        else (extension ??= []).push(rec);
      }
      if (extension) msg.extension = extension;
    }
    return msg as M;
  }

  function encode(msg: M): Uint8Array {
    const m = msg as unknown as Record<string, unknown>;
    let size = 2;
    for (let i = 0; i < def.fields.length; i++) {
      const [key, codec] = def.fields[i]!;
      const v = m[key];
      codec.check(v, fieldPaths[i]!);
      size += codec.size(v);
    }
    const ext = m.extension as TlvRecord[] | undefined;
    if (ext !== undefined && !Array.isArray(ext)) throw new TypeError(`"${stream}" expected an array of TLV records`);
    let records: TlvRecord[] = ext ?? [];
    if (ext) {
      checkTlvRecords(ext, stream);
      // A known record sent raw would be read back into its field, not into `extension`.
      for (const rec of ext) {
        const known = namespace.get(rec.type);
        if (known) throw new InputError(`${stream}: record type ${rec.type} is ${def.name}'s ${known.name}; set it through that field, not extension`, 'bad_value');
      }
    }
    if (tlvs.length > 0) {
      const own: TlvRecord[] = [];
      for (const t of tlvs) {
        const v = m[t.key];
        if (v === undefined) continue;
        t.check(v, `${stream}.${t.name}`);
        own.push({ type: t.type, value: t.write(v) });
      }
      if (own.length > 0) {
        records = [...own, ...records].sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : 0));
        checkTlvRecords(records, stream, namespace);
      }
    }
    size += tlvStreamLength(records);
    if (size > MAX_MESSAGE_LEN) {
      throw new InputError(`${def.name} would be ${size} bytes; a message is at most ${MAX_MESSAGE_LEN} bytes`, 'too_large');
    }
    const out = new Uint8Array(size);
    out[0] = def.type >>> 8;
    out[1] = def.type & 0xff;
    let off = 2;
    for (const [key, codec] of def.fields) off = codec.write(m[key], out, off);
    writeTlvStream(records, out, off);
    return out;
  }

  return { def, decode, encode };
}
