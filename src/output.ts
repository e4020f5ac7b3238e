// The output contract for every command: JSON on stdout (snake_case keys, bytes as hex,
// 64-bit integers as strings), or a coloured table for people with `--format table`.
import { toHex } from './core/bytes.js';

export type Format = 'json' | 'table';

/** JSON.stringify replacer: bigint → decimal string, bytes → hex. */
export function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Uint8Array) return toHex(value);
  return value;
}

export function toJson(value: unknown, indent = 2): string {
  return JSON.stringify(value, jsonReplacer, indent);
}

/** Write a chunk to stdout and wait while the pipe is full, so output never piles up in memory. */
export function writeOut(chunk: string | Uint8Array): Promise<void> | void {
  if (!process.stdout.write(chunk)) return new Promise((resolve) => process.stdout.once('drain', () => resolve()));
}

export function printJson(value: unknown): void {
  process.stdout.write(toJson(value) + '\n');
}

/** Colour only for a terminal, and never when NO_COLOR is set (https://no-color.org). */
export function colorEnabled(): boolean {
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') return false;
  if (process.env.FORCE_COLOR !== undefined && process.env.FORCE_COLOR !== '0') return true;
  return process.stdout.isTTY === true;
}

type Paint = (s: string) => string;
export interface Palette {
  head: Paint;
  dim: Paint;
  good: Paint;
  bad: Paint;
  warn: Paint;
}
const plain: Paint = (s) => s;

/** chalk is loaded only when a table is printed, to keep start-up of JSON commands lean. */
export async function palette(): Promise<Palette> {
  if (!colorEnabled()) return { head: plain, dim: plain, good: plain, bad: plain, warn: plain };
  const { Chalk } = await import('chalk');
  const c = new Chalk({ level: 1 });
  return { head: (s) => c.bold(s), dim: (s) => c.dim(s), good: (s) => c.green(s), bad: (s) => c.red(s), warn: (s) => c.yellow(s) };
}

// ---- Cells for people (tables only: JSON keeps every value whole) ----

const PUBKEY = /^0[23][0-9a-f]{64}$/i;

/** A node public key as tables show it, `02ab12…9f3c`; anything else unchanged. */
export function shortPubkey(s: string): string {
  return PUBKEY.test(s) ? `${s.slice(0, 6)}…${s.slice(-4)}` : s;
}

/** How long ago (or from now) a time is, in words: `just now`, `5 min ago`, `in 3 h`, `2 days ago`. */
export function ago(unixSeconds: number, nowMs = Date.now()): string {
  const d = Math.round(nowMs / 1000) - unixSeconds;
  const a = Math.abs(d);
  const words =
    a < 10 ? 'just now' : a < 60 ? `${a} s` : a < 3600 ? `${Math.floor(a / 60)} min` : a < 86400 ? `${Math.floor(a / 3600)} h` : `${Math.floor(a / 86400)} ${a < 172800 ? 'day' : 'days'}`;
  if (a < 10) return words;
  return d >= 0 ? `${words} ago` : `in ${words}`;
}

/** Unix seconds as a local date and time, plus how long ago: `2026-12-05 14:10 (5 min ago)`. */
export function localTime(unixSeconds: number, nowMs = Date.now()): string {
  const t = new Date(unixSeconds * 1000);
  const two = (n: number) => String(n).padStart(2, '0');
  const date = `${t.getFullYear()}-${two(t.getMonth() + 1)}-${two(t.getDate())} ${two(t.getHours())}:${two(t.getMinutes())}`;
  return `${date} (${ago(unixSeconds, nowMs)})`;
}

/** Width of a `localTime` cell, for tables that fix their column widths before the rows come. */
export const TIME_WIDTH = 30;
/** Width of a `shortPubkey` cell. */
export const PUBKEY_WIDTH = 11;

/** Keys whose values are Unix seconds. */
export function isTimeKey(key: string): boolean {
  return /(_at|^last_seen)$/.test(key);
}
/** Keys whose values are node public keys. */
export function isPubkeyKey(key: string): boolean {
  return /^(peer|node_pubkey|pubkey|remote_pubkey)$/.test(key);
}
/** Keys whose values are statuses, coloured on a terminal. */
export function isStatusKey(key: string): boolean {
  return /(^|_)(status|state)$/.test(key);
}

const GOOD = new Set(['confirmed', 'stored', 'ok', 'valid', 'yes', 'active', 'open', 'sent', 'rebuilt']);
const WARN = new Set(['pending', 'stale', 'unconfirmed', 'unplaced', 'none', 'replaced', 'incomplete', 'not_tried']);
const BAD = new Set(['refused', 'corrupt', 'missing', 'foreign', 'unreachable', 'failed', 'invalid', 'bad_checksum', 'timed_out', 'dropped']);

