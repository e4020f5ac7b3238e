// The one writer of every file a command makes with `--out`: backups, blobs, plaintexts,
// exports. The rules hold for every command alike:
// - the bytes go to a new temporary file in the same directory, created exclusively (so a
//   symlink planted at its name is never followed) with mode 0600, whatever the umask or the
//   mode of a file it replaces;
// - the file is fsynced, then takes the target's name in one step (rename or link), then the
//   directory is fsynced: a crash leaves the old file or the whole new one, never half of it;
// - an existing target (a file, a symlink, even a dangling one) is refused unless `force`,
//   with one message and one exit code everywhere; with `force` the entry is replaced, never
//   written through: a symlink at the target is replaced by the file, not followed.
import { randomBytes } from 'node:crypto';
import { closeSync, constants, fchmodSync, fsyncSync, linkSync, lstatSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { open as openAsync, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { StoreError } from './errors.js';

export interface OutputOptions {
  /** Replace an existing file (the command's `--force`). */
  force: boolean;
}

/** The refusal every `--out` gives for an existing file (exit 3, like every unwritable file). */
export function outputExistsError(path: string): StoreError {
  return new StoreError('exists', `${path} already exists: lnps does not overwrite it unless you add --force`);
}

function why(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'ENOENT') return 'no such directory';
  if (code === 'EISDIR') return 'is a directory';
  if (code === 'ENOTDIR') return 'a part of the path is not a directory';
  if (code === 'ENOSPC') return 'no space left on the device';
  return code ?? (e instanceof Error ? e.message : String(e));
}

/** A file system error becomes one line naming the file; any other error passes unchanged. */
function unwritable(path: string, e: unknown): unknown {
  if (e instanceof Error && typeof (e as NodeJS.ErrnoException).syscall === 'string') return new StoreError('unavailable', `cannot write ${path}: ${why(e)}`);
  return e;
}

/**
 * Refuse early, before any work, when `path` exists and `force` is not given. The final step
 * checks again atomically (a file that appears in between is still not replaced).
 */
export function checkOutputFree(path: string, opts: OutputOptions): void {
  if (opts.force) return;
  try {
    lstatSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw unwritable(path, e);
  }
  throw outputExistsError(path);
}

function tempName(path: string): string {
  const abs = resolve(path);
  return join(dirname(abs), `.${basename(abs)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

/** A new private file: O_EXCL never follows a symlink, O_NOFOLLOW says so twice. */
const CREATE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0);

function syncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, constants.O_RDONLY);
    fsyncSync(fd);
  } catch (e) {
    // Some file systems cannot fsync a directory (EINVAL); the rename is done all the same.
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'ENOTSUP' && code !== 'EISDIR') throw e;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Give the finished temporary file the target's name: rename (force) or link (never replaces). */
function publish(tmp: string, path: string, opts: OutputOptions): void {
  if (opts.force) {
    renameSync(tmp, path);
  } else {
    try {
      linkSync(tmp, path);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') throw outputExistsError(path);
      // A file system without hard links: check, then rename (the early check ran too).
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS' && code !== 'EOPNOTSUPP') throw e;
      checkOutputFree(path, opts);
      renameSync(tmp, path);
      return;
    }
    rmSync(tmp, { force: true });
  }
}

/** Write `bytes` to `path` whole or not at all, under the rules above. */
export function writeOutputFile(path: string, bytes: Uint8Array | string, opts: OutputOptions): void {
  checkOutputFree(path, opts);
  const tmp = tempName(path);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, CREATE_FLAGS, 0o600);
    fchmodSync(fd, 0o600);
    const buf = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes;
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    publish(tmp, path, opts);
    syncDir(dirname(resolve(path)));
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    rmSync(tmp, { force: true });
    throw unwritable(path, e);
  }
}

/** A file being written piece by piece (an export): `write` waits for the disk. */
export interface OutputStream {
  write(chunk: Uint8Array | string): Promise<void>;
}

/**
 * Write a file from a producer, under the same rules as writeOutputFile: the producer writes
 * into a private temporary file; only when it returns is the file fsynced and renamed into
 * place. When the producer throws, the temporary file is removed and the target is untouched.
 */
export async function streamOutputFile<T>(path: string, opts: OutputOptions, produce: (out: OutputStream) => Promise<T>): Promise<T> {
  checkOutputFree(path, opts);
  const tmp = tempName(path);
  let fh: FileHandle | undefined;
  try {
    fh = await openAsync(tmp, CREATE_FLAGS, 0o600);
  } catch (e) {
    throw unwritable(path, e);
  }
  const handle = fh;
  let result: T;
  try {
    await handle.chmod(0o600);
    // Small pieces are gathered into writes of about 64 KiB.
    let pending: Buffer[] = [];
    let size = 0;
    const flush = async () => {
      if (size === 0) return;
      const b = Buffer.concat(pending, size);
      pending = [];
      size = 0;
      await handle.write(b, 0, b.length);
    };
    result = await produce({
      async write(chunk) {
        const b = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
        pending.push(b);
        size += b.length;
        if (size >= 65536) await flush();
      },
    });
    await flush();
    await handle.sync();
    await handle.close();
    fh = undefined;
    publish(tmp, path, opts);
    syncDir(dirname(resolve(path)));
  } catch (e) {
    if (fh) await fh.close().catch(() => undefined);
    rmSync(tmp, { force: true });
    throw unwritable(path, e);
  }
  return result;
}
