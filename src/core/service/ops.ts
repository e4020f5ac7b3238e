// The operations behind the database commands. Each takes a context (the opened store and
// settings), JSON-serialisable params, and for lists a sink that takes one row at a time; each
// returns a JSON-serialisable result. The CLI runs them on a database it opens itself, and the
// running node runs the same ones for requests on its control socket, so both print the same.
import { createReadStream } from 'node:fs';
import { isAbsolute } from 'node:path';
import { fromHex, toHex } from '../bytes.js';
import { DecodeError, InputError, StoreError, UsageError } from '../errors.js';
import { parsePubkey } from '../keys.js';
import type { NodePaths } from '../datadir.js';
import type { ChanPoint, ChannelRec, PeerChannels, PeerMeta } from '../store/records.js';
import { MAX_BLOB_LEN, MAX_UPDATE_COUNT, formatChanPoint, sha256, type ImportRow, type LnpsStore, type PeerRow } from '../store/store.js';
import type { ProviderSettings } from '../provider/policy.js';
import { isPrunable } from '../provider/retention.js';
import type { Provider } from '../provider/provider.js';

export interface OpContext {
  store: LnpsStore;
  paths: NodePaths;
  settings: ProviderSettings;
  /** Present inside the running node: pending (debounced) blobs are then taken into account. */
  provider?: Provider | undefined;
  now(): number;
  /** The node public key as hex; throws StoreError when the key file is missing or unsafe. */
  nodePubkey(): string;
  /** getinfo's extra fields from whoever opened the store: version, settings and their sources, uptime. */
  info?: (() => Record<string, unknown>) | undefined;
}

export interface RowSink {
  /** Take one row; a returned promise means "wait before the next" (backpressure). */
  row(row: Record<string, unknown>): Promise<void> | void;
  /** Optional progress of a long scan. */
  progress?(done: number, total: number): void;
}

const NO_ROWS: RowSink = { row: () => undefined };

// ---- parameter checks: params may come from a socket, so every op checks its own ----

function obj(params: unknown): Record<string, unknown> {
  if (params === undefined || params === null) return {};
  if (typeof params !== 'object' || Array.isArray(params)) throw new UsageError('params must be a JSON object');
  return params as Record<string, unknown>;
}

