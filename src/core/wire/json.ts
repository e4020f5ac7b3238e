// The JSON form of a message, shared by `lnps decode`, `lnps encode --json` and any command that
// prints messages: snake_case keys, bytes as hex, TLV types (BigSize, up to 2^64-1) as decimal
// strings. messageFromJson(messageToJson(m)) encodes to the same bytes as m.
import { fromHex, toHex } from '../bytes.js';
import { InputError } from '../errors.js';
import { encodeFeatures, featureBits, featureName, minimalFeatureLength } from './features.js';
import type { TlvRecord } from './codec.js';
import { MSG_ALIASES, MSG_TYPE, REGISTRY, chainHashByName, chainName, describeAddress, type KnownName, type Message } from './registry.js';

export type JsonObject = Record<string, unknown>;

/** "printable ASCII characters ... byte values 32 through 126, inclusive" (BOLT #1 error). */
export function isPrintableAscii(b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i++) if (b[i]! < 32 || b[i]! > 126) return false;
  return true;
}

function extensionJson(ext: TlvRecord[] | undefined): JsonObject[] {
  return (ext ?? []).map((r) => ({ type: r.type.toString(), value: toHex(r.value) }));
}

/** The JSON view of a message (plain values only: numbers, strings, booleans, arrays, null). */
export function messageToJson(msg: Message): JsonObject {
  switch (msg.name) {
    case 'unknown':
      return { type: msg.type, name: 'unknown', even: msg.even, payload: toHex(msg.payload) };
    case 'peer_storage':
    case 'peer_storage_retrieval':
      return { type: msg.type, name: msg.name, blob_len: msg.blob.length, blob: toHex(msg.blob), extension: extensionJson(msg.extension) };
    case 'init': {
      const global = featureBits(msg.globalFeatures);
      const local = featureBits(msg.features);
      const out: JsonObject = { type: msg.type, name: msg.name, global_features: global, features: local };
      // Lengths only when the sender padded a vector beyond its minimum, so that re-encoding is exact.
      if (minimalFeatureLength(msg.globalFeatures) !== msg.globalFeatures.length) out.global_features_len = msg.globalFeatures.length;
      if (minimalFeatureLength(msg.features) !== msg.features.length) out.features_len = msg.features.length;
      // "MUST combine (logical OR) the two feature bitmaps into one logical features map"
      const names: Record<string, string> = {};
      for (const bit of [...new Set([...global, ...local])].sort((a, b) => a - b)) names[String(bit)] = featureName(bit);
      out.feature_names = names;
      out.networks = msg.networks === undefined ? null : msg.networks.map(toHex);
      out.network_names = (msg.networks ?? []).map((h) => chainName(h) ?? 'unknown');
      out.remote_addr = msg.remoteAddr === undefined ? null : toHex(msg.remoteAddr);
      out.remote_addr_text = msg.remoteAddr === undefined ? null : (describeAddress(msg.remoteAddr) ?? null);
      out.extension = extensionJson(msg.extension);
      return out;
    }
    case 'error':
    case 'warning':
      return {
        type: msg.type,
        name: msg.name,
        channel_id: toHex(msg.channelId),
        all_channels: msg.channelId.every((b) => b === 0),
        data: toHex(msg.data),
        data_text: isPrintableAscii(msg.data) ? Buffer.from(msg.data).toString('latin1') : null,
        extension: extensionJson(msg.extension),
      };
    case 'ping':
      return { type: msg.type, name: msg.name, num_pong_bytes: msg.numPongBytes, ignored_len: msg.ignored.length, ignored: toHex(msg.ignored), extension: extensionJson(msg.extension) };
    case 'pong':
      return { type: msg.type, name: msg.name, ignored_len: msg.ignored.length, ignored: toHex(msg.ignored), extension: extensionJson(msg.extension) };
  }
}

// ---- JSON → message -------------------------------------------------------------------------

