// `verify-blob --format cln|ldk|lnd|kmp|auto`: open a peer storage blob written by another
// implementation with the operator's own secret. verify-blob reads the blob and calls this
// for every format but lnps. Secrets are read, used and dropped: never printed, logged or
// kept, and never echoed back in an error (not even a character of a malformed hex value).
import type { Command } from 'commander';
import { sha256 } from '@noble/hashes/sha2.js';
import { UsageError } from '../core/errors.js';
import { toHex } from '../core/bytes.js';
import { globals, readFileBytes, parseIntFlag, type Network, writeOutputFile } from './_common.js';
import {
  hsmSecretNeedsPassphrase,
  openForeign,
  openForeignAuto,
  ForeignSecretError,
  FOREIGN_FORMATS,
  type ForeignFormat,
  type ForeignOpenResult,
  type ForeignSecrets,
} from '../core/backup/formats/index.js';

type FormatArg = ForeignFormat | 'auto';

/** Which flags belong to which format, to catch a secret given for the wrong one. */
const FLAGS: Record<ForeignFormat, { key: string; flag: string }[]> = {
  cln: [{ key: 'hsmSecret', flag: '--hsm-secret' }, { key: 'passphraseFile', flag: '--passphrase-file' }],
  ldk: [{ key: 'ldkSeed', flag: '--ldk-seed' }],
  kmp: [{ key: 'kmpNodeKey', flag: '--kmp-node-key' }, { key: 'kmpSeed', flag: '--kmp-seed' }],
  lnd: [{ key: 'lndCoin', flag: '--lnd-coin' }, { key: 'lndSeed', flag: '--lnd-seed' }, { key: 'lndRootKey', flag: '--lnd-root-key' }],
};

const given = (opts: Record<string, unknown>, key: string): boolean => opts[key] !== undefined && opts[key] !== false;

/** Hex secret from a flag, checked without ever quoting it back. */
function secretHex(value: unknown, flag: string, sizes: number[]): Uint8Array {
  const s = String(value).trim();
  const want = sizes.map((n) => `${2 * n}`).join(' or ');
  if (!/^[0-9a-fA-F]*$/.test(s) || !sizes.includes(s.length / 2) || s.length % 2 !== 0)
    throw new UsageError(`${flag} must be ${want} hex digits, got ${s.length} characters${/^[0-9a-fA-F]*$/.test(s) ? '' : ' with non-hex ones'}`);
  const b = Buffer.from(s, 'hex');
  const out = Uint8Array.from(b);
  b.fill(0);
  return out;
}

/** A passphrase from a file (one trailing newline dropped), or a no-echo prompt on a terminal. */
async function readPassphrase(opts: Record<string, unknown>): Promise<Uint8Array> {
  if (given(opts, 'passphraseFile')) {
    const raw = readFileBytes(String(opts.passphraseFile), 'passphrase file');
    let end = raw.length;
    if (end > 0 && raw[end - 1] === 0x0a) end--;
    if (end > 0 && raw[end - 1] === 0x0d) end--;
    const out = Uint8Array.from(raw.subarray(0, end));
    raw.fill(0);
    return out;
  }
  if (!process.stdin.isTTY || typeof process.stdin.setRawMode !== 'function')
    throw new UsageError('this hsm_secret is protected by a passphrase: give it with --passphrase-file F (lnps prompts only on a terminal, never takes it as a flag)');
  return promptNoEcho('hsm_secret passphrase: ');
}

function promptNoEcho(prompt: string): Promise<Uint8Array> {
  const stdin = process.stdin;
  process.stderr.write(prompt);
  stdin.setRawMode(true);
  stdin.resume();
  const typed: number[] = [];
  return new Promise((resolve, reject) => {
    const finish = (err?: Error): void => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
      if (err) {
        typed.fill(0);
        reject(err);
      } else {
        const out = Uint8Array.from(typed);
        typed.fill(0);
        resolve(out);
      }
    };
    const onData = (chunk: Buffer): void => {
      for (const b of chunk) {
        if (b === 0x0d || b === 0x0a) return finish();
        if (b === 0x03 || b === 0x04) return finish(new UsageError('passphrase entry cancelled'));
        if (b === 0x7f || b === 0x08) typed.pop();
        else typed.push(b);
      }
      chunk.fill(0);
    };
    stdin.on('data', onData);
  });
}