function optString(p: Record<string, unknown>, name: string): string | undefined {
  const v = p[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new UsageError(`${name} must be a string`);
  return v;
}

function optHeight(p: Record<string, unknown>, name = 'height'): number | undefined {
  const v = p[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new UsageError(`${name} must be a block height (0 to 4294967295), got ${JSON.stringify(v)}`);
  return v;
}

function optBool(p: Record<string, unknown>, name: string): boolean {
  const v = p[name];
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') throw new UsageError(`${name} must be true or false`);
  return v;
}

/** `TXID:N`, as lnd prints a channel point: 64 hex digits, a colon, the output index. */
export function parseChanPoint(s: string, what = 'channel point'): ChanPoint {
  const m = /^([0-9a-fA-F]{64}):(\d{1,10})$/.exec(s.trim());
  if (!m || Number(m[2]) > 0xffffffff) throw new InputError(`${what} must be TXID:N (64 hex digits, a colon, an output index), got ${JSON.stringify(s.length > 80 ? s.slice(0, 80) + '…' : s)}`, 'bad_chan_point');
  return { txid: fromHex(m[1]!.toLowerCase(), what), vout: Number(m[2]) };
}

const seconds = (ms: number | undefined): number | null => (ms === undefined ? null : Math.floor(ms / 1000));

// ---- rows ----

export function peerRow(r: PeerRow, prunable: boolean): Record<string, unknown> {
  return {
    peer: toHex(r.peer),
    blob_len: r.meta.blob_len,
    blob_sha256: toHex(r.meta.blob_sha256),
    first_stored_at: seconds(r.meta.first_stored_at),
    updated_at: seconds(r.meta.updated_at),
    update_count: r.meta.update_count,
    open_channels: r.channels?.open ?? 0,
    last_close_height: r.channels?.last_close_height ?? null,
    prunable,
  };
}

function channelRow(cp: ChanPoint, rec: ChannelRec): Record<string, unknown> {
  return {
    chan_point: formatChanPoint(cp),
    peer: toHex(rec.peer),
    state: rec.state,
    added_at: seconds(rec.added_at),
    closed_at: seconds(rec.closed_at),
    close_height: rec.close_height ?? null,
  };
}

async function bestHeight(ctx: OpContext, given: number | undefined): Promise<number | undefined> {
  return given ?? (await ctx.store.height())?.height;
}

function hasPending(ctx: OpContext, peer: Uint8Array): boolean {
  return ctx.provider !== undefined && ctx.provider.pendingFor(peer) !== undefined;
}

// ---- the operations ----

export async function getinfo(ctx: OpContext, _params: unknown): Promise<Record<string, unknown>> {
  const t = await ctx.store.totals();
  const h = await ctx.store.height();
  return {
    node_pubkey: ctx.nodePubkey(),
    datadir: ctx.paths.datadir,
    network: ctx.paths.network,
    database: ctx.paths.dbPath,
    schema_version: ctx.store.schemaVersion,
    peers_stored: t.peers,
    bytes_held: t.bytes,
    channels_known: t.channels,
    open_channels: t.open_channels,
    best_height: h?.height ?? null,
    // Retention prunes only against a known height; until one is known it waits, and says so.
    retention: h === undefined ? 'waiting for height' : `at height ${h.height}`,
    storage_policy: ctx.settings.policy,
    node_running: ctx.provider !== undefined,
    ...ctx.info?.(),
  };
}

export async function listpeerstorage(ctx: OpContext, params: unknown, sink: RowSink = NO_ROWS): Promise<Record<string, unknown>> {
  const p = obj(params);
  const peerHex = optString(p, 'peer');
  const peer = peerHex === undefined ? undefined : parsePubkey(peerHex, 'peer');
  const height = await bestHeight(ctx, optHeight(p));
  const now = ctx.now();
  let count = 0;
  for await (const r of ctx.store.peers(peer ? { peer } : {})) {
    const pr = isPrunable(r, height, now, ctx.settings) && !hasPending(ctx, r.peer);
    const w = sink.row(peerRow(r, pr));
    if (w) await w;
    count++;
  }
  if (peer && count === 0) throw new InputError(`no blob stored for peer ${peerHex!.toLowerCase()}`, 'not_found');
  return { count, height: height ?? null };
}

export async function getpeerstorage(ctx: OpContext, params: unknown): Promise<Record<string, unknown>> {
  const p = obj(params);
  const peerHex = optString(p, 'peer');
  if (peerHex === undefined) throw new UsageError('give the peer public key');
  const peer = parsePubkey(peerHex, 'peer');
  const row = await ctx.store.peerBlob(peer);
  if (!row) throw new InputError(`no blob stored for peer ${toHex(peer)}`, 'not_found');
  const channels = await ctx.store.peerChannels(peer);
  return {
    peer: toHex(peer),
    blob_len: row.meta.blob_len,
    blob_sha256: toHex(row.meta.blob_sha256),
    first_stored_at: seconds(row.meta.first_stored_at),
    updated_at: seconds(row.meta.updated_at),
    update_count: row.meta.update_count,
    open_channels: channels?.open ?? 0,
    blob: toHex(row.blob),
  };
}

export async function prunepeerbackup(ctx: OpContext, params: unknown, sink: RowSink = NO_ROWS): Promise<Record<string, unknown>> {
  const p = obj(params);
  const dryRun = optBool(p, 'dry_run');
  const force = optBool(p, 'force');
  const peerHex = optString(p, 'peer');
  const peer = peerHex === undefined ? undefined : parsePubkey(peerHex, 'peer');
  if (force && !peer) throw new UsageError('--force removes one peer\'s blob: give it with --peer PUBKEY');
  const height = await bestHeight(ctx, optHeight(p));
  if (height === undefined && !(peer && force))
    throw new UsageError('no block height known: give --height H (the current block height) or record it with `lnps setheight H`');
  const now = ctx.now();
  const prunable = (meta: PeerMeta, channels: PeerChannels | undefined, who: Uint8Array): boolean =>
    (force || isPrunable({ meta, channels, peer: who }, height, now, ctx.settings)) && (force || !hasPending(ctx, who));
  const total = peer ? 1 : (await ctx.store.totals()).peers;

  // Scan first (no lock), then delete in one batch that re-checks each candidate, so a peer
  // that opened a channel meanwhile is kept and the change is all-or-nothing.
  const candidates: Uint8Array[] = [];
  let scanned = 0;
  let kept = 0;
  const progressEvery = Math.max(1, Math.floor(total / 200));
  for await (const r of ctx.store.peers(peer ? { peer } : {})) {
    scanned++;
    if (sink.progress && scanned % progressEvery === 0) sink.progress(scanned, total);
    if (!prunable(r.meta, r.channels, r.peer)) {
      kept++;
      continue;
    }
    if (dryRun) {
      const w = sink.row(pruneRow(r.peer, r.meta, r.channels));
      if (w) await w;
    } else candidates.push(r.peer);
  }
  if (peer && scanned === 0) throw new InputError(`no blob stored for peer ${toHex(peer)}`, 'not_found');
  sink.progress?.(scanned, total);
  if (dryRun) return { kept, pruned_count: scanned - kept, dry_run: true, height: height ?? null };

  const removed = await ctx.store.deletePeerBlobs(candidates, (meta, channels, who) => prunable(meta, channels, who));
  for (const r of removed) {
    const w = sink.row(pruneRow(r.peer, r.meta, r.channels));
    if (w) await w;
  }
  return { kept: kept + (candidates.length - removed.length), pruned_count: removed.length, dry_run: false, height: height ?? null };
}

function pruneRow(peer: Uint8Array, meta: PeerMeta, channels: PeerChannels | undefined): Record<string, unknown> {
  return {
    peer: toHex(peer),
    blob_len: meta.blob_len,
    blob_sha256: toHex(meta.blob_sha256),
    updated_at: seconds(meta.updated_at),
    open_channels: channels?.open ?? 0,
    last_close_height: channels?.last_close_height ?? null,
    last_closed_at: seconds(channels?.last_closed_at),
  };
}

/** One JSON line per peer: everything needed to rebuild the store elsewhere. */
export async function exportpeerstorage(ctx: OpContext, _params: unknown, sink: RowSink = NO_ROWS): Promise<Record<string, unknown>> {
  let count = 0;
  for await (const r of ctx.store.peerBlobs()) {
    const w = sink.row({
      peer: toHex(r.peer),
      blob: toHex(r.blob),
      blob_sha256: toHex(r.meta.blob_sha256),
      first_stored_at: seconds(r.meta.first_stored_at),
      updated_at: seconds(r.meta.updated_at),
      update_count: r.meta.update_count,
    });
    if (w) await w;
    count++;
  }
  return { count };
}

/** Check one export line; the error names what is wrong, the caller adds the line number. */
export function parseExportLine(line: string, now: number): ImportRow {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    throw new InputError('not valid JSON');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new InputError('expected a JSON object');
  const o = v as Record<string, unknown>;
  if (typeof o.peer !== 'string') throw new InputError('"peer" missing or not a string');
  const peer = parsePubkey(o.peer, 'peer');
  if (typeof o.blob !== 'string') throw new InputError('"blob" missing or not a string');
  if (o.blob.length > 2 * MAX_BLOB_LEN) throw new InputError(`"blob" is ${o.blob.length / 2} bytes, over the ${MAX_BLOB_LEN}-byte limit`);
  let blob: Uint8Array;
  try {
    blob = fromHex(o.blob, 'blob');
  } catch (e) {
    throw new InputError(e instanceof DecodeError ? e.message : String(e));
  }
  if (o.blob_sha256 !== undefined && (typeof o.blob_sha256 !== 'string' || o.blob_sha256.toLowerCase() !== toHex(sha256(blob))))
    throw new InputError('"blob_sha256" does not match the blob: the line was damaged');
  const time = (name: string, dflt: number): number => {
    const t = o[name];
    if (t === undefined || t === null) return dflt;
    if (typeof t !== 'number' || !Number.isInteger(t) || t < 0 || t > 1e11) throw new InputError(`"${name}" must be Unix seconds, got ${JSON.stringify(t)}`);
    return t * 1000;
  };
  const updated = time('updated_at', now);
  const first = time('first_stored_at', updated);
  // A time in the future would never let retention prune the blob: a day of clock skew at most.
  for (const [name, t] of [['updated_at', updated], ['first_stored_at', first]] as const)
    if (t > now + MAX_FUTURE_MS) throw new InputError(`"${name}" is ${new Date(t).toISOString()}, more than a day in the future`);
  const count = o.update_count ?? 1;
  if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0 || count > MAX_UPDATE_COUNT)
    throw new InputError(`"update_count" must be an integer from 0 to ${MAX_UPDATE_COUNT}, got ${JSON.stringify(count)}`);
  return { peer, blob, first_stored_at: first, updated_at: updated, update_count: count };
}

/** How far in the future an imported time may be (clock skew between machines). */
const MAX_FUTURE_MS = 86_400_000;

/**
 * Longest line of an import file, in bytes: a 65531-byte blob is 131,062 hex digits, and the
 * other fields of an export line add a few hundred bytes (about 132 KiB in all).
 */
export const MAX_IMPORT_LINE_BYTES = 136 * 1024;

class LineTooLong extends Error {}

/**
 * The lines of a stream, numbered from 1, never holding more than `max` bytes of one line:
 * a longer line throws LineTooLong as soon as it passes the limit. `\r\n` ends a line too.
 */
async function* boundedLines(input: AsyncIterable<Buffer>, max: number): AsyncGenerator<{ n: number; line: string }> {
  let parts: Buffer[] = [];
  let len = 0;
  let n = 0;
  const take = () => {
    let b = Buffer.concat(parts, len);
    if (b.length > 0 && b[b.length - 1] === 13) b = b.subarray(0, b.length - 1);
    parts = [];
    len = 0;
    return b.toString('utf8');
  };
  for await (const chunk of input) {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(10, start);
      const piece = chunk.subarray(start, nl < 0 ? chunk.length : nl);
      len += piece.length;
      if (len > max) throw new LineTooLong(String(n + 1));
      if (piece.length > 0) parts.push(piece);
      if (nl < 0) break;
      yield { n: ++n, line: take() };
      start = nl + 1;
    }
  }
  if (len > 0) yield { n: ++n, line: take() };
}

