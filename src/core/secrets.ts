// Wallet secrets (other implementations' seeds and keys) read from where they are safe to
// come from: a file, standard input, or a prompt on a terminal that does not echo. Never
// from a command-line value, which any local user can read in /proc/PID/cmdline.
//
// API (for every command that needs a wallet secret):
//   const secrets = await loadWalletSecrets(spec, io);   // ForeignSecrets, bytes only
//   try { ... openForeign(format, blob, secrets) ... } finally { wipeWalletSecrets(secrets); }
// - `spec` names a source for each secret: a file path, or '-' for standard input (a no-echo
//   prompt when standard input is a terminal). At most one secret may come from '-'.
// - `io` is the process's standard input and the stream the prompt text goes to; the core
//   holds no terminal of its own, the caller hands them in.
// - Errors: an unreadable file is StoreError (exit 3); content of the wrong form is
//   InputError 'bad_secret' (exit 1); a wrong way of asking (two secrets on stdin, a prompt
//   with no terminal) is UsageError (exit 2). No message ever holds a character of a secret:
//   they name the source and count characters at most.
// - Secrets are turned into bytes at once; every buffer read is wiped once parsed, and
//   wipeWalletSecrets() wipes what is returned. (A mnemonic has to pass through a JS string to
//   be checked against its word list; strings cannot be wiped, so none is kept.)
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { validateMnemonic, mnemonicToSeedSync } from '@scure/bip39';
import { wordlist as english } from '@scure/bip39/wordlists/english.js';
import { InputError, StoreError, UsageError } from './errors.js';
import { hsmSecretNeedsPassphrase, parseRootXprvBytes, ForeignSecretError, type ForeignSecrets } from './backup/formats/index.js';

/** A source: a file path, or '-' for standard input (a no-echo prompt on a terminal). */
export type SecretSource = string;

/** The part of a terminal's standard input a prompt needs (process.stdin fits). */
export interface SecretInput extends AsyncIterable<unknown> {
  isTTY?: boolean;
  setRawMode?: (raw: boolean) => unknown;
  on(event: 'data', fn: (chunk: Buffer) => void): unknown;
  off(event: 'data', fn: (chunk: Buffer) => void): unknown;
  resume(): unknown;
  pause(): unknown;
}

export interface SecretIO {
  stdin: SecretInput;
  /** Where prompt text goes (standard error); it never receives a byte of a secret. */
  promptOut: { write(s: string): unknown };
  /** Set when standard input already carries something else (e.g. the blob): '-' is refused. */
  stdinTakenBy?: string;
}

/** How a secret arrived: bytes from a file or a pipe are taken as they are, typed ones as typed. */
export type SecretOrigin = 'file' | 'stdin' | 'prompt';

/** Largest secret read from any source: a mnemonic hsm_secret is under 300 bytes. */
export const MAX_SECRET_BYTES = 4096;

/** Zero every given buffer. */
export function wipe(...parts: (Uint8Array | undefined)[]): void {
  for (const p of parts) p?.fill(0);
}

/** True when `-` would prompt rather than read a pipe. */
export function canPrompt(io: SecretIO): boolean {
  return io.stdin.isTTY === true && typeof io.stdin.setRawMode === 'function';
}

/**
 * Read one secret's raw bytes from `source` (`what` names it in messages, e.g.
 * "--ldk-seed-file"). From a file or a pipe the bytes are as stored; at a prompt they are
 * what was typed, without the final Enter.
 */
export async function readSecret(source: SecretSource, what: string, io: SecretIO, prompt = `${what}: `): Promise<{ bytes: Uint8Array; origin: SecretOrigin }> {
  if (source !== '-') return { bytes: readSecretFile(source, what), origin: 'file' };
  if (io.stdinTakenBy !== undefined) throw new UsageError(`${what} - cannot read standard input: it already carries ${io.stdinTakenBy}`);
  if (canPrompt(io)) return { bytes: await promptNoEcho(io, prompt, what), origin: 'prompt' };
  return { bytes: await readSecretStream(io.stdin, what), origin: 'stdin' };
}

function readSecretFile(path: string, what: string): Uint8Array {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (code ?? 'unreadable');
    throw new StoreError('unavailable', `cannot read ${what} ${path}: ${why}`);
  }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw new StoreError('unavailable', `cannot read ${what} ${path}: is a directory`);
    // Bound: never more than MAX_SECRET_BYTES + 1 read, whatever the file's size.
    const buf = new Uint8Array(MAX_SECRET_BYTES + 1);
    let n = 0;
    for (;;) {
      const got = readSync(fd, buf, n, buf.length - n, null);
      if (got === 0) break;
      n += got;
      if (n === buf.length) break;
    }
    if (n > MAX_SECRET_BYTES) {
      buf.fill(0);
      throw new InputError(`${what} ${path} is larger than ${MAX_SECRET_BYTES} bytes: not a secret file`, 'bad_secret');
    }
    const out = buf.slice(0, n);
    buf.fill(0);
    return out;
  } finally {
    closeSync(fd);
  }
}

