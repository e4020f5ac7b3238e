// The plaintext of an lnps sealed shard (version 2), declared once: docs/FORMAT.md, "Sealed
// shard, version 2". This module only lays out and reads the bytes
// inside the seal; sealing and striping live in seal.ts and stripe.ts.
//
//   offset 0   16 bytes  backup_id
//   offset 16   1 byte   k      (1 <= k <= 16)
//   offset 17   1 byte   n      (k <= n <= 32)
//   offset 18   1 byte   index  (0 <= index < n)
//   offset 19   4 bytes  total_len, u32 big-endian
//   offset 23  32 bytes  backup_sha256
//   offset 55   S bytes  shard data, S = ceil(total_len / k)
import { DecodeError } from '../errors.js';
import { abytes } from '../bytes.js';

export const SHARD_HEADER_LEN = 55;
export const BACKUP_ID_LEN = 16;
export const MAX_K = 16;
export const MAX_N = 32;
/** Largest plaintext of one sealed blob (docs/FORMAT.md, "Sealed blob, version 1": 65531 - 41 - 42). */
export const MAX_SEALED_PLAINTEXT = 65448;
/** Largest shard data: one sealed plaintext minus the shard header. */
export const MAX_SHARD_DATA = MAX_SEALED_PLAINTEXT - SHARD_HEADER_LEN; // 65393

/** Largest backup that k data shards can carry: k * 65393 bytes. */
export function maxStripedBackup(k: number): number {
  return k * MAX_SHARD_DATA;
}

/** The header fields every shard of one backup version shares, plus its own index. */
export interface ShardHeader {
  backup_id: Uint8Array;
  k: number;
  n: number;
  index: number;
  total_len: number;
  backup_sha256: Uint8Array;
}

export interface Shard extends ShardHeader {
  /** S = ceil(total_len / k) bytes of shard data. */
  data: Uint8Array;
}

/** S = ceil(total_len / k): the data length every shard of the backup carries. */
export function shardDataLength(totalLen: number, k: number): number {
  return Math.ceil(totalLen / k);
}

/** Lay out one shard's plaintext. Our own misuse (a wrong field) throws TypeError/RangeError. */
export function buildShardPlaintext(shard: Shard): Uint8Array {
  const { k, n, index, total_len } = shard;
  abytes(shard.backup_id, BACKUP_ID_LEN, 'backup_id');
  abytes(shard.backup_sha256, 32, 'backup_sha256');
  if (!Number.isInteger(k) || k < 1 || k > MAX_K) throw new RangeError(`"k" expected 1..${MAX_K}, got ${k}`);
  if (!Number.isInteger(n) || n < k || n > MAX_N) throw new RangeError(`"n" expected ${k}..${MAX_N}, got ${n}`);
  if (!Number.isInteger(index) || index < 0 || index >= n) throw new RangeError(`"index" expected 0..${n - 1}, got ${index}`);
  if (!Number.isInteger(total_len) || total_len < 0 || total_len > maxStripedBackup(k))
    throw new RangeError(`"total_len" expected 0..${maxStripedBackup(k)}, got ${total_len}`);
  abytes(shard.data, shardDataLength(total_len, k), 'data');
  const out = new Uint8Array(SHARD_HEADER_LEN + shard.data.length);
  out.set(shard.backup_id, 0);
  out[16] = k;
  out[17] = n;
  out[18] = index;
  new DataView(out.buffer).setUint32(19, total_len, false);
  out.set(shard.backup_sha256, 23);
  out.set(shard.data, SHARD_HEADER_LEN);
  return out;
}

/**
 * Read a shard's plaintext (the bytes a version 2 seal opened to). Total: any malformed
 * input throws DecodeError naming the field, nothing else escapes. The data length must be
 * exactly ceil(total_len / k), so header and data cannot disagree.
 */
export function parseShardHeader(plaintext: Uint8Array): Shard {
  abytes(plaintext, undefined, 'plaintext');
  if (plaintext.length < SHARD_HEADER_LEN)
    throw new DecodeError('truncated', 'shard', `expected at least ${SHARD_HEADER_LEN} header bytes, got ${plaintext.length}`);
  const k = plaintext[16]!;
  const n = plaintext[17]!;
  const index = plaintext[18]!;
  if (k < 1 || k > MAX_K) throw new DecodeError('bad_value', 'shard.k', `expected 1..${MAX_K}, got ${k}`);
  if (n < k || n > MAX_N) throw new DecodeError('bad_value', 'shard.n', `expected k (${k})..${MAX_N}, got ${n}`);
  if (index >= n) throw new DecodeError('bad_value', 'shard.index', `expected 0..${n - 1}, got ${index}`);
  const view = new DataView(plaintext.buffer, plaintext.byteOffset, plaintext.length);
  const total_len = view.getUint32(19, false);
  const size = shardDataLength(total_len, k);
  const have = plaintext.length - SHARD_HEADER_LEN;
  if (have < size) throw new DecodeError('truncated', 'shard.data', `total_len ${total_len} at k = ${k} needs ${size} data bytes, got ${have}`);
  if (have > size) throw new DecodeError('trailing', 'shard.data', `total_len ${total_len} at k = ${k} needs ${size} data bytes, got ${have}`);
  return {
    backup_id: plaintext.slice(0, 16),
    k,
    n,
    index,
    total_len,
    backup_sha256: plaintext.slice(23, 55),
    data: plaintext.slice(SHARD_HEADER_LEN),
  };
}
