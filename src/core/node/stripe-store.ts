// The records of our striped backups, per backup version, over the store's key/value layer:
//
//   'X' seq(8) backup_id(16) 0xff   the version's header (k, n, mode, total_len, sha256, ...)
//   'X' seq(8) backup_id(16) index  where shard `index` is: its peer, when it was assigned,
//                                   sent, and confirmed by a retrieval
//   'Y' seq(8) backup_id(16) index  the sealed shard itself, kept so it can be sent again on
//                                   a reconnection or moved to another peer
//
// seq comes first in the key, so versions list in seq order. Every change is one batch. Old
// versions are dropped once a newer one is safe (at least k shards confirmed by retrievals), and
// at most MAX_VERSIONS are kept, so the database does not grow with every backup.
import { equalBytes, toHex } from '../bytes.js';
import { DecodeError, StoreError } from '../errors.js';
import { enumOf, fixed, optional, record, u16, u32, u53, u8, varbytes } from '../store/codec.js';
import { PREFIX } from '../store/records.js';
import type { LnpsStore, Txn } from '../store/store.js';

export const HEADER_INDEX = 0xff;
/** Versions kept at most (the current one and older ones not yet superseded by a safe one). */
export const MAX_VERSIONS = 8;

export const stripeVersionRecord = record('stripe_version', 1, {
  k: u8,
  n: u8,
  mode: enumOf(['striped', 'replicated'] as const),
  total_len: u32,
  backup_sha256: fixed(32),
  pad: enumOf(['full', 'none', 'bucket'] as const),
  created_at: u53,
  /** Why this version exists: the operator's backup, or a re-stripe by the node. */
  origin: enumOf(['backup', 'restripe'] as const),
});

export const shardPlacementRecord = record('shard_placement', 1, {
  peer: optional(fixed(33)),
  assigned_at: optional(u53),
  sent_at: optional(u53),
  confirmed_at: optional(u53),
  /** How many times this shard moved to another peer. */
  moves: u16,
  /** The seal's sha256 of what we sent, to tell a confirmed copy of a replicated blob. */
  sealed_sha256: fixed(32),
});

export const shardBlobRecord = record('shard_blob', 1, { blob: varbytes });

export type VersionHeader = ReturnType<typeof stripeVersionRecord.decode>;
export type ShardPlacement = ReturnType<typeof shardPlacementRecord.decode>;

export interface StripeVersion extends VersionHeader {
  backup_id: Uint8Array;
  seq: bigint;
  /** placements[i] is shard i's. */
  placements: ShardPlacement[];
}

function versionKey(prefix: number, seq: bigint, backupId: Uint8Array, index: number): Uint8Array {
  if (backupId.length !== 16) throw new RangeError(`"backup_id" expected 16 bytes, got ${backupId.length}`);
  const k = new Uint8Array(26);
  k[0] = prefix;
  new DataView(k.buffer).setBigUint64(1, seq);
  k.set(backupId, 9);
  k[25] = index;
  return k;
}

function versionPrefix(prefix: number, seq: bigint, backupId: Uint8Array): Uint8Array {
  return versionKey(prefix, seq, backupId, 0).subarray(0, 25);
}

function decodeAt<T>(codec: { name: string; decode(b: Uint8Array): T }, key: Uint8Array, value: Uint8Array): T {
  try {
    return codec.decode(value);
  } catch (e) {
    if (e instanceof DecodeError) throw new StoreError('corrupt', `damaged ${codec.name} record at key ${toHex(key)}: ${e.message}`);
    throw e;
  }
}

export interface NewVersion {
  backup_id: Uint8Array;
  seq: bigint;
  k: number;
  n: number;
  mode: 'striped' | 'replicated';
  total_len: number;
  backup_sha256: Uint8Array;
  pad: 'full' | 'none' | 'bucket';
  origin: 'backup' | 'restripe';
  /** The n sealed blobs: shards (striped), or n times the same blob (replicated). */
  blobs: Uint8Array[];
  /** Node key of the peer each shard goes to (undefined: none yet). */
  peers: (Uint8Array | undefined)[];
  sha256: (b: Uint8Array) => Uint8Array;
}