async function readSecretStream(stdin: SecretInput, what: string): Promise<Uint8Array> {
  const buf = new Uint8Array(MAX_SECRET_BYTES);
  let n = 0;
  let over = false;
  for await (const c of stdin) {
    const chunk = c as Uint8Array;
    // Bound: the rest of an oversized input is drained but never kept.
    if (!over && n + chunk.length <= buf.length) buf.set(chunk, n);
    else over = true;
    n += chunk.length;
    chunk.fill(0);
  }
  if (over) {
    buf.fill(0);
    throw new InputError(`${what} -: standard input holds more than ${MAX_SECRET_BYTES} bytes: not a secret`, 'bad_secret');
  }
  const out = buf.slice(0, n);
  buf.fill(0);
  return out;
}

/**
 * Ask on the terminal with echo off (raw mode): Enter ends, Backspace deletes, Ctrl-C or
 * Ctrl-D cancels. At most MAX_SECRET_BYTES bytes are kept.
 */
function promptNoEcho(io: SecretIO, prompt: string, what: string): Promise<Uint8Array> {
  const stdin = io.stdin;
  // Echo goes off before the prompt shows, so nothing typed after it is ever echoed.
  stdin.setRawMode!(true);
  stdin.resume();
  io.promptOut.write(prompt);
  const typed = new Uint8Array(MAX_SECRET_BYTES);
  let n = 0;
  return new Promise((resolve, reject) => {
    const finish = (err?: Error): void => {
      stdin.off('data', onData);
      stdin.setRawMode!(false);
      stdin.pause();
      io.promptOut.write('\n');
      if (err) {
        typed.fill(0);
        reject(err);
      } else {
        const out = typed.slice(0, n);
        typed.fill(0);
        resolve(out);
      }
    };
    const onData = (chunk: Buffer): void => {
      try {
        for (const b of chunk) {
          if (b === 0x0d || b === 0x0a) return finish();
          if (b === 0x03 || b === 0x04) return finish(new UsageError(`${what}: entry cancelled`));
          if (b === 0x7f || b === 0x08) {
            if (n > 0) typed[--n] = 0;
          } else if (n < typed.length) typed[n++] = b;
          else return finish(new InputError(`${what}: more than ${MAX_SECRET_BYTES} bytes typed: not a secret`, 'bad_secret'));
        }
      } finally {
        chunk.fill(0);
      }
    };
    stdin.on('data', onData);
  });
}

// ---- the forms of each secret -------------------------------------------------------------

const isWs = (b: number): boolean => b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d;

function trimmed(b: Uint8Array): Uint8Array {
  let a = 0;
  let e = b.length;
  while (a < e && isWs(b[a]!)) a++;
  while (e > a && isWs(b[e - 1]!)) e--;
  return b.subarray(a, e);
}

