// Kept so that imports of this path keep working: peer_storage now lives in registry.ts with the
// other messages (one module, for start-up time). Prefer importing from index.js.
export { MAX_BLOB_LEN, PEER_STORAGE, peerStorage, type PeerStorage } from './registry.js';
