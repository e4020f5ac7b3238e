// Helpers shared by command files: global options, reading inputs, running an action.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { StoreError, UsageError } from '../core/errors.js';
import { writeOutputFile } from '../core/outfile.js';
import { fromHex, toHex } from '../core/bytes.js';
import { emit, writeOut, type Format } from '../output.js';
import { isAbsolute, join } from 'node:path';
import { nodePaths, NETWORKS } from '../core/datadir.js';
import { readConfig, type ConfigValues } from '../core/node/config.js';

export type Network = 'mainnet' | 'testnet' | 'signet' | 'regtest';

export interface GlobalOptions {
  datadir?: string;
  network: Network;
  keyFile?: string;
  format: Format;
  debug: boolean;
  /** `--network` and `--key-file` as given on the command line, for the settings' sources. */
  flags?: ConfigValues;
  /** The data directory's lnps.conf, read once when first needed. */
  conf?: () => ConfigValues;
}

/**
 * The global options. `network` and `key-file` come from the flag, else from lnps.conf in the
 * data directory, else the default; the file is read only when one of them is asked for, so a
 * command that needs neither (decode, encode) never depends on it.
 */
export function globals(cmd: Command): GlobalOptions {
  const o = cmd.optsWithGlobals() as Record<string, unknown>;
  const datadir = (o.datadir as string | undefined) ?? (process.env.LNPS_DIR || undefined);
  let conf: ConfigValues | undefined;
  const readConf = (): ConfigValues => (conf ??= readConfig(nodePaths({ datadir }).confPath));
  const confNetwork = (): Network | undefined => {
    const v = readConf().network?.[0]?.trim();
    if (v === undefined) return undefined;
    if (!NETWORKS.includes(v as Network))
      throw new UsageError(`${nodePaths({ datadir }).confPath}: network must be one of ${NETWORKS.join(', ')}, got ${JSON.stringify(v)}`);
    return v as Network;
  };
  const flags: ConfigValues = {};
  if (typeof o.network === 'string') flags.network = [o.network];
  if (typeof o.keyFile === 'string') flags['key-file'] = [o.keyFile];
  return {
    datadir,
    get network(): Network {
      return (o.network as Network | undefined) ?? confNetwork() ?? 'mainnet';
    },
    get keyFile(): string | undefined {
      if (typeof o.keyFile === 'string') return o.keyFile;
      const v = readConf()['key-file']?.[0]?.trim();
      // A relative key-file in lnps.conf is relative to the data directory, not to wherever
      // the command happens to run.
      return v === undefined || v === '' ? undefined : isAbsolute(v) ? v : join(nodePaths({ datadir }).datadir, v);
    },
    format: (o.format as Format | undefined) ?? 'json',
    debug: o.debug === true,
    flags,
    conf: readConf,
  };
}

/** Read a whole file as bytes; a missing or unreadable file is exit 3 with its path named. */
export function readFileBytes(path: string, what = 'file'): Uint8Array {
  try {
    const b = readFileSync(path);
    return new Uint8Array(b.buffer, b.byteOffset, b.length);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : (code ?? 'unreadable');
    throw new StoreError('unavailable', `cannot read ${what} ${path}: ${why}`);
  }
}

/** Read all of standard input. */
export async function readStdin(): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  const b = Buffer.concat(chunks);
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
}

/**
 * The bytes a command works on, from exactly one of: a hex argument, `-` (hex on stdin),
 * `--file F` (raw bytes) or `--base64 B64`. Whitespace around hex is ignored.
 */
export async function inputBytes(
  arg: string | undefined,
  opts: { file?: string; base64?: string },
  what = 'input',
): Promise<Uint8Array> {
  const given = [arg !== undefined, opts.file !== undefined, opts.base64 !== undefined].filter(Boolean).length;
  if (given > 1) throw new UsageError(`give the ${what} once: as hex, '-', --file or --base64`);
  if (opts.file !== undefined) return readFileBytes(opts.file, what);
  if (opts.base64 !== undefined) return base64Bytes(opts.base64, what);
  if (arg === undefined) throw new UsageError(`no ${what} given: pass hex, '-' for stdin, or --file F`);
  if (arg === '-') {
    const raw = Buffer.from(await readStdin()).toString('latin1').trim();
    return fromHex(raw.replace(/\s+/g, ''), what);
  }
  return fromHex(arg.trim(), what);
}

export function base64Bytes(s: string, what: string): Uint8Array {
  const t = s.trim();
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(t) || t.length % 4 !== 0) {
    throw new UsageError(`${what}: not valid base64`);
  }
  const b = Buffer.from(t, 'base64');
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
}

/**
 * The one peer a command is about, given as its positional argument or as `--peer` (every such
 * command takes both); both at once must agree. `usage` shows the command's form in the error.
 */
export function onePeer(positional: string | undefined, flag: string | undefined, usage: string): string {
  if (positional !== undefined && flag !== undefined && positional.toLowerCase() !== flag.toLowerCase())
    throw new UsageError(`the peer is given twice, as ${positional} and --peer ${flag}: give it once (${usage})`);
  const peer = positional ?? flag;
  if (peer === undefined) throw new UsageError(`no peer given: ${usage}`);
  return peer;
}

/** Parse a non-negative integer flag; `max` bounds it. */
export function parseIntFlag(value: string, name: string, max = Number.MAX_SAFE_INTEGER): number {
  if (!/^\d+$/.test(value)) throw new UsageError(`${name} must be a non-negative integer, got ${JSON.stringify(value)}`);
  const n = Number(value);
  if (n > max) throw new UsageError(`${name} must be at most ${max}, got ${value}`);
  return n;
}

/** Standard example block for --help. */
export function examples(...lines: string[]): string {
  return '\nExamples:\n' + lines.map((l) => `  $ ${l}`).join('\n') + '\n';
}

/**
 * Wrap a command action: it returns the result object, which is printed in the chosen
 * format (or nothing when it returns undefined). Errors propagate to the CLI entry,
 * which maps them to exit codes.
 */
export function action<A extends unknown[]>(
  fn: (...args: A) => Promise<unknown> | unknown,
  table?: (result: any) => Promise<string> | string,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    const cmd = args[args.length - 1] as Command;
    const result = await fn(...args);
    if (result !== undefined) await emit(result, globals(cmd).format, table);
  };
}

export { checkOutputFree, writeOutputFile } from '../core/outfile.js';

/** The flag every command with `--out` has, worded the same everywhere. */
export const FORCE_HELP = 'replace the --out file if it exists (without it, an existing file is refused, exit 3)';

/**
 * The usual output of a command that makes bytes: `--out F` writes them raw and returns a
 * summary; otherwise a bare hex line (it pipes into `lnps decode -` and `lnps verify-blob -`),
 * or, when --format is given, an object with the hex under `hexKey`.
 */
export async function outputBytes(
  bytes: Uint8Array,
  out: string | undefined,
  summary: Record<string, unknown>,
  cmd: Command,
  hexKey: string,
  force = false,
): Promise<Record<string, unknown> | undefined> {
  if (out !== undefined) {
    writeOutputFile(out, bytes, { force });
    return { written: out, bytes: bytes.length, ...summary };
  }
  if ((cmd.optsWithGlobals() as { format?: string }).format === undefined) {
    await writeOut(toHex(bytes) + '\n');
    return undefined;
  }
  await emit({ ...summary, [hexKey]: toHex(bytes) }, globals(cmd).format);
  return undefined;
}
