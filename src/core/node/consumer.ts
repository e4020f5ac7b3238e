// The consumer side: our own sealed backup, what each peer was sent, and what each peer gives
// back. The newest sealed backup lives in `<networkDir>/backup.sealed` (mode 0600; it is
// ciphertext, but only its owner needs it), replaced atomically, so a node that restarts still
// knows what its peers should hold.
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { open, MAX_BLOB, MIN_BLOB, type SealKey } from '../backup/seal.js';
import { StoreError } from '../errors.js';
import type { ConsumerPort, OwnBlob, RetrievalStatus } from './types.js';
import type { StripeStore } from './stripe-store.js';
import { confirmReplicated, judgeShard } from './stripe-node.js';
import { newestFor, type ShardBlob } from './stripe-serve.js';

export function sha256(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(bytes).digest());
}

/** The records the consumer keeps per peer; the store of the database issue provides them. */
export interface ConsumerStore {
  sent(peer: Uint8Array): Promise<{ seq: bigint; sha256: Uint8Array; len: number; sent_at: number } | undefined>;
  putSent(peer: Uint8Array, rec: { seq: bigint; sha256: Uint8Array; len: number; sent_at: number }): Promise<void>;
  retrievedBlob(peer: Uint8Array): Promise<{ seq: bigint; blob: Uint8Array; received_at: number } | undefined>;
  putRetrieved(
    peer: Uint8Array,
    rec: { seq: bigint | undefined; status: RetrievalStatus; last_seen: number },
    blob?: { seq: bigint; blob: Uint8Array; received_at: number },
  ): Promise<void>;
  retrieved(peer: Uint8Array): Promise<{ last_seen: number } | undefined>;
  refusal(peer: Uint8Array): Promise<{ at: number; reason: Uint8Array; features: Uint8Array } | undefined>;
  putRefusal(peer: Uint8Array, rec: { at: number; reason: Uint8Array; features: Uint8Array }): Promise<void>;
  clearRefusal(peer: Uint8Array): Promise<boolean>;
}

/** Why a peer without bit 42/43 is not given our blob. */
export const NO_STORAGE_FEATURE = 'does not advertise option_provide_storage (bit 42/43)';

/** A fixed-size fingerprint of a peer's feature bits (an init may set thousands of them). */
function featuresId(features: readonly number[]): Uint8Array {
  return sha256(new TextEncoder().encode(features.join(',')));
}

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

export interface Classification {
  status: RetrievalStatus;
  seq?: bigint | undefined;
  /** The plaintext of a blob that opened (never logged or printed by the node). */
  plaintext?: Uint8Array | undefined;
  /** Why a blob did not open: the reason from `open`. */
  detail?: string | undefined;
}

/**
 * Judge a blob a peer returned, against the seq we expect it to hold (`expectedSeq`, when we
 * know one):
 * - confirmed: it opens with our key and is not older than expected;
 * - stale: it opens, but holds an older seq;
 * - corrupt: it has the shape of an lnps sealed blob (version 1, a legal length) but fails
 *   verification: altered, or sealed under another key (the AEAD tag cannot tell the two
 *   apart, by design);
 * - foreign: it is not an lnps sealed blob at all (another program's format).
 */
export function classifyRetrieval(blob: Uint8Array, key: SealKey, expectedSeq?: bigint): Classification {
  const r = open(blob, key);
  if (r.ok) {
    if (r.version !== 1) return { status: 'foreign', detail: 'a striped shard (version 2), not a whole backup' };
    if (expectedSeq !== undefined && r.seq < expectedSeq) return { status: 'stale', seq: r.seq, plaintext: r.plaintext };
    return { status: 'confirmed', seq: r.seq, plaintext: r.plaintext };
  }
  const lnpsShaped = blob.length >= MIN_BLOB && blob.length <= MAX_BLOB && blob[0] === 1;
  return { status: lnpsShaped ? 'corrupt' : 'foreign', detail: r.reason };
}

/** Our newest sealed backup, kept in a file beside the database. */
export class OwnBackupFile {
  readonly path: string;
  private cached: OwnBlob | undefined | null = null;

  constructor(
    networkDir: string,
    private readonly key: SealKey,
  ) {
    this.path = join(networkDir, 'backup.sealed');
  }

  /** The newest backup, or undefined when none was made (or the file does not open). */
  load(): OwnBlob | undefined {
    if (this.cached !== null) return this.cached;
    let bytes: Uint8Array;
    try {
      const b = readFileSync(this.path);
      bytes = new Uint8Array(b.buffer, b.byteOffset, b.length);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return (this.cached = undefined);
      throw new StoreError('unavailable', `cannot read ${this.path}: ${(e as NodeJS.ErrnoException).code}`);
    }
    const r = open(bytes, this.key);
    if (!r.ok) throw new StoreError('corrupt', `${this.path} does not open with this node's key (${r.reason}); move it away to start over`);
    return (this.cached = { seq: r.seq, sealed: bytes, sha256: sha256(bytes) });
  }

