// The lnps database: typed records over a KvStore. Every change that touches more than one
// key is built in a transaction and committed as one atomic batch, with the running totals
// updated in the same batch; changes are serialised in this process so read-modify-write
// never races (the node receives blobs while operator commands run through its socket).
import { createHash } from 'node:crypto';
import { DecodeError, InputError, StoreError } from '../errors.js';
import { toHex } from '../bytes.js';
import { compareBytes, type BatchOp, type KvStore } from './kv.js';
import {
  EMPTY_TOTALS,
  KEY_HEIGHT,
  KEY_NODE,
  KEY_SCHEMA,
  KEY_TOTALS,
  PREFIX,
  SCHEMA_VERSION,
  channelKey,
  channelRecord,
  chanPointOfKey,
  heightRecord,
  nodeKeyRecord,
  peerBlobRecord,
  peerChannelsRecord,
  peerKey,
  peerMetaRecord,
  peerOfKey,
  placementKey,
  placementRecord,
  refusalRecord,
  retrievedBlobRecord,
  retrievedRecord,
  schemaRecord,
  sentRecord,
  totalsRecord,
  type ChanPoint,
  type ChannelRec,
  type PeerChannels,
  type PeerMeta,
  type PlacementRec,
  type RefusalRec,
  type RecordCodec,
  type RetrievedBlobRec,
  type RetrievedRec,
  type SentRec,
  type Totals,
} from './records.js';

/** Largest blob a peer may store (BOLT #1: 2 + 2 + 65531 = 65535, the largest message). */
export const MAX_BLOB_LEN = 65531;
/** Highest update_count kept: an import may not set more, and counting stops there. */
export const MAX_UPDATE_COUNT = 2 ** 32;

export function sha256(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(bytes).digest());
}

/** A record that fails to decode is a damaged database, not bad input: exit 3 with the key named. */
function decodeRec<T>(codec: RecordCodec<T>, key: Uint8Array, value: Uint8Array): T {
  try {
    return codec.decode(value);
  } catch (e) {
    if (e instanceof DecodeError) throw new StoreError('corrupt', `damaged ${codec.name} record at key ${toHex(key)}: ${e.message}`);
    throw e;
  }
}

const mapKey = (k: Uint8Array): string => Buffer.from(k.buffer, k.byteOffset, k.length).toString('latin1');

/** Reads see the transaction's own writes; commit is one batch. */
export class Txn {
  private readonly pending = new Map<string, BatchOp>();
  private totalsCache: Totals | undefined;
  private totalsDirty = false;

  constructor(private readonly kv: KvStore) {}

  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    const w = this.pending.get(mapKey(key));
    if (w) return w.type === 'put' ? w.value : undefined;
    return this.kv.get(key);
  }

  async getRec<T>(codec: RecordCodec<T>, key: Uint8Array): Promise<T | undefined> {
    const v = await this.get(key);
    return v === undefined ? undefined : decodeRec(codec, key, v);
  }

  put(key: Uint8Array, value: Uint8Array): void {
    this.pending.set(mapKey(key), { type: 'put', key, value });
  }

  putRec<T>(codec: RecordCodec<T>, key: Uint8Array, value: T): void {
    this.put(key, codec.encode(value));
  }

  del(key: Uint8Array): void {
    this.pending.set(mapKey(key), { type: 'del', key });
  }

  async totals(): Promise<Totals> {
    if (!this.totalsCache) this.totalsCache = { ...((await this.getRec(totalsRecord, KEY_TOTALS)) ?? EMPTY_TOTALS) };
    return this.totalsCache;
  }

  async bump(delta: Partial<Totals>): Promise<void> {
    const t = await this.totals();
    for (const [k, v] of Object.entries(delta) as [keyof Totals, number][]) t[k] = Math.max(0, t[k] + v);
    this.totalsDirty = true;
  }

  ops(): BatchOp[] {
    if (this.totalsDirty && this.totalsCache) this.putRec(totalsRecord, KEY_TOTALS, this.totalsCache);
    this.totalsDirty = false;
    return [...this.pending.values()];
  }
}

