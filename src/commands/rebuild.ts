// lnps rebuild: put a striped backup back together from shard files an operator gathered by
// hand (from `lnps stripe`, or blobs peers returned). Any k good shards of one version do.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { StoreError, UsageError } from '../core/errors.js';
import { emit } from '../output.js';
import { FORCE_HELP, action, checkOutputFree, examples, globals, readFileBytes, writeOutputFile } from './_common.js';

interface RebuildCommandOptions {
  out: string;
  force?: boolean;
}

/** A sealed blob is at most 65531 bytes; as hex text with a newline, about twice that. */
const MAX_INPUT_FILE = 2 * 65531 + 16;

export function register(program: Command): void {
  program
    .command('rebuild')
    .description(
      'Rebuild a striped backup from its sealed shards (`lnps stripe`, or blobs peers returned): reads every file given and every file in every directory given, ' +
        'groups the shards by backup version, and rebuilds the newest version that has K good shards, checked against its SHA-256. ' +
        'Says which shards it used and why it ignored the others; exit 1 when too few are left.',
    )
    .argument('<paths...>', 'shard files, or directories of them (raw bytes, or hex text)')
    .requiredOption('--out <file>', 'where to write the rebuilt backup (mode 0600)')
    .option('--force', FORCE_HELP)
    .addHelpText('after', examples('lnps rebuild shards/ --out restored.backup', 'lnps rebuild a.bin b.bin c.bin --out restored.backup'))
    .action(action(async (paths: string[], opts: RebuildCommandOptions, cmd: Command) => rebuildCommand(paths, opts, cmd)));
}

/** Files named directly, in the order given, then each directory's regular files by name. */
function listInputs(paths: string[]): string[] {
  const files: string[] = [];
  for (const p of paths) {
    let st;
    try {
      st = statSync(p);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new StoreError('unavailable', `cannot read ${p}: ${code === 'ENOENT' ? 'no such file or directory' : (code ?? 'error')}`);
    }
    if (!st.isDirectory()) {
      files.push(p);
      continue;
    }
    let names: string[];
    try {
      names = readdirSync(p).sort();
    } catch (e) {
      throw new StoreError('unavailable', `cannot list directory ${p}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
    }
    for (const name of names) {
      const f = join(p, name);
      try {
        if (statSync(f).isFile()) files.push(f);
      } catch {
        // vanished or unreadable entries are not shards
      }
    }
  }
  return files;
}

/** Raw bytes, or hex text (as other lnps commands print blobs): a sealed blob is never all hex digits. */
function blobOf(bytes: Uint8Array): Uint8Array {
  const text = Buffer.from(bytes).toString('latin1').replace(/\s+/g, '');
  if (text.length > 0 && text.length % 2 === 0 && /^[0-9a-fA-F]+$/.test(text)) {
    const b = Buffer.from(text, 'hex');
    return new Uint8Array(b.buffer, b.byteOffset, b.length);
  }
  return bytes;
}

async function rebuildCommand(paths: string[], opts: RebuildCommandOptions, cmd: Command): Promise<unknown> {
  const [{ withSealKey }, { rebuild }] = await Promise.all([
    import('./_sealkey.js'),
    import('../core/backup/stripe.js'),
  ]);
  const files = listInputs(paths);
  if (files.length === 0) throw new UsageError(`no files found in ${paths.join(', ')}: give shard files or a directory holding them`);
  checkOutputFree(opts.out, { force: opts.force === true });

  // Files far too large for a blob are not read at all (a directory may hold the backup itself).
  const tooBig = new Set<number>();
  const blobs = files.map((f, i) => {
    let size = 0;
    try {
      size = statSync(f).size;
    } catch {
      // readFileBytes below names the file and the reason
    }
    if (size > MAX_INPUT_FILE) {
      tooBig.add(i);
      return new Uint8Array(0); // opens as 'not_sealed'
    }
    return blobOf(readFileBytes(f, 'shard file'));
  });

  const g = globals(cmd);
  const r = withSealKey(g, (key) => rebuild(blobs, key));

  const used = r.used.map((u) => ({ file: files[u.input], index: u.index }));
  const ignored = r.ignored.map((i) => ({
    file: files[i.input],
    ...(i.index !== undefined ? { index: i.index } : {}),
    reason: i.reason,
    detail: tooBig.has(i.input) ? 'too large for a sealed blob: not read' : i.detail,
  }));
  const versions = r.versions.map((v) => ({ backup_id: v.backup_id, seq: v.seq, k: v.k, n: v.n, total_len: v.total_len, shards: v.have, status: v.status }));

  if (!r.ok) {
    const summary = {
      ok: false,
      message: r.message,
      ...(r.backup_id ? { backup_id: r.backup_id, seq: r.seq, k: r.k, n: r.n, missing: r.missing } : {}),
      found: (r.found ?? []).map((u) => ({ file: files[u.input], index: u.index })),
      ignored,
      versions,
    };
    await emit(summary, globals(cmd).format);
    // The one line on stderr says what was wrong; the JSON above says which file is which.
    const counts = countReasons(r.ignored.map((i) => i.reason));
    process.stderr.write(`lnps: ${r.message} (${files.length} file${files.length === 1 ? '' : 's'} read${counts ? `; ignored: ${counts}` : ''})\n`);
    process.exitCode = 1;
    return undefined;
  }

  const backup = r.backup!;
  writeOutputFile(opts.out, backup, { force: opts.force === true });
  backup.fill(0);
  return {
    ok: true,
    out: opts.out,
    bytes: r.total_len,
    backup_id: r.backup_id,
    seq: r.seq,
    k: r.k,
    n: r.n,
    backup_sha256: r.backup_sha256,
    newest: r.newest,
    message: r.message,
    used,
    ignored,
    versions,
  };
}

function countReasons(reasons: string[]): string {
  const m = new Map<string, number>();
  for (const r of reasons) m.set(r, (m.get(r) ?? 0) + 1);
  return [...m].map(([r, c]) => `${c} ${r}`).join(', ');
}
