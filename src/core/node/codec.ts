// The node's codec over the wire layer: the one place that turns wire messages into what the
// peer logic acts on, and back.
import { decodeMessage, encodeMessage, initMessage, peerStorage, peerStorageRetrieval, ping, pong, warningMessage } from '../wire/registry.js';
import type { NodeCodec, NodeMsg } from './types.js';

/**
 * Message types the BOLTs define that lnps does not act on (channel, update and gossip
 * messages). They are not "unknown" in BOLT #1's sense: a Lightning peer may send them in good
 * faith (gossip in particular), so they are ignored rather than failing the connection.
 */
export const BOLT_TYPES: ReadonlyMap<number, string> = new Map([
  [2, 'stfu'],
  [32, 'open_channel'], [33, 'accept_channel'], [34, 'funding_created'], [35, 'funding_signed'], [36, 'channel_ready'],
  [38, 'shutdown'], [39, 'closing_signed'], [40, 'closing_complete'], [41, 'closing_sig'],
  [64, 'open_channel2'], [65, 'accept_channel2'], [66, 'tx_add_input'], [67, 'tx_add_output'], [68, 'tx_remove_input'],
  [69, 'tx_remove_output'], [70, 'tx_complete'], [71, 'tx_signatures'], [72, 'tx_init_rbf'], [73, 'tx_ack_rbf'], [74, 'tx_abort'],
  [128, 'update_add_htlc'], [130, 'update_fulfill_htlc'], [131, 'update_fail_htlc'], [132, 'commitment_signed'],
  [133, 'revoke_and_ack'], [134, 'update_fee'], [135, 'update_fail_malformed_htlc'], [136, 'channel_reestablish'],
  [256, 'channel_announcement'], [257, 'node_announcement'], [258, 'channel_update'], [259, 'announcement_signatures'],
  [261, 'query_short_channel_ids'], [262, 'reply_short_channel_ids_end'], [263, 'query_channel_range'],
  [264, 'reply_channel_range'], [265, 'gossip_timestamp_filter'],
]);

/** Text a peer sent in a warning or error, printable and bounded for a log line. */
function peerText(data: Uint8Array): string {
  const s = new TextDecoder('utf-8', { fatal: false }).decode(data.subarray(0, 300));
  return data.length > 300 ? s + '…' : s;
}

/**
 * Feature bits kept by number: every bit BOLT #9 assigns is far below this. A peer may set all
 * 524,280 bits of a 65535-byte vector; those above are only counted, so an init costs at most
 * one pass over its bytes and a set of at most this many numbers.
 */
export const MAX_KEPT_FEATURE_BIT = 1023;

/** Popcount of one byte. */
function ones(b: number): number {
  b = b - ((b >> 1) & 0x55);
  b = (b & 0x33) + ((b >> 2) & 0x33);
  return (b + (b >> 4)) & 0x0f;
}

/**
 * BOLT #1: the receiver MUST combine (logical OR) the two feature bitmaps. Returns the set bits
 * up to MAX_KEPT_FEATURE_BIT and the count of all set bits of the combined vector.
 */
export function combinedFeatures(a: Uint8Array, b: Uint8Array): { bits: Set<number>; count: number } {
  const bits = new Set<number>();
  let count = 0;
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    // Byte i counted from the end: bits 8i .. 8i+7.
    const byte = (a[a.length - 1 - i] ?? 0) | (b[b.length - 1 - i] ?? 0);
    if (byte === 0) continue;
    count += ones(byte);
    if (i * 8 > MAX_KEPT_FEATURE_BIT) continue;
    for (let k = 0; k < 8; k++) if (byte & (1 << k) && i * 8 + k <= MAX_KEPT_FEATURE_BIT) bits.add(i * 8 + k);
  }
  return { bits, count };
}

let lastPong: { len: number; bytes: Uint8Array } | undefined;

export const wireCodec: NodeCodec = {
  decode(bytes: Uint8Array): NodeMsg {
    const m = decodeMessage(bytes);
    switch (m.name) {
      case 'init': {
        const f = combinedFeatures(m.globalFeatures, m.features);
        return { kind: 'init', features: f.bits, featureCount: f.count, networks: m.networks };
      }
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
      case 'unknown': {
        const name = BOLT_TYPES.get(m.type);
        return name !== undefined ? { kind: 'other', type: m.type, name } : { kind: 'unknown', type: m.type };
      }
      default:
        return { kind: 'other', type: (m as { type: number }).type, name: (m as { name: string }).name };
    }
  },
  init: ({ features, chainHash }) => encodeMessage(initMessage({ features, networks: [chainHash] })),
  ping: (numPongBytes, ignoredLen) => encodeMessage(ping(numPongBytes, ignoredLen)),
  pong: (len) => {
    // A flood of full-size pings would otherwise build a fresh 65535-byte pong each time: the
    // bytes depend only on the length (zeros), so the last one is kept (one message, at most
    // 65535 bytes per process) and handed out again. Callers only read it (the transport
    // encrypts it at once).
    if (lastPong === undefined || lastPong.len !== len) lastPong = { len, bytes: encodeMessage(pong(len)) };
    return lastPong.bytes;
  },
  warning: (text) => encodeMessage(warningMessage(null, text.length > 1000 ? text.slice(0, 1000) : text)),
  peerStorage: (blob) => encodeMessage(peerStorage(blob)),
  peerStorageRetrieval: (blob) => encodeMessage(peerStorageRetrieval(blob)),
};
