// The registry of known messages, keyed by type, and the two entry points: decodeMessage and
// encodeMessage. A type not in the registry is kept as raw payload with its even/odd flag.
import { DecodeError, InputError } from '../errors.js';
import { MAX_MESSAGE_LEN, type MessageCodec } from './codec.js';
import { errorCodec, type ErrorMessage } from './error.js';
import { initCodec, type InitMessage } from './init.js';
import { peerStorageCodec, type PeerStorage } from './peer-storage.js';
import { peerStorageRetrievalCodec, type PeerStorageRetrieval } from './peer-storage-retrieval.js';
import { pingCodec, type Ping } from './ping.js';
import { pongCodec, type Pong } from './pong.js';
import { warningCodec, type WarningMessage } from './warning.js';

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
