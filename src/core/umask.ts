// Every file lnps makes is private to the user running it. The umask is set once, at the start
// of the process (bin/lnps.js), before anything is created: LevelDB's own files (which it
// creates with 0644 before the umask), the pid file, logs, the control socket's directory and
// every `--out` file then come out 0600 and every directory 0700, whatever the shell's umask.
// Writers that name a mode (key file, `--out` files) still pass 0600 themselves.

/** Group and others get nothing. */
export const PRIVATE_UMASK = 0o077;

/** Set the process umask to PRIVATE_UMASK; returns the one it replaced. */
export function usePrivateUmask(): number {
  return process.umask(PRIVATE_UMASK);
}
