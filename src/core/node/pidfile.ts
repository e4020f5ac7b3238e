// `<networkDir>/lnps.pid`: which process serves this network's database. Other commands use it
// to name the running node when the database is locked, and `serve` to refuse a second node.
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { StoreError } from '../errors.js';

/** The pid in the file when that process is still alive, otherwise undefined. */
export function runningPid(path: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
  if (!/^\d{1,10}$/.test(text)) return undefined;
  const pid = Number(text);
  if (pid <= 0) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (e) {
    // EPERM: alive but owned by another user; still a running process.
    return (e as NodeJS.ErrnoException).code === 'EPERM' ? pid : undefined;
  }
}

/**
 * Write our pid, refusing when another live process holds the file. A file left by a process
 * that died is replaced.
 */
export function writePidFile(path: string, pid = process.pid): void {
  const other = runningPid(path);
  if (other !== undefined && other !== pid)
    throw new StoreError('locked', `an lnps node is already running on this data directory and network (pid ${other}); stop it first`);
  try {
    unlinkSync(path);
  } catch {
    /* none to replace */
  }
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new StoreError('locked', `another lnps node started on this data directory at the same time (${path})`);
    throw new StoreError('unavailable', `cannot write pid file ${path}: ${code}`);
  }
  try {
    writeSync(fd, `${pid}\n`);
  } finally {
    closeSync(fd);
  }
}

/** Remove the pid file if it is still ours. */
export function removePidFile(path: string, pid = process.pid): void {
  try {
    if (readFileSync(path, 'utf8').trim() === String(pid)) unlinkSync(path);
  } catch {
    /* already gone */
  }
}
