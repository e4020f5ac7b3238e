// `--log-file F`: the node's log appended to a file, which SIGHUP reopens so logrotate can move
// the old one away (the rename leaves us writing to the moved file until we reopen by name).
import { closeSync, openSync, writeSync } from 'node:fs';
import { StoreError } from '../errors.js';

export interface LogFile {
  readonly path: string;
  write(line: string): void;
  /** Close and open again by name (after logrotate renamed it). */
  reopen(): void;
  close(): void;
}

function open(path: string): number {
  try {
    // Appending, created private: a log names peers and paths, which are the operator's business.
    return openSync(path, 'a', 0o600);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new StoreError('unavailable', `cannot open log file ${path}: ${code === 'EACCES' ? 'permission denied' : code === 'ENOENT' ? 'no such directory' : (code ?? String(e))}`);
  }
}

/**
 * Open the log file. Writes are synchronous and whole lines, so lines from one process never
 * interleave and a line logged just before a stop is on disk. A failed write (disk full) drops
 * that line rather than stop the node; `onError` hears about it once until a write succeeds again.
 */
export function openLogFile(path: string, onError: (message: string) => void = () => undefined): LogFile {
  let fd: number | undefined = open(path);
  let failing = false;
  return {
    path,
    write(line) {
      if (fd === undefined) return;
      try {
        writeSync(fd, line + '\n');
        failing = false;
      } catch (e) {
        if (!failing) onError(`cannot write to log file ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
        failing = true;
      }
    },
    reopen() {
      const next = open(path);
      if (fd !== undefined) closeSync(fd);
      fd = next;
    },
    close() {
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
    },
  };
}
