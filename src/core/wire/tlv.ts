// TLV streams (BOLT #1, "Type-Length-Value Format"). The reader applies every receiving rule of
// the spec; unknown odd records are kept verbatim, so a decoded stream re-encodes byte for byte.
import { DecodeError, InputError } from '../errors.js';
import { Reader } from './reader.js';
import { bigSizeLength, readBigSize, readBigSizeLength, writeBigSize } from './bigsize.js';

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
