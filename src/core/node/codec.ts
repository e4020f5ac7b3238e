// The node's codec over the wire layer: the one place that turns wire messages into what the
// peer logic acts on, and back.
import { decodeMessage, encodeMessage } from '../wire/registry.js';
import { initMessage } from '../wire/init.js';
import { ping } from '../wire/ping.js';
import { pong } from '../wire/pong.js';
import { warningMessage } from '../wire/warning.js';
import { peerStorage } from '../wire/peer-storage.js';
import { peerStorageRetrieval } from '../wire/peer-storage-retrieval.js';
import { featureBits } from '../wire/features.js';
import type { NodeCodec, NodeMsg } from './types.js';

/** Text a peer sent in a warning or error, printable and bounded for a log line. */
function peerText(data: Uint8Array): string {
  const s = new TextDecoder('utf-8', { fatal: false }).decode(data.subarray(0, 300));
  return data.length > 300 ? s + '…' : s;
}

export const wireCodec: NodeCodec = {
  decode(bytes: Uint8Array): NodeMsg {
    const m = decodeMessage(bytes);
    switch (m.name) {
      case 'init':
        // BOLT #1: the receiver MUST combine (logical OR) the two feature bitmaps.
        return { kind: 'init', features: new Set([...featureBits(m.globalFeatures), ...featureBits(m.features)]), networks: m.networks };
      case 'ping':
        return { kind: 'ping', numPongBytes: m.numPongBytes, ignoredLen: m.ignored.length };
      case 'pong':
        return { kind: 'pong', ignoredLen: m.ignored.length };
      case 'peer_storage':
        return { kind: 'peer_storage', blob: m.blob };
      case 'peer_storage_retrieval':
        return { kind: 'peer_storage_retrieval', blob: m.blob };
      case 'warning':
        return { kind: 'warning', text: peerText(m.data) };
      case 'error':
        return { kind: 'error', text: peerText(m.data) };
      case 'unknown':
        return { kind: 'unknown', type: m.type };
      default:
        return { kind: 'other', type: (m as { type: number }).type, name: (m as { name: string }).name };
    }
  },
  init: ({ features, chainHash }) => encodeMessage(initMessage({ features, networks: [chainHash] })),
  ping: (numPongBytes, ignoredLen) => encodeMessage(ping(numPongBytes, ignoredLen)),
  pong: (len) => encodeMessage(pong(len)),
  warning: (text) => encodeMessage(warningMessage(null, text.length > 1000 ? text.slice(0, 1000) : text)),
  peerStorage: (blob) => encodeMessage(peerStorage(blob)),
  peerStorageRetrieval: (blob) => encodeMessage(peerStorageRetrieval(blob)),
};