/**
 * Import an export file: every line is checked first, and nothing is imported if any line is
 * bad (the error names the first bad line). The import itself is one batch.
 *
 * It runs inside the node too (over the control socket), so what a file can make it spend is
 * bounded: the file is streamed, a line holds at most MAX_IMPORT_LINE_BYTES, and the rows and
 * their bytes are capped by the provider's quotas (--max-peers, --max-bytes). A stored blob
 * newer than the imported one (by updated_at) is kept and reported under `skipped_older`,
 * unless `force`. Records for the node's own key are refused.
 */
export async function importpeerstorage(ctx: OpContext, params: unknown): Promise<Record<string, unknown>> {
  const p = obj(params);
  const path = optString(p, 'path');
  if (path === undefined) throw new UsageError('give the file to import');
  // The running node reads the file itself: a relative path would resolve against its directory.
  if (!isAbsolute(path)) throw new UsageError(`the import file must be given as an absolute path, got ${JSON.stringify(path)}`);
  const force = p.force === true;
  const now = ctx.now();
  const rows: ImportRow[] = [];
  let rowBytes = 0;
  const seen = new Map<string, number>();
  const own = await ctx.store.nodeKey().then((k) => (k ? toHex(k.pubkey) : undefined), () => undefined);
  const input = createReadStream(path, { highWaterMark: 64 * 1024 });
  const fileError = (e: NodeJS.ErrnoException) =>
    new StoreError('unavailable', `cannot read ${path}: ${e.code === 'ENOENT' ? 'no such file' : e.code === 'EACCES' ? 'permission denied' : e.code === 'EISDIR' ? 'is a directory' : e.code}`);
  const opened = new Promise<void>((resolve, reject) => {
    input.once('open', () => resolve());
    input.once('error', (e: NodeJS.ErrnoException) => reject(fileError(e)));
  });
  await opened;
  const bad = (n: number, what: string, code?: string): InputError => {
    input.destroy();
    return new InputError(`${path} line ${n}: ${what}; nothing was imported`, code);
  };
  try {
    for await (const { n, line } of boundedLines(input, MAX_IMPORT_LINE_BYTES)) {
      if (line.trim() === '') continue;
      let row: ImportRow;
      try {
        row = parseExportLine(line, now);
      } catch (e) {
        if (e instanceof InputError) throw bad(n, e.message, e.code);
        throw e;
      }
      const hex = toHex(row.peer);
      if (hex === own) throw bad(n, `peer ${hex} is this node's own key: a node does not store a blob for itself`, 'own_key');
      const first = seen.get(hex);
      if (first !== undefined) throw bad(n, `peer ${hex} already appears on line ${first}`);
      seen.set(hex, n);
      rows.push(row);
      rowBytes += row.blob.length;
      if (rows.length > ctx.settings.maxPeers) throw bad(n, `more than ${ctx.settings.maxPeers} peers, the --max-peers quota`, 'quota_peers');
      if (rowBytes > ctx.settings.maxBytes) throw bad(n, `the blobs pass ${ctx.settings.maxBytes} bytes, the --max-bytes quota`, 'quota_bytes');
    }
  } catch (e) {
    input.destroy();
    if (e instanceof LineTooLong)
      throw new InputError(`${path} line ${e.message}: longer than ${MAX_IMPORT_LINE_BYTES} bytes (a 65531-byte blob takes about 132 KiB); nothing was imported`, 'line_too_long');
    // A directory opens fine and fails on the first read (EISDIR): that is a file error too.
    const code = (e as NodeJS.ErrnoException)?.code;
    if (!(e instanceof InputError) && typeof code === 'string') throw fileError(e as NodeJS.ErrnoException);
    throw e;
  }
  const r = await ctx.store.importPeerBlobs(rows, { force });
  return { imported: r.added + r.replaced, added: r.added, replaced: r.replaced, skipped_older: r.skipped_older.map(toHex) };
}

