// The provider: decides whether a peer's blob is kept, and when it is written. Transport
// agnostic: the node calls it with (peer, blob, time) and logs the outcome.
import { toHex } from '../bytes.js';
import type { LnpsStore, PeerRow } from '../store/store.js';
import { systemClock, type Clock } from './clock.js';
import type { ProviderSettings } from './policy.js';
import { isPrunable } from './retention.js';

export type RefusalReason = 'too_large' | 'policy' | 'quota_peers' | 'quota_bytes';

export type ReceiveOutcome =
  /** `detail` names the blobs evicted to make room for a channel or allowlisted peer, if any. */
  | { status: 'stored'; peer: string; blob_len: number; update_count: number; detail?: string }
  /** Inside the cooldown: held in memory, written at `write_at` (ms) unless a newer blob replaces it. */
  | { status: 'pending'; peer: string; blob_len: number; write_at: number }
  | { status: 'refused'; peer: string; blob_len: number; reason: RefusalReason; detail: string };

interface PeerState {
  /** When the last write for this peer started (ms). */
  lastWriteAt: number;
  /** The newest blob received inside the cooldown, not yet written. */
  pending: { blob: Uint8Array; at: number } | undefined;
  /** The blob being written right now: still the newest for retrieval until the write lands. */
  writing: Uint8Array | undefined;
  timer: unknown;
}

export interface ProviderOptions {
  clock?: Clock;
  /** Called when a deferred write fails; the blob stays pending and is retried. */
  onError?: (err: unknown, peer: string) => void;
}

export class Provider {
  private readonly clock: Clock;
  private readonly onError: (err: unknown, peer: string) => void;
  /** Peers written within the last cooldown. An entry lives one cooldown, so memory is bounded by the write rate. */
  private readonly state = new Map<string, PeerState>();
  /** Admission (policy, quota, first write) runs one peer at a time, so two new peers cannot both take the last slot. */
  private admission: Promise<unknown> = Promise.resolve();
  private closed = false;
  /** Writes started by cooldown timers and not finished: flush() waits for them. */
  private readonly inflight = new Set<Promise<unknown>>();

  constructor(
    readonly store: LnpsStore,
    /** Replaced whole on SIGHUP; each check reads the settings in force at that moment. */
    public settings: ProviderSettings,
    opts: ProviderOptions = {},
  ) {
    this.clock = opts.clock ?? systemClock;
    this.onError = opts.onError ?? (() => undefined);
  }

  /** Whether policy lets this peer store with us at all. */
  async allowed(peer: Uint8Array): Promise<boolean> {
    const s = this.settings;
    if (s.policy === 'any') return true;
    if (s.policy === 'allowlist' && s.allowlist.has(toHex(peer))) return true;
    // BOLT #1: the receiver "MUST store it when it has an open channel with the sender".
    const ch = await this.store.peerChannels(peer);
    return ch !== undefined && ch.open > 0;
  }

  /**
   * A `peer_storage` arrived. The first update is written at once; updates inside the cooldown
   * are coalesced in memory and the newest is written when the cooldown ends, so a peer cannot
   * drive one database write per message. BOLT #1: the receiver "MUST replace the old blob with
   * the latest one", and "MAY delay storage to rate-limit the peer".
   */
  async receive(peer: Uint8Array, blob: Uint8Array, now: number = this.clock.now()): Promise<ReceiveOutcome> {
    const hex = toHex(peer);
    if (this.closed) throw new Error('provider is closed');
    if (blob.length > this.settings.maxBlobLen)
      return { status: 'refused', peer: hex, blob_len: blob.length, reason: 'too_large', detail: `blob of ${blob.length} bytes is over the ${this.settings.maxBlobLen}-byte limit` };
    const st = this.state.get(hex);
    if (st) return this.hold(hex, peer, st, blob, now);
    const run = this.admission.then(() => this.admit(hex, peer, blob, now));
    this.admission = run.catch(() => undefined);
    return run;
  }

  private hold(hex: string, peer: Uint8Array, st: PeerState, blob: Uint8Array, now: number): ReceiveOutcome {
    st.pending = { blob, at: now };
    const writeAt = st.lastWriteAt + this.settings.cooldownMs;
    if (st.timer === undefined) st.timer = this.clock.setTimeout(() => void this.cooldownEnded(hex, peer), Math.max(0, writeAt - this.clock.now()));
    return { status: 'pending', peer: hex, blob_len: blob.length, write_at: writeAt };
  }

