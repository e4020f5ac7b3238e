// How a command reaches the database: the single place that decides it. Today it opens the
// database directly; with a running node the same operations go through its control socket.
import { join, resolve } from 'node:path';
import { exists, nodePaths, readNodeKey, readNodeKeyOf, secureNodeDir, type NodePaths } from '../core/datadir.js';
import { bindNodeKey, recordedNotice } from '../core/service/create.js';
import { StoreError, UsageError } from '../core/errors.js';
import { toHex } from '../core/bytes.js';
import { publicKeyOf } from '../core/keys.js';
import { openLevelKv } from '../core/store/level.js';
import { LnpsStore } from '../core/store/store.js';
import { providerSettings, type ProviderSettings } from '../core/provider/policy.js';
import { OPS, type OpContext, type RowSink } from '../core/service/ops.js';
import { callNodeIfRunning } from '../core/node/control.js';
import { PUBKEY_WIDTH, TIME_WIDTH, cellText, isPubkeyKey, isTimeKey, jsonReplacer, paintCell, palette, writeOut } from '../output.js';
import type { GlobalOptions } from './_common.js';
import { nodeSettings, resolveSettings, settingsReport, shareableUris } from '../core/node/settings.js';
import { VERSION } from '../core/version.js';

export type { RowSink };

export function pathsOf(g: GlobalOptions): NodePaths {
  return nodePaths({ datadir: g.datadir, network: g.network, keyFile: g.keyFile });
}

/** Where the running node writes its pid (named in the lock error). */
export function pidFileOf(paths: NodePaths): string {
  return join(paths.networkDir, 'lnps.pid');
}

/** The node public key of a key file, as hex. The secret is wiped after use and never printed. */
export function nodePubkeyOf(keyPath: string): string {
  const secret = readNodeKey(keyPath);
  try {
    return toHex(publicKeyOf(secret));
  } finally {
    secret.fill(0);
  }
}

function publicKeyOfKeyFile(paths: NodePaths): Uint8Array {
  const secret = readNodeKeyOf(paths);
  try {
    return publicKeyOf(secret);
  } finally {
    secret.fill(0);
  }
}

export interface OpenedContext {
  ctx: OpContext;
  close(): Promise<void>;
}

/** Open an existing database (never creates one: "no database at PATH: run `lnps create`"). */
export async function openContext(g: GlobalOptions, settings: ProviderSettings = providerSettings()): Promise<OpenedContext> {
  const paths = pathsOf(g);
  secureNodeDir(paths, (line) => process.stderr.write(`lnps: ${line}\n`));
  const kv = await openLevelKv(paths.dbPath, { pidFile: pidFileOf(paths), node: paths });
  let store: LnpsStore;
  try {
    store = await LnpsStore.open(kv);
  } catch (e) {
    await kv.close();
    throw e;
  }
  // The database belongs to one node key: check it whenever the key is at hand (always with
  // --key-file). Without any key file the database is still readable, for the commands that
  // need no key.
  let pubkey: string | undefined;
  if (g.keyFile !== undefined || exists(paths.keyPath)) {
    try {
      const secret = readNodeKeyOf(paths);
      let pk: Uint8Array;
      try {
        pk = publicKeyOf(secret);
      } finally {
        secret.fill(0);
      }
      if ((await bindNodeKey(store, paths, pk, Date.now())) === 'recorded') process.stderr.write(`lnps: ${recordedNotice(paths, pk)}\n`);
      pubkey = toHex(pk);
    } catch (e) {
      await store.close();
      throw e;
    }
  }
  const ctx: OpContext = {
    store,
    paths,
    settings,
    now: () => Date.now(),
    nodePubkey: () => (pubkey ??= toHex(publicKeyOfKeyFile(paths))),
    info: () => offlineInfo(g, paths, ctx.nodePubkey()),
  };
  return { ctx, close: () => store.close() };
}

/**
 * With --key-file and a running node: the node must be that key's node, as the database it
 * holds belongs to one key (exit 3 naming both otherwise). Without --key-file the node's own
 * key is the one in use, so there is nothing to compare.
 */
export async function checkKeyOfRunningNode(g: GlobalOptions): Promise<void> {
  if (g.keyFile === undefined) return;
  const paths = pathsOf(g);
  const live = await callNodeIfRunning(paths.socketPath, 'ping', {});
  if (!live) return;
  const theirs = String((live.result as { pubkey?: unknown }).pubkey ?? '');
  const ours = nodePubkeyOf(paths.keyPath);
  if (theirs !== ours)
    throw new StoreError(
      'wrong_key',
      `the node running on ${paths.datadir} (${paths.network}) is node ${theirs}, and its ${paths.network} database belongs to it, but the key file ${paths.keyPath} is node ${ours}: pass --key-file with the key of node ${theirs}`,
    );
}

/**
 * getinfo without a running node: what `lnps serve` would run with from lnps.conf and the
 * defaults (flags given to serve itself are unknown here), and where each setting comes from.
 */
function offlineInfo(g: GlobalOptions, paths: NodePaths, pubkey: string): Record<string, unknown> {
  const raw = resolveSettings(g.flags ?? {}, g.conf?.() ?? {}, paths.confPath);
  const report = settingsReport(raw);
  report['key-file'] = { value: paths.keyPath, source: raw.sources['key-file'] };
  report.network = { value: paths.network, source: raw.sources.network };
  return {
    version: VERSION,
    uris: shareableUris(pubkey, nodeSettings(raw).listen),
    connected_peers: 0,
    started_at: null,
    uptime_s: null,
    settings: report,
  };
}

