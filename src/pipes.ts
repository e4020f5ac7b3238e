// What a closed stdout means. For a command (`lnps listpeerstorage | head`) the reader has all
// it wants: end quietly. For the node (`lnps serve | head -1`, a terminal that went away) it
// means nothing: the node keeps running and logs to --log-file if one is set.
let daemon = false;

/** Called by `lnps serve`: from now on a closed stdout or stderr never ends the process. */
export function keepRunningOnClosedPipes(): void {
  daemon = true;
}

/** The 'error' listener bin/lnps.js puts on stdout. */
export function onStdoutError(err: NodeJS.ErrnoException): void {
  if (err && err.code === 'EPIPE') {
    if (daemon) return;
    process.exit(process.exitCode ?? 0);
  }
  if (daemon) return;
  throw err;
}
