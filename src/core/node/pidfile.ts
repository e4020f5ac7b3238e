// `<networkDir>/lnps.pid`: which process serves this network's database. Other commands name it
// when the database is locked. It is information, not the lock: the database's own lock and the
// control socket decide whether a node runs (a pid can outlive its process as a zombie, or be
// reused after a crash), so the file is simply replaced by the node that holds the database.
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { StoreError } from '../errors.js';

/** True when `pid` is a process that has not exited (a zombie has exited). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    // EPERM: alive but owned by another user.
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    // Linux: field 3 of /proc/<pid>/stat is the state; Z is a zombie nobody reaped yet.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc: trust kill(0)
  }
}

/** The pid in the file when that process is still running, otherwise undefined. */
export function runningPid(path: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
  if (!/^\d{1,10}$/.test(text)) return undefined;
  const pid = Number(text);
  return pid > 0 && alive(pid) ? pid : undefined;
}

/** Write our pid (mode 0600), replacing any file a dead node left. Atomic: write, then rename. */
export function writePidFile(path: string, pid = process.pid): void {
  const tmp = `${path}.${pid}.tmp`;
  let fd: number;
  try {
    fd = openSync(tmp, 'w', 0o600);
  } catch (e) {
    throw new StoreError('unavailable', `cannot write pid file ${path}: ${(e as NodeJS.ErrnoException).code}`);
  }
  try {
    writeSync(fd, `${pid}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/** Remove the pid file if it is still ours. */
export function removePidFile(path: string, pid = process.pid): void {
  try {
    if (readFileSync(path, 'utf8').trim() === String(pid)) unlinkSync(path);
  } catch {
    /* already gone */
  }
}

/** The networks of a data directory whose node is running now, with its pid (from its pid file). */
export function runningNodesIn(datadir: string, networks: readonly string[]): { network: string; pid: number }[] {
  const out: { network: string; pid: number }[] = [];
  for (const network of networks) {
    const pid = runningPid(join(datadir, network, 'lnps.pid'));
    if (pid !== undefined) out.push({ network, pid });
  }
  return out;
}