/** A migration returns the changes that bring a database from `version` to `version + 1`. */
export type Migration = (kv: KvStore) => Promise<BatchOp[]>;

/** Schema migrations by the version they start from. Version 1 is the first: none yet. */
export const MIGRATIONS: Record<number, Migration> = {};

export interface PeerRow {
  peer: Uint8Array;
  meta: PeerMeta;
  channels: PeerChannels | undefined;
}

export interface PeerBlobRow {
  peer: Uint8Array;
  meta: PeerMeta;
  blob: Uint8Array;
}

export interface ImportRow {
  peer: Uint8Array;
  blob: Uint8Array;
  first_stored_at: number;
  updated_at: number;
  update_count: number;
}

export interface ChannelRow {
  chanPoint: ChanPoint;
  rec: ChannelRec;
}

export interface ChannelUpsert {
  peer: Uint8Array;
  chanPoint: ChanPoint;
  state: 'open' | 'closed';
  closeHeight?: number | undefined;
}

export interface ChannelChange {
  chanPoint: ChanPoint;
  rec: ChannelRec;
  change: 'added' | 'closed' | 'updated' | 'unchanged';
}

/** Pull-style wrapper so two ordered iterations can be merged by key. */
class Cursor {
  private readonly it: AsyncIterator<[Uint8Array, Uint8Array]>;
  head: [Uint8Array, Uint8Array] | undefined;
  done = false;
  constructor(src: AsyncIterable<[Uint8Array, Uint8Array]>) {
    this.it = src[Symbol.asyncIterator]();
  }
  async advance(): Promise<void> {
    const r = await this.it.next();
    if (r.done) {
      this.done = true;
      this.head = undefined;
    } else this.head = r.value;
  }
  async close(): Promise<void> {
    await this.it.return?.();
  }
}

export class LnpsStore {
  private chain: Promise<unknown> = Promise.resolve();
  /** Peer blobs written (each stored update counts once), for the flood benchmark and tests. */
  blobWrites = 0;

  private constructor(
    readonly kv: KvStore,
    readonly schemaVersion: number,
  ) {}

  /**
   * Open a store over `kv`. A new (empty) database gets the current schema version; an older
   * one is migrated in one batch per step; a newer one is refused rather than misread.
   */
  static async open(kv: KvStore, migrations: Record<number, Migration> = MIGRATIONS, current = SCHEMA_VERSION): Promise<LnpsStore> {
    const raw = await kv.get(KEY_SCHEMA);
    let version: number;
    if (raw === undefined) {
      let empty = true;
      for await (const _ of kv.iterate(new Uint8Array(0), { keysOnly: true })) {
        empty = false;
        break;
      }
      if (!empty) throw new StoreError('corrupt', 'the database has no schema version record: it was not written by lnps');
      await kv.batch([{ type: 'put', key: KEY_SCHEMA, value: schemaRecord.encode({ version: current }) }]);
      version = current;
    } else {
      version = decodeRec(schemaRecord, KEY_SCHEMA, raw).version;
      if (version > current)
        throw new StoreError('corrupt', `the database has schema version ${version}, newer than this lnps reads (${current}): upgrade lnps`);
      while (version < current) {
        const step = migrations[version];
        if (!step) throw new StoreError('corrupt', `no migration from schema version ${version}`);
        const ops = await step(kv);
        ops.push({ type: 'put', key: KEY_SCHEMA, value: schemaRecord.encode({ version: version + 1 }) });
        await kv.batch(ops);
        version++;
      }
    }
    return new LnpsStore(kv, version);
  }

  /** Database writes (batches committed) since the database was opened in this process. */
  get writes(): number {
    return this.kv.writes;
  }

  /**
   * Run `fn` on a read-only store that sees the database as it is now and no later change, so
   * several reads agree with each other while the node goes on writing. Released after `fn`.
   */
  async atSnapshot<T>(fn: (snap: LnpsStore) => Promise<T>): Promise<T> {
    const kv = this.kv.snapshot();
    try {
      return await fn(new LnpsStore(kv, this.schemaVersion));
    } finally {
      await kv.close();
    }
  }

