// The node's side of striped backups: making a k-of-n version and placing it on peers, judging
// a shard a peer gives back, keeping shards where they are safe (moving them when a holder stays
// away, re-striping when no peer is free), and rebuilding from what peers return on a restore.
// It reaches the node only through the small KeeperDeps interface, so it runs in tests without
// sockets.
import { createHash, randomBytes } from 'node:crypto';
import { equalBytes, toHex } from '../bytes.js';
import { InputError } from '../errors.js';
import { open, seal, type Padding, type SealKey } from '../backup/seal.js';
import { openShard, rebuild, stripe, type RebuildResult } from '../backup/stripe.js';
import type { SubLogger } from './log.js';
import { choosePeers, planMaintenance, stripeMode, type Plan, type StoragePeer } from './placement.js';
import type { StripeStore, StripeVersion } from './stripe-store.js';
import type { RetrievalStatus } from './types.js';

function sha256(b: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(b).digest());
}

function defaultRandom(n: number): Uint8Array {
  const b = randomBytes(n);
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
}

const shortId = (id: Uint8Array) => toHex(id).slice(0, 16);

export interface StripeParams {
  plaintext: Uint8Array;
  k: number;
  n: number;
  seq: bigint;
  pad: Padding;
}

/**
 * Seal a backup as n blobs for n peers: version 2 shards, any k of which rebuild it; or, at
 * k = 1 for a backup that fits one blob, the same version 1 blob n times (replication: every
 * peer holds the whole backup, readable by any lnps restore).
 */
export function sealVersion(p: StripeParams, key: SealKey, random: (n: number) => Uint8Array = defaultRandom) {
  const mode = stripeMode(p.plaintext.length, p.k);
  if (mode === 'replicated') {
    const sealed = seal(p.plaintext, { seq: p.seq, key, pad: p.pad, random });
    return {
      mode,
      backup_id: random(16).slice(),
      total_len: p.plaintext.length,
      backup_sha256: sha256(p.plaintext),
      blobs: Array.from({ length: p.n }, () => sealed as Uint8Array),
    };
  }
  const s = stripe(p.plaintext, { k: p.k, n: p.n, seq: p.seq, pad: p.pad, key, random });
  return { mode, backup_id: s.backup_id, total_len: s.total_len, backup_sha256: s.backup_sha256, blobs: s.shards as Uint8Array[] };
}

/** What a peer returned, judged against the striped versions we placed. */
export interface ShardJudgement {
  status: RetrievalStatus;
  seq?: bigint | undefined;
  detail?: string | undefined;
  /** The placement it confirmed, if any. */
  confirmed?: { backup_id: Uint8Array; index: number } | undefined;
}

/**
 * Judge a version 2 shard a peer returned (undefined when the blob is not a shard: the caller
 * judges it as a whole backup). A shard of the version this peer should hold confirms that
 * placement; a shard of an older version, or another shard than the one the peer should hold,
 * is stale (the peer is sent the right one); a shard that does not open is corrupt.
 */
export async function judgeShard(
  blob: Uint8Array,
  key: SealKey,
  stripes: StripeStore,
  peer: Uint8Array,
  now: number,
): Promise<ShardJudgement | undefined> {
  if (blob.length < 1 || blob[0] !== 2) return undefined;
  const r = openShard(blob, key);
  if (!r.ok) {
    if (r.reason === 'not_a_shard') return undefined;
    return { status: 'corrupt', detail: r.detail };
  }
  const { backup_id, index } = r.shard;
  const should = await stripes.assignedTo(peer);
  if (should && should.seq === r.seq && equalBytes(should.backup_id, backup_id) && should.index === index) {
    await stripes.markConfirmed(r.seq, backup_id, index, peer, now);
    return { status: 'confirmed', seq: r.seq, detail: `shard ${index} of ${r.shard.n} of backup ${shortId(backup_id)}`, confirmed: { backup_id, index } };
  }
  // An older shard is stale. A shard of the right version that was moved away from this peer
  // (it came back after its shard went elsewhere) is still a good copy: confirmed, not sent over.
  if (should && (r.seq < should.seq || (r.seq === should.seq && !(equalBytes(should.backup_id, backup_id) && should.index === index))))
    return { status: 'stale', seq: r.seq, detail: `holds shard ${index} of backup ${shortId(backup_id)} seq ${r.seq}; it should hold shard ${should.index} of seq ${should.seq}` };
  // No shard is meant for this peer now: a placement of an older version may still be confirmed.
  const ok = await stripes.markConfirmed(r.seq, backup_id, index, peer, now);
  return { status: 'confirmed', seq: r.seq, detail: `shard ${index} of ${r.shard.n} of backup ${shortId(backup_id)}`, confirmed: ok ? { backup_id, index } : undefined };
}