export async function addchannel(ctx: OpContext, params: unknown): Promise<Record<string, unknown>> {
  const p = obj(params);
  const peerHex = optString(p, 'peer');
  const cpText = optString(p, 'chan_point');
  if (peerHex === undefined || cpText === undefined) throw new UsageError('give --peer PUBKEY and --chan-point TXID:N');
  const peer = parsePubkey(peerHex, 'peer');
  const cp = parseChanPoint(cpText);
  const height = optHeight(p);
  const [c] = await ctx.store.upsertChannels([{ peer, chanPoint: cp, state: 'open' }], ctx.now(), height);
  return { ...channelRow(c!.chanPoint, c!.rec), change: c!.change };
}

export async function closechannel(ctx: OpContext, params: unknown): Promise<Record<string, unknown>> {
  const p = obj(params);
  const cpText = optString(p, 'chan_point');
  if (cpText === undefined) throw new UsageError('give --chan-point TXID:N');
  const cp = parseChanPoint(cpText);
  const c = await ctx.store.closeChannel(cp, ctx.now(), optHeight(p));
  if (!c) throw new InputError(`no channel ${formatChanPoint(cp)} is known: add it with \`lnps addchannel\` first`, 'not_found');
  return { ...channelRow(c.chanPoint, c.rec), change: c.change };
}