/** Read the secrets the flags name, checking that they fit the chosen format. */
async function collectSecrets(fmt: FormatArg, opts: Record<string, unknown>, network: Network): Promise<{ secrets: ForeignSecrets; early?: ForeignOpenResult & { secret_error?: string } }> {
  if (fmt !== 'auto') {
    for (const other of FOREIGN_FORMATS) {
      if (other === fmt) continue;
      for (const { key, flag } of FLAGS[other]) {
        if (given(opts, key)) throw new UsageError(`${flag} is a secret for --format ${other} (or auto), not --format ${fmt}`);
      }
    }
  }
  const secrets: ForeignSecrets = {};

  if (given(opts, 'passphraseFile') && !given(opts, 'hsmSecret')) throw new UsageError('--passphrase-file goes with --hsm-secret');
  if (given(opts, 'hsmSecret')) {
    const file = readFileBytes(String(opts.hsmSecret), 'hsm_secret');
    let needs: boolean;
    try {
      needs = hsmSecretNeedsPassphrase(file);
    } catch (e) {
      if (!(e instanceof ForeignSecretError)) throw e;
      return { secrets, early: { valid: false, format: 'cln', reason: 'bad_secret', secret_error: e.message } };
    }
    if (!needs && given(opts, 'passphraseFile')) throw new UsageError('this hsm_secret is not protected by a passphrase: drop --passphrase-file');
    secrets.cln = needs ? { hsmSecret: file, passphrase: await readPassphrase(opts) } : { hsmSecret: file };
  }

  if (given(opts, 'ldkSeed')) secrets.ldk = { seed: secretHex(opts.ldkSeed, '--ldk-seed', [32]) };

  if (given(opts, 'kmpNodeKey') && given(opts, 'kmpSeed')) throw new UsageError('give --kmp-node-key or --kmp-seed, not both');
  if (given(opts, 'kmpNodeKey')) secrets.kmp = { nodeKey: secretHex(opts.kmpNodeKey, '--kmp-node-key', [32]) };
  if (given(opts, 'kmpSeed')) secrets.kmp = { seed: secretHex(opts.kmpSeed, '--kmp-seed', [64, 32, 16]), network };

  if (given(opts, 'lndSeed') && given(opts, 'lndRootKey')) throw new UsageError('give --lnd-seed or --lnd-root-key, not both');
  if (given(opts, 'lndCoin') && !given(opts, 'lndSeed') && !given(opts, 'lndRootKey')) throw new UsageError('--lnd-coin goes with --lnd-seed or --lnd-root-key');
  if (given(opts, 'lndSeed') || given(opts, 'lndRootKey')) {
    // BIP44 coin type: 0 for mainnet, 1 for every test network, unless told otherwise.
    const coin = given(opts, 'lndCoin') ? parseIntFlag(String(opts.lndCoin), '--lnd-coin', 0x7fffffff) : network === 'mainnet' ? 0 : 1;
    secrets.lnd = given(opts, 'lndSeed')
      ? { coin, entropy: secretHex(opts.lndSeed, '--lnd-seed', [16]) }
      : { coin, rootKey: String(opts.lndRootKey) };
  }

  if (fmt === 'auto') {
    if (Object.keys(secrets).length === 0)
      throw new UsageError('--format auto needs at least one secret: --hsm-secret, --ldk-seed, --kmp-node-key or --kmp-seed, --lnd-seed or --lnd-root-key');
  } else if (secrets[fmt] === undefined) {
    const need: Record<ForeignFormat, string> = {
      cln: '--format cln needs --hsm-secret FILE (the node\'s hsm_secret; add --passphrase-file F if it is encrypted)',
      ldk: '--format ldk needs --ldk-seed HEX (the 32-byte KeysManager seed)',
      kmp: '--format kmp needs --kmp-node-key HEX, or --kmp-seed HEX with --network',
      lnd: '--format lnd needs --lnd-seed HEX (the aezeed entropy) or --lnd-root-key XPRV',
    };
    throw new UsageError(need[fmt]);
  }
  return { secrets };
}

function wipe(s: ForeignSecrets): void {
  s.cln?.hsmSecret.fill(0);
  s.cln?.passphrase?.fill(0);
  s.ldk?.seed.fill(0);
  if (s.kmp) ('nodeKey' in s.kmp ? s.kmp.nodeKey : s.kmp.seed).fill(0);
  if (s.lnd && 'entropy' in s.lnd) s.lnd.entropy.fill(0);
}

/** The printed result: snake_case, bytes as hex; the plaintext itself only goes to --out. */
function present(r: ForeignOpenResult & { secret_error?: string }): Record<string, unknown> {
  const out: Record<string, unknown> = { valid: r.valid, format: r.format };
  if (r.valid && r.plaintext) {
    out.plaintext_len = r.plaintext.length;
    out.plaintext_sha256 = toHex(sha256(r.plaintext));
  }
  if (r.reason) out.reason = r.reason;
  if (r.secret_error) out.detail = r.secret_error;
  if (r.experimental) out.experimental = true;
  if (r.details) Object.assign(out, r.details);
  if (r.channels) out.channels = r.channels;
  if (r.content_error) out.content_error = r.content_error;
  return out;
}

export async function verifyForeign(blob: Uint8Array, opts: Record<string, unknown>, cmd: Command): Promise<Record<string, unknown>> {
  const fmt = String(opts.format ?? 'auto') as FormatArg;
  if (fmt !== 'auto' && !FOREIGN_FORMATS.includes(fmt)) throw new UsageError(`unknown format ${JSON.stringify(fmt)}: use lnps, cln, ldk, lnd, kmp or auto`);
  const { network } = globals(cmd);
  const { secrets, early } = await collectSecrets(fmt, opts, network);
  let result: Record<string, unknown>;
  let plaintext: Uint8Array | undefined;
  try {
    if (early) {
      result = present(early);
    } else if (fmt === 'auto') {
      const { result: r, tried } = await openForeignAuto(blob, secrets);
      if (r) {
        result = present(r);
        plaintext = r.plaintext;
      } else {
        const reasons = new Set(tried.map((t) => t.reason));
        result = { valid: false, format: 'auto', reason: reasons.size === 1 ? tried[0]!.reason : 'auth_failed', tried };
      }
    } else {
      const r = await openForeign(fmt, blob, secrets);
      result = present(r);
      plaintext = r.plaintext;
    }
  } finally {
    wipe(secrets);
  }
  if (result.valid !== true) {
    process.exitCode = 1;
    return result;
  }
  if (given(opts, 'out') && plaintext) {
    const path = String(opts.out);
    // The plaintext is a channel backup: private to its owner (as verify-blob does for lnps).
    writeOutputFile(path, plaintext, { force: given(opts, 'force') });
    result.out = path;
  }
  return result;
}
