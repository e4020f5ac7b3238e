// peer_storage (type 7, BOLT #1 "Peer storage"): a peer hands us a blob to keep for it.
import { defineMessage, u16Bytes } from './codec.js';
import type { TlvRecord } from './tlv.js';

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