export async function listchannels(ctx: OpContext, params: unknown, sink: RowSink = NO_ROWS): Promise<Record<string, unknown>> {
  const p = obj(params);
  const peerHex = optString(p, 'peer');
  const peer = peerHex === undefined ? undefined : toHex(parsePubkey(peerHex, 'peer'));
  const state = optString(p, 'state');
  if (state !== undefined && state !== 'open' && state !== 'closed') throw new UsageError(`state must be open or closed, got ${JSON.stringify(state)}`);
  let count = 0;
  for await (const c of ctx.store.channels()) {
    if (peer !== undefined && toHex(c.rec.peer) !== peer) continue;
    if (state !== undefined && c.rec.state !== state) continue;
    const w = sink.row(channelRow(c.chanPoint, c.rec));
    if (w) await w;
    count++;
  }
  return { count };
}

export interface ChannelImport {
  peer: string;
  chan_point: string;
  close_height?: number | null;
}

/** Register channels from lnd's lists (already parsed): `open` from listchannels, `closed` from closedchannels. One batch. */
export async function importchannels(ctx: OpContext, params: unknown): Promise<Record<string, unknown>> {
  const p = obj(params);
  const list = (name: 'open' | 'closed'): ChannelImport[] => {
    const v = p[name];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) throw new UsageError(`${name} must be a list of channels`);
    return v as ChannelImport[];
  };
  const ups = [
    ...list('open').map((c, i) => ({ c, i, state: 'open' as const })),
    ...list('closed').map((c, i) => ({ c, i, state: 'closed' as const })),
  ].map(({ c, i, state }) => {
    const where = `${state === 'open' ? 'listchannels' : 'closedchannels'} entry ${i + 1}`;
    if (typeof c !== 'object' || c === null) throw new InputError(`${where}: expected an object`);
    if (typeof c.peer !== 'string') throw new InputError(`${where}: remote_pubkey missing`);
    if (typeof c.chan_point !== 'string') throw new InputError(`${where}: channel_point missing`);
    const h = c.close_height;
    if (h !== undefined && h !== null && (typeof h !== 'number' || !Number.isInteger(h) || h < 0 || h > 0xffffffff))
      throw new InputError(`${where}: close_height must be a block height, got ${JSON.stringify(h)}`);
    return {
      peer: parsePubkey(c.peer, `${where}: remote_pubkey`),
      chanPoint: parseChanPoint(c.chan_point, `${where}: channel_point`),
      state,
      // lnd prints 0 when it does not know the height.
      closeHeight: typeof h === 'number' && h > 0 ? h : undefined,
    };
  });
  const changes = await ctx.store.upsertChannels(ups, ctx.now());
  const count = (k: string) => changes.filter((c) => c.change === k).length;
  const h = await ctx.store.height();
  return { channels: changes.length, added: count('added'), closed: count('closed'), updated: count('updated'), unchanged: count('unchanged'), best_height: h?.height ?? null };
}