/** A shard as the node sends it: the version, the index and the sealed bytes. */
export interface AssignedShard {
  backup_id: Uint8Array;
  seq: bigint;
  index: number;
  k: number;
  n: number;
  mode: 'striped' | 'replicated';
  sealed: Uint8Array;
  sha256: Uint8Array;
}

export class StripeStore {
  constructor(private readonly store: LnpsStore) {}

  /** Record a new version with its sealed shards and their peers, in one batch. */
  async putVersion(v: NewVersion, now: number): Promise<void> {
    if (v.blobs.length !== v.n || v.peers.length !== v.n) throw new RangeError(`expected ${v.n} blobs and peers`);
    await this.store.change(async (tx) => {
      tx.putRec(stripeVersionRecord, versionKey(PREFIX.stripeVersion, v.seq, v.backup_id, HEADER_INDEX), {
        k: v.k,
        n: v.n,
        mode: v.mode,
        total_len: v.total_len,
        backup_sha256: v.backup_sha256,
        pad: v.pad,
        created_at: now,
        origin: v.origin,
      });
      for (let i = 0; i < v.n; i++) {
        const peer = v.peers[i];
        tx.putRec(shardPlacementRecord, versionKey(PREFIX.stripeVersion, v.seq, v.backup_id, i), {
          peer,
          assigned_at: peer ? now : undefined,
          sent_at: undefined,
          confirmed_at: undefined,
          moves: 0,
          sealed_sha256: v.sha256(v.blobs[i]!),
        });
        tx.putRec(shardBlobRecord, versionKey(PREFIX.stripeShard, v.seq, v.backup_id, i), { blob: v.blobs[i]! });
      }
    });
  }

  /** Every version, newest first, with its placements (no shard bytes are read). */
  async versions(): Promise<StripeVersion[]> {
    const heads = new Map<string, VersionHeader>();
    const places = new Map<string, Map<number, ShardPlacement>>();
    for await (const [key, value] of this.store.kv.iterate(Uint8Array.of(PREFIX.stripeVersion))) {
      if (key.length !== 26) throw new StoreError('corrupt', `damaged stripe record key ${toHex(key)}`);
      const id = toHex(key.subarray(1, 25));
      const index = key[25]!;
      if (index === HEADER_INDEX) heads.set(id, decodeAt(stripeVersionRecord, key, value));
      else {
        let m = places.get(id);
        if (!m) places.set(id, (m = new Map()));
        m.set(index, decodeAt(shardPlacementRecord, key, value));
      }
    }
    const out: StripeVersion[] = [];
    for (const [id, h] of heads) {
      const raw = Buffer.from(id, 'hex');
      const seq = raw.readBigUInt64BE(0);
      const backup_id = new Uint8Array(raw.subarray(8, 24));
      const m = places.get(id) ?? new Map<number, ShardPlacement>();
      const placements: ShardPlacement[] = [];
      for (let i = 0; i < h.n; i++) {
        const p = m.get(i);
        if (!p) throw new StoreError('corrupt', `striped backup seq ${seq} has no placement record for shard ${i}`);
        placements.push(p);
      }
      out.push({ ...h, backup_id, seq, placements });
    }
    out.sort((a, b) => (a.seq === b.seq ? 0 : a.seq > b.seq ? -1 : 1));
    return out;
  }

  /** The newest version, if any. */
  async current(): Promise<StripeVersion | undefined> {
    return (await this.versions())[0];
  }

  async shardBlob(seq: bigint, backupId: Uint8Array, index: number): Promise<Uint8Array | undefined> {
    const key = versionKey(PREFIX.stripeShard, seq, backupId, index);
    const v = await this.store.kv.get(key);
    return v === undefined ? undefined : decodeAt(shardBlobRecord, key, v).blob;
  }

  /** The sealed shards of a version, in index order (for a re-stripe). */
  async shardBlobs(seq: bigint, backupId: Uint8Array): Promise<Uint8Array[]> {
    const out: Uint8Array[] = [];
    for await (const [key, value] of this.store.kv.iterate(versionPrefix(PREFIX.stripeShard, seq, backupId))) out.push(decodeAt(shardBlobRecord, key, value).blob);
    return out;
  }

