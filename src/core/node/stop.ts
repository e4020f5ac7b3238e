// `lnps stop`: ask the running node to stop over its control socket, then wait until it has:
// its process is gone and its control socket and pid file are removed. Only then is the
// database closed with every pending blob written, which is what the caller waits for.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { InputError, StoreError } from '../errors.js';
import { notFoundIn, type NodePaths } from '../datadir.js';
import { callNodeIfRunning } from './control.js';
import { alive } from './pidfile.js';

/** How often the wait looks again; the wait itself is bounded by the caller's timeout. */
const POLL_MS = 50;

export async function stopRunningNode(paths: NodePaths, timeoutMs: number): Promise<{ stopped: true; pid: number; waited_ms: number }> {
  const started = Date.now();
  const r = await callNodeIfRunning(paths.socketPath, 'stop', {});
  if (r === undefined) throw new StoreError('unavailable', `no lnps node is running for ${paths.datadir} (${paths.network})`, notFoundIn('running_node', paths));
  const pid = Number((r.result as { pid?: unknown })?.pid);
  if (!Number.isInteger(pid) || pid <= 0) throw new InputError('the running node did not say its pid');
  const pidFile = join(paths.networkDir, 'lnps.pid');
  const done = () => !alive(pid) && !existsSync(paths.socketPath) && !existsSync(pidFile);
  while (!done()) {
    if (Date.now() - started > timeoutMs)
      throw new InputError(`the node (pid ${pid}) was asked to stop but has not stopped within ${timeoutMs} ms`, 'timeout');
    await new Promise((res) => setTimeout(res, POLL_MS));
  }
  return { stopped: true, pid, waited_ms: Date.now() - started };
}
