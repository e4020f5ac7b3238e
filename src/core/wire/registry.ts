// Every message lnps knows, each declared once (its type, its fields in wire order, the known
// records of its TLV stream), the registry keyed by type, and decodeMessage / encodeMessage.
//
// Why one module and not one per message: every ESM module costs the CLI about a millisecond
// at start-up, and `lnps decode` must start within 1.3x of bare node (README, "Start-up").
// Each message keeps its own section below: interface, declaration, constructor.
import { concatBytes, fromHex, toHex } from '../bytes.js';
import { DecodeError, InputError } from '../errors.js';
import { MAX_MESSAGE_LEN, defineMessage, fixedBytes, u16, u16Bytes, type MessageCodec, type TlvField, type TlvRecord } from './codec.js';
import { encodeFeatures } from './features.js';

// ==== warning (1) =================================================================================

// warning (type 1, BOLT #1): like error, but fails nothing; the receiver "SHOULD log the message".

export const WARNING = 1;

export interface WarningMessage {
  type: 1;
  name: 'warning';
  /** 32 bytes; all zero when the warning is not about one channel. */
  channelId: Uint8Array;
  data: Uint8Array;
  extension?: TlvRecord[];
}

export const warningCodec = defineMessage<WarningMessage>({
  type: WARNING,
  name: 'warning',
  fields: [
    ['channelId', fixedBytes(32), 'channel_id'],
    ['data', u16Bytes()],
  ],
});

/** `channelId` null means not about one channel (32 zero bytes); `text` is sent as UTF-8. */
export function warningMessage(channelId: Uint8Array | null, text: string): WarningMessage {
  return { type: WARNING, name: 'warning', channelId: channelId ?? new Uint8Array(32), data: new TextEncoder().encode(text) };
}

// ==== peer_storage (7) ============================================================================

// peer_storage (type 7, BOLT #1 "Peer storage"): a peer hands us a blob to keep for it.

export const PEER_STORAGE = 7;

/** 2 (type) + 2 (length) + 65531 = 65535: "MUST keep the blob at or under 65531 bytes". */
export const MAX_BLOB_LEN = 65531;

export interface PeerStorage {
  type: 7;
  name: 'peer_storage';
  blob: Uint8Array;
  extension?: TlvRecord[];
}

export const peerStorageCodec = defineMessage<PeerStorage>({
  type: PEER_STORAGE,
  name: 'peer_storage',
  fields: [['blob', u16Bytes(MAX_BLOB_LEN)]],
});

export function peerStorage(blob: Uint8Array): PeerStorage {
  return { type: PEER_STORAGE, name: 'peer_storage', blob };
}

// ==== peer_storage_retrieval (9) ==================================================================

// peer_storage_retrieval (type 9, BOLT #1 "Peer storage"): a peer returns the last blob it
// stored for us. Older drafts and CLN's internals call it `your_peer_storage`.

export const PEER_STORAGE_RETRIEVAL = 9;

export interface PeerStorageRetrieval {
  type: 9;
  name: 'peer_storage_retrieval';
  blob: Uint8Array;
  extension?: TlvRecord[];
}

export const peerStorageRetrievalCodec = defineMessage<PeerStorageRetrieval>({
  type: PEER_STORAGE_RETRIEVAL,
  name: 'peer_storage_retrieval',
  fields: [['blob', u16Bytes(MAX_BLOB_LEN)]],
});

export function peerStorageRetrieval(blob: Uint8Array): PeerStorageRetrieval {
  return { type: PEER_STORAGE_RETRIEVAL, name: 'peer_storage_retrieval', blob };
}

// ==== init (16) ===================================================================================

// init (type 16, BOLT #1): the first message on every connection, with the node's features.
//   u16 gflen, globalfeatures, u16 flen, features, then init_tlvs:
//   networks (1): ...*chain_hash, remote_addr (3): ...*byte (an address descriptor, BOLT #7)

export const INIT = 16;

export interface InitMessage {
  type: 16;
  name: 'init';
  /** Raw feature vectors as sent (kept as is, so re-encoding is exact). */
  globalFeatures: Uint8Array;
  features: Uint8Array;
  /** Chain hashes in wire order; undefined when the record is absent, [] when present but empty. */
  networks?: Uint8Array[];
  /** Raw address descriptor bytes (1 byte type, then the address). */
  remoteAddr?: Uint8Array;
  /** init_tlvs records other than networks and remote_addr (unknown odd types). */
  extension?: TlvRecord[];
}