  /** Run `fn` alone: no other change of this store interleaves with it. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** Build a change in a transaction and commit it as one batch, alone. */
  change<T>(fn: (tx: Txn) => Promise<T>): Promise<T> {
    return this.exclusive(async () => {
      const tx = new Txn(this.kv);
      const result = await fn(tx);
      await this.kv.batch(tx.ops());
      return result;
    });
  }

  private async getRec<T>(codec: RecordCodec<T>, key: Uint8Array): Promise<T | undefined> {
    const v = await this.kv.get(key);
    return v === undefined ? undefined : decodeRec(codec, key, v);
  }

  async totals(): Promise<Totals> {
    return (await this.getRec(totalsRecord, KEY_TOTALS)) ?? { ...EMPTY_TOTALS };
  }

  // ---- block height ----

  async height(): Promise<{ height: number; updated_at: number } | undefined> {
    return this.getRec(heightRecord, KEY_HEIGHT);
  }

  /** Set the best known height (the operator's word wins, even when lower: a reorg). */
  setHeight(height: number, now: number): Promise<{ height: number; previous: number | undefined }> {
    return this.change(async (tx) => {
      const old = await tx.getRec(heightRecord, KEY_HEIGHT);
      tx.putRec(heightRecord, KEY_HEIGHT, { height, updated_at: now });
      return { height, previous: old?.height };
    });
  }

  /** The chain is at least this high: raise the best known height, never lower it. */
  private async raiseHeight(tx: Txn, height: number, now: number): Promise<void> {
    const old = await tx.getRec(heightRecord, KEY_HEIGHT);
    if (!old || old.height < height) tx.putRec(heightRecord, KEY_HEIGHT, { height, updated_at: now });
  }

  // ---- the node this database belongs to ----

  /** The node public key recorded in the database, if any. */
  async nodeKey(): Promise<{ pubkey: Uint8Array; recorded_at: number } | undefined> {
    return this.getRec(nodeKeyRecord, KEY_NODE);
  }

  /**
   * Bind the database to `pubkey`: record it when none is recorded (`recorded`), accept it when
   * it is the one recorded (`matches`), and return the other one when it differs (`differs`);
   * the caller refuses then. Never replaces a recorded key.
   */
  bindNodeKey(pubkey: Uint8Array, now: number): Promise<{ status: 'recorded' | 'matches' | 'differs'; recorded: Uint8Array }> {
    return this.change(async (tx) => {
      const old = await tx.getRec(nodeKeyRecord, KEY_NODE);
      if (old) return { status: equalPeer(old.pubkey, pubkey) ? 'matches' : 'differs', recorded: old.pubkey };
      tx.putRec(nodeKeyRecord, KEY_NODE, { pubkey, recorded_at: now });
      return { status: 'recorded', recorded: pubkey };
    });
  }

  // ---- provider side: peers' blobs ----

  async peerMeta(peer: Uint8Array): Promise<PeerMeta | undefined> {
    return this.getRec(peerMetaRecord, peerKey(PREFIX.peerMeta, peer));
  }

  async peerBlob(peer: Uint8Array): Promise<PeerBlobRow | undefined> {
    const meta = await this.peerMeta(peer);
    if (!meta) return undefined;
    const key = peerKey(PREFIX.peerBlob, peer);
    const rec = await this.getRec(peerBlobRecord, key);
    if (!rec) throw new StoreError('corrupt', `peer ${toHex(peer)} has metadata but no blob record`);
    return { peer, meta, blob: rec.blob };
  }

