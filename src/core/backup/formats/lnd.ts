// lnd (an unmerged draft, #10704, so experimental): the peer storage blob is lnd's sealed
// multi-channel backup (`PackedMulti`, the bytes of a channel.backup file) copied into a
// zeroed 65531-byte buffer (server.go:5408-5410): `nonce(24) || XChaCha20-Poly1305
// ciphertext || tag(16)`, the nonce also the associated data, then zeros. The padding lies
// outside the encryption and has no length field. The key is SHA-256 of the compressed public
// key at m/1017'/coin'/7'/0/0 (key family 7, index 0) of the wallet's BIP32 root, which is
// made from the aezeed entropy. The plaintext is a multi backup (chanbackup/multi.go).
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { getPublicKey } from '@noble/secp256k1';
import { abytes, toHex } from '../../bytes.js';
import { DecodeError } from '../../errors.js';
import { Cursor } from './reader.js';
import { HARDENED, deriveChild, masterFromSeed, parseRootXprv, parseRootXprvBytes, type ExtendedPrivateKey } from './bip32.js';
import { invalid, type ForeignOpenResult } from './types.js';

export const LND_MIN_BLOB = 24 + 16;
/** The size the draft pads every blob to (and cuts a longer PackedMulti at). */
export const LND_PADDED_LEN = 65531;
/** How far past the last non-zero byte the sealed end may lie: a tag can end in zero bytes. */
export const LND_TAG_ZERO_SLACK = 16;
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

/**
 * Open a draft lnd blob. There is no length field, so the sealed end E is found: the blob is
 * valid when some E (40 <= E <= length) leaves only zeros after it and blob[0:E] opens. E is
 * tried from just past the last non-zero byte up to 16 bytes further, since the tag itself
 * may end in zero bytes. Bound: at most 17 AEAD opens of at most the blob's length each (a
 * peer storage blob is at most 65531 bytes), whatever the bytes are.
 *
 * A non-zero byte in the padding moves the last non-zero byte past the true end, so no E
 * opens: auth_failed. A PackedMulti longer than 65531 bytes is cut by the draft's copy and
 * can never open: a blob of exactly 65531 bytes with no zero tail that does not open is
 * `truncated`.
 */
export function openLndBlob(blob: Uint8Array, key: Uint8Array): ForeignOpenResult {
  abytes(key, 32, 'lnd peer storage key');
  if (blob.length === 0) return invalid('lnd', 'empty', { experimental: true });
  if (blob.length < LND_MIN_BLOB) return invalid('lnd', 'too_short', { experimental: true });
  let last = blob.length - 1;
  while (last >= 0 && blob[last] === 0) last--;
  const nonce = blob.subarray(0, 24);
  const from = Math.max(LND_MIN_BLOB, last + 1);
  const to = Math.min(blob.length, last + 1 + LND_TAG_ZERO_SLACK);
  for (let end = from; end <= to; end++) {
    let plaintext: Uint8Array;
    try {
      plaintext = xchacha20poly1305(key, nonce, nonce).decrypt(blob.subarray(24, end));
    } catch {
      continue;
    }
    const result: ForeignOpenResult = {
      valid: true,
      format: 'lnd',
      plaintext,
      sealed: Uint8Array.from(blob.subarray(0, end)),
      experimental: true,
      details: { sealed_len: end, padding_len: blob.length - end },
    };
    try {
      const multi = decodeLndMulti(plaintext);
      Object.assign(result.details!, { multi_version: multi.version, channel_count: multi.count, ...(multi.trailing > 0 ? { trailing_bytes: multi.trailing } : {}) });
      result.channels = multi.channels;
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      result.content_error = e.message;
    }
    return result;
  }
  if (blob.length === LND_PADDED_LEN && blob[blob.length - 1] !== 0) return invalid('lnd', 'truncated', { experimental: true });
  return invalid('lnd', 'auth_failed', { experimental: true });
}

/** Single backup versions chanbackup/single.go reads (0 legacy .. 6 tapscript root); bit 7 flags close-tx inputs. */
export const LND_SINGLE_VERSIONS: readonly string[] = ['legacy', 'tweakless', 'anchors', 'anchors_zero_fee_htlc', 'script_enforced_lease', 'simple_taproot', 'tapscript_root'];
const CLOSE_TX_FLAG = 0x80;

export interface LndMulti {
  version: number;
  count: number;
  channels: Record<string, unknown>[];
  /** Bytes after the last single backup (lnd's reader ignores them). */
  trailing: number;
}

/**
 * A multi backup's plaintext (chanbackup/multi.go): version byte 0, a u32 count, then each
 * single backup as `version(1) || length(u16) || body(length)` (single.go). The start of the
 * body is common to every version 0..6: is_initiator(1), chain_hash(32), funding outpoint
 * (txid 32 || u16 index), short_channel_id(u64), remote node pubkey(33), addresses (u16 byte
 * length, then the addresses), capacity(u64). A single of another version is skipped by its
 * length and listed with `decoded: false`.
 */
export function decodeLndMulti(plain: Uint8Array): LndMulti {
  const c = new Cursor(plain, 'multi');
  const version = c.u8('version');
  if (version !== 0) throw new DecodeError('bad_value', 'multi.version', `multi backup version ${version}, lnd knows only 0`);
  const count = c.u32('count');
  // Each single takes at least 3 bytes (version and length): a count beyond that is refused before looping.
  if (count > Math.floor(c.left / 3)) throw new DecodeError('too_large', 'multi.count', `${count} single backups cannot fit in ${c.left} bytes`);
  const channels: Record<string, unknown>[] = [];
  for (let i = 0; i < count; i++) {
    const p = `singles[${i}]`;
    const vbyte = c.u8(`${p}.version`);
    const len = c.u16(`${p}.length`);
    const body = new Cursor(c.bytes(len, `${p}.body`), `multi.${p}`);
    const v = vbyte & ~CLOSE_TX_FLAG;
    if (v >= LND_SINGLE_VERSIONS.length) {
      channels.push({ version: vbyte, decoded: false, length: len });
      continue;
    }
    const initiator = body.u8('is_initiator');
    const chain = body.bytes(32, 'chain_hash');
    const txid = body.bytes(32, 'funding_outpoint.txid');
    const index = body.u16('funding_outpoint.index');
    const scid = body.u64('short_channel_id');
    const remote = body.bytes(33, 'remote_node_pub');
    if (remote[0] !== 2 && remote[0] !== 3) throw new DecodeError('bad_value', `multi.${p}.remote_node_pub`, 'not a compressed public key');
    const addrLen = body.u16('addresses.length');
    body.bytes(addrLen, 'addresses');
    const capacity = body.u64('capacity');
    channels.push({
      version: v,
      type: LND_SINGLE_VERSIONS[v],
      // Hashes are stored in internal byte order; shown as explorers and lncli show them.
      funding_outpoint: `${toHex(Uint8Array.from(txid).reverse())}:${index}`,
      remote_node_pub: toHex(remote),
      short_channel_id: `${scid >> 40n}x${(scid >> 16n) & 0xffffffn}x${scid & 0xffffn}`,
      capacity_sat: capacity,
      initiator: initiator !== 0,
      chain_hash: toHex(Uint8Array.from(chain).reverse()),
      has_close_tx: (vbyte & CLOSE_TX_FLAG) !== 0,
    });
  }
  return { version, count, channels, trailing: c.left };
}