/** Keys each message accepts; `derived` ones are printed by decode and ignored on input. */
const KEYS: Record<KnownName | 'unknown', { own: string[]; derived: string[] }> = {
  unknown: { own: ['payload'], derived: ['even'] },
  peer_storage: { own: ['blob', 'extension'], derived: ['blob_len'] },
  peer_storage_retrieval: { own: ['blob', 'extension'], derived: ['blob_len'] },
  init: {
    own: ['global_features', 'features', 'global_features_len', 'features_len', 'networks', 'remote_addr', 'extension'],
    derived: ['feature_names', 'network_names', 'remote_addr_text'],
  },
  error: { own: ['channel_id', 'data', 'extension'], derived: ['all_channels', 'data_text'] },
  warning: { own: ['channel_id', 'data', 'extension'], derived: ['all_channels', 'data_text'] },
  ping: { own: ['num_pong_bytes', 'ignored', 'extension'], derived: ['ignored_len'] },
  pong: { own: ['ignored', 'extension'], derived: ['ignored_len'] },
};

function bad(path: string, what: string): never {
  throw new InputError(`${path}: ${what}`, 'bad_json');
}

function hexField(o: JsonObject, key: string, path: string): Uint8Array {
  const v = o[key];
  if (typeof v !== 'string') bad(`${path}.${key}`, `expected a hex string, got ${v === undefined ? 'nothing' : JSON.stringify(v)}`);
  return fromHex(v.trim(), `${path}.${key}`);
}

function intField(o: JsonObject, key: string, path: string, max: number): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) bad(`${path}.${key}`, `expected an integer in 0..${max}, got ${v === undefined ? 'nothing' : JSON.stringify(v)}`);
  return v;
}

function bitsField(o: JsonObject, key: string, path: string): number[] {
  const v = o[key];
  if (v === undefined) return [];
  if (!Array.isArray(v) || !v.every((b) => typeof b === 'number' && Number.isInteger(b) && b >= 0)) bad(`${path}.${key}`, 'expected an array of feature bit numbers');
  return v as number[];
}

function featuresField(o: JsonObject, bitsKey: string, lenKey: string, path: string): Uint8Array {
  const bits = bitsField(o, bitsKey, path);
  const len = o[lenKey] === undefined ? 0 : intField(o, lenKey, path, 0xffff);
  const vec = encodeFeatures(bits, len);
  if (vec.length > len && o[lenKey] !== undefined) bad(`${path}.${lenKey}`, `${len} bytes cannot hold feature bit ${Math.max(...bits)}`);
  return vec;
}

/** A TLV type from JSON: a decimal string (as printed) or a safe integer. */
function tlvType(v: unknown, path: string): bigint {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  if (typeof v === 'string' && /^\d{1,20}$/.test(v)) {
    const t = BigInt(v);
    if (t <= 0xffff_ffff_ffff_ffffn) return t;
  }
  bad(path, `expected a TLV type (decimal string or integer, at most 2^64-1), got ${JSON.stringify(v)}`);
}

function extensionField(o: JsonObject, path: string): TlvRecord[] | undefined {
  const v = o.extension;
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) bad(`${path}.extension`, 'expected an array of {type, value} records');
  const out = v.map((r, i) => {
    const p = `${path}.extension[${i}]`;
    if (r === null || typeof r !== 'object' || Array.isArray(r)) bad(p, 'expected an object {type, value}');
    const rec = r as JsonObject;
    for (const k of Object.keys(rec)) if (k !== 'type' && k !== 'value') bad(p, `unknown key ${JSON.stringify(k)} (a record has type and value)`);
    return { type: tlvType(rec.type, `${p}.type`), value: hexField(rec, 'value', p) };
  });
  return out.length > 0 ? out : undefined;
}

function withExtension<M extends { extension?: TlvRecord[] }>(m: M, o: JsonObject, path: string): M {
  const ext = extensionField(o, path);
  if (ext) m.extension = ext;
  return m;
}

function networksField(o: JsonObject, path: string): Uint8Array[] | undefined {
  const v = o.networks;
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) bad(`${path}.networks`, 'expected an array of chain hashes (hex) or chain names');
  return v.map((h, i) => {
    const p = `${path}.networks[${i}]`;
    if (typeof h !== 'string') bad(p, `expected a chain hash or name, got ${JSON.stringify(h)}`);
    const named = chainHashByName(h);
    if (named) return named;
    const bytes = fromHex(h.trim(), p);
    if (bytes.length !== 32) bad(p, `a chain hash is 32 bytes (64 hex digits), got ${bytes.length}`);
    return bytes;
  });
}