/** A version 1 blob that opened with our key: confirm the replicated placement it matches. */
export async function confirmReplicated(blob: Uint8Array, seq: bigint, stripes: StripeStore, peer: Uint8Array, now: number): Promise<boolean> {
  const hit = await stripes.findReplicated(seq, peer, sha256(blob));
  if (!hit) return false;
  return stripes.markConfirmed(seq, hit.backup_id, hit.index, peer, now);
}

export interface KeeperDeps {
  stripes: StripeStore;
  key: SealKey;
  log: SubLogger;
  now: () => number;
  /** A holder away this long has its shard moved (or the backup re-striped). */
  moveAfterMs: number;
  /** The connected, active peers. */
  peers(): Promise<StoragePeer[]> | StoragePeer[];
  /** Offer our newest blob to this peer now, when connected; the seq sent, if any. */
  offer(peer: string): Promise<bigint | undefined>;
  /** The seq of our newest unstriped backup, so a new version is always newer. */
  plainSeq(): bigint | undefined;
  random?: (n: number) => Uint8Array;
}

export interface PlacedShard {
  index: number;
  peer: string;
  sent: boolean;
  reason?: string;
}

/** Keeps the current striped version placed: on a backup, and on every tick of the move timer. */
export class StripeKeeper {
  private readonly lastSeen = new Map<string, number>();
  private readonly startedAt: number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  /** Backups and timer passes run one at a time: each reads the current version, then changes it. */
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly d: KeeperDeps) {
    this.startedAt = d.now();
  }

  /** The newest seq among our backups, striped or not. */
  async newestSeq(): Promise<bigint | undefined> {
    const cur = await this.d.stripes.current();
    const plain = this.d.plainSeq();
    if (cur === undefined) return plain;
    if (plain === undefined) return cur.seq;
    return cur.seq > plain ? cur.seq : plain;
  }

  /**
   * A new k-of-n backup: choose n storage peers, seal, record, and send each its shard (a
   * peer still inside its retrieval wait gets it when the wait ends).
   */
  backup(p: StripeParams): Promise<{ version: StripeVersion; placed: PlacedShard[] }> {
    return this.serial(() => this.backupNow(p));
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async backupNow(p: StripeParams): Promise<{ version: StripeVersion; placed: PlacedShard[] }> {
    const newest = await this.newestSeq();
    if (newest !== undefined && p.seq <= newest)
      throw new InputError(`seq ${p.seq} is not newer than the current backup's seq ${newest}: give a larger --seq`, 'stale_seq');
    const now = this.d.now();
    const connected = await this.d.peers();
    for (const c of connected) this.lastSeen.set(c.peer, now);
    const chosen = choosePeers(connected, p.k, p.n);
    const v = await this.record(p, chosen, 'backup', now);
    this.d.log.info(`new ${v.k}-of-${v.n} ${v.mode} backup ${shortId(v.backup_id)} seq ${v.seq} (${v.total_len} bytes) on ${v.n} peers`);
    return { version: v, placed: await this.sendAll(v) };
  }

  private async record(p: StripeParams, peers: string[], origin: 'backup' | 'restripe', now: number): Promise<StripeVersion> {
    const s = sealVersion(p, this.d.key, this.d.random);
    const peerBytes = peers.map((h) => new Uint8Array(Buffer.from(h, 'hex')));
    await this.d.stripes.putVersion(
      { backup_id: s.backup_id, seq: p.seq, k: p.k, n: p.n, mode: s.mode, total_len: s.total_len, backup_sha256: s.backup_sha256, pad: p.pad, origin, blobs: s.blobs, peers: peerBytes, sha256 },
      now,
    );
    const v = await this.d.stripes.current();
    if (!v || v.seq !== p.seq || !equalBytes(v.backup_id, s.backup_id)) throw new Error('the new striped version was not recorded');
    return v;
  }

  private async sendAll(v: StripeVersion): Promise<PlacedShard[]> {
    const out: PlacedShard[] = [];
    for (let i = 0; i < v.n; i++) {
      const peer = v.placements[i]!.peer;
      if (!peer) continue;
      out.push(await this.sendOne(i, toHex(peer)));
    }
    return out;
  }

  private async sendOne(index: number, peer: string): Promise<PlacedShard> {
    try {
      const seq = await this.d.offer(peer);
      return seq !== undefined ? { index, peer, sent: true } : { index, peer, sent: false, reason: 'not sent now: waiting for its peer_storage_retrieval, or not connected; sent when it is' };
    } catch (e) {
      return { index, peer, sent: false, reason: e instanceof Error ? e.message : String(e) };
    }
  }

  /** One pass of the move timer: move shards of holders away too long, or re-stripe. */
  tick(): Promise<Plan | undefined> {
    if (this.running) return this.running as Promise<Plan | undefined>;
    const run = this.serial(() => this.maintain()).finally(() => (this.running = undefined));
    this.running = run;
    return run;
  }

  private async maintain(): Promise<Plan | undefined> {
    const v = await this.d.stripes.current();
    if (!v) return undefined;
    const now = this.d.now();
    const connected = await this.d.peers();
    for (const p of connected) this.lastSeen.set(p.peer, now);
    // Our unstriped backup is newer: that one is what peers should hold now.
    const plain = this.d.plainSeq();
    if (plain !== undefined && plain > v.seq) return undefined;
    const plan = planMaintenance({
      k: v.k,
      n: v.n,
      totalLen: v.total_len,
      shards: v.placements.map((p, index) => ({ index, peer: p.peer ? toHex(p.peer) : undefined })),
      connected,
      // A holder never seen by this run of the node counts as away since the node started.
      awaySince: (peer) => this.lastSeen.get(peer) ?? this.startedAt,
      now,
      moveAfterMs: this.d.moveAfterMs,
    });
    for (const m of plan.moves) {
      await this.d.stripes.assign(v.seq, v.backup_id, m.index, new Uint8Array(Buffer.from(m.to, 'hex')), now);
      const r = await this.sendOne(m.index, m.to);
      this.d.log.info(`moved shard ${m.index} of backup ${shortId(v.backup_id)} seq ${v.seq}${m.from ? ' from ' + m.from : ''} to ${m.to} (${m.reason})${r.sent ? '' : ': ' + (r.reason ?? 'not sent yet')}`);
    }
    for (const w of plan.waiting) this.d.log.debug(`shard ${w.index} of backup ${shortId(v.backup_id)} seq ${v.seq} stays with ${w.peer ?? 'nobody'}: ${w.reason}`);
    if (plan.restripe) await this.restripe(v, plan.restripe, now);
    return plan;
  }

  /** Rebuild the backup from our own sealed shards and stripe it again over the peers present. */
  private async restripe(v: StripeVersion, r: NonNullable<Plan['restripe']>, now: number): Promise<void> {
    const blobs = await this.d.stripes.shardBlobs(v.seq, v.backup_id);
    let plaintext: Uint8Array;
    if (v.mode === 'replicated') {
      const o = open(blobs[0]!, this.d.key);
      if (!o.ok) throw new Error(`our own replicated blob of seq ${v.seq} does not open (${o.reason})`);
      plaintext = o.plaintext;
    } else {
      const rb = rebuild(blobs, this.d.key);
      if (!rb.ok || !rb.backup || rb.seq !== v.seq) {
        this.d.log.error(`cannot re-stripe backup ${shortId(v.backup_id)} seq ${v.seq}: our own shards do not rebuild it (${rb.message})`);
        return;
      }
      plaintext = rb.backup;
    }
    try {
      const p: StripeParams = { plaintext, k: r.k, n: r.n, seq: v.seq + 1n, pad: v.pad };
      const nv = await this.record(p, r.peers, 'restripe', now);
      this.d.log.info(`re-striped backup ${shortId(v.backup_id)} seq ${v.seq} as ${nv.k}-of-${nv.n} backup ${shortId(nv.backup_id)} seq ${nv.seq}: ${r.reason}`);
      await this.sendAll(nv);
    } finally {
      plaintext.fill(0);
    }
  }

  start(intervalMs: number): void {
    this.timer = setInterval(() => {
      this.tick().catch((e) => this.d.log.error(`shard placement check failed: ${e instanceof Error ? e.message : String(e)}`));
    }, intervalMs);
    this.timer.unref?.();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.running) await this.running.catch(() => undefined);
  }
}