  private async admit(hex: string, peer: Uint8Array, blob: Uint8Array, now: number): Promise<ReceiveOutcome> {
    // A write for this peer may have started while we waited our turn.
    const st = this.state.get(hex);
    if (st) return this.hold(hex, peer, st, blob, now);
    if (!(await this.allowed(peer)))
      return { status: 'refused', peer: hex, blob_len: blob.length, reason: 'policy', detail: `policy ${this.settings.policy}: no open channel with this peer${this.settings.policy === 'allowlist' ? ' and not on the allowlist' : ''}` };
    const existing = await this.store.peerMeta(peer);
    let evicted: string | undefined;
    if (!existing) {
      // Quotas apply to new peers; an admitted peer's update always replaces its blob (the MUST above).
      const t = await this.store.totals();
      const overPeers = t.peers >= this.settings.maxPeers;
      const overBytes = t.bytes + blob.length > this.settings.maxBytes;
      if (overPeers || overBytes) {
        // A channel peer MUST be stored, and the operator's allowlist is as binding: make room by
        // evicting the least recently updated blobs of peers that are neither.
        const made = (await this.isProtected(peer)) ? await this.evictFor(blob.length) : undefined;
        if (made === undefined) {
          if (overPeers)
            return { status: 'refused', peer: hex, blob_len: blob.length, reason: 'quota_peers', detail: `already storing for ${t.peers} peers (limit ${this.settings.maxPeers})` };
          return { status: 'refused', peer: hex, blob_len: blob.length, reason: 'quota_bytes', detail: `holding ${t.bytes} bytes; this blob would pass the ${this.settings.maxBytes}-byte limit` };
        }
        evicted = made;
      }
    }
    const state: PeerState = { lastWriteAt: now, pending: undefined, writing: blob, timer: undefined };
    this.state.set(hex, state);
    try {
      const meta = await this.track(this.store.putPeerBlob(peer, blob, now));
      state.writing = undefined;
      this.armExpiry(hex, peer, state);
      return evicted === undefined
        ? { status: 'stored', peer: hex, blob_len: blob.length, update_count: meta.update_count }
        : { status: 'stored', peer: hex, blob_len: blob.length, update_count: meta.update_count, detail: evicted };
    } catch (e) {
      state.writing = undefined;
      if (state.pending === undefined) this.state.delete(hex);
      else this.armExpiry(hex, peer, state);
      throw e;
    }
  }

  /** A peer we must store for whatever the quota: an open channel, or on the allowlist. */
  async isProtected(peer: Uint8Array): Promise<boolean> {
    if (this.settings.allowlist.has(toHex(peer))) return true;
    const ch = await this.store.peerChannels(peer);
    return ch !== undefined && ch.open > 0;
  }

  /**
   * Make room for a new blob of `len` bytes by deleting the least recently updated blobs of
   * unprotected peers (no open channel, not on the allowlist, no write pending). Returns a
   * description of what went, or undefined when no such blobs can make enough room (nothing
   * is deleted then). Runs inside admission, one at a time; one pass over the peers' metadata
   * (at most maxPeers rows, no blob read).
   */
  private async evictFor(len: number): Promise<string | undefined> {
    const t = await this.store.totals();
    const candidates: { peer: Uint8Array; updated_at: number; len: number }[] = [];
    for await (const row of this.store.peers()) {
      if (row.channels !== undefined && row.channels.open > 0) continue;
      const hex = toHex(row.peer);
      if (this.settings.allowlist.has(hex) || this.state.has(hex)) continue;
      candidates.push({ peer: row.peer, updated_at: row.meta.updated_at, len: row.meta.blob_len });
    }
    candidates.sort((a, b) => a.updated_at - b.updated_at);
    let peers = t.peers;
    let bytes = t.bytes;
    const chosen: Uint8Array[] = [];
    for (const c of candidates) {
      if (peers < this.settings.maxPeers && bytes + len <= this.settings.maxBytes) break;
      chosen.push(c.peer);
      peers--;
      bytes -= c.len;
    }
    if (peers >= this.settings.maxPeers || bytes + len > this.settings.maxBytes) return undefined;
    // Checked again inside the change: a peer that got a channel meanwhile is kept.
    const gone = await this.store.deletePeerBlobs(chosen, (_m, ch) => !(ch !== undefined && ch.open > 0));
    if (gone.length !== chosen.length) return undefined;
    const names = gone.slice(0, 3).map((g) => toHex(g.peer)).join(', ');
    return `evicted ${gone.length} least recently updated blob${gone.length === 1 ? '' : 's'} of peers with no channel to make room: ${names}${gone.length > 3 ? ', …' : ''}`;
  }