  private async writeBlob(tx: Txn, peer: Uint8Array, blob: Uint8Array, now: number, meta?: Partial<PeerMeta>): Promise<PeerMeta> {
    if (blob.length > MAX_BLOB_LEN) throw new RangeError(`blob of ${blob.length} bytes is over ${MAX_BLOB_LEN}`);
    const mk = peerKey(PREFIX.peerMeta, peer);
    const old = await tx.getRec(peerMetaRecord, mk);
    const next: PeerMeta = {
      first_stored_at: meta?.first_stored_at ?? old?.first_stored_at ?? now,
      updated_at: meta?.updated_at ?? now,
      // Saturates: a count can never freeze at a value that no longer increments.
      update_count: meta?.update_count ?? Math.min((old?.update_count ?? 0) + 1, MAX_UPDATE_COUNT),
      blob_len: blob.length,
      blob_sha256: sha256(blob),
    };
    tx.putRec(peerMetaRecord, mk, next);
    tx.putRec(peerBlobRecord, peerKey(PREFIX.peerBlob, peer), { blob });
    await tx.bump({ peers: old ? 0 : 1, bytes: blob.length - (old?.blob_len ?? 0) });
    return next;
  }

  /** Store (replace) the blobs of several peers in one batch. */
  async putPeerBlobs(items: { peer: Uint8Array; blob: Uint8Array; now: number }[]): Promise<PeerMeta[]> {
    const metas = await this.change(async (tx) => {
      const out: PeerMeta[] = [];
      for (const it of items) out.push(await this.writeBlob(tx, it.peer, it.blob, it.now));
      return out;
    });
    this.blobWrites += items.length;
    return metas;
  }

  async putPeerBlob(peer: Uint8Array, blob: Uint8Array, now: number): Promise<PeerMeta> {
    return (await this.putPeerBlobs([{ peer, blob, now }]))[0]!;
  }

  private async removeBlob(tx: Txn, peer: Uint8Array): Promise<PeerMeta | undefined> {
    const mk = peerKey(PREFIX.peerMeta, peer);
    const old = await tx.getRec(peerMetaRecord, mk);
    if (!old) return undefined;
    tx.del(mk);
    tx.del(peerKey(PREFIX.peerBlob, peer));
    await tx.bump({ peers: -1, bytes: -old.blob_len });
    return old;
  }

  /**
   * Remove the blobs of these peers, all in one batch; returns what was removed. `when`, if
   * given, is checked again inside the change, so a peer whose state moved since the caller
   * looked is kept.
   */
  deletePeerBlobs(
    peers: Uint8Array[],
    when?: (meta: PeerMeta, channels: PeerChannels | undefined, peer: Uint8Array) => boolean,
  ): Promise<{ peer: Uint8Array; meta: PeerMeta; channels: PeerChannels | undefined }[]> {
    return this.change(async (tx) => {
      const out: { peer: Uint8Array; meta: PeerMeta; channels: PeerChannels | undefined }[] = [];
      for (const peer of peers) {
        const meta = await tx.getRec(peerMetaRecord, peerKey(PREFIX.peerMeta, peer));
        if (!meta) continue;
        const channels = await tx.getRec(peerChannelsRecord, peerKey(PREFIX.peerChannels, peer));
        if (when && !when(meta, channels, peer)) continue;
        await this.removeBlob(tx, peer);
        out.push({ peer, meta, channels });
      }
      return out;
    });
  }

  /**
   * Import (replace) peers' blobs with their metadata: all of them in one batch, or none. A
   * stored blob updated later than the imported one is kept (listed in `skipped_older`) unless
   * `force`.
   */
  importPeerBlobs(rows: ImportRow[], opts: { force?: boolean } = {}): Promise<{ added: number; replaced: number; skipped_older: Uint8Array[] }> {
    return this.change(async (tx) => {
      let added = 0;
      let replaced = 0;
      const skipped_older: Uint8Array[] = [];
      for (const r of rows) {
        const had = await tx.getRec(peerMetaRecord, peerKey(PREFIX.peerMeta, r.peer));
        if (had && had.updated_at > r.updated_at && !opts.force) {
          skipped_older.push(r.peer);
          continue;
        }
        await this.writeBlob(tx, r.peer, r.blob, r.updated_at, { first_stored_at: r.first_stored_at, updated_at: r.updated_at, update_count: r.update_count });
        if (had) replaced++;
        else added++;
      }
      return { added, replaced, skipped_older };
    });
  }