/** One peer's answer on a restore, as far as a rebuild is concerned. */
export interface StripedAnswer {
  peer: string;
  blob: Uint8Array;
}

/**
 * Rebuild our striped backup from the shards peers returned. Returns the rebuild report and,
 * per peer, the shard index it gave, whether it was used, and why not.
 */
export function rebuildFromPeers(answers: readonly StripedAnswer[], key: SealKey): {
  result: RebuildResult;
  perPeer: Map<string, { index: number | null; used: boolean; reason?: string | undefined }>;
  usedPeers: string[];
} {
  const result = rebuild(answers.map((a) => a.blob), key);
  const perPeer = new Map<string, { index: number | null; used: boolean; reason?: string | undefined }>();
  answers.forEach((a) => perPeer.set(a.peer, { index: null, used: false }));
  for (const u of result.used) perPeer.set(answers[u.input]!.peer, { index: u.index, used: true });
  for (const f of result.found ?? []) perPeer.set(answers[f.input]!.peer, { index: f.index, used: false, reason: 'too few shards of this version to rebuild it' });
  for (const ig of result.ignored) perPeer.set(answers[ig.input]!.peer, { index: ig.index ?? null, used: false, reason: ig.detail });
  const usedPeers = result.used.map((u) => answers[u.input]!.peer);
  return { result, perPeer, usedPeers };
}
