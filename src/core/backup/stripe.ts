// Striped backups (docs/FORMAT.md, "Sealed shard, version 2" and "Rebuilding a striped backup"): a
// backup is split by a systematic Reed-Solomon code into n sealed shards, any k of which
// rebuild it, so a backup may outgrow one blob and survive peers that vanish.
//
// Pure like seal.ts: bytes and a key in, bytes and a report out. Rebuilding takes blobs from
// untrusted places (peers, files an operator moved by hand) and is total: every blob ends up
// either used or ignored with a reason, and nothing but a result comes back.
import { createHash, randomBytes } from 'node:crypto';
import { InputError } from '../errors.js';
import { abytes, equalBytes, toHex } from '../bytes.js';
import { DecodeError } from '../errors.js';
import { open, seal, SealKey, type Padding, type SealedBlob } from './seal.js';
import { encodeParity, encodeShards, reconstructData } from './rs.js';
import {
  BACKUP_ID_LEN,
  buildShardPlaintext,
  MAX_K,
  MAX_N,
  MAX_SHARD_DATA,
  maxStripedBackup,
  parseShardHeader,
  shardDataLength,
  type Shard,
} from './shard.js';

export { MAX_K, MAX_N, MAX_SHARD_DATA, maxStripedBackup } from './shard.js';

const MAX_SEQ = (1n << 64n) - 1n;

function sha256(b: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(b).digest());
}

function defaultRandom(n: number): Uint8Array {
  const b = randomBytes(n);
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
}

// ---- stripe ----

export interface StripeOptions {
  /** Data shards: any k of the n rebuild the backup. 1..16. */
  k: number;
  /** All shards, k..32. */
  n: number;
  /** The backup's seq (u64, larger = newer): every shard's frame carries it. */
  seq: bigint;
  /** Padding of every shard, as for a version 1 blob; `full` by default. */
  pad?: Padding;
  key: SealKey;
  /** Source of randomness (the backup_id and every nonce); crypto.randomBytes by default. */
  random?: (n: number) => Uint8Array;
}

export interface StripedBackup {
  backup_id: Uint8Array;
  k: number;
  n: number;
  seq: bigint;
  total_len: number;
  backup_sha256: Uint8Array;
  /** n sealed shards, shards[i] has index i: 0..k-1 data, k..n-1 parity. */
  shards: SealedBlob[];
}

/** Check k and n as an operator gave them; throws RangeError with the allowed range. */
export function checkStripeShape(k: number, n: number): void {
  if (!Number.isInteger(k) || k < 1 || k > MAX_K) throw new RangeError(`"k" expected an integer 1..${MAX_K}, got ${k}`);
  if (!Number.isInteger(n) || n < k || n > MAX_N) throw new RangeError(`"n" expected an integer ${k}..${MAX_N} (at least k), got ${n}`);
}

/**
 * Split `backup` into n sealed shards (version 2), any k of which rebuild it. A backup over
 * k * 65393 bytes is refused with InputError('too_large'), never cut.
 */
export function stripe(backup: Uint8Array, opts: StripeOptions): StripedBackup {
  abytes(backup, undefined, 'backup');
  const { k, n, seq, key } = opts;
  checkStripeShape(k, n);
  if (typeof seq !== 'bigint' || seq < 0n || seq > MAX_SEQ) throw new RangeError(`"seq" expected a bigint in 0..2^64-1, got ${String(seq)}`);
  if (!(key instanceof SealKey)) throw new TypeError('"key" expected a SealKey (use deriveSealKey)');
  const limit = maxStripedBackup(k);
  if (backup.length > limit) {
    const needK = Math.ceil(backup.length / MAX_SHARD_DATA);
    throw new InputError(
      `backup is ${backup.length} bytes, but ${k} data shards hold at most ${limit} bytes (${k} x ${MAX_SHARD_DATA}; ${backup.length - limit} too many): ` +
        (needK <= MAX_K ? `use k >= ${needK}` : `even k = ${MAX_K} holds only ${maxStripedBackup(MAX_K)} bytes`) +
        '; nothing was striped',
      'too_large',
    );
  }
  const random = opts.random ?? defaultRandom;
  const backup_id = abytes(random(BACKUP_ID_LEN), BACKUP_ID_LEN, 'random(16)').slice();
  const backup_sha256 = sha256(backup);
  const total_len = backup.length;
  // Data shard i holds bytes [i*S, (i+1)*S); the last one zero-filled to S.
  const data = splitData(backup, k);
  const all = [...data, ...encodeParity(data, n)];
  const shards = all.map((d, index) => {
    const plaintext = buildShardPlaintext({ backup_id, k, n, index, total_len, backup_sha256, data: d });
    const sealed = seal(plaintext, { seq, pad: opts.pad ?? 'full', key, random, version: 2 });
    plaintext.fill(0);
    return sealed;
  });
  for (const d of all) d.fill(0);
  return { backup_id, k, n, seq, total_len, backup_sha256, shards };
}

