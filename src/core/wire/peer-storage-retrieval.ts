// peer_storage_retrieval (type 9, BOLT #1 "Peer storage"): a peer returns the last blob it
// stored for us. Older drafts and CLN's internals call it `your_peer_storage`.
import { defineMessage, u16Bytes } from './codec.js';
import { MAX_BLOB_LEN } from './peer-storage.js';
import type { TlvRecord } from './tlv.js';

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
