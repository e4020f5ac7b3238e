// lightning-kmp (Phoenix), serialization/channel/Encryption.kt: a version byte (the
// serialization version of the content), then ChaCha20-Poly1305 (RFC 8439, no associated
// data) laid out `ciphertext || nonce(12) || tag(16)`. The key is the node private key.
// An older layout is still read upstream when that fails (Encryption.kt, since 09c43925): a
// list of channel states each sealed on its own, as they were once stored one by one.
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { abytes, concatBytes } from '../../bytes.js';
import { DecodeError } from '../../errors.js';
import { Cursor } from './reader.js';
import { bip32PrivateKey } from './bip32.js';
import { invalid, type ForeignOpenResult } from './types.js';

/** Serialization versions lightning-kmp writes in front of its peer storage. */
// Serialization.kt accepts 4 (written up to v1.10.x) and 5.
export const KMP_VERSIONS: readonly number[] = [0x04, 0x05];
export const KMP_MIN_BLOB = 1 + 12 + 16;

export type KmpNetwork = 'mainnet' | 'testnet' | 'signet' | 'regtest';

/** The node key path: m/50'/0' on mainnet, m/48'/0' on the test networks. */
export function kmpNodeKeyPath(network: KmpNetwork): string {
  return network === 'mainnet' ? "m/50'/0'" : "m/48'/0'";
}

/** Node private key from the wallet's 64-byte BIP39 seed. */
export function kmpNodeKeyFromSeed(seed: Uint8Array, network: KmpNetwork): Uint8Array {
  return bip32PrivateKey(seed, kmpNodeKeyPath(network));
}

/** ChaCha20-Poly1305 of `ciphertext || nonce(12) || tag(16)`, no associated data; null when it does not open. */
function openSealed(key: Uint8Array, data: Uint8Array): Uint8Array | null {
  if (data.length < 28) return null;
  const nonce = data.subarray(data.length - 28, data.length - 16);
  try {
    return chacha20poly1305(key, nonce).decrypt(concatBytes(data.subarray(0, data.length - 28), data.subarray(data.length - 16)));
  } catch {
    return null;
  }
}

export function openKmpBlob(blob: Uint8Array, nodeKey: Uint8Array): ForeignOpenResult {
  abytes(nodeKey, 32, 'node key');
  if (blob.length === 0) return invalid('kmp', 'empty');
  if (blob.length < KMP_MIN_BLOB) return invalid('kmp', 'too_short');
  const plaintext = openSealed(nodeKey, blob.subarray(1));
  if (plaintext) {
    // The version byte is not authenticated (no associated data), and lightning-kmp reads it
    // only once the content decrypts: so a blob that does not open is auth_failed, whatever
    // its first byte, and unknown_version is only for one that opens.
    if (!KMP_VERSIONS.includes(blob[0]!)) {
      plaintext.fill(0);
      return invalid('kmp', 'unknown_version', { details: { version: blob[0] } });
    }
    return { valid: true, format: 'kmp', plaintext, details: { version: blob[0] } };
  }
  return openKmpLegacyList(blob, nodeKey) ?? invalid('kmp', 'auth_failed');
}

/**
 * The legacy list layout, read when the current one does not open (as lightning-kmp does): a
 * BigSize count, then BigSize-length-prefixed items, each `ciphertext || nonce(12) || tag(16)`
 * of one channel state, tried first without its first 2 bytes (the 2 bytes of version a
 * channel's data was once prefixed with) and then whole. Valid when at least one item opens;
 * items that do not open are ignored, as upstream ignores them. The plaintext is the opened
 * items in the same framing (BigSize count, then each BigSize-length-prefixed).
 *
 * Bound: the count is checked against the bytes present before any loop, and each item is
 * opened at most twice, so at most twice the blob's length is decrypted.
 */
function openKmpLegacyList(blob: Uint8Array, nodeKey: Uint8Array): ForeignOpenResult | undefined {
  let items: Uint8Array[];
  try {
    const c = new Cursor(blob, 'kmp_legacy');
    const n = c.length(c.bigsize('count'), 'count'); // each item takes at least its length byte
    items = [];
    for (let i = 0; i < n; i++) items.push(c.bytes(c.length(c.bigsize(`items[${i}].length`), `items[${i}].length`), `items[${i}]`));
  } catch (e) {
    if (e instanceof DecodeError) return undefined;
    throw e;
  }
  const opened: Uint8Array[] = [];
  for (const item of items) {
    const p = openSealed(nodeKey, item.subarray(Math.min(2, item.length))) ?? openSealed(nodeKey, item);
    if (p) opened.push(p);
  }
  if (opened.length === 0) return undefined;
  const plaintext = concatBytes(bigSize(opened.length), ...opened.flatMap((p) => [bigSize(p.length), p]));
  const versions = opened.map(stateVersion);
  for (const p of opened) p.fill(0);
  return {
    valid: true,
    format: 'kmp',
    plaintext,
    details: { layout: 'legacy_list', items: items.length, items_opened: opened.length, item_versions: versions },
  };
}

/** A channel state starts with its serialization version: one byte (4), or a u32 (2, 3) in older ones (Serialization.kt). */
function stateVersion(p: Uint8Array): number | null {
  if (p.length >= 4 && p[0] === 0 && p[1] === 0 && p[2] === 0 && (p[3] === 2 || p[3] === 3)) return p[3]!;
  return p.length === 0 ? null : p[0]!;
}

function bigSize(n: number): Uint8Array {
  if (n < 0xfd) return Uint8Array.of(n);
  if (n <= 0xffff) return Uint8Array.of(0xfd, n >> 8, n & 0xff);
  return Uint8Array.of(0xfe, (n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
}
