// `verify-blob --blob-format cln|ldk|lnd|kmp|auto`: open a peer storage blob written by another
// implementation with the operator's own secret. verify-blob reads the blob and calls this
// for every format but lnps. Secrets are read, used and dropped: never printed, logged or
// kept, and never echoed back in an error (not even a character of a malformed hex value).
import type { Command } from 'commander';
import { sha256 } from '@noble/hashes/sha2.js';
import { StoreError, UsageError } from '../core/errors.js';
import { toHex } from '../core/bytes.js';
import { globals, writeOutputFile } from './_common.js';
import { givenSecretFlags, walletSecretsFromOptions, wipeWalletSecrets } from './_secrets.js';
import {
  openForeign,
  openForeignAuto,
  FOREIGN_FORMATS,
  type ForeignFormat,
  type ForeignOpenResult,
  type ForeignSecrets,
} from '../core/backup/formats/index.js';

type FormatArg = ForeignFormat | 'auto';

/** Check the secrets fit the chosen format, then read them (files, stdin or a prompt). */
async function collectSecrets(fmt: FormatArg, opts: Record<string, unknown>, cmd: Command, blobOnStdin: boolean): Promise<ForeignSecrets> {
  const given = givenSecretFlags(opts);
  if (fmt !== 'auto') {
    const other = given.find((g) => g.format !== fmt);
    if (other) throw new UsageError(`${other.flag} is a secret for --blob-format ${other.format} (or auto), not --blob-format ${fmt}`);
    if (given.length === 0) {
      const need: Record<ForeignFormat, string> = {
        cln: "--blob-format cln needs --hsm-secret FILE (the node's hsm_secret; add --passphrase-file F if it is encrypted)",
        ldk: '--blob-format ldk needs --ldk-seed-file FILE (the 32-byte KeysManager seed; - for stdin or a prompt)',
        kmp: '--blob-format kmp needs --kmp-seed-file FILE (the 12 words or seed hex, with --network) or --kmp-node-key-file FILE',
        lnd: '--blob-format lnd needs --lnd-seed-file FILE (the aezeed entropy as hex) or --lnd-root-key-file FILE (xprv/tprv)',
      };
      throw new UsageError(need[fmt]);
    }
  }
  return walletSecretsFromOptions(opts, cmd, blobOnStdin ? 'the blob' : undefined);
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

/**
 * `auto` tries the node's own lnps key first when this data directory has one: a blob that
 * is ours needs no wallet secret. Undefined when there is no node key to try.
 */
async function tryOwnKey(blob: Uint8Array, cmd: Command): Promise<{ result: Record<string, unknown>; plaintext?: Uint8Array } | undefined> {
  const [{ withSealKey }, { open }, { lnpsResult }] = await Promise.all([import('./_sealkey.js'), import('../core/backup/seal.js'), import('./verify-blob.js')]);
  try {
    return withSealKey(globals(cmd), (key) => {
      const r = open(blob, key);
      return { result: lnpsResult(blob, r), ...(r.ok ? { plaintext: r.plaintext } : {}) };
    });
  } catch (e) {
    if (e instanceof StoreError) return undefined; // no node key here: nothing of ours to try
    throw e;
  }
}

export async function verifyForeign(blob: Uint8Array, opts: Record<string, unknown>, cmd: Command, blobOnStdin = false): Promise<Record<string, unknown>> {
  const fmt = String(opts.blobFormat ?? 'auto') as FormatArg;
  if (fmt !== 'auto' && !FOREIGN_FORMATS.includes(fmt)) throw new UsageError(`unknown blob format ${JSON.stringify(fmt)}: use lnps, cln, ldk, lnd, kmp or auto`);
  if (opts.sealed && fmt !== 'lnd' && fmt !== 'auto') throw new UsageError('--sealed is for lnd blobs: --blob-format lnd');
  const secrets = await collectSecrets(fmt, opts, cmd, blobOnStdin);
  let result: Record<string, unknown>;
  let out: Uint8Array | undefined;
  try {
    let own: Awaited<ReturnType<typeof tryOwnKey>>;
    if (fmt === 'auto') {
      own = await tryOwnKey(blob, cmd);
      if (own === undefined && Object.keys(secrets).length === 0)
        throw new UsageError('--blob-format auto found no node key here and no secret was given: add --hsm-secret, --ldk-seed-file, --kmp-seed-file or --kmp-node-key-file, --lnd-seed-file or --lnd-root-key-file');
    }
    if (own && own.result.valid === true) {
      result = own.result;
      out = own.plaintext;
    } else if (fmt === 'auto') {
      const { result: r, tried } = await openForeignAuto(blob, secrets);
      if (own) tried.unshift({ format: 'lnps' as ForeignFormat, reason: String(own.result.reason) });
      if (r) {
        result = present(r);
        out = outputBytes(r, opts);
      } else {
        const reasons = new Set(tried.map((t) => t.reason));
        result = { valid: false, format: 'auto', reason: reasons.size === 1 ? tried[0]!.reason : 'auth_failed', tried };
      }
    } else {
      const r = await openForeign(fmt, blob, secrets);
      result = present(r);
      out = outputBytes(r, opts);
    }
  } finally {
    wipeWalletSecrets(secrets);
  }
  if (result.valid !== true) {
    process.exitCode = 1;
    return result;
  }
  if (opts.out !== undefined && out) {
    const path = String(opts.out);
    // A plaintext (or a sealed channel.backup) is private to its owner, as for lnps blobs.
    writeOutputFile(path, out, { force: opts.force === true });
    result.out = path;
  }
  return result;
}

/** What --out writes: the plaintext, or for lnd with --sealed the unpadded sealed bytes. */
function outputBytes(r: ForeignOpenResult, opts: Record<string, unknown>): Uint8Array | undefined {
  if (opts.sealed) {
    if (r.format !== 'lnd') throw new UsageError(`--sealed is for lnd blobs; this one opened as ${r.format}`);
    return r.sealed;
  }
  return r.plaintext;
}
