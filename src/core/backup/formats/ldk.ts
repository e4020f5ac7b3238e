// LDK (rust-lightning, lightning/src/ln/our_peer_storage.rs): ChaCha20-Poly1305 (RFC 8439)
// with no associated data, laid out `ciphertext || tag(16) || R(32)`. The nonce is
// 4 zero bytes || HMAC-SHA256(key = SHA-256(K), R)[0..8]. K is the KeysManager's m/6' key.
// The plaintext is a list of channel holders, listed here.
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { DecodeError } from '../../errors.js';
import { abytes, toHex } from '../../bytes.js';
import { bip32PrivateKey } from './bip32.js';
import { Cursor, readTlvStream } from './reader.js';
import { invalid, type ForeignOpenResult } from './types.js';

export const LDK_MIN_BLOB = 16 + 32;

/** KeysManager::new(seed): the peer storage key is the BIP32 private key at m/6'. */
export function ldkPeerStorageKey(seed: Uint8Array): Uint8Array {
  abytes(seed, 32, 'LDK seed');
  return bip32PrivateKey(seed, "m/6'");
}

export function ldkNonce(key: Uint8Array, random: Uint8Array): Uint8Array {
  const kh = sha256(key);
  const mac = hmac(sha256, kh, random);
  kh.fill(0);
  const nonce = new Uint8Array(12);
  nonce.set(mac.subarray(0, 8), 4);
  return nonce;
}

export function openLdkBlob(blob: Uint8Array, key: Uint8Array): ForeignOpenResult {
  abytes(key, 32, 'LDK peer storage key');
  if (blob.length === 0) return invalid('ldk', 'empty');
  if (blob.length < LDK_MIN_BLOB) return invalid('ldk', 'too_short');
  const random = blob.subarray(blob.length - 32);
  const sealed = blob.subarray(0, blob.length - 32); // ciphertext || tag, as noble expects
  let plaintext: Uint8Array;
  try {
    plaintext = chacha20poly1305(key, ldkNonce(key, random)).decrypt(sealed);
  } catch {
    return invalid('ldk', 'auth_failed');
  }
  const result: ForeignOpenResult = { valid: true, format: 'ldk', plaintext };
  try {
    const d = decodeMonitorHolders(plaintext);
    result.channels = d.channels;
    if (d.trailing > 0) result.details = { trailing_bytes: d.trailing };
  } catch (e) {
    if (!(e instanceof DecodeError)) throw e;
    result.content_error = e.message;
  }
  return result;
}

/**
 * `Vec<PeerStorageMonitorHolder>` as LDK writes it: a CollectionLength (u16, or 0xffff then
 * u64 of the count minus 0xffff), then each holder as a BigSize-length-prefixed TLV stream:
 * 0 channel_id (32), 2 counterparty_node_id (33), 4 min_seen_secret (u64), 6 monitor bytes.
 * Bytes after the list are counted, not refused: LDK's reader does not look past the list.
 */
export function decodeMonitorHolders(plain: Uint8Array): { channels: Record<string, unknown>[]; trailing: number } {
  const c = new Cursor(plain, 'peer_storage_monitors');
  let count = BigInt(c.u16('count'));
  if (count === 0xffffn) count = c.u64('count64') + 0xffffn;
  // Each holder takes at least one byte; a count beyond that is a lie, refused before looping.
  const n = c.length(count, 'count');
  const out: Record<string, unknown>[] = [];
  for (let i = 0; i < n; i++) {
    const p = `holders[${i}]`;
    const len = c.length(c.bigsize(`${p}.length`), `${p}.length`);
    const stream = new Cursor(c.bytes(len, p), `peer_storage_monitors.${p}`);
    const fields = new Map<bigint, Uint8Array>();
    for (const r of readTlvStream(stream, 'tlv')) {
      // "it's OK to be odd": unknown odd records are skipped, unknown even ones are not.
      if (r.type > 6n && r.type % 2n === 0n) throw new DecodeError('tlv_unknown_even', `peer_storage_monitors.${p}.tlv`, `unknown even type ${r.type}`);
      fields.set(r.type, r.value);
    }
    const need = (t: bigint, name: string, size?: number): Uint8Array => {
      const v = fields.get(t);
      if (!v) throw new DecodeError('truncated', `peer_storage_monitors.${p}.${name}`, `required record ${t} missing`);
      if (size !== undefined && v.length !== size) throw new DecodeError('tlv_length', `peer_storage_monitors.${p}.${name}`, `${v.length} bytes, expected ${size}`);
      return v;
    };
    const secret = need(4n, 'min_seen_secret', 8);
    let minSeen = 0n;
    for (const x of secret) minSeen = (minSeen << 8n) | BigInt(x);
    const monitor = need(6n, 'monitor_bytes');
    out.push({
      channel_id: toHex(need(0n, 'channel_id', 32)),
      peer_id: toHex(need(2n, 'counterparty_node_id', 33)),
      min_seen_secret: minSeen,
      monitor_len: monitor.length,
      monitor_sha256: toHex(sha256(monitor)),
    });
  }
  return { channels: out, trailing: c.left };
}