  /** Replace the newest backup atomically (write, fsync, rename). */
  save(sealed: Uint8Array, seq: bigint): OwnBlob {
    const tmp = this.path + '.tmp';
    let fd: number;
    try {
      try {
        unlinkSync(tmp);
      } catch {
        /* no leftover */
      }
      fd = openSync(tmp, 'wx', 0o600);
    } catch (e) {
      throw new StoreError('unavailable', `cannot write ${tmp}: ${(e as NodeJS.ErrnoException).code}`);
    }
    try {
      writeSync(fd, sealed);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.path);
    return (this.cached = { seq, sealed, sha256: sha256(sealed) });
  }
}

/**
 * The ConsumerPort the node runs: our backup file, the store's records, our seal key; with
 * `stripes`, also our striped backups (each holder is sent its own shard, and a shard that
 * comes back confirms its placement).
 */
export class Consumer implements ConsumerPort {
  constructor(
    private readonly own: OwnBackupFile,
    private readonly store: ConsumerStore,
    private readonly key: SealKey,
    private readonly stripes?: StripeStore | undefined,
  ) {}

  newest(peer?: Uint8Array): Promise<OwnBlob | undefined> | OwnBlob | undefined {
    if (!this.stripes) return this.own.load();
    return newestFor(this.stripes, this.own.load(), peer);
  }

  /**
   * Retrievals from peers we never sent a blob to that do not open with our key: judged for the
   * connection, counted here, and not stored, so no peer can create a permanent record by
   * sending junk. One that opens is kept: it proves the peer holds our backup (a node restored
   * from its key alone learns this way who still holds its copies).
   */
  unsolicitedRetrievals = 0;

  async onRetrieval(peer: Uint8Array, blob: Uint8Array, now: number): Promise<{ status: RetrievalStatus; seq?: bigint | undefined; detail?: string | undefined; recorded?: boolean }> {
    // A version 2 shard is judged against the striped versions we placed.
    const shard = this.stripes ? await judgeShard(blob, this.key, this.stripes, peer, now) : undefined;
    const sent = await this.store.sent(peer);
    if (sent === undefined) {
      const c: Classification = shard ?? classifyRetrieval(blob, this.key, this.own.load()?.seq);
      c.plaintext?.fill(0);
      if (c.status !== 'confirmed' && c.status !== 'stale') {
        this.unsolicitedRetrievals++;
        return { status: c.status, seq: c.seq, detail: c.detail, recorded: false };
      }
    }
    const expected = sent?.seq ?? this.own.load()?.seq;
    const c: Classification = shard ?? classifyRetrieval(blob, this.key, expected);
    c.plaintext?.fill(0);
    // A whole blob we placed as one copy of a replicated (1-of-N) backup confirms that copy.
    if (!shard && this.stripes && c.seq !== undefined && (c.status === 'confirmed' || c.status === 'stale')) await confirmReplicated(blob, c.seq, this.stripes, peer, now);
    let keep: { seq: bigint; blob: Uint8Array; received_at: number } | undefined;
    if (c.seq !== undefined) {
      // Keep the newest valid copy this peer gave back, for a restore.
      const prev = await this.store.retrievedBlob(peer);
      if (!prev || prev.seq <= c.seq) keep = { seq: c.seq, blob, received_at: now };
    }
    await this.store.putRetrieved(peer, { seq: c.seq, status: c.status, last_seen: now }, keep);
    return { status: c.status, seq: c.seq, detail: c.detail };
  }

  async onInit(peer: Uint8Array, features: readonly number[], providesStorage: boolean, now: number): Promise<{ refused?: string | undefined }> {
    const rec = await this.store.refusal(peer);
    const id = featuresId(features);
    if (!providesStorage) {
      // Only a peer that was given our blob before needs the mark: it may have dropped it.
      if ((await this.store.sent(peer)) !== undefined && (!rec || !sameBytes(rec.features, id)))
        await this.store.putRefusal(peer, { at: now, reason: new TextEncoder().encode(NO_STORAGE_FEATURE), features: id });
      return { refused: NO_STORAGE_FEATURE };
    }
    if (!rec) return {};
    // Back with other features: it may store now, so the refusal is forgotten.
    if (!sameBytes(rec.features, id)) {
      await this.store.clearRefusal(peer);
      return {};
    }
    return { refused: new TextDecoder().decode(rec.reason) };
  }

  async onNoRetrieval(peer: Uint8Array, now: number, connectedAt: number): Promise<void> {
    // Evidence only about a peer we gave a blob to (anyone else holding nothing is no news).
    if ((await this.store.sent(peer)) === undefined) return;
    // A retrieval that arrived late on this connection was recorded already: it wins.
    const last = await this.store.retrieved(peer);
    if (last && last.last_seen >= connectedAt) return;
    await this.store.putRetrieved(peer, { seq: undefined, status: 'none', last_seen: now });
  }

  async onRefusal(peer: Uint8Array, reason: string, features: readonly number[], now: number): Promise<void> {
    await this.store.putRefusal(peer, { at: now, reason: new TextEncoder().encode(reason), features: featuresId(features) });
  }

  async forgetRefusal(peer: Uint8Array): Promise<void> {
    await this.store.clearRefusal(peer);
  }

  async recordSent(peer: Uint8Array, blob: OwnBlob, now: number): Promise<void> {
    await this.store.putSent(peer, { seq: blob.seq, sha256: blob.sha256, len: blob.sealed.length, sent_at: now });
    const shard = (blob as ShardBlob).shard;
    if (shard && this.stripes) await this.stripes.markSent(blob.seq, shard.backup_id, shard.index, peer, now);
  }
}
