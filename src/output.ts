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

/** Render rows as an aligned text table; `columns` names the keys to show, in order. */
export async function renderTable(rows: Record<string, unknown>[], columns: string[]): Promise<string> {
  const p = await palette();
  const cell = (v: unknown): string => {
    if (v === undefined || v === null) return '-';
    if (v instanceof Uint8Array) return toHex(v);
    if (typeof v === 'object') return JSON.stringify(v, jsonReplacer);
    return String(v);
  };
  const body = rows.map((r) => columns.map((c) => cell(r[c])));
  const widths = columns.map((c, i) => Math.max(c.length, ...body.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((s, i) => s.padEnd(widths[i]!)).join('  ').trimEnd();
  const out = [p.head(line(columns.map((c) => c.toUpperCase())))];
  for (const r of body) out.push(line(r));
  return out.join('\n') + '\n';
}

/** Key/value view of one object, for `--format table` on single results. */
export async function renderRecord(obj: Record<string, unknown>): Promise<string> {
  const p = await palette();
  const keys = Object.keys(obj);
  const w = Math.max(0, ...keys.map((k) => k.length));
  return (
    keys
      .map((k) => {
        const v = obj[k];
        const s = typeof v === 'object' && v !== null && !(v instanceof Uint8Array) ? JSON.stringify(v, jsonReplacer) : v instanceof Uint8Array ? toHex(v) : String(v);
        return `${p.dim(k.padEnd(w))}  ${s}`;
      })
      .join('\n') + '\n'
  );
}

/**
 * Print a command's result in the chosen format. `table` may be given to render a custom view;
 * without it a table shows the object's fields, or the rows of its first array field.
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
    if (result && typeof result === 'object' && !Array.isArray(result)) {
      const arr = Object.values(result).find((v) => Array.isArray(v)) as Record<string, unknown>[] | undefined;
      if (arr && arr.length > 0 && typeof arr[0] === 'object') {
        process.stdout.write(await renderTable(arr, Object.keys(arr[0]!)));
        return;
      }
      process.stdout.write(await renderRecord(result as Record<string, unknown>));
      return;
    }
  }
  printJson(result);
}
