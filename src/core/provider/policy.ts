// Who may store with us, and how much. Settings are plain data so they can come from flags,
// lnps.conf, or tests.
import { UsageError } from '../errors.js';
import { MAX_BLOB_LEN } from '../store/store.js';

export type StoragePolicy = 'channel-peers' | 'allowlist' | 'any';
export const STORAGE_POLICIES: readonly StoragePolicy[] = ['channel-peers', 'allowlist', 'any'];

export interface ProviderSettings {
  policy: StoragePolicy;
  /** Peers (66 hex digits, lower case) the operator allows besides channel peers. */
  allowlist: ReadonlySet<string>;
  /** Most peers whose blobs we hold. */
  maxPeers: number;
  /** Most blob bytes held in total, checked when a new peer is admitted. */
  maxBytes: number;
  /** Largest blob accepted; the protocol's own limit is 65531. */
  maxBlobLen: number;
  /** Debounce window per peer, in ms. */
  cooldownMs: number;
  /** Blocks after the last channel closed before its peer's blob may go. */
  retentionBlocks: number;
  /** The same by time, when no close height is known. */
  retentionMs: number;
}

export const DAY_MS = 86_400_000;
/** The spec asks for at most one write per minute when rate limiting: the cooldown's ceiling. */
export const MAX_COOLDOWN_MS = 60_000;

export const DEFAULT_SETTINGS: ProviderSettings = {
  policy: 'channel-peers',
  allowlist: new Set(),
  maxPeers: 10_000,
  maxBytes: 1024 * 1024 * 1024, // 1 GiB: 16,000 fully padded blobs
  maxBlobLen: MAX_BLOB_LEN,
  cooldownMs: 1000,
  // "SHOULD wait at least 2016 blocks before deleting the blob" once all channels are closed.
  retentionBlocks: 2016,
  retentionMs: 14 * DAY_MS,
};

/** Fill defaults and check ranges; a bad value is the operator's error (exit 2). */
export function providerSettings(partial: Partial<ProviderSettings> = {}): ProviderSettings {
  const s: ProviderSettings = { ...DEFAULT_SETTINGS, ...Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined)) };
  if (!STORAGE_POLICIES.includes(s.policy)) throw new UsageError(`storage policy must be one of ${STORAGE_POLICIES.join(', ')}, got ${JSON.stringify(s.policy)}`);
  if (!Number.isInteger(s.cooldownMs) || s.cooldownMs < 0 || s.cooldownMs > MAX_COOLDOWN_MS)
    throw new UsageError(`cooldown must be between 0 and ${MAX_COOLDOWN_MS} ms, got ${s.cooldownMs}`);
  if (!Number.isInteger(s.maxBlobLen) || s.maxBlobLen < 0 || s.maxBlobLen > MAX_BLOB_LEN)
    throw new UsageError(`max blob size must be between 0 and ${MAX_BLOB_LEN} bytes, got ${s.maxBlobLen}`);
  for (const k of ['maxPeers', 'maxBytes', 'retentionBlocks', 'retentionMs'] as const)
    if (!Number.isSafeInteger(s[k]) || s[k] < 0) throw new UsageError(`${k} must be a non-negative integer, got ${s[k]}`);
  return s;
}