  /**
   * Stored peers in key order with their channel summary, merged from two ordered ranges so
   * no blob is read and memory stays flat however many peers there are.
   */
  async *peers(opts: { peer?: Uint8Array } = {}): AsyncIterable<PeerRow> {
    if (opts.peer !== undefined) {
      const meta = await this.peerMeta(opts.peer);
      if (meta) yield { peer: opts.peer, meta, channels: await this.peerChannels(opts.peer) };
      return;
    }
    // Metadata and summaries are small records (under 100 bytes): read ahead in large batches.
    const metas = new Cursor(this.kv.iterate(Uint8Array.of(PREFIX.peerMeta), { batch: 5000 }));
    const chans = new Cursor(this.kv.iterate(Uint8Array.of(PREFIX.peerChannels), { batch: 5000 }));
    try {
      await metas.advance();
      await chans.advance();
      while (metas.head) {
        const [mk, mv] = metas.head;
        const peer = peerOfKey(mk);
        while (chans.head && compareBytes(peerOfKey(chans.head[0]), peer) < 0) await chans.advance();
        let channels: PeerChannels | undefined;
        if (chans.head && compareBytes(peerOfKey(chans.head[0]), peer) === 0) channels = decodeRec(peerChannelsRecord, chans.head[0], chans.head[1]);
        yield { peer, meta: decodeRec(peerMetaRecord, mk, mv), channels };
        await metas.advance();
      }
    } finally {
      await metas.close();
      await chans.close();
    }
  }

  /** Stored peers with their blobs, in key order (for export). */
  async *peerBlobs(): AsyncIterable<PeerBlobRow> {
    // Blobs may be 64 KiB each: a small read-ahead keeps memory bounded.
    const metas = new Cursor(this.kv.iterate(Uint8Array.of(PREFIX.peerMeta), { batch: 64 }));
    const blobs = new Cursor(this.kv.iterate(Uint8Array.of(PREFIX.peerBlob), { batch: 64 }));
    try {
      await metas.advance();
      await blobs.advance();
      while (metas.head) {
        const [mk, mv] = metas.head;
        const peer = peerOfKey(mk);
        while (blobs.head && compareBytes(peerOfKey(blobs.head[0]), peer) < 0) await blobs.advance();
        if (!blobs.head || compareBytes(peerOfKey(blobs.head[0]), peer) !== 0)
          throw new StoreError('corrupt', `peer ${toHex(peer)} has metadata but no blob record`);
        yield { peer, meta: decodeRec(peerMetaRecord, mk, mv), blob: decodeRec(peerBlobRecord, blobs.head[0], blobs.head[1]).blob };
        await metas.advance();
      }
    } finally {
      await metas.close();
      await blobs.close();
    }
  }

  // ---- channel registry ----

  async peerChannels(peer: Uint8Array): Promise<PeerChannels | undefined> {
    return this.getRec(peerChannelsRecord, peerKey(PREFIX.peerChannels, peer));
  }

  async channel(cp: ChanPoint): Promise<ChannelRec | undefined> {
    return this.getRec(channelRecord, channelKey(cp));
  }