  /** The shard of the newest version this peer is meant to hold, with its bytes. */
  async assignedTo(peer: Uint8Array): Promise<AssignedShard | undefined> {
    const v = await this.current();
    if (!v) return undefined;
    const index = v.placements.findIndex((p) => p.peer !== undefined && equalBytes(p.peer, peer));
    if (index < 0) return undefined;
    const sealed = await this.shardBlob(v.seq, v.backup_id, index);
    if (!sealed) throw new StoreError('corrupt', `striped backup seq ${v.seq} has no sealed shard ${index}`);
    return { backup_id: v.backup_id, seq: v.seq, index, k: v.k, n: v.n, mode: v.mode, sealed, sha256: v.placements[index]!.sealed_sha256 };
  }

  private async update(seq: bigint, backupId: Uint8Array, index: number, fn: (p: ShardPlacement, tx: Txn) => ShardPlacement | undefined): Promise<boolean> {
    return this.store.change(async (tx) => {
      const key = versionKey(PREFIX.stripeVersion, seq, backupId, index);
      const raw = await tx.get(key);
      if (raw === undefined) return false;
      const next = fn(decodeAt(shardPlacementRecord, key, raw), tx);
      if (!next) return false;
      tx.putRec(shardPlacementRecord, key, next);
      return true;
    });
  }

  /** Give shard `index` to another peer (a move); its sent and confirmed marks start over. */
  assign(seq: bigint, backupId: Uint8Array, index: number, peer: Uint8Array, now: number): Promise<boolean> {
    return this.update(seq, backupId, index, (p) => ({
      ...p,
      peer,
      assigned_at: now,
      sent_at: undefined,
      confirmed_at: undefined,
      moves: Math.min(0xffff, p.moves + (p.peer !== undefined ? 1 : 0)),
    }));
  }

  /** We sent shard `index` to `peer`; ignored when the shard is meant for another peer now. */
  markSent(seq: bigint, backupId: Uint8Array, index: number, peer: Uint8Array, now: number): Promise<boolean> {
    // The first send counts (a resend on a reconnection keeps it), as for the per-peer sent record.
    return this.update(seq, backupId, index, (p) => (p.peer && equalBytes(p.peer, peer) ? { ...p, sent_at: p.sent_at ?? now } : undefined));
  }

  /**
   * A retrieval from `peer` returned shard `index` of this version intact: that placement is
   * confirmed (only when the peer is the shard's holder). Then older versions may be dropped.
   */
  async markConfirmed(seq: bigint, backupId: Uint8Array, index: number, peer: Uint8Array, now: number): Promise<boolean> {
    const ok = await this.update(seq, backupId, index, (p) =>
      p.peer && equalBytes(p.peer, peer) ? { ...p, confirmed_at: now, sent_at: p.sent_at ?? now } : undefined,
    );
    if (ok) await this.prune();
    return ok;
  }

  /** Find the shard of a replicated version (same blob everywhere) this peer holds, by its hash. */
  async findReplicated(seq: bigint, peer: Uint8Array, sealedSha256: Uint8Array): Promise<{ backup_id: Uint8Array; index: number } | undefined> {
    for (const v of await this.versions()) {
      if (v.seq !== seq || v.mode !== 'replicated') continue;
      const index = v.placements.findIndex((p) => p.peer !== undefined && equalBytes(p.peer, peer) && equalBytes(p.sealed_sha256, sealedSha256));
      if (index >= 0) return { backup_id: v.backup_id, index };
    }
    return undefined;
  }

  /**
   * Drop versions older than the newest safe one (k or more shards confirmed), and any beyond
   * the MAX_VERSIONS newest. Returns how many versions went.
   */
  async prune(): Promise<number> {
    const all = await this.versions();
    const safe = all.findIndex((v) => v.placements.filter((p) => p.confirmed_at !== undefined).length >= v.k);
    const keep = Math.min(MAX_VERSIONS, safe >= 0 ? safe + 1 : all.length);
    const drop = all.slice(keep);
    if (drop.length === 0) return 0;
    await this.store.change(async (tx) => {
      for (const v of drop) {
        for (const prefix of [PREFIX.stripeVersion, PREFIX.stripeShard]) {
          for await (const [key] of this.store.kv.iterate(versionPrefix(prefix, v.seq, v.backup_id), { keysOnly: true })) tx.del(key);
        }
      }
    });
    return drop.length;
  }
}