const networks: TlvField<Uint8Array[]> = {
  type: 1n,
  name: 'networks',
  key: 'networks',
  read(value, path) {
    // "if length is not exactly equal to that required for the known encoding: MUST fail"
    if (value.length % 32 !== 0) throw new DecodeError('tlv_length', path, `${value.length} bytes is not a whole number of 32-byte chain hashes`);
    const out: Uint8Array[] = [];
    for (let i = 0; i < value.length; i += 32) out.push(value.subarray(i, i + 32));
    return out;
  },
  check(v, path) {
    if (!Array.isArray(v)) throw new TypeError(`"${path}" expected an array of 32-byte chain hashes`);
    for (const h of v) {
      if (!(h instanceof Uint8Array)) throw new TypeError(`"${path}" expected Uint8Array chain hashes`);
      if (h.length !== 32) throw new InputError(`${path}: a chain hash is 32 bytes, got ${h.length}`, 'bad_value');
    }
  },
  write: (v) => concatBytes(...v),
};

const remoteAddr: TlvField<Uint8Array> = {
  type: 3n,
  name: 'remote_addr',
  key: 'remoteAddr',
  read: (value) => value,
  check(v, path) {
    if (!(v instanceof Uint8Array)) throw new TypeError(`"${path}" expected Uint8Array`);
  },
  write: (v) => v,
};

export const initCodec = defineMessage<InitMessage>({
  type: INIT,
  name: 'init',
  fields: [
    ['globalFeatures', u16Bytes(), 'globalfeatures'],
    ['features', u16Bytes(), 'features'],
  ],
  tlvs: [networks, remoteAddr],
  streamName: 'tlvs',
});

/**
 * An init with `features` set in the features vector (minimal, "SHOULD use the minimum length")
 * and an empty globalfeatures ("SHOULD NOT set features greater than 13 in globalfeatures").
 */
export function initMessage(opts: { features: number[]; networks?: Uint8Array[]; remoteAddr?: Uint8Array }): InitMessage {
  const msg: InitMessage = { type: INIT, name: 'init', globalFeatures: new Uint8Array(0), features: encodeFeatures(opts.features) };
  if (opts.networks !== undefined) msg.networks = opts.networks;
  if (opts.remoteAddr !== undefined) msg.remoteAddr = opts.remoteAddr;
  return msg;
}