  private async applyChannel(tx: Txn, u: ChannelUpsert, now: number): Promise<ChannelChange> {
    const ck = channelKey(u.chanPoint);
    const old = await tx.getRec(channelRecord, ck);
    if (old && !equalPeer(old.peer, u.peer))
      throw new InputError(`channel ${formatChanPoint(u.chanPoint)} is already registered with peer ${toHex(old.peer)}, not ${toHex(u.peer)}`);
    const pk = peerKey(PREFIX.peerChannels, u.peer);
    const sum: PeerChannels = (await tx.getRec(peerChannelsRecord, pk)) ?? { open: 0, closed: 0, last_close_height: undefined, last_closed_at: undefined };
    let rec: ChannelRec;
    let change: ChannelChange['change'];
    if (!old) {
      rec = { peer: u.peer, state: u.state, added_at: now, closed_at: u.state === 'closed' ? now : undefined, close_height: u.state === 'closed' ? u.closeHeight : undefined };
      change = 'added';
      await tx.bump({ channels: 1, open_channels: u.state === 'open' ? 1 : 0 });
      if (u.state === 'open') sum.open++;
      else sum.closed++;
    } else if (old.state === 'open' && u.state === 'closed') {
      rec = { ...old, state: 'closed', closed_at: now, close_height: u.closeHeight };
      change = 'closed';
      await tx.bump({ open_channels: -1 });
      sum.open = Math.max(0, sum.open - 1);
      sum.closed++;
    } else if (old.state === 'closed' && u.state === 'closed' && u.closeHeight !== undefined && u.closeHeight !== old.close_height) {
      // A close height learnt later (closechannel again with --height, or an lnd import).
      rec = { ...old, close_height: u.closeHeight };
      change = 'updated';
    } else {
      // Same state, or a closed channel reported open: a closed channel never reopens.
      return { chanPoint: u.chanPoint, rec: old, change: 'unchanged' };
    }
    if (rec.state === 'closed') {
      if (rec.close_height !== undefined) sum.last_close_height = Math.max(sum.last_close_height ?? 0, rec.close_height);
      sum.last_closed_at = Math.max(sum.last_closed_at ?? 0, rec.closed_at ?? now);
      if (rec.close_height !== undefined) await this.raiseHeight(tx, rec.close_height, now);
    }
    tx.putRec(channelRecord, ck, rec);
    tx.putRec(peerChannelsRecord, pk, sum);
    return { chanPoint: u.chanPoint, rec, change };
  }

  /** Add or update channels, all in one batch; `height`, when given, raises the best known height. */
  upsertChannels(list: ChannelUpsert[], now: number, height?: number): Promise<ChannelChange[]> {
    return this.change(async (tx) => {
      if (height !== undefined) await this.raiseHeight(tx, height, now);
      const out: ChannelChange[] = [];
      for (const u of list) out.push(await this.applyChannel(tx, u, now));
      return out;
    });
  }

  addChannel(peer: Uint8Array, chanPoint: ChanPoint, now: number): Promise<ChannelChange> {
    return this.upsertChannels([{ peer, chanPoint, state: 'open' }], now).then((r) => r[0]!);
  }

  /** Close a known channel; `undefined` when the channel point is unknown. */
  closeChannel(chanPoint: ChanPoint, now: number, closeHeight?: number): Promise<ChannelChange | undefined> {
    return this.change(async (tx) => {
      const old = await tx.getRec(channelRecord, channelKey(chanPoint));
      if (!old) return undefined;
      return this.applyChannel(tx, { peer: old.peer, chanPoint, state: 'closed', closeHeight }, now);
    });
  }

  async *channels(): AsyncIterable<ChannelRow> {
    for await (const [k, v] of this.kv.iterate(Uint8Array.of(PREFIX.channel), { batch: 2000 })) {
      yield { chanPoint: chanPointOfKey(k), rec: decodeRec(channelRecord, k, v) };
    }
  }

  // ---- consumer side: our own backup held by peers ----

  async sent(peer: Uint8Array): Promise<SentRec | undefined> {
    return this.getRec(sentRecord, peerKey(PREFIX.sent, peer));
  }

  /** Record a send; the same seq sent again keeps its first `sent_at`. */
  putSent(peer: Uint8Array, rec: SentRec): Promise<void> {
    return this.change(async (tx) => {
      const key = peerKey(PREFIX.sent, peer);
      const old = await tx.getRec(sentRecord, key);
      tx.putRec(sentRecord, key, old && old.seq === rec.seq && compareBytes(old.sha256, rec.sha256) === 0 ? { ...rec, sent_at: old.sent_at } : rec);
    });
  }

  async refusal(peer: Uint8Array): Promise<RefusalRec | undefined> {
    return this.getRec(refusalRecord, peerKey(PREFIX.refusal, peer));
  }

  putRefusal(peer: Uint8Array, rec: RefusalRec): Promise<void> {
    return this.change(async (tx) => tx.putRec(refusalRecord, peerKey(PREFIX.refusal, peer), rec));
  }