/**
 * Run one operation by name and return its result; list rows go to `sink` as they are read.
 * This is the one place that decides how the database is reached.
 */
export async function runOp(g: GlobalOptions, name: string, params: Record<string, unknown>, sink?: RowSink): Promise<Record<string, unknown>> {
  const op = OPS[name];
  if (!op) throw new TypeError(`unknown operation ${name}`);
  // A running node holds the database: send the operation over its control socket, which
  // prints the same JSON. A file named in the params is resolved here, where the user is.
  const paths = pathsOf(g);
  await checkKeyOfRunningNode(g);
  const sent = typeof params.path === 'string' ? { ...params, path: resolve(params.path) } : params;
  const viaNode = await callNodeIfRunning(paths.socketPath, 'op', { name, params: sent }, sink ? (row) => sink.row(row) : undefined);
  if (viaNode) return viaNode.result as Record<string, unknown>;
  const { ctx, close } = await openContext(g);
  try {
    return await op.run(ctx, params, sink);
  } finally {
    await close();
  }
}

export interface Column {
  key: string;
  width: number;
  align?: 'left' | 'right';
}

export interface ListPrinter extends RowSink {
  /** Close the list; `extra` fields follow it in the JSON object. */
  finish(extra?: Record<string, unknown>): Promise<void>;
}

/** Rows are gathered into chunks of about 64 KiB, one write each, waiting while the pipe is full. */
async function flushChunk(buf: string): Promise<string> {
  if (buf.length < 65536) return buf;
  const w = writeOut(buf);
  if (w) await w;
  return '';
}

/**
 * Print a list as it streams: JSON (`{"<key>": [rows one per line], ...extra}`) or a table with
 * fixed column widths (so no row has to wait for the widest one). Writes respect backpressure.
 */
export async function listPrinter(format: 'json' | 'table', key: string, columns: Column[]): Promise<ListPrinter> {
  let n = 0;
  if (format === 'json') {
    const open = `{\n  ${JSON.stringify(key)}: [`;
    // Rows already follow the output contract (hex strings, numbers), so no replacer is
    // needed; they are gathered into chunks of about 64 KiB, one write each.
    let buf = '';
    return {
      async row(row) {
        buf += (n++ === 0 ? open + '\n    ' : ',\n    ') + JSON.stringify(row);
        buf = await flushChunk(buf);
      },
      async finish(extra = {}) {
        let tail = n === 0 ? open + ']' : '\n  ]';
        for (const [k, v] of Object.entries(extra)) tail += `,\n  ${JSON.stringify(k)}: ${JSON.stringify(v, jsonReplacer)}`;
        await writeOut(buf + tail + '\n}\n');
        buf = '';
      },
    };
  }
  const p = await palette();
  const now = Date.now();
  // Pubkeys and times take the width of their people-readable form (src/output.ts).
  const width = (c: Column) => Math.max(c.key.length, isPubkeyKey(c.key) ? PUBKEY_WIDTH : isTimeKey(c.key) ? TIME_WIDTH : c.width);
  const pad = (s: string, c: Column) => (c.align === 'right' && !isTimeKey(c.key) ? s.padStart(width(c)) : s.padEnd(width(c)));
  const cell = (v: unknown, c: Column): string => {
    const s = cellText(c.key, v, now);
    return paintCell(p, c.key, s, pad(s, c));
  };
  let headerDone = false;
  let buf = '';
  const header = async () => {
    if (headerDone) return;
    headerDone = true;
    await writeOut(p.head(columns.map((c) => pad(c.key.toUpperCase(), c)).join('  ').trimEnd()) + '\n');
  };
  return {
    async row(row) {
      await header();
      n++;
      buf += columns.map((c) => cell(row[c.key], c)).join('  ').trimEnd() + '\n';
      buf = await flushChunk(buf);
    },
    async finish(extra = {}) {
      await header();
      if (buf !== '') await writeOut(buf);
      buf = '';
      const parts = Object.entries(extra)
        .filter(([, v]) => v !== null && v !== undefined)
        .map(([k, v]) => `${k} ${cellText(k, v, now)}`);
      await writeOut(p.dim(`(${n} ${n === 1 ? 'row' : 'rows'}${parts.length ? '; ' + parts.join(', ') : ''})`) + '\n');
    },
  };
}

/**
 * A quiet progress bar on stderr, only when stderr is a terminal and the job is large; it
 * redraws at most ten times a second and clears itself at the end.
 */
export function progressBar(label: string, minTotal = 5000): { progress(done: number, total: number): void; end(): void } {
  if (process.stderr.isTTY !== true) return { progress: () => undefined, end: () => undefined };
  let last = 0;
  let shown = false;
  return {
    progress(done, total) {
      if (total < minTotal) return;
      const now = Date.now();
      if (now - last < 100 && done < total) return;
      last = now;
      shown = true;
      const width = 30;
      const frac = total === 0 ? 1 : Math.min(1, done / total);
      const fill = Math.round(frac * width);
      process.stderr.write(`\r${label} [${'#'.repeat(fill)}${' '.repeat(width - fill)}] ${Math.floor(frac * 100)}% ${done}/${total}`);
    },
    end() {
      if (shown) process.stderr.write('\r\x1b[2K');
    },
  };
}

/** Parse a block height flag. */
export function heightFlag(value: string | undefined, name = '--height'): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,10}$/.test(value) || Number(value) > 0xffffffff) throw new UsageError(`${name} must be a block height (a whole number), got ${JSON.stringify(value)}`);
  return Number(value);
}