export async function setheight(ctx: OpContext, params: unknown): Promise<Record<string, unknown>> {
  const p = obj(params);
  const height = optHeight(p);
  if (height === undefined) throw new UsageError('give the block height');
  const r = await ctx.store.setHeight(height, ctx.now());
  return { height: r.height, previous: r.previous ?? null };
}

export type OpFn = (ctx: OpContext, params: unknown, sink?: RowSink) => Promise<Record<string, unknown>>;

/** Every operation by its command name. `list` names the field the rows go in, for list operations. */
export const OPS: Record<string, { run: OpFn; list?: string; writes: boolean }> = {
  getinfo: { run: getinfo, writes: false },
  listpeerstorage: { run: listpeerstorage, list: 'peers', writes: false },
  getpeerstorage: { run: getpeerstorage, writes: false },
  prunepeerbackup: { run: prunepeerbackup, list: 'pruned', writes: true },
  exportpeerstorage: { run: exportpeerstorage, list: 'lines', writes: false },
  importpeerstorage: { run: importpeerstorage, writes: true },
  addchannel: { run: addchannel, writes: true },
  closechannel: { run: closechannel, writes: true },
  listchannels: { run: listchannels, list: 'channels', writes: false },
  importchannels: { run: importchannels, writes: true },
  setheight: { run: setheight, writes: true },
};

