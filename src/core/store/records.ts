// The database layout: one key prefix byte per record kind, and the records' binary layouts.
//
//   'V'                         schema version (u32)
//   'T'                         running totals (so `getinfo` never scans)
//   'H'                         best known block height
//   'K'                         the node public key this database belongs to
//   'm' peer(33)                stored blob's metadata     (provider side)
//   'b' peer(33)                stored blob's bytes        (provider side; apart so listing never reads blobs)
//   'c' txid(32) vout(4)        one channel
//   'p' peer(33)                that peer's channel summary (kept in step with 'c' in one batch)
//   'o' peer(33)                our backup as last sent to that peer      (consumer side)
//   'r' peer(33)                what that peer gave back, and its status   (consumer side)
//   'R' peer(33)                newest valid blob that peer gave back      (consumer side)
//   'F' peer(33)                that peer refused our blob, or stopped advertising storage (consumer side)
//   'x' backup_id(16) index(1)  placement of one shard of a striped backup (consumer side)
//   'X' seq(8) backup_id(16) i  one version of our striped backup: i = 0xff its header, else
//                               shard i's placement (consumer side; src/core/node/stripe-store.ts)
//   'Y' seq(8) backup_id(16) i  sealed shard i of that version, kept to resend or move it
import { DecodeError } from '../errors.js';
import { enumOf, fixed, optional, record, u16, u32, u53, u64, u8, varbytes, type RecordCodec } from './codec.js';

export const SCHEMA_VERSION = 1;

export const PREFIX = {
  schema: 0x56, // 'V'
  totals: 0x54, // 'T'
  height: 0x48, // 'H'
  nodeKey: 0x4b, // 'K'
  peerMeta: 0x6d, // 'm'
  peerBlob: 0x62, // 'b'
  channel: 0x63, // 'c'
  peerChannels: 0x70, // 'p'
  sent: 0x6f, // 'o'
  retrieved: 0x72, // 'r'
  retrievedBlob: 0x52, // 'R'
  refusal: 0x46, // 'F'
  placement: 0x78, // 'x'
  stripeVersion: 0x58, // 'X'
  stripeShard: 0x59, // 'Y'
} as const;

export const KEY_SCHEMA = Uint8Array.of(PREFIX.schema);
export const KEY_TOTALS = Uint8Array.of(PREFIX.totals);
export const KEY_HEIGHT = Uint8Array.of(PREFIX.height);
export const KEY_NODE = Uint8Array.of(PREFIX.nodeKey);

export function peerKey(prefix: number, peer: Uint8Array): Uint8Array {
  if (peer.length !== 33) throw new RangeError(`"peer" expected 33 bytes, got ${peer.length}`);
  const k = new Uint8Array(34);
  k[0] = prefix;
  k.set(peer, 1);
  return k;
}

/** The peer a per-peer key belongs to. */
export function peerOfKey(key: Uint8Array): Uint8Array {
  return key.subarray(1, 34);
}

export interface ChanPoint {
  txid: Uint8Array; // 32 bytes, in the order the txid is displayed (as lnd prints it)
  vout: number;
}

export function channelKey(cp: ChanPoint): Uint8Array {
  const k = new Uint8Array(37);
  k[0] = PREFIX.channel;
  k.set(cp.txid, 1);
  new DataView(k.buffer).setUint32(33, cp.vout);
  return k;
}

export function chanPointOfKey(key: Uint8Array): ChanPoint {
  if (key.length !== 37) throw new DecodeError('bad_value', 'channel.key', `expected 37 bytes, got ${key.length}`);
  return { txid: key.slice(1, 33), vout: new DataView(key.buffer, key.byteOffset, key.length).getUint32(33) };
}

export function placementKey(backupId: Uint8Array, index: number): Uint8Array {
  if (backupId.length !== 16) throw new RangeError(`"backup_id" expected 16 bytes, got ${backupId.length}`);
  const k = new Uint8Array(18);
  k[0] = PREFIX.placement;
  k.set(backupId, 1);
  k[17] = index;
  return k;
}