function hexVal(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

/** Hex digits (whitespace around them ignored) of one of `sizes` bytes, or null if not that. */
function hexBytes(raw: Uint8Array, sizes: number[]): Uint8Array | null {
  const t = trimmed(raw);
  if (t.length % 2 !== 0 || !sizes.includes(t.length / 2)) return null;
  const out = new Uint8Array(t.length / 2);
  for (let i = 0; i < out.length; i++) {
    const hi = hexVal(t[2 * i]!);
    const lo = hexVal(t[2 * i + 1]!);
    if (hi < 0 || lo < 0) {
      out.fill(0);
      return null;
    }
    out[i] = (hi << 4) | lo;
  }
  return out;
}

/** Describes malformed content by its shape only: a count of characters, never one of them. */
function shapeError(what: string, want: string, raw: Uint8Array): InputError {
  const t = trimmed(raw);
  return new InputError(`${what} must hold ${want}; it holds ${t.length} characters`, 'bad_secret');
}

/** A secret given as hex of one of `sizes` bytes. */
export function hexSecret(raw: Uint8Array, what: string, sizes: number[]): Uint8Array {
  const b = hexBytes(raw, sizes);
  if (b === null) throw shapeError(what, sizes.map((n) => `${2 * n}`).join(' or ') + ' hex digits', raw);
  return b;
}

/** LDK's KeysManager seed: 64 hex digits, or the 32 raw bytes of a `keys_seed` file. */
export function ldkSeedFrom(raw: Uint8Array, origin: SecretOrigin, what: string): Uint8Array {
  if (origin !== 'prompt' && raw.length === 32) return Uint8Array.from(raw);
  return hexSecret(raw, what, [32]);
}

/**
 * A lightning-kmp (Phoenix) wallet seed: the BIP39 seed as hex (16, 32 or 64 bytes), or the
 * recovery words (Phoenix shows 12), turned into the 64-byte BIP39 seed with no passphrase.
 */
export function kmpSeedFrom(raw: Uint8Array, what: string): Uint8Array {
  const hexed = hexBytes(raw, [64, 32, 16]);
  if (hexed) return hexed;
  const t = trimmed(raw);
  // Words: lower-case ASCII letters and single spaces (newlines and runs collapse to one).
  let words = '';
  let space = false;
  for (const b of t) {
    if (isWs(b)) space = true;
    else if (b >= 0x61 && b <= 0x7a) {
      if (space && words.length > 0) words += ' ';
      space = false;
      words += String.fromCharCode(b);
    } else {
      throw new InputError(`${what} must hold the wallet's recovery words or its BIP39 seed as hex (32, 64 or 128 digits); it holds ${t.length} characters`, 'bad_secret');
    }
  }
  const count = words.length === 0 ? 0 : words.split(' ').length;
  if (count !== 12 && count !== 24) throw new InputError(`${what} must hold 12 or 24 recovery words (or the seed as hex); it holds ${count} words`, 'bad_secret');
  if (!validateMnemonic(words, english)) throw new InputError(`${what}: the ${count} words are not a valid BIP39 phrase (a word outside the list, or a wrong checksum)`, 'bad_secret');
  return mnemonicToSeedSync(words, '');
}

/** CLN's hsm_secret: the file's bytes as they are; typed at a prompt, the 32-byte secret as hex. */
export function hsmSecretFrom(raw: Uint8Array, origin: SecretOrigin, what: string): Uint8Array {
  if (origin === 'prompt') return hexSecret(raw, what, [32]);
  return Uint8Array.from(raw);
}

/** CLN's passphrase: its raw bytes, with one trailing newline dropped, as lightningd does. */
export function passphraseFrom(raw: Uint8Array): Uint8Array {
  const end = raw.length > 0 && raw[raw.length - 1] === 0x0a ? raw.length - 1 : raw.length;
  return raw.slice(0, end);
}

// ---- all of a command's wallet secrets ------------------------------------------------------

export type SecretNetwork = 'mainnet' | 'testnet' | 'signet' | 'regtest';

/** Where each secret comes from (each a path or '-'); the flag names are used in messages. */
export interface WalletSecretSpec {
  hsmSecret?: SecretSource;
  passphrase?: SecretSource;
  ldkSeed?: SecretSource;
  kmpSeed?: SecretSource;
  kmpNodeKey?: SecretSource;
  lndRootKey?: SecretSource;
  lndSeed?: SecretSource;
  /** BIP44 coin type of lnd's key path; default 0 on mainnet, 1 elsewhere. */
  lndCoin?: number;
  network: SecretNetwork;
}

/** The flag each source is given with (shared with the command layer, for messages). */
export const SECRET_FLAG: Record<Exclude<keyof WalletSecretSpec, 'lndCoin' | 'network'>, string> = {
  hsmSecret: '--hsm-secret',
  passphrase: '--passphrase-file',
  ldkSeed: '--ldk-seed-file',
  kmpSeed: '--kmp-seed-file',
  kmpNodeKey: '--kmp-node-key-file',
  lndRootKey: '--lnd-root-key-file',
  lndSeed: '--lnd-seed-file',
};

/**
 * Read every secret the spec names and turn each into the bytes the format readers take.
 * On any error, whatever was already read is wiped before the error leaves.
 */
export async function loadWalletSecrets(spec: WalletSecretSpec, io: SecretIO): Promise<ForeignSecrets> {
  const dashes = (Object.keys(SECRET_FLAG) as (keyof typeof SECRET_FLAG)[]).filter((k) => spec[k] === '-');
  if (dashes.length > 1) throw new UsageError(`only one secret can come from standard input: ${dashes.map((k) => SECRET_FLAG[k]).join(' and ')} both say -`);
  if (spec.kmpSeed !== undefined && spec.kmpNodeKey !== undefined) throw new UsageError('give --kmp-seed-file or --kmp-node-key-file, not both');
  if (spec.lndSeed !== undefined && spec.lndRootKey !== undefined) throw new UsageError('give --lnd-seed-file or --lnd-root-key-file, not both');
  if (spec.passphrase !== undefined && spec.hsmSecret === undefined) throw new UsageError('--passphrase-file goes with --hsm-secret');
  if (spec.lndCoin !== undefined && spec.lndSeed === undefined && spec.lndRootKey === undefined) throw new UsageError('--lnd-coin goes with --lnd-seed-file or --lnd-root-key-file');

  const s: ForeignSecrets = {};
  const read = async (k: keyof typeof SECRET_FLAG, prompt: string): Promise<{ bytes: Uint8Array; origin: SecretOrigin }> =>
    readSecret(spec[k]!, SECRET_FLAG[k], io, prompt);
  /** Parse raw bytes and wipe them, whatever happens. */
  const parse = <T>(raw: Uint8Array, flag: string, f: (b: Uint8Array) => T): T => {
    try {
      return f(raw);
    } catch (e) {
      if (e instanceof ForeignSecretError) throw new InputError(`${flag}: ${e.message}`, 'bad_secret');
      throw e;
    } finally {
      raw.fill(0);
    }
  };
  try {
    if (spec.hsmSecret !== undefined) {
      const { bytes, origin } = await read('hsmSecret', 'hsm_secret (64 hex digits): ');
      const hsmSecret = parse(bytes, SECRET_FLAG.hsmSecret, (b) => hsmSecretFrom(b, origin, SECRET_FLAG.hsmSecret));
      s.cln = { hsmSecret };
      let needs = false;
      try {
        needs = hsmSecretNeedsPassphrase(hsmSecret);
      } catch (e) {
        // A file of no known shape: opening reports it as bad_secret, with the reason.
        if (!(e instanceof ForeignSecretError)) throw e;
      }
      if (!needs && spec.passphrase !== undefined) throw new UsageError('this hsm_secret is not protected by a passphrase: drop --passphrase-file');
      if (needs) {
        if (spec.passphrase !== undefined) {
          const { bytes, origin } = await read('passphrase', 'hsm_secret passphrase: ');
          s.cln.passphrase = origin === 'prompt' ? bytes : parse(bytes, SECRET_FLAG.passphrase, passphraseFrom);
        } else if (canPrompt(io) && io.stdinTakenBy === undefined && dashes.length === 0) {
          s.cln.passphrase = (await readSecret('-', SECRET_FLAG.passphrase, io, 'hsm_secret passphrase: ')).bytes;
        } else {
          throw new UsageError('this hsm_secret is protected by a passphrase: give it with --passphrase-file F (or - for standard input; lnps prompts only on a terminal, never takes it as a flag)');
        }
      }
    }
    if (spec.ldkSeed !== undefined) {
      const { bytes, origin } = await read('ldkSeed', 'LDK seed (64 hex digits): ');
      s.ldk = { seed: parse(bytes, SECRET_FLAG.ldkSeed, (b) => ldkSeedFrom(b, origin, SECRET_FLAG.ldkSeed)) };
    }
    if (spec.kmpNodeKey !== undefined) {
      const { bytes } = await read('kmpNodeKey', 'node private key (64 hex digits): ');
      s.kmp = { nodeKey: parse(bytes, SECRET_FLAG.kmpNodeKey, (b) => hexSecret(b, SECRET_FLAG.kmpNodeKey, [32])) };
    }
    if (spec.kmpSeed !== undefined) {
      const { bytes } = await read('kmpSeed', 'wallet recovery words or seed hex: ');
      s.kmp = { seed: parse(bytes, SECRET_FLAG.kmpSeed, (b) => kmpSeedFrom(b, SECRET_FLAG.kmpSeed)), network: spec.network };
    }
    if (spec.lndSeed !== undefined || spec.lndRootKey !== undefined) {
      const coin = spec.lndCoin ?? (spec.network === 'mainnet' ? 0 : 1);
      if (spec.lndSeed !== undefined) {
        const { bytes } = await read('lndSeed', 'aezeed entropy (32 hex digits): ');
        s.lnd = { coin, entropy: parse(bytes, SECRET_FLAG.lndSeed, (b) => hexSecret(b, SECRET_FLAG.lndSeed, [16])) };
      } else {
        const { bytes } = await read('lndRootKey', 'root key (xprv/tprv): ');
        s.lnd = { coin, root: parse(bytes, SECRET_FLAG.lndRootKey, (b) => parseRootXprvBytes(b)) };
      }
    }
  } catch (e) {
    wipeWalletSecrets(s);
    throw e;
  }
  return s;
}

/** Zero every secret byte a ForeignSecrets holds. */
export function wipeWalletSecrets(s: ForeignSecrets): void {
  wipe(s.cln?.hsmSecret, s.cln?.passphrase, s.ldk?.seed);
  if (s.kmp) wipe('nodeKey' in s.kmp ? s.kmp.nodeKey : s.kmp.seed);
  if (s.lnd) {
    if ('entropy' in s.lnd) wipe(s.lnd.entropy);
    else wipe(s.lnd.root.key, s.lnd.root.chainCode);
  }
}