/** RFC 4648 base32, lower case, no padding (the alphabet of .onion names). */
function base32(b: Uint8Array): string {
  const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';
  let out = '';
  let acc = 0;
  let bits = 0;
  for (const byte of b) {
    acc = ((acc << 8) | byte) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(acc >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += ALPHABET[(acc << (5 - bits)) & 31];
  return out;
}

/** A readable form of an address descriptor (BOLT #7), or undefined when it is not one. */
export function describeAddress(a: Uint8Array): string | undefined {
  const port = (i: number) => (a[i]! << 8) | a[i + 1]!;
  switch (a[0]) {
    case 1: // IPv4: 4 bytes + port
      return a.length === 7 ? `${a[1]}.${a[2]}.${a[3]}.${a[4]}:${port(5)}` : undefined;
    case 2: {
      // IPv6: 16 bytes + port
      if (a.length !== 19) return undefined;
      const groups: string[] = [];
      for (let i = 1; i < 17; i += 2) groups.push(((a[i]! << 8) | a[i + 1]!).toString(16));
      return `[${groups.join(':')}]:${port(17)}`;
    }
    case 4: // Tor v3: the 35 bytes (pubkey, checksum, version) are what the .onion name encodes
      return a.length === 38 ? `${base32(a.subarray(1, 36))}.onion:${port(36)}` : undefined;
    case 5: {
      // DNS hostname: u8 len, ASCII host, port
      if (a.length < 2 || a.length !== 2 + a[1]! + 2) return undefined;
      const host = a.subarray(2, 2 + a[1]!);
      for (const c of host) if (c < 0x21 || c > 0x7e) return undefined;
      return `${Buffer.from(host).toString('latin1')}:${port(2 + a[1]!)}`;
    }
    default:
      return undefined;
  }
}

// ==== Chain hashes (init networks) ================================================================

// Chain hashes as they appear on the wire in init's `networks` TLV: the genesis block hash in
// the byte order the hash function outputs it. BOLT #0: "Unlike bitcoin-cli, the hash is not
// reversed but is used directly" (mainnet: 6fe28c0a...0000000000).

export type ChainName = 'mainnet' | 'testnet' | 'signet' | 'regtest';

const WIRE_HEX: Record<ChainName | 'testnet4', string> = {
  mainnet: '6fe28c0ab6f1b372c1a6a246ae63f74f931e8365e15a089c68d6190000000000',
  testnet: '43497fd7f826957108f4a30fd9cec3aeba79972084e90ead01ea330900000000', // testnet3
  signet: 'f61eee3b63a380a477a063af32b2bbc97c9ff9f01f2c4225e973988108000000', // the default signet
  regtest: '06226e46111a0b59caaf126043eb5bbf28c34f3a5e332a1fc7b2b73cf188910f',
  testnet4: '43f08bdab050e35b567c864b91f47f50ae725ae2de53bcfbbaf284da00000000',
};

export const CHAIN_HASH: Readonly<Record<ChainName, Uint8Array>> = Object.freeze({
  mainnet: fromHex(WIRE_HEX.mainnet),
  testnet: fromHex(WIRE_HEX.testnet),
  signet: fromHex(WIRE_HEX.signet),
  regtest: fromHex(WIRE_HEX.regtest),
});

const BY_HEX = new Map(Object.entries(WIRE_HEX).map(([name, hex]) => [hex, name]));

/** Name of a chain hash in wire order (`testnet4` included), or undefined. */
export function chainName(hash: Uint8Array): string | undefined {
  return hash.length === 32 ? BY_HEX.get(toHex(hash)) : undefined;
}

/** Chain hash by name (the four of CHAIN_HASH and `testnet4`). */
export function chainHashByName(name: string): Uint8Array | undefined {
  const hex = (WIRE_HEX as Record<string, string>)[name];
  return hex === undefined ? undefined : fromHex(hex);
}

// ==== error (17) ==================================================================================

// error (type 17, BOLT #1): fails the channel(s) it names; an all-zero channel_id means all.

export const ERROR = 17;

export interface ErrorMessage {
  type: 17;
  name: 'error';
  /** 32 bytes; all zero refers to every channel with the peer. */
  channelId: Uint8Array;
  data: Uint8Array;
  extension?: TlvRecord[];
}

export const errorCodec = defineMessage<ErrorMessage>({
  type: ERROR,
  name: 'error',
  fields: [
    ['channelId', fixedBytes(32), 'channel_id'],
    ['data', u16Bytes()],
  ],
});

/** `channelId` null means all channels (32 zero bytes); `text` is sent as UTF-8. */
export function errorMessage(channelId: Uint8Array | null, text: string): ErrorMessage {
  return { type: ERROR, name: 'error', channelId: channelId ?? new Uint8Array(32), data: new TextEncoder().encode(text) };
}

// ==== ping (18) ===================================================================================

// ping (type 18, BOLT #1): keep-alive; asks for a pong of `numPongBytes` ignored bytes.

export const PING = 18;

/** "if num_pong_bytes is less than 65532: MUST respond ... otherwise MUST ignore the ping". */
export const PING_NO_PONG = 65532;

export interface Ping {
  type: 18;
  name: 'ping';
  numPongBytes: number;
  /** "SHOULD set ignored to 0s" and never to secrets. */
  ignored: Uint8Array;
  extension?: TlvRecord[];
}

export const pingCodec = defineMessage<Ping>({
  type: PING,
  name: 'ping',
  fields: [
    ['numPongBytes', u16, 'num_pong_bytes'],
    ['ignored', u16Bytes()],
  ],
});

export function ping(numPongBytes: number, ignoredLen = 0): Ping {
  return { type: PING, name: 'ping', numPongBytes, ignored: new Uint8Array(ignoredLen) };
}

/** Whether a receiver answers this ping at all. */
export function pingWantsPong(p: Ping): boolean {
  return p.numPongBytes < PING_NO_PONG;
}

// ==== pong (19) ===================================================================================

// pong (type 19, BOLT #1): the answer to a ping, `byteslen` ignored bytes.

export const PONG = 19;

export interface Pong {
  type: 19;
  name: 'pong';
  ignored: Uint8Array;
  extension?: TlvRecord[];
}

export const pongCodec = defineMessage<Pong>({
  type: PONG,
  name: 'pong',
  fields: [['ignored', u16Bytes()]],
});

/** A pong with `len` zero bytes ("SHOULD set ignored to 0s"). */
export function pong(len: number): Pong {
  return { type: PONG, name: 'pong', ignored: new Uint8Array(len) };
}

// ==== The registry ================================================================================

// The registry of known messages, keyed by type, and the two entry points: decodeMessage and
// encodeMessage. A type not in the registry is kept as raw payload with its even/odd flag.

export const MSG_TYPE = { warning: 1, peer_storage: 7, peer_storage_retrieval: 9, init: 16, error: 17, ping: 18, pong: 19 } as const;
export type KnownName = keyof typeof MSG_TYPE;

/** A message whose type is not in the registry: kept whole, so it re-encodes exactly. */
export interface UnknownMessage {
  type: number;
  name: 'unknown';
  /** "it's OK to be odd": an even unknown type means the connection must be failed. */
  even: boolean;
  /** Everything after the type (payload and any extension), as a view of the input. */
  payload: Uint8Array;
}

export type KnownMessage = WarningMessage | PeerStorage | PeerStorageRetrieval | InitMessage | ErrorMessage | Ping | Pong;
export type Message = KnownMessage | UnknownMessage;

/** Every known message's codec by type. A test checks it covers every entry of MSG_TYPE. */
export const REGISTRY: ReadonlyMap<number, MessageCodec<KnownMessage>> = new Map<number, MessageCodec<any>>([
  [MSG_TYPE.warning, warningCodec],
  [MSG_TYPE.peer_storage, peerStorageCodec],
  [MSG_TYPE.peer_storage_retrieval, peerStorageRetrievalCodec],
  [MSG_TYPE.init, initCodec],
  [MSG_TYPE.error, errorCodec],
  [MSG_TYPE.ping, pingCodec],
  [MSG_TYPE.pong, pongCodec],
]);

/** Other names a message answers to (older drafts, CLN's internals); output uses the spec name. */
export const MSG_ALIASES: Readonly<Record<string, KnownName>> = { your_peer_storage: 'peer_storage_retrieval' };

/** Type number of a spec name or alias, or undefined. */
export function messageTypeByName(name: string): number | undefined {
  const canonical = MSG_ALIASES[name] ?? name;
  return Object.prototype.hasOwnProperty.call(MSG_TYPE, canonical) ? MSG_TYPE[canonical as KnownName] : undefined;
}

/**
 * Decode one whole message (type, payload, optional extension). Total: returns a Message or
 * throws DecodeError with a code and the path of the failing field, for any input.
 */
export function decodeMessage(bytes: Uint8Array): Message {
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`"bytes" expected Uint8Array, got ${typeof bytes}`);
  if (bytes.length > MAX_MESSAGE_LEN) {
    throw new DecodeError('too_large', 'message', `${bytes.length} bytes; a message is at most ${MAX_MESSAGE_LEN} bytes`);
  }
  if (bytes.length < 2) throw new DecodeError('truncated', 'message.type', `needs 2 bytes, only ${bytes.length} left`);
  const type = (bytes[0]! << 8) | bytes[1]!;
  const codec = REGISTRY.get(type);
  if (codec === undefined) return { type, name: 'unknown', even: (type & 1) === 0, payload: bytes.subarray(2) };
  return codec.decode(bytes);
}

/** Encode a message. Throws InputError when a value does not fit the wire (too long, out of range). */
export function encodeMessage(msg: Message): Uint8Array {
  if (msg === null || typeof msg !== 'object') throw new TypeError(`"msg" expected a Message, got ${msg === null ? 'null' : typeof msg}`);
  if (msg.name === 'unknown') {
    const { type, payload } = msg;
    if (!Number.isInteger(type) || type < 0 || type > 0xffff) throw new InputError(`message type must be an integer in 0..65535, got ${type}`, 'bad_value');
    if (REGISTRY.has(type)) throw new InputError(`type ${type} is a known message (${REGISTRY.get(type)!.def.name}); give its fields instead of a raw payload`, 'bad_value');
    if (!(payload instanceof Uint8Array)) throw new TypeError(`"payload" expected Uint8Array`);
    if (2 + payload.length > MAX_MESSAGE_LEN) throw new InputError(`message would be ${2 + payload.length} bytes; a message is at most ${MAX_MESSAGE_LEN} bytes`, 'too_large');
    const out = new Uint8Array(2 + payload.length);
    out[0] = type >>> 8;
    out[1] = type & 0xff;
    out.set(payload, 2);
    return out;
  }
  const codec = REGISTRY.get(msg.type);
  if (codec === undefined || codec.def.name !== msg.name) {
    throw new TypeError(`"msg" has type ${String(msg.type)} and name ${String(msg.name)}, which do not match a known message`);
  }
  return codec.encode(msg);
}