// ---- rebuild ----

/** Why a blob was not used. */
export type IgnoreReason =
  | 'not_sealed' // not an lnps sealed blob at all: size out of bounds or unknown version byte
  | 'wrong_key_or_corrupt' // the tag does not verify: another node's blob, or bytes changed
  | 'corrupt' // opened, but its frame or shard header is malformed
  | 'not_a_shard' // a version 1 blob: a whole backup, not a shard
  | 'other_backup' // a good shard of a backup version that was not rebuilt
  | 'inconsistent_header' // same backup_id and seq, but k, n, total_len or backup_sha256 differ
  | 'duplicate' // a second shard with an index already used
  | 'bad_data'; // opened cleanly, but its data disagrees with the rebuilt backup

export interface IgnoredShard {
  /** Position of the blob in the list given to rebuild. */
  input: number;
  /** The shard's index, when its header could be read. */
  index?: number;
  reason: IgnoreReason;
  /** One line for an operator. */
  detail: string;
}

export interface UsedShard {
  input: number;
  index: number;
}

/** One backup version seen among the blobs. */
export interface BackupVersion {
  backup_id: Uint8Array;
  seq: bigint;
  k: number;
  n: number;
  total_len: number;
  /** Distinct shard indexes present. */
  have: number;
  /** rebuilt; incomplete (fewer than k shards); bad_checksum (k or more, none rebuilt to backup_sha256); not_tried (an newer one was rebuilt). */
  status: 'rebuilt' | 'incomplete' | 'bad_checksum' | 'not_tried';
}

export interface RebuildResult {
  ok: boolean;
  /** The rebuilt backup, only when ok. */
  backup?: Uint8Array;
  /** The version rebuilt when ok; else the newest version seen, if any shard opened. */
  backup_id?: Uint8Array;
  seq?: bigint;
  k?: number;
  n?: number;
  total_len?: number;
  backup_sha256?: Uint8Array;
  /** ok: whether the rebuilt version is the newest seen (false: a newer one was incomplete). */
  newest?: boolean;
  /** Not ok: how many more shards the newest version needs. */
  missing?: number;
  /** ok: the shards the backup was rebuilt from, plus the others of its version that agree with it. */
  used: UsedShard[];
  /** Not ok: the shards present of the version reported (the newest seen), too few to rebuild it. */
  found?: UsedShard[];
  ignored: IgnoredShard[];
  /** Every version seen, newest first. */
  versions: BackupVersion[];
  /** One line saying what happened, for operators. */
  message: string;
}

interface Opened {
  input: number;
  seq: bigint;
  shard: Shard;
}

interface Candidate {
  backup_id: Uint8Array;
  seq: bigint;
  /** k, n, total_len, backup_sha256 of the shards: the header every member agrees on. */
  sig: string;
  members: Opened[];
  /** index → first shard with it. */
  byIndex: Map<number, Opened>;
  duplicates: Opened[];
}

const OPEN_REASON: Record<string, { reason: IgnoreReason; detail: string }> = {
  bad_length: { reason: 'not_sealed', detail: 'size out of bounds for a sealed blob (83..65531 bytes)' },
  unknown_version: { reason: 'not_sealed', detail: 'unknown version byte: not an lnps sealed blob' },
  auth_failed: { reason: 'wrong_key_or_corrupt', detail: "does not open with this node's key: another node's blob, or bytes changed" },
  bad_length_field: { reason: 'corrupt', detail: 'opened, but its length field does not fit the frame' },
  bad_checksum: { reason: 'corrupt', detail: 'opened, but its frame checksum is wrong' },
  nonzero_padding: { reason: 'corrupt', detail: 'opened, but its padding is not zero' },
};

export type OpenShardResult =
  | { ok: true; seq: bigint; shard: Shard }
  | { ok: false; reason: 'not_sealed' | 'wrong_key_or_corrupt' | 'corrupt' | 'not_a_shard'; detail: string };

/**
 * Open one sealed shard and read its header (for a node that wants to know which shard a peer
 * holds without rebuilding). Total on untrusted bytes: a failure is a result, never thrown.
 */
