// When a stored blob may go. BOLT #1: once all channels with a peer are closed, the provider
// "SHOULD wait at least 2016 blocks before deleting the blob".
import type { PeerChannels, PeerMeta } from '../store/records.js';
import type { ProviderSettings } from './policy.js';

export interface RetentionView {
  channels: PeerChannels | undefined;
  meta: PeerMeta;
}

/**
 * Prunable when the peer has no open channel and its last channel closed at least
 * `retentionBlocks` before `height` (2015 blocks: kept; 2016: prunable). When no close height
 * is known (or no height is given), by time: closed at least `retentionMs` before `now`. A peer
 * that never had a channel (stored under `allowlist` or `any`) is measured from its last update.
 */
export function isPrunable(v: RetentionView, height: number | undefined, now: number, s: Pick<ProviderSettings, 'retentionBlocks' | 'retentionMs'>): boolean {
  const c = v.channels;
  if (c && c.open > 0) return false;
  if (c && c.last_close_height !== undefined && height !== undefined) return height - c.last_close_height >= s.retentionBlocks;
  const since = c?.last_closed_at ?? v.meta.updated_at;
  return now - since >= s.retentionMs;
}
