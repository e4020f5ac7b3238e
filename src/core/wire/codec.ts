// The codec builder: a message is declared once, as its type, its name, its payload fields
// in order and the known records of its TLV stream, and both decode and encode come from that
// declaration, so they cannot drift apart.
import { DecodeError, InputError } from '../errors.js';
import { Reader } from './reader.js';
import { checkTlvRecords, readTlvStream, tlvStreamLength, writeTlvStream, type TlvNamespace, type TlvRecord } from './tlv.js';

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
    if (ext) checkTlvRecords(ext, stream);
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