/**
 * Build a message from its JSON form (what messageToJson prints). Throws InputError naming the
 * offending key; bad hex throws DecodeError('bad_hex'). Derived keys (blob_len, feature_names,
 * data_text, ...) are accepted and ignored: the fields they derive from are authoritative.
 */
export function messageFromJson(value: unknown, path = 'message'): Message {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) bad(path, 'expected a JSON object with a name (or type)');
  const o = value as JsonObject;
  let name = o.name;
  if (name !== undefined && typeof name !== 'string') bad(`${path}.name`, `expected a message name, got ${JSON.stringify(name)}`);
  if (typeof name === 'string') name = MSG_ALIASES[name] ?? name;
  const type = o.type === undefined ? undefined : intField(o, 'type', path, 0xffff);
  if (name === undefined) {
    if (type === undefined) bad(path, 'needs "name" or "type"');
    name = REGISTRY.get(type)?.def.name ?? 'unknown';
  }
  if (name !== 'unknown' && !Object.prototype.hasOwnProperty.call(MSG_TYPE, name as string)) {
    bad(`${path}.name`, `unknown message name ${JSON.stringify(name)}; known: ${Object.keys(MSG_TYPE).join(', ')}, or unknown with a type`);
  }
  const known = name as KnownName | 'unknown';
  if (known !== 'unknown' && type !== undefined && type !== MSG_TYPE[known]) bad(`${path}.type`, `${known} is type ${MSG_TYPE[known]}, not ${type}`);
  const allowed = new Set(['type', 'name', ...KEYS[known].own, ...KEYS[known].derived]);
  for (const k of Object.keys(o)) if (!allowed.has(k)) bad(`${path}.${k}`, `not a field of ${known}; expected one of ${[...allowed].join(', ')}`);
  const p = `${path}`;

  switch (known) {
    case 'unknown': {
      if (type === undefined) bad(path, 'an unknown message needs its "type"');
      if (REGISTRY.has(type)) bad(`${path}.type`, `type ${type} is ${REGISTRY.get(type)!.def.name}; give that name and its fields`);
      return { type, name: 'unknown', even: (type & 1) === 0, payload: hexField(o, 'payload', p) };
    }
    case 'peer_storage':
    case 'peer_storage_retrieval':
      return withExtension({ type: MSG_TYPE[known], name: known, blob: hexField(o, 'blob', p) } as Message & { extension?: TlvRecord[] }, o, p);
    case 'init': {
      const m: Message = {
        type: 16,
        name: 'init',
        globalFeatures: featuresField(o, 'global_features', 'global_features_len', p),
        features: featuresField(o, 'features', 'features_len', p),
      };
      const networks = networksField(o, p);
      if (networks) m.networks = networks;
      if (o.remote_addr !== undefined && o.remote_addr !== null) m.remoteAddr = hexField(o, 'remote_addr', p);
      return withExtension(m, o, p);
    }
    case 'error':
    case 'warning': {
      const channelId = o.channel_id === undefined ? new Uint8Array(32) : hexField(o, 'channel_id', p);
      if (channelId.length !== 32) bad(`${path}.channel_id`, `a channel_id is 32 bytes (64 hex digits), got ${channelId.length}`);
      let data: Uint8Array;
      if (o.data !== undefined) data = hexField(o, 'data', p);
      else if (typeof o.data_text === 'string') data = new TextEncoder().encode(o.data_text);
      else data = new Uint8Array(0);
      return withExtension({ type: MSG_TYPE[known], name: known, channelId, data } as Message & { extension?: TlvRecord[] }, o, p);
    }
    case 'ping':
    case 'pong': {
      let ignored: Uint8Array;
      if (o.ignored !== undefined) ignored = hexField(o, 'ignored', p);
      else ignored = new Uint8Array(o.ignored_len === undefined ? 0 : intField(o, 'ignored_len', p, 0xffff));
      if (known === 'ping') return withExtension({ type: 18, name: 'ping', numPongBytes: intField(o, 'num_pong_bytes', p, 0xffff), ignored } as Message & { extension?: TlvRecord[] }, o, p);
      return withExtension({ type: 19, name: 'pong', ignored } as Message & { extension?: TlvRecord[] }, o, p);
    }
  }
}
