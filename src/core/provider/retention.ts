// When a stored blob may go. BOLT #1: once all channels with a peer are closed, the provider
// "SHOULD wait at least 2016 blocks before deleting the blob".
import type { PeerChannels, PeerMeta } from '../store/records.js';
import type { ProviderSettings } from './policy.js';
import { toHex } from '../bytes.js';

export interface RetentionView {
  channels: PeerChannels | undefined;
  meta: PeerMeta;
  /** The peer, so that one on the allowlist is kept. */
  peer?: Uint8Array;
}

/**
 * Prunable when the peer has no open channel and its last channel closed at least
 * `retentionBlocks` before `height` (2015 blocks: kept; 2016: prunable). When no close height
 * is known (or no height is given), by time: closed at least `retentionMs` before `now`. A peer
 * that never had a channel (stored under `any`) is measured from its last update. A peer on the
 * allowlist is kept as one with an open channel is: operators who allowlist each other's nodes
 * have no channel between those nodes, and a backup that has not changed for weeks is still
 * the one they need.
 */
export function isPrunable(v: RetentionView, height: number | undefined, now: number, s: Pick<ProviderSettings, 'retentionBlocks' | 'retentionMs'> & { allowlist?: ReadonlySet<string> }): boolean {
  if (v.peer !== undefined && s.allowlist?.has(toHex(v.peer))) return false;
  const c = v.channels;
  if (c && c.open > 0) return false;
  if (c && c.last_close_height !== undefined && height !== undefined) return height - c.last_close_height >= s.retentionBlocks;
  const since = c?.last_closed_at ?? v.meta.updated_at;
  return now - since >= s.retentionMs;
}