export function openShard(blob: Uint8Array, key: SealKey): OpenShardResult {
  const r = open(blob, key);
  if (!r.ok) return { ok: false, ...(OPEN_REASON[r.reason] as { reason: 'not_sealed' | 'wrong_key_or_corrupt' | 'corrupt'; detail: string }) };
  try {
    if (r.version !== 2) return { ok: false, reason: 'not_a_shard', detail: 'a version 1 sealed blob (a whole backup), not a shard' };
    return { ok: true, seq: r.seq, shard: parseShardHeader(r.plaintext) };
  } catch (e) {
    if (!(e instanceof DecodeError)) throw e;
    return { ok: false, reason: 'corrupt', detail: `opened, but its shard header is malformed: ${e.message}` };
  } finally {
    r.plaintext.fill(0);
  }
}

/** Signature of the header fields shards of one backup version must agree on. */
function headerSig(s: Shard): string {
  return `${s.k}/${s.n}/${s.total_len}/${toHex(s.backup_sha256)}`;
}

function shortId(id: Uint8Array): string {
  return toHex(id).slice(0, 16);
}

/** Bound on the choices tried among same-index shards whose data differ. */
const MAX_ALTERNATES = 64;

/** Bound on the k-subsets tried when shards open cleanly but do not rebuild to backup_sha256. */
const MAX_SUBSETS_TRIED = 64;

/**
 * The k-subsets of `present` to try, in order: the first k (data shards first, so a complete
 * set needs no arithmetic); then the first k without each shard in turn, which finds one bad
 * shard in at most k + 1 tries; then the others in lexicographic order. Each subset once.
 */
function* subsetsToTry(present: number[], k: number): Generator<number[]> {
  const seen = new Set<string>();
  const fresh = (s: number[]) => {
    const key = s.join(',');
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  };
  const first = present.slice(0, k);
  if (first.length < k) return;
  if (fresh(first)) yield first;
  for (const drop of present) {
    const s = present.filter((i) => i !== drop).slice(0, k);
    if (s.length === k && fresh(s)) yield s;
  }
  const idx = Array.from({ length: k }, (_, i) => i);
  for (;;) {
    const s = idx.map((i) => present[i]!);
    if (fresh(s)) yield s;
    let i = k - 1;
    while (i >= 0 && idx[i] === present.length - k + i) i--;
    if (i < 0) return;
    idx[i]!++;
    for (let j = i + 1; j < k; j++) idx[j] = idx[j - 1]! + 1;
  }
}

/** Rebuild from the shards at `indexes` (exactly k); the backup when it hashes to backup_sha256. */
function tryRebuild(c: Candidate, indexes: number[]): Uint8Array | undefined {
  const first = c.members[0]!.shard;
  const { k, n, total_len } = first;
  const slots: (Uint8Array | undefined)[] = new Array(n).fill(undefined);
  for (const i of indexes) slots[i] = c.byIndex.get(i)!.shard.data;
  const data = reconstructData(slots, k, n);
  const S = shardDataLength(total_len, k);
  const out = new Uint8Array(total_len);
  for (let i = 0; i < k; i++) {
    const len = Math.min(S, total_len - i * S);
    if (len > 0) out.set(data[i]!.subarray(0, len), i * S);
  }
  if (equalBytes(sha256(out), first.backup_sha256)) return out;
  out.fill(0);
  return undefined;
}

/**
 * Rebuild the newest backup version for which at least k consistent shards are present.
 * `blobs` may hold anything: shards of several versions, other nodes' blobs, corrupt bytes.
 * Shards of two versions are never mixed; a version is accepted only when the rebuilt bytes
 * hash to its backup_sha256. When the newest version is incomplete, the newest older one that
 * rebuilds is returned with `newest: false`, and the message says so.
 */