export const schemaRecord = record('schema', 1, { version: u32 });

/** Running totals, updated in the same batch as every change they count. */
export const totalsRecord = record('totals', 1, {
  peers: u53, // peers with a stored blob
  bytes: u53, // blob bytes held
  channels: u53, // channel records
  open_channels: u53,
});
export type Totals = ReturnType<typeof totalsRecord.decode>;
export const EMPTY_TOTALS: Totals = { peers: 0, bytes: 0, channels: 0, open_channels: 0 };

export const heightRecord = record('height', 1, { height: u32, updated_at: u53 });

/** The node this database belongs to: written by `create` (or on first open of an older database). */
export const nodeKeyRecord = record('node_key', 1, { pubkey: fixed(33), recorded_at: u53 });

/** Times are milliseconds since the Unix epoch. */
export const peerMetaRecord = record('peer_meta', 1, {
  first_stored_at: u53,
  updated_at: u53,
  update_count: u53,
  blob_len: u16,
  blob_sha256: fixed(32),
});
export type PeerMeta = ReturnType<typeof peerMetaRecord.decode>;

export const peerBlobRecord = record('peer_blob', 1, { blob: varbytes });

export const channelRecord = record('channel', 1, {
  peer: fixed(33),
  state: enumOf(['open', 'closed'] as const),
  added_at: u53,
  closed_at: optional(u53),
  close_height: optional(u32),
});
export type ChannelRec = ReturnType<typeof channelRecord.decode>;

export const peerChannelsRecord = record('peer_channels', 1, {
  open: u32,
  closed: u32,
  last_close_height: optional(u32),
  last_closed_at: optional(u53),
});
export type PeerChannels = ReturnType<typeof peerChannelsRecord.decode>;

/**
 * What we last sent to a peer (consumer side). `sent_at` is when that seq was first sent to
 * it: sending the same seq again (on a reconnection) keeps it, so a retrieval after it that
 * gave something else still counts as missing until the peer proves the copy.
 */
export const sentRecord = record('sent', 1, { seq: u64, sha256: fixed(32), len: u16, sent_at: u53 });
export type SentRec = ReturnType<typeof sentRecord.decode>;

/** `none`: the peer sent no peer_storage_retrieval within the wait after init (it holds nothing of ours). */
export const RETRIEVAL_STATUS = ['confirmed', 'stale', 'corrupt', 'foreign', 'none'] as const;
export type RetrievalStatus = (typeof RETRIEVAL_STATUS)[number];

/** What a peer last gave back, as judged by the consumer. */
export const retrievedRecord = record('retrieved', 1, {
  seq: optional(u64), // absent when the blob could not be opened
  status: enumOf(RETRIEVAL_STATUS),
  last_seen: u53,
});
export type RetrievedRec = ReturnType<typeof retrievedRecord.decode>;

/** The newest blob from that peer that opened cleanly. */
export const retrievedBlobRecord = record('retrieved_blob', 1, { seq: u64, blob: varbytes, received_at: u53 });
export type RetrievedBlobRec = ReturnType<typeof retrievedBlobRecord.decode>;

/**
 * A peer that refused our blob (a `warning` naming peer_storage after we sent one) or that does
 * not advertise option_provide_storage. `features` is its feature bits then (sorted, u16 each):
 * placement skips it until it comes back with other features or the operator says otherwise.
 */
export const refusalRecord = record('refusal', 1, { at: u53, reason: varbytes, features: varbytes });
export type RefusalRec = ReturnType<typeof refusalRecord.decode>;

/** One shard of a striped backup placed on a peer. */
export const placementRecord = record('placement', 1, { seq: u64, peer: fixed(33), k: u8, n: u8, placed_at: u53 });
export type PlacementRec = ReturnType<typeof placementRecord.decode>;

export type { RecordCodec };
