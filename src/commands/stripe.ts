// lnps stripe: split a backup into n sealed shards (version 2), any k of which rebuild it, as
// files an operator can hand to different peers or places. `lnps rebuild` reverses it.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { Option } from 'commander';
import { InputError, UsageError } from '../core/errors.js';
import { toHex } from '../core/bytes.js';
import { FORCE_HELP, action, checkOutputFree, examples, globals, parseIntFlag, readFileBytes, readStdin, writeOutputFile } from './_common.js';

interface StripeCommandOptions {
  k?: string;
  n?: string;
  stripe?: string;
  out: string;
  force?: boolean;
  seq?: string;
  pad: 'full' | 'none' | 'bucket';
}

const MAX_U64 = (1n << 64n) - 1n;

export function register(program: Command): void {
  program
    .command('stripe')
    .description(
      'Split a backup into N sealed shards (lnps sealed shard, version 2) with a Reed-Solomon code: any K of them rebuild it (`lnps rebuild`). ' +
        'Each shard is one peer_storage blob, so a backup of up to K x 65393 bytes fits, and N - K holders may vanish. Writes one file per shard into DIR.',
    )
    .argument('<file>', "the backup: a file, or '-' for raw bytes on standard input (at most K x 65393 bytes)")
    .option('--stripe <K-of-N>', 'K data shards of N in all, as `backup --stripe` takes it (or --k K --n N)')
    .option('--k <k>', 'data shards: any K of the N rebuild the backup (1..16)')
    .option('--n <n>', 'all shards, one per peer (K..32)')
    .requiredOption('--out <dir>', 'directory for the shard files (created if missing; an existing shard file is refused without --force)')
    .option('--force', 'replace shard files of the same name in --out (without it, an existing file is refused, exit 3)')
    .option('--seq <n>', 'backup sequence number, u64; larger = newer (default: the current time in milliseconds)')
    .addOption(new Option('--pad <mode>', 'padding of every shard: full (65531 bytes, hides the size), none, bucket').choices(['full', 'none', 'bucket']).default('full'))
    .addHelpText(
      'after',
      examples('lnps stripe channels.backup --k 3 --n 5 --out shards/', 'lnps stripe channels.backup --stripe 3-of-5 --out shards/', 'lnps stripe big.backup --k 16 --n 24 --pad none --out shards/', 'lnps rebuild shards/ --out restored.backup'),
    )
    .action(action(async (file: string, opts: StripeCommandOptions, cmd: Command) => stripeCommand(file, opts, cmd)));
}

/** K and N, from --stripe K-of-N or from --k and --n (not both). */
async function shapeOf(opts: StripeCommandOptions): Promise<{ k: string; n: string }> {
  if (opts.stripe !== undefined) {
    if (opts.k !== undefined || opts.n !== undefined) throw new UsageError('give --stripe K-of-N, or --k K --n N, not both');
    const { parseStripeSpec } = await import('../core/node/placement.js');
    const { k, n } = parseStripeSpec(opts.stripe);
    return { k: String(k), n: String(n) };
  }
  if (opts.k === undefined || opts.n === undefined) throw new UsageError('give the shape: --stripe K-of-N, or --k K --n N');
  return { k: opts.k, n: opts.n };
}

function parseSeq(s: string | undefined): bigint {
  // A later backup must be newer, and restarts must not reuse numbers: milliseconds do both.
  if (s === undefined) return BigInt(Date.now());
  if (!/^\d{1,20}$/.test(s) || BigInt(s) > MAX_U64) throw new UsageError(`--seq must be an integer from 0 to ${MAX_U64}, got ${JSON.stringify(s)}`);
  return BigInt(s);
}

/** The file name of shard `index`: the backup_id prefix keeps shards of two backups apart. */
export function shardFileName(backupId: Uint8Array, index: number, n: number): string {
  const w = String(n - 1).length;
  return `shard-${toHex(backupId).slice(0, 8)}-${String(index).padStart(w, '0')}-of-${n}.bin`;
}

async function stripeCommand(file: string, opts: StripeCommandOptions, cmd: Command): Promise<unknown> {
  const [{ makePrivateDir }, { withSealKey }, { stripe, maxStripedBackup, MAX_K, MAX_N, MAX_SHARD_DATA }] = await Promise.all([
    import('../core/datadir.js'),
    import('./_sealkey.js'),
    import('../core/backup/stripe.js'),
  ]);
  const { k: kText, n: nText } = await shapeOf(opts);
  const k = parseIntFlag(kText, '--k', MAX_K);
  if (k < 1) throw new UsageError(`--k must be from 1 to ${MAX_K}, got 0`);
  const n = parseIntFlag(nText, '--n', MAX_N);
  if (n < k) throw new UsageError(`--n must be at least --k (${k}) and at most ${MAX_N}, got ${n}`);
  const seq = parseSeq(opts.seq);

  const max = maxStripedBackup(k);
  let backup: Uint8Array;
  if (file === '-') backup = await readStdin();
  else {
    let size: number | undefined;
    try {
      size = statSync(file).size;
    } catch {
      // readFileBytes gives the precise message
    }
    // Refuse before reading a file that cannot fit (never truncate), and say what would fit.
    if (size !== undefined && size > max) throw tooLarge(file, size, k, max, MAX_SHARD_DATA, MAX_K);
    backup = readFileBytes(file, 'backup file');
  }
  if (backup.length > max) throw tooLarge(file === '-' ? 'standard input' : file, backup.length, k, max, MAX_SHARD_DATA, MAX_K);

  const g = globals(cmd);
  const striped = withSealKey(g, (key) => stripe(backup, { k, n, seq, pad: opts.pad, key }));

  makePrivateDir(opts.out);
  const names = striped.shards.map((_, i) => shardFileName(striped.backup_id, i, n));
  // A name already there means an earlier run: refuse before writing any, unless --force.
  const force = opts.force === true;
  for (const name of names) checkOutputFree(join(opts.out, name), { force });
  names.forEach((name, i) => writeOutputFile(join(opts.out, name), striped.shards[i]!, { force }));

  return {
    backup_id: striped.backup_id,
    seq: striped.seq,
    k,
    n,
    total_len: striped.total_len,
    backup_sha256: striped.backup_sha256,
    padding: opts.pad,
    out: opts.out,
    shards: striped.shards.map((s, index) => ({ index, kind: index < k ? 'data' : 'parity', file: names[index], bytes: s.length })),
  };
}

function tooLarge(what: string, size: number, k: number, max: number, perShard: number, maxK: number): InputError {
  const needK = Math.ceil(size / perShard);
  const hint = needK <= maxK ? `use --k ${needK} or more` : `even --k ${maxK} holds only ${maxK * perShard} bytes`;
  return new InputError(`${what} is ${size} bytes, but ${k} data shards hold at most ${max} bytes (${k} x ${perShard}): ${hint}; nothing was written`, 'too_large');
}
