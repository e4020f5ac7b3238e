// lnd (an unmerged draft, so experimental): XChaCha20-Poly1305 laid out
// `nonce(24) || ciphertext || tag(16)`, the nonce also serving as associated data (as lnd's
// static channel backups do), the plaintext zero-padded to fill 65531 bytes with no length
// field. The key is SHA-256 of the compressed public key at m/1017'/coin'/7'/0/0 (key
// family 7, index 0) of the wallet's BIP32 root, which is made from the aezeed entropy.
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { getPublicKey } from '@noble/secp256k1';
import { abytes } from '../../bytes.js';
import { HARDENED, deriveChild, masterFromSeed, parseRootXprv, parseRootXprvBytes, type ExtendedPrivateKey } from './bip32.js';
import { invalid, type ForeignOpenResult } from './types.js';

export const LND_MIN_BLOB = 24 + 16;
export const LND_KEY_FAMILY = 7;

/**
 * The private key at m/1017'/coin'/family'/0/index of the wallet root, as lnd's wallet
 * (btcwallet) derives it: m/1017' and m/1017'/coin' in memory with btcutil's legacy
 * DeriveNonStandard, then the coin-type key is stored (serialized, so padded back to 32
 * bytes) and account keys come from the stored copy. So only the m/1017' → coin' step is
 * affected when the m/1017' secret starts with a zero byte; every other step is strict BIP32.
 */
export function lndFamilyKey(root: ExtendedPrivateKey, coin: number, family: number, index = 0): Uint8Array {
  if (!Number.isInteger(coin) || coin < 0 || coin >= HARDENED) throw new RangeError(`"coin" expected 0..2^31-1, got ${coin}`);
  if (!Number.isInteger(family) || family < 0 || family >= HARDENED) throw new RangeError(`"family" expected 0..2^31-1, got ${family}`);
  const purpose = deriveChild(root, 1017 + HARDENED, true);
  const coinKey = deriveChild(purpose, coin + HARDENED, true);
  const stored = { ...coinKey, legacyShort: false };
  const account = deriveChild(stored, family + HARDENED);
  const branch = deriveChild(account, 0);
  const leaf = deriveChild(branch, index);
  for (const k of [purpose, coinKey, account, branch]) k.key.fill(0);
  return leaf.key;
}

/** The peer storage key: SHA-256 of the public key of key family 7, index 0. */
export function lndKeyFromRoot(root: ExtendedPrivateKey, coin: number): Uint8Array {
  const leaf = lndFamilyKey(root, coin, LND_KEY_FAMILY);
  const pub = getPublicKey(leaf, true);
  leaf.fill(0);
  return sha256(pub);
}

/** From the aezeed's 16-byte entropy (lnd makes its BIP32 root from it directly). */
export function lndKeyFromEntropy(entropy: Uint8Array, coin: number): Uint8Array {
  abytes(entropy, 16, 'aezeed entropy');
  const root = masterFromSeed(entropy);
  try {
    return lndKeyFromRoot(root, coin);
  } finally {
    root.key.fill(0);
  }
}

/** From the wallet's extended root key (xprv/tprv). */
export function lndKeyFromXprv(xprv: string | Uint8Array, coin: number): Uint8Array {
  const root = typeof xprv === 'string' ? parseRootXprv(xprv) : parseRootXprvBytes(xprv);
  try {
    return lndKeyFromRoot(root, coin);
  } finally {
    root.key.fill(0);
  }
}

export function openLndBlob(blob: Uint8Array, key: Uint8Array): ForeignOpenResult {
  abytes(key, 32, 'lnd peer storage key');
  if (blob.length === 0) return invalid('lnd', 'empty', { experimental: true });
  if (blob.length < LND_MIN_BLOB) return invalid('lnd', 'too_short', { experimental: true });
  const nonce = blob.subarray(0, 24);
  try {
    const plaintext = xchacha20poly1305(key, nonce, nonce).decrypt(blob.subarray(24));
    let end = plaintext.length;
    while (end > 0 && plaintext[end - 1] === 0) end--;
    // The padding has no length field, so trailing zeros of the content itself cannot be
    // told apart from it: report the count and keep the plaintext whole.
    return { valid: true, format: 'lnd', plaintext, experimental: true, details: { trailing_zero_bytes: plaintext.length - end } };
  } catch {
    return invalid('lnd', 'auth_failed', { experimental: true });
  }
}