  clearRefusal(peer: Uint8Array): Promise<boolean> {
    return this.change(async (tx) => {
      const key = peerKey(PREFIX.refusal, peer);
      if ((await tx.get(key)) === undefined) return false;
      tx.del(key);
      return true;
    });
  }

  /** Every refusal on record, in key order. */
  async *refusals(): AsyncIterable<{ peer: Uint8Array; rec: RefusalRec }> {
    for await (const [k, v] of this.kv.iterate(Uint8Array.of(PREFIX.refusal))) yield { peer: peerOfKey(k).slice(), rec: decodeRec(refusalRecord, k, v) };
  }

  /** Every retrieval on record (what each peer last gave back), in key order. */
  async *retrievals(): AsyncIterable<{ peer: Uint8Array; rec: RetrievedRec }> {
    for await (const [k, v] of this.kv.iterate(Uint8Array.of(PREFIX.retrieved))) yield { peer: peerOfKey(k).slice(), rec: decodeRec(retrievedRecord, k, v) };
  }

  async retrieved(peer: Uint8Array): Promise<RetrievedRec | undefined> {
    return this.getRec(retrievedRecord, peerKey(PREFIX.retrieved, peer));
  }

  async retrievedBlob(peer: Uint8Array): Promise<RetrievedBlobRec | undefined> {
    return this.getRec(retrievedBlobRecord, peerKey(PREFIX.retrievedBlob, peer));
  }

  /** Record what a peer gave back; with `blob`, also keep it as that peer's newest valid copy. */
  putRetrieved(peer: Uint8Array, rec: RetrievedRec, blob?: RetrievedBlobRec): Promise<void> {
    return this.change(async (tx) => {
      tx.putRec(retrievedRecord, peerKey(PREFIX.retrieved, peer), rec);
      if (blob) tx.putRec(retrievedBlobRecord, peerKey(PREFIX.retrievedBlob, peer), blob);
    });
  }

  /** Every peer we sent our backup to, in key order. */
  async *sentEntries(): AsyncIterable<{ peer: Uint8Array; sent: SentRec; retrieved: RetrievedRec | undefined }> {
    for await (const [k, v] of this.kv.iterate(Uint8Array.of(PREFIX.sent))) {
      const peer = peerOfKey(k);
      yield { peer, sent: decodeRec(sentRecord, k, v), retrieved: await this.retrieved(peer) };
    }
  }

  /** Record where the shards of one striped backup went, in one batch. */
  putPlacements(backupId: Uint8Array, shards: { index: number; rec: PlacementRec }[]): Promise<void> {
    return this.change(async (tx) => {
      for (const s of shards) tx.putRec(placementRecord, placementKey(backupId, s.index), s.rec);
    });
  }

  async *placements(backupId?: Uint8Array): AsyncIterable<{ backupId: Uint8Array; index: number; rec: PlacementRec }> {
    const prefix = backupId === undefined ? Uint8Array.of(PREFIX.placement) : Uint8Array.of(PREFIX.placement, ...backupId);
    for await (const [k, v] of this.kv.iterate(prefix)) {
      yield { backupId: k.slice(1, 17), index: k[17]!, rec: decodeRec(placementRecord, k, v) };
    }
  }

  /** Remove a backup's placements (when a newer backup replaces it), in one batch. */
  deletePlacements(backupId: Uint8Array): Promise<number> {
    return this.change(async (tx) => {
      let n = 0;
      for await (const [k] of this.kv.iterate(Uint8Array.of(PREFIX.placement, ...backupId), { keysOnly: true })) {
        tx.del(k);
        n++;
      }
      return n;
    });
  }

  async close(): Promise<void> {
    await this.exclusive(async () => undefined);
    await this.kv.close();
  }
}

function equalPeer(a: Uint8Array, b: Uint8Array): boolean {
  return compareBytes(a, b) === 0;
}

export function formatChanPoint(cp: ChanPoint): string {
  return `${toHex(cp.txid)}:${cp.vout}`;
}
