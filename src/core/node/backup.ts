// Our own backup: sealing a new version, and the per-peer view of where it stands. Used by the
// running node (over the control socket) and by the commands when no node runs.
import { toHex } from '../bytes.js';
import { InputError, StoreError, UsageError } from '../errors.js';
import { PREFIX, peerOfKey, retrievedRecord } from '../store/records.js';
import { MAX_PLAINTEXT, seal, type Padding, type SealKey } from '../backup/seal.js';
import type { OwnBackupFile } from './consumer.js';
import type { OwnBlob } from './types.js';

export interface NewBackupParams {
  plaintext: Uint8Array;
  /** Defaults to the current time in ms, so a later backup is newer. */
  seq?: bigint | undefined;
  pad?: Padding | undefined;
}

/**
 * Seal a new version of our backup and make it the one peers should hold. Its seq must be
 * larger than the current newest, or peers holding the newest would be judged stale against
 * an older one.
 */
export function newBackup(own: OwnBackupFile, key: SealKey, p: NewBackupParams, now: number, striped?: bigint): OwnBlob {
  if (p.plaintext.length > MAX_PLAINTEXT)
    throw new InputError(`the backup is ${p.plaintext.length} bytes; one sealed blob holds at most ${MAX_PLAINTEXT} bytes: nothing was sent (--stripe K-of-N splits a larger one across peers)`, 'too_large');
  // The newest of our backups, striped (`striped`: its seq) or not.
  const plainSeq = own.load()?.seq;
  const currentSeq = plainSeq === undefined ? striped : striped === undefined || plainSeq > striped ? plainSeq : striped;
  const seq = p.seq ?? nextSeq(currentSeq, now);
  if (currentSeq !== undefined && seq <= currentSeq)
    throw new InputError(`seq ${seq} is not newer than the current backup's seq ${currentSeq}: give a larger --seq`, 'stale_seq');
  const sealed = seal(p.plaintext, { seq, key, pad: p.pad ?? 'full' });
  return own.save(sealed, seq);
}

/**
 * The default seq: the time in ms; two backups within one ms (or a clock set back) still get
 * increasing seqs.
 */
export function nextSeq(current: bigint | undefined, now: number): bigint {
  return current !== undefined && BigInt(now) <= current ? current + 1n : BigInt(now);
}

/** Parse JSON params of the control method `backup`. */
export function backupParams(params: Record<string, unknown>): NewBackupParams & { peer?: string | undefined } {
  const hex = params.plaintext;
  if (typeof hex !== 'string' || !/^([0-9a-f]{2})*$/i.test(hex)) throw new UsageError('backup: plaintext must be hex');
  const out: NewBackupParams & { peer?: string | undefined } = { plaintext: new Uint8Array(Buffer.from(hex, 'hex')) };
  // An empty backup would replace a good copy at every peer with nothing: only on purpose.
  if (out.plaintext.length === 0 && params.allow_empty !== true)
    throw new InputError('the backup is empty (0 bytes): nothing was sent, and the current backup stays with the peers; add --allow-empty to send an empty one on purpose', 'empty_backup');
  if (params.seq !== undefined && params.seq !== null) {
    if (typeof params.seq !== 'string' || !/^\d{1,20}$/.test(params.seq) || BigInt(params.seq) > 0xffff_ffff_ffff_ffffn)
      throw new UsageError('--seq must be an integer from 0 to 2^64-1');
    out.seq = BigInt(params.seq);
  }
  if (params.pad !== undefined && params.pad !== null) {
    if (params.pad !== 'full' && params.pad !== 'none' && params.pad !== 'bucket') throw new UsageError('--pad must be full, none or bucket');
    out.pad = params.pad;
  }
  if (params.peer !== undefined && params.peer !== null) {
    if (typeof params.peer !== 'string') throw new UsageError('--peer must be a public key');
    out.peer = params.peer;
  }
  return out;
}

export function backupSummary(b: OwnBlob): Record<string, unknown> {
  return { seq: b.seq.toString(), sealed_len: b.sealed.length, sealed_sha256: toHex(b.sha256) };
}

/** The records listbackups reads; the store of the database issue provides them. */
export interface BackupRecords {
  sentEntries(): AsyncIterable<{
    peer: Uint8Array;
    sent: { seq: bigint; sha256: Uint8Array; len: number; sent_at: number };
    retrieved: RetrievedView | undefined;
  }>;
  sent(peer: Uint8Array): Promise<unknown>;
  refusal(peer: Uint8Array): Promise<{ at: number; reason: Uint8Array } | undefined>;
  /** The store's key-value layer: peers that returned a blob we never sent are found there. */
  readonly kv: { iterate(prefix: Uint8Array): AsyncIterable<[Uint8Array, Uint8Array]> };
}

interface RetrievedView {
  seq?: bigint | undefined;
  status: string;
  last_seen: number;
}

const seconds = (ms: number | undefined): number | null => (ms === undefined ? null : Math.floor(ms / 1000));

function statusFields(r: RetrievedView | undefined, refusal: { at: number; reason: Uint8Array } | undefined, sent?: { seq: bigint; sent_at: number }): Record<string, unknown> {
  // A peer that refused what we last sent, and has not proved a copy of it since, is `refused`
  // whatever its retrieval said (`retrieval` keeps that).
  const provedSent = r?.status === 'confirmed' && sent !== undefined && r.seq === sent.seq;
  const refusedSent = refusal !== undefined && sent !== undefined && refusal.at >= sent.sent_at && !provedSent;
  return {
    seq_confirmed: r && (r.status === 'confirmed' || r.status === 'stale') && r.seq !== undefined ? r.seq.toString() : null,
    status: refusedSent ? 'refused' : (r?.status ?? 'unconfirmed'),
    retrieval: r?.status ?? null,
    last_seen: seconds(r?.last_seen),
    refused: refusal ? new TextDecoder().decode(refusal.reason) : null,
    refused_at: seconds(refusal?.at),
  };
}

/**
 * One row per peer: first those we sent our backup to (seq sent, seq confirmed = the seq of
 * the peer's last retrieval when it verified, its status, `unconfirmed` before any, last seen),
 * then those that returned a blob we never sent from this database (a restored node learns
 * here which peers hold its backup). Streams: one record in memory at a time.
 */
export async function listBackups(records: BackupRecords, row: (r: Record<string, unknown>) => Promise<void> | void): Promise<number> {
  let n = 0;
  for await (const e of records.sentEntries()) {
    n++;
    const w = row({
      peer: toHex(e.peer),
      seq_sent: e.sent.seq.toString(),
      sent_sha256: toHex(e.sent.sha256),
      sent_len: e.sent.len,
      sent_at: seconds(e.sent.sent_at),
      ...statusFields(e.retrieved, await records.refusal(e.peer), e.sent),
    });
    if (w) await w;
  }
  for await (const [k, v] of records.kv.iterate(Uint8Array.of(PREFIX.retrieved))) {
    const peer = peerOfKey(k);
    if ((await records.sent(peer)) !== undefined) continue;
    let r: RetrievedView;
    try {
      r = retrievedRecord.decode(v);
    } catch (e) {
      throw new StoreError('corrupt', `damaged retrieved record for peer ${toHex(peer)}: ${e instanceof Error ? e.message : String(e)}`);
    }
    n++;
    const w = row({ peer: toHex(peer), seq_sent: null, sent_sha256: null, sent_len: null, sent_at: null, ...statusFields(r, await records.refusal(peer)) });
    if (w) await w;
  }
  return n;
}
