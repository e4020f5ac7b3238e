// Live inputs from the Lightning node lnps runs beside:
//   --height-cmd / --channels-cmd: a shell command run at an interval, with a timeout, whose
//     output becomes the best height or the channel registry;
//   --backup-file: a file watched for changes, sealed and sent as `lnps backup` would.
// None of them ever stops the node: a failure is logged once per failure streak (and once more
// when it recovers), so a dead bitcoind does not fill the log with one line a minute.
import { spawn } from 'node:child_process';
import { readFileSync, statSync, watch, type FSWatcher, type Stats } from 'node:fs';
import { basename, dirname } from 'node:path';
import { createHash } from 'node:crypto';
import type { SubLogger } from './log.js';

/** Most output read from a command: a channel list of tens of thousands of channels fits. */
export const MAX_CMD_OUTPUT = 32 * 1024 * 1024;
/** Most stderr kept from a failing command, for its one log line. */
const MAX_CMD_STDERR = 4096;

/**
 * Run `cmd` through /bin/sh, as a cron line would (pipes like `lncli getinfo | jq .block_height`
 * work). Resolves with stdout; rejects with a one-line reason on a non-zero exit, a signal, the
 * timeout (the whole process group is killed) or output over `maxOutput`.
 */
export function runShell(cmd: string, timeoutMs: number, maxOutput = MAX_CMD_OUTPUT): Promise<string> {
  return new Promise((resolve, reject) => {
    // detached: its own process group, so a timeout kills the pipeline, not only the shell.
    const child = spawn('/bin/sh', ['-c', cmd], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const out: Buffer[] = [];
    let outLen = 0;
    let err = '';
    let failed: string | undefined;
    const kill = (why: string) => {
      failed ??= why;
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    };
    const timer = setTimeout(() => kill(`no answer within ${timeoutMs} ms (killed)`), timeoutMs);
    child.stdout.on('data', (d: Buffer) => {
      outLen += d.length;
      if (outLen > maxOutput) return kill(`printed more than ${maxOutput} bytes (killed)`);
      out.push(d);
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      if (err.length < MAX_CMD_STDERR) err += d.slice(0, MAX_CMD_STDERR - err.length);
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot run it: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (failed) return reject(new Error(failed));
      if (code !== 0) {
        const first = err.trim().split('\n')[0]?.slice(0, 200);
        return reject(new Error(`exit ${code ?? signal}${first ? ': ' + first : ''}`));
      }
      resolve(Buffer.concat(out).toString('utf8'));
    });
  });
}

export interface Poller {
  /** Run now (the first run happens at start). Resolves when this run is over. */
  runNow(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Run `cmd` every `intervalMs` (never two at once) and hand its output to `use`. A failure of
 * the command or of `use` is logged at WRN once, when a failure streak starts; the streak's end
 * is logged at INF. The command's text is never logged: it may carry an RPC password.
 */
export function startPoller(opts: {
  name: string;
  cmd: string;
  intervalMs: number;
  timeoutMs: number;
  log: SubLogger;
  use(output: string): Promise<void>;
}): Poller {
  let failing = false;
  let failures = 0;
  let stopped = false;
  let current: Promise<void> | undefined;
  const once = async () => {
    try {
      const out = await runShell(opts.cmd, opts.timeoutMs);
      if (stopped) return;
      await opts.use(out);
      if (failing) opts.log.info(`${opts.name} works again after ${failures} failed run${failures === 1 ? '' : 's'}`);
      failing = false;
      failures = 0;
    } catch (e) {
      failures++;
      if (!failing) opts.log.warn(`${opts.name} failed: ${e instanceof Error ? e.message : String(e)} (logged once until it works again; the node goes on)`);
      failing = true;
    }
  };
  const run = (): Promise<void> => (current ??= once().finally(() => (current = undefined)));
  const timer = setInterval(() => void run(), opts.intervalMs);
  timer.unref?.();
  void run();
  return {
    runNow: run,
    async stop() {
      stopped = true;
      clearInterval(timer);
      if (current) await current;
    },
  };
}

/** A command's output as a block height: one number (`bitcoin-cli getblockcount`, `jq .block_height`). */
export function parseHeightOutput(out: string): number {
  const t = out.trim().replace(/^"(.*)"$/, '$1');
  if (!/^\d{1,10}$/.test(t) || Number(t) > 0xffffffff) throw new Error(`output is not a block height: ${JSON.stringify(t.length > 40 ? t.slice(0, 40) + '…' : t)}`);
  return Number(t);
}

export interface FileWatcher {
  stop(): Promise<void>;
}

/**
 * Watch a file and call `onContent` with its bytes each time a write to it has completed:
 * when it has been quiet for `debounceMs` and two stats taken around the read agree (size,
 * mtime, inode), so a half-written file is never read as a whole one. The directory is watched,
 * not the file, so both ways of updating are seen: replace-by-rename (lnd writes channel.backup
 * to a temp file and renames it over) and rewrite in place. A slow poll backs up the watcher,
 * which some file systems do not feed. Identical content is handed over once.
 */
export function watchFile(opts: {
  path: string;
  debounceMs: number;
  /** How often the file is looked at even without an event. */
  pollMs?: number;
  /** A larger file is not read (logged once until its size changes): what the file can make the node read. */
  maxBytes: number;
  /** sha256 (hex) of the content already handed over before this start: the same content is not sent again. */
  initialHash?: string | undefined;
  log: SubLogger;
  onContent(bytes: Uint8Array): Promise<void>;
}): FileWatcher {
  const { path, log } = opts;
  const name = basename(path);
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let running: Promise<void> | undefined;
  let again = false;
  let lastHash: string | undefined = opts.initialHash;
  let lastMissing = false;
  let lastTooLarge: number | undefined;
  const same = (a: Stats, b: Stats) => a.size === b.size && a.mtimeMs === b.mtimeMs && a.ino === b.ino;

  const check = async (): Promise<void> => {
    let before: Stats;
    try {
      before = statSync(path);
    } catch (e) {
      if (!lastMissing) log.warn(`--backup-file ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file (yet)' : (e as NodeJS.ErrnoException).code}; waiting for it`);
      lastMissing = true;
      return;
    }
    lastMissing = false;
    if (before.size > opts.maxBytes) {
      if (lastTooLarge !== before.size) log.error(`--backup-file ${path} is ${before.size} bytes; at most ${opts.maxBytes} fit in one sealed backup: not read, the current backup stays`);
      lastTooLarge = before.size;
      return;
    }
    lastTooLarge = undefined;
    // Still being written: its mtime is younger than the quiet period. Look again later. (An
    // mtime in the future, a clock set back, would never age: the stats around the read guard it.)
    const age = Date.now() - before.mtimeMs;
    if (age >= 0 && age < opts.debounceMs) return schedule(opts.debounceMs);
    let bytes: Uint8Array;
    try {
      const b = readFileSync(path);
      if (b.length > opts.maxBytes) return schedule(opts.debounceMs);
      bytes = new Uint8Array(b.buffer, b.byteOffset, b.length);
    } catch (e) {
      log.warn(`--backup-file ${path}: cannot read it: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
      return;
    }
    let after: Stats;
    try {
      after = statSync(path);
    } catch {
      return schedule(opts.debounceMs);
    }
    if (!same(before, after) || bytes.length !== after.size) return schedule(opts.debounceMs);
    const hash = createHash('sha256').update(bytes).digest('hex');
    if (hash === lastHash) return;
    lastHash = hash;
    await opts.onContent(bytes);
  };

  const fire = () => {
    timer = undefined;
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = check()
      .catch((e) => log.error(`--backup-file ${path}: ${e instanceof Error ? e.message : String(e)}`))
      .finally(() => {
        running = undefined;
        if (again && !stopped) {
          again = false;
          schedule(opts.debounceMs);
        }
      });
  };
  function schedule(ms: number): void {
    if (stopped) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(fire, ms);
  }

  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dirname(path), { persistent: false }, (_event, file) => {
      if (file === null || file === name || String(file) === name) schedule(opts.debounceMs);
    });
    watcher.on('error', (e) => log.warn(`--backup-file: watching ${dirname(path)} failed (${e.message}); polling only`));
  } catch (e) {
    log.warn(`--backup-file: cannot watch ${dirname(path)} (${(e as NodeJS.ErrnoException).code ?? String(e)}); polling only`);
  }
  const poll = setInterval(() => {
    if (!timer && !running) fire();
  }, opts.pollMs ?? 30_000);
  poll.unref?.();
  // The file as it is at start: our backup follows it from the first moment.
  schedule(0);
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      clearInterval(poll);
      watcher?.close();
      if (running) await running;
    },
  };
}