export function rebuild(blobs: readonly Uint8Array[], key: SealKey): RebuildResult {
  if (!Array.isArray(blobs)) throw new TypeError('"blobs" expected an array of Uint8Array');
  if (!(key instanceof SealKey)) throw new TypeError('"key" expected a SealKey (use deriveSealKey)');
  const ignored: IgnoredShard[] = [];
  const opened: Opened[] = [];
  blobs.forEach((blob, input) => {
    abytes(blob, undefined, `blobs[${input}]`);
    const r = openShard(blob, key);
    if (r.ok) opened.push({ input, seq: r.seq, shard: r.shard });
    else ignored.push({ input, reason: r.reason, detail: r.detail });
  });

  // Group by (backup_id, seq) and, inside that, by header: a shard that disagrees with the
  // others of its version on k, n, total_len or backup_sha256 is never mixed in.
  const groups = new Map<string, Candidate>();
  for (const o of opened) {
    const s = o.shard;
    const gkey = `${toHex(s.backup_id)}/${o.seq}/${headerSig(s)}`;
    let c = groups.get(gkey);
    if (!c) {
      c = { backup_id: s.backup_id, seq: o.seq, sig: headerSig(s), members: [], byIndex: new Map(), duplicates: [] };
      groups.set(gkey, c);
    }
    c.members.push(o);
    if (c.byIndex.has(s.index)) c.duplicates.push(o);
    else c.byIndex.set(s.index, o);
  }
  // Newest first; at equal seq the most complete first, then a fixed order by id.
  const candidates = [...groups.values()].sort((a, b) => {
    if (a.seq !== b.seq) return a.seq > b.seq ? -1 : 1;
    if (a.byIndex.size !== b.byIndex.size) return b.byIndex.size - a.byIndex.size;
    const ia = toHex(a.backup_id) + a.sig;
    const ib = toHex(b.backup_id) + b.sig;
    return ia < ib ? -1 : ia > ib ? 1 : 0;
  });

  const versions: BackupVersion[] = [];
  let chosen: { c: Candidate; backup: Uint8Array; indexes: number[] } | undefined;
  for (const c of candidates) {
    const s = c.members[0]!.shard;
    const v: BackupVersion = { backup_id: c.backup_id, seq: c.seq, k: s.k, n: s.n, total_len: s.total_len, have: c.byIndex.size, status: 'not_tried' };
    versions.push(v);
    if (chosen) continue;
    if (c.byIndex.size < s.k) {
      v.status = 'incomplete';
      continue;
    }
    // When the bytes do not hash right, other k-subsets are tried, a bounded number of them.
    const present = [...c.byIndex.keys()].sort((x, y) => x - y);
    const search = (): { c: Candidate; backup: Uint8Array; indexes: number[] } | undefined => {
      let tried = 0;
      for (const subset of subsetsToTry(present, s.k)) {
        if (tried++ >= MAX_SUBSETS_TRIED) break;
        const backup = tryRebuild(c, subset);
        if (backup) return { c, backup, indexes: subset };
      }
      return undefined;
    };
    chosen = search();
    // Two shards with one index and different data (only our own key can seal either): the
    // first one seen may be the bad one, so the result must not depend on the order given.
    // Every choice of one variant per index is tried, a bounded number of choices.
    if (!chosen) {
      const variants = new Map<number, Opened[]>();
      for (const o of c.duplicates) {
        const list = variants.get(o.shard.index) ?? [c.byIndex.get(o.shard.index)!];
        if (!list.some((x) => equalBytes(x.shard.data, o.shard.data))) list.push(o);
        variants.set(o.shard.index, list);
      }
      const axes = [...variants.entries()].filter(([, list]) => list.length > 1);
      const choice = axes.map(() => 0);
      for (let tried = 0; !chosen && axes.length > 0 && tried < MAX_ALTERNATES; tried++) {
        // Next choice in mixed radix (the all-first choice was the search above).
        let d = 0;
        while (d < axes.length && ++choice[d]! === axes[d]![1].length) choice[d++] = 0;
        if (d === axes.length) break;
        axes.forEach(([index, list], j) => c.byIndex.set(index, list[choice[j]!]!));
        chosen = search();
      }
      if (!chosen) axes.forEach(([index, list]) => c.byIndex.set(index, list[0]!));
      // The duplicates are every member not chosen for its index.
      else c.duplicates = c.members.filter((o) => c.byIndex.get(o.shard.index) !== o);
    }
    v.status = chosen ? 'rebuilt' : 'bad_checksum';
  }

  const used: UsedShard[] = [];
  if (chosen) {
    const { c, backup } = chosen;
    const s = c.members[0]!.shard;
    // The k shards that rebuilt to backup_sha256 are right by construction (the rebuild is a
    // bijection); every other present shard of this version is checked against the result, so
    // a shard with wrong data is named even when it was not needed.
    const extra = [...c.byIndex.keys()].filter((i) => !chosen!.indexes.includes(i)).sort((a, b) => a - b);
    const expected = extra.length > 0 ? encodeShards(splitData(backup, s.k), s.n, extra) : [];
    for (const i of chosen.indexes) used.push({ input: c.byIndex.get(i)!.input, index: i });
    extra.forEach((index, j) => {
      const o = c.byIndex.get(index)!;
      if (equalBytes(expected[j]!, o.shard.data)) used.push({ input: o.input, index });
      else ignored.push({ input: o.input, index, reason: 'bad_data', detail: 'opened cleanly, but its data disagrees with the rebuilt backup' });
    });
    for (const o of c.duplicates) {
      const same = equalBytes(o.shard.data, c.byIndex.get(o.shard.index)!.shard.data);
      ignored.push(
        same
          ? { input: o.input, index: o.shard.index, reason: 'duplicate', detail: `a second shard with index ${o.shard.index}` }
          : { input: o.input, index: o.shard.index, reason: 'bad_data', detail: `a second shard with index ${o.shard.index}, whose data disagrees with the rebuilt backup` },
      );
    }
  }
  // Not rebuilt: the newest version's shards are reported in `found`, not as ignored.
  const found: UsedShard[] = [];
  if (!chosen && candidates.length > 0) {
    for (const o of candidates[0]!.byIndex.values()) found.push({ input: o.input, index: o.shard.index });
    for (const o of candidates[0]!.duplicates) ignored.push({ input: o.input, index: o.shard.index, reason: 'duplicate', detail: `a second shard with index ${o.shard.index}` });
    found.sort((a, b) => a.index - b.index);
  }
  const reported = chosen ? chosen.c : candidates[0];
  for (const c of candidates) {
    if (c === reported) continue;
    const sameVersion = equalBytes(c.backup_id, reported!.backup_id) && c.seq === reported!.seq;
    for (const o of c.members) {
      ignored.push(
        sameVersion
          ? { input: o.input, index: o.shard.index, reason: 'inconsistent_header', detail: 'same backup_id and seq, but k, n, total_len or backup_sha256 differ from the shards used' }
          : { input: o.input, index: o.shard.index, reason: 'other_backup', detail: `a shard of backup ${shortId(c.backup_id)} seq ${c.seq}, which was not rebuilt` },
      );
    }
  }
  ignored.sort((a, b) => a.input - b.input);
  used.sort((a, b) => a.index - b.index);

  if (chosen) {
    const { c, backup } = chosen;
    const s = c.members[0]!.shard;
    // Newest by seq: a version with a higher seq that could not be rebuilt makes this one older.
    const top = versions[0]!;
    const newest = top.seq === c.seq;
    let message = `rebuilt backup ${shortId(c.backup_id)} seq ${c.seq} (${backup.length} bytes) from ${chosen.indexes.length} of ${s.n} shards`;
    if (!newest) {
      message += top.status === 'incomplete'
        ? `; it is NOT the newest: backup ${shortId(top.backup_id)} seq ${top.seq} has only ${top.have} of the ${top.k} shards it needs`
        : `; it is NOT the newest: backup ${shortId(top.backup_id)} seq ${top.seq} does not rebuild to its backup_sha256`;
    }
    return {
      ok: true, backup, backup_id: c.backup_id, seq: c.seq, k: s.k, n: s.n, total_len: s.total_len,
      backup_sha256: s.backup_sha256, newest, used, ignored, versions, message,
    };
  }
  if (versions.length === 0) {
    return { ok: false, used, ignored, versions, message: `no shard opened with this key (${blobs.length} blob${blobs.length === 1 ? '' : 's'} given, none usable)` };
  }
  const v = versions[0]!;
  const missing = Math.max(0, v.k - v.have);
  const message = missing > 0
    ? `cannot rebuild backup ${shortId(v.backup_id)} seq ${v.seq}: ${v.have} of ${v.k} shards needed are present, ${missing} missing` +
      (versions.length === 2 ? '; the other version seen does not rebuild either' : versions.length > 2 ? `; none of the ${versions.length - 1} other versions seen rebuilds either` : '')
    : `cannot rebuild backup ${shortId(v.backup_id)} seq ${v.seq}: its ${v.have} shards do not rebuild to its backup_sha256`;
  return {
    ok: false, backup_id: v.backup_id, seq: v.seq, k: v.k, n: v.n, total_len: v.total_len,
    backup_sha256: candidates[0]!.members[0]!.shard.backup_sha256, missing, used, found, ignored, versions, message,
  };
}

/** The k data shards of a backup: shard i holds bytes [i*S, (i+1)*S), the last zero-filled. */
function splitData(backup: Uint8Array, k: number): Uint8Array[] {
  const S = shardDataLength(backup.length, k);
  const data: Uint8Array[] = [];
  for (let i = 0; i < k; i++) {
    const d = new Uint8Array(S);
    d.set(backup.subarray(Math.min(i * S, backup.length), Math.min((i + 1) * S, backup.length)));
    data.push(d);
  }
  return data;
}
