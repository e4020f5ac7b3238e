// lightning-kmp (Phoenix), serialization/channel/Encryption.kt: a version byte (the
// serialization version of the content), then ChaCha20-Poly1305 (RFC 8439, no associated
// data) laid out `ciphertext || nonce(12) || tag(16)`. The key is the node private key.
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { abytes, concatBytes } from '../../bytes.js';
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

export function openKmpBlob(blob: Uint8Array, nodeKey: Uint8Array): ForeignOpenResult {
  abytes(nodeKey, 32, 'node key');
  if (blob.length === 0) return invalid('kmp', 'empty');
  if (blob.length < KMP_MIN_BLOB) return invalid('kmp', 'too_short');
  const body = blob.subarray(1);
  const nonce = body.subarray(body.length - 28, body.length - 16);
  const sealed = concatBytes(body.subarray(0, body.length - 28), body.subarray(body.length - 16));
  try {
    const plaintext = chacha20poly1305(nodeKey, nonce).decrypt(sealed);
    // The version byte is not authenticated (no associated data), and lightning-kmp reads it
    // only once the content decrypts: so a blob that does not open is auth_failed, whatever
    // its first byte, and unknown_version is only for one that opens.
    if (!KMP_VERSIONS.includes(blob[0]!)) {
      plaintext.fill(0);
      return invalid('kmp', 'unknown_version', { details: { version: blob[0] } });
    }
    return { valid: true, format: 'kmp', plaintext, details: { version: blob[0] } };
  } catch {
    return invalid('kmp', 'auth_failed');
  }
}