  /** After a write, the peer's state lives one cooldown: to catch updates, then to write the newest. */
  private armExpiry(hex: string, peer: Uint8Array, st: PeerState): void {
    if (st.timer !== undefined) return;
    const delay = Math.max(0, st.lastWriteAt + this.settings.cooldownMs - this.clock.now());
    st.timer = this.clock.setTimeout(() => void this.cooldownEnded(hex, peer), delay);
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.inflight.add(p);
    const done = () => this.inflight.delete(p);
    p.then(done, done);
    return p;
  }

  private async cooldownEnded(hex: string, peer: Uint8Array): Promise<void> {
    const st = this.state.get(hex);
    if (!st) return;
    st.timer = undefined;
    const p = st.pending;
    if (!p) {
      this.state.delete(hex);
      return;
    }
    st.pending = undefined;
    st.writing = p.blob;
    st.lastWriteAt = this.clock.now();
    try {
      await this.track(this.store.putPeerBlob(peer, p.blob, p.at));
      st.writing = undefined;
    } catch (e) {
      st.writing = undefined;
      // Never drop the newest blob: keep it (unless a newer one came meanwhile) and retry.
      if (st.pending === undefined) st.pending = p;
      this.onError(e, hex);
    }
    if (this.state.get(hex) === st) this.armExpiry(hex, peer, st);
  }

  /** BOLT #1 `peer_storage_retrieval` "MUST include the last blob it stored": pending first, else stored. */
  async retrieval(peer: Uint8Array): Promise<Uint8Array | undefined> {
    const st = this.state.get(toHex(peer));
    const held = st?.pending?.blob ?? st?.writing;
    if (held) return held;
    return (await this.store.peerBlob(peer))?.blob;
  }

  /** The blob waiting for this peer's cooldown to end, if any. */
  pendingFor(peer: Uint8Array): Uint8Array | undefined {
    return this.state.get(toHex(peer))?.pending?.blob;
  }

  /** Blobs waiting for their cooldown to end. */
  get pendingCount(): number {
    let n = 0;
    for (const st of this.state.values()) if (st.pending) n++;
    return n;
  }

  /** Write every pending blob now, in one batch (on shutdown, or before a backup of the store). */
  async flush(): Promise<number> {
    await this.admission;
    // A write already started must land before the pending ones, so the newest stays on top.
    for (let i = 0; i < 100 && this.inflight.size > 0; i++) await Promise.allSettled([...this.inflight]);
    const items: { peer: Uint8Array; blob: Uint8Array; now: number; st: PeerState }[] = [];
    for (const [hex, st] of this.state) {
      if (st.timer !== undefined) this.clock.clearTimeout(st.timer);
      st.timer = undefined;
      if (st.pending) items.push({ peer: Buffer.from(hex, 'hex'), blob: st.pending.blob, now: st.pending.at, st });
    }
    if (items.length > 0) {
      try {
        await this.store.putPeerBlobs(items);
      } catch (e) {
        for (const it of items) this.armExpiry(toHex(it.peer), it.peer, it.st);
        throw e;
      }
    }
    for (const it of items) it.st.pending = undefined;
    this.state.clear();
    return items.length;
  }

  /** Flush and stop accepting blobs. */
  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
  }

  /** Stored peers whose blobs retention lets go, at this height and time. */
  async *prunable(height: number | undefined, now: number = this.clock.now()): AsyncIterable<PeerRow> {
    for await (const row of this.store.peers()) {
      if (isPrunable(row, height, now, this.settings) && !this.state.get(toHex(row.peer))?.pending) yield row;
    }
  }
}