/** A status word in its colour: confirmed and stored green, pending and stale yellow, refused, corrupt and missing red. */
export function paintStatus(p: Palette, status: string, text = status): string {
  const s = status.trim().toLowerCase();
  return GOOD.has(s) ? p.good(text) : WARN.has(s) ? p.warn(text) : BAD.has(s) ? p.bad(text) : text;
}

/** One value as a table cell shows it: no JSON, short pubkeys, local times, lists joined. */
export function cellText(key: string, v: unknown, nowMs = Date.now()): string {
  if (v === undefined || v === null) return '-';
  if (v instanceof Uint8Array) return toHex(v);
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (typeof v === 'number' && isTimeKey(key) && Number.isFinite(v)) return localTime(v, nowMs);
  if (typeof v === 'string' && isPubkeyKey(key)) return shortPubkey(v);
  if (Array.isArray(v)) return v.length === 0 ? '-' : v.map((x) => (typeof x === 'object' && x !== null ? inlineRecord(x as Record<string, unknown>, nowMs) : cellText(key, x, nowMs))).join(', ');
  if (typeof v === 'object') return inlineRecord(v as Record<string, unknown>, nowMs);
  return String(v);
}

/** A small object inside a cell, as `key value` pairs (never JSON). */
function inlineRecord(o: Record<string, unknown>, nowMs: number): string {
  return Object.entries(o)
    .map(([k, v]) => `${k} ${cellText(k, v, nowMs)}`)
    .join('; ');
}

/** A cell padded to its width, then coloured when it holds a status (so colour never shifts columns). */
export function paintCell(p: Palette, key: string, text: string, padded: string): string {
  return isStatusKey(key) && text !== '-' ? paintStatus(p, text, padded) : padded;
}

/** Render rows as an aligned text table; `columns` names the keys to show, in order. */
export async function renderTable(rows: Record<string, unknown>[], columns: string[]): Promise<string> {
  const p = await palette();
  const now = Date.now();
  const body = rows.map((r) => columns.map((c) => cellText(c, r[c], now)));
  const widths = columns.map((c, i) => Math.max(c.length, ...body.map((r) => r[i]!.length)));
  const line = (cells: string[], paint: boolean) =>
    cells
      .map((s, i) => (paint ? paintCell(p, columns[i]!, s, s.padEnd(widths[i]!)) : s.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const out = [p.head(line(columns.map((c) => c.toUpperCase()), false))];
  for (const r of body) out.push(line(r, true));
  return out.join('\n') + '\n';
}

/**
 * Key/value view of one object, for `--format table` on single results. Lists of objects
 * become a table under their key, nested objects an indented block: never JSON. A pubkey here
 * is shown whole (there is room, and it is there to be copied).
 */
export async function renderRecord(obj: Record<string, unknown>, indent = ''): Promise<string> {
  const p = await palette();
  const now = Date.now();
  const keys = Object.keys(obj);
  const w = Math.max(0, ...keys.map((k) => k.length));
  let out = '';
  for (const k of keys) {
    const v = obj[k];
    if (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'object' && x !== null && !(x instanceof Uint8Array))) {
      const rows = v as Record<string, unknown>[];
      const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
      const table = await renderTable(rows, columns);
      out += `${indent}${p.dim(k)}\n` + table.replace(/^/gm, indent + '  ').replace(/ +$/gm, '');
      continue;
    }
    if (typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array)) {
      out += `${indent}${p.dim(k)}\n` + (await renderRecord(v as Record<string, unknown>, indent + '  '));
      continue;
    }
    const text = typeof v === 'string' && isPubkeyKey(k) ? v : cellText(k, v, now);
    out += `${indent}${p.dim(k.padEnd(w))}  ${isStatusKey(k) ? paintStatus(p, text) : text}\n`;
  }
  return out;
}

/**
 * Print a command's result in the chosen format. `table` may be given to render a custom view;
 * without it a table shows the object's fields, with each list of rows as a table of its own.
 */
export async function emit(
  result: unknown,
  format: Format,
  table?: (result: any) => Promise<string> | string,
): Promise<void> {
  if (format === 'table') {
    if (table) {
      process.stdout.write(await table(result));
      return;
    }
    if (Array.isArray(result) && result.every((r) => typeof r === 'object' && r !== null)) {
      const rows = result as Record<string, unknown>[];
      process.stdout.write(await renderTable(rows, [...new Set(rows.flatMap((r) => Object.keys(r)))]));
      return;
    }
    if (result && typeof result === 'object') {
      // Every field a person needs: the scalars as a record, lists of rows as tables under it.
      process.stdout.write(await renderRecord(result as Record<string, unknown>));
      return;
    }
  }
  printJson(result);
}
