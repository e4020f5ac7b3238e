// lnps seal: turn a backup file into the blob we hand a peer (or a whole peer_storage message).
import { statSync } from 'node:fs';
import type { Command } from 'commander';
import { Option } from 'commander';
import { InputError, UsageError } from '../core/errors.js';
import { FORCE_HELP, action, checkOutputFree, examples, globals, outputBytes, readFileBytes, readStdin } from './_common.js';

interface SealCommandOptions {
  seq?: string;
  pad: 'full' | 'none' | 'bucket';
  message?: boolean;
  out?: string;
  force?: boolean;
}

const MAX_U64 = (1n << 64n) - 1n;

export function register(program: Command): void {
  program
    .command('seal')
    .description(
      'Seal a backup with the node key into an lnps blob for peer_storage: checksum, then XChaCha20-Poly1305, padded to 65531 bytes by default. ' +
        'Prints the blob as hex (a JSON object with --format json); --out writes raw bytes.',
    )
    .argument('[file]', "the plaintext: a file, or '-' for raw bytes on standard input (at most 65448 bytes)")
    .option('--seq <n>', 'backup sequence number, u64; larger = newer (default: the current time in milliseconds)')
    .addOption(new Option('--pad <mode>', 'padding: full (65531 bytes, hides the size), none (83 + plaintext bytes), bucket (1024, 4096, 16384 or 65531)').choices(['full', 'none', 'bucket']).default('full'))
    .option('--message', 'print a complete peer_storage message ready to send, instead of the bare blob')
    .option('--out <file>', 'write the raw bytes to a file (mode 0600) and print a summary instead')
    .option('--force', FORCE_HELP)
    .addHelpText(
      'after',
      examples('lnps seal channels.backup', 'lnps seal channels.backup --pad bucket --out blob.bin', 'lnps seal - --message < channels.backup', 'lnps seal channels.backup | lnps verify-blob -'),
    )
    .action(action(async (file: string | undefined, opts: SealCommandOptions, cmd: Command) => sealCommand(file, opts, cmd)));
}

function parseSeq(s: string | undefined): bigint {
  // A later seal must be newer, and restarts must not reuse numbers: milliseconds do both.
  if (s === undefined) return BigInt(Date.now());
  if (!/^\d{1,20}$/.test(s) || BigInt(s) > MAX_U64) throw new UsageError(`--seq must be an integer from 0 to ${MAX_U64}, got ${JSON.stringify(s)}`);
  return BigInt(s);
}

async function readPlaintext(file: string | undefined, max: number): Promise<Uint8Array> {
  if (file === undefined) throw new UsageError("no plaintext given: pass a FILE, or '-' to read standard input");
  if (file === '-') return readStdin();
  let size: number | undefined;
  try {
    size = statSync(file).size;
  } catch {
    // readFileBytes below gives the precise message
  }
  // Refuse before reading a file that cannot fit, with both sizes (never truncate).
  if (size !== undefined && size > max)
    throw new InputError(`${file} is ${size} bytes, but a sealed blob holds at most ${max} bytes of plaintext: nothing was sealed`, 'too_large');
  return readFileBytes(file, 'plaintext file');
}

async function sealCommand(file: string | undefined, opts: SealCommandOptions, cmd: Command): Promise<unknown> {
  const seq = parseSeq(opts.seq);
  if (opts.out !== undefined) checkOutputFree(opts.out, { force: opts.force === true });
  const [{ withSealKey }, { seal, MAX_PLAINTEXT }] = await Promise.all([import('./_sealkey.js'), import('../core/backup/seal.js')]);
  const plaintext = await readPlaintext(file, MAX_PLAINTEXT);
  const g = globals(cmd);
  const blob = withSealKey(g, (key) => seal(plaintext, { seq, pad: opts.pad, key }));
  const bytes = opts.message ? await peerStorageMessage(blob) : blob;

  const summary = {
    seq,
    padding: opts.pad,
    plaintext_len: plaintext.length,
    blob_len: blob.length,
    ...(opts.message ? { message_len: bytes.length } : {}),
  };
  return outputBytes(bytes, opts.out, summary, cmd, opts.message ? 'message' : 'blob', opts.force === true);
}

/** peer_storage (type 7) carrying the blob, encoded by the wire codec. */
async function peerStorageMessage(blob: Uint8Array): Promise<Uint8Array> {
  const { encodeMessage, peerStorage } = await import('../core/wire/index.js');
  return encodeMessage(peerStorage(blob));
}
