// The node's log, one line per event in lnd's layout, so operators can read it with the same
// eyes and tools: `2026-11-25 13:40:00.123 [INF] PEER: message`.
//
// The core never prints: the sink is a function handed in by the command (it writes to stdout
// in `lnps serve`, to an array in tests). Secrets never reach a log line: callers log public
// keys, lengths, hashes and seqs, never key bytes or plaintext.
import { UsageError } from '../errors.js';

export type Level = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'critical' | 'off';
const ORDER: Record<Level, number> = { trace: 0, debug: 1, info: 2, warn: 3, error: 4, critical: 5, off: 6 };
const TAG: Record<Exclude<Level, 'off'>, string> = { trace: 'TRC', debug: 'DBG', info: 'INF', warn: 'WRN', error: 'ERR', critical: 'CRT' };
export const LEVELS = Object.keys(ORDER) as Level[];

export type Sink = (line: string) => void;

export interface LogLevels {
  /** The level of every subsystem without its own. */
  base: Level;
  /** Per-subsystem levels, keyed by the subsystem tag (PEER, SRVR, ...). */
  subsystems: Record<string, Level>;
}

/**
 * Parse a `--debuglevel` value the way lnd reads it: either one level for everything
 * (`debug`), or comma-separated `SUBSYSTEM=level` pairs, optionally with a bare level first
 * (`info,PEER=debug`).
 */
export function parseDebugLevel(spec: string): LogLevels {
  const out: LogLevels = { base: 'info', subsystems: {} };
  for (const part of spec.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const eq = part.indexOf('=');
    const level = (eq < 0 ? part : part.slice(eq + 1)).toLowerCase();
    if (!(level in ORDER))
      throw new UsageError(`--debuglevel: unknown level ${JSON.stringify(level)}; use one of ${LEVELS.join(', ')}`);
    if (eq < 0) out.base = level as Level;
    else {
      const sub = part.slice(0, eq).trim().toUpperCase();
      if (!/^[A-Z0-9]{1,8}$/.test(sub)) throw new UsageError(`--debuglevel: bad subsystem name ${JSON.stringify(part.slice(0, eq))}`);
      out.subsystems[sub] = level as Level;
    }
  }
  return out;
}

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

/** Local time as lnd prints it: `2026-11-25 13:40:00.123`. */
export function formatTime(d: Date): string {
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`
  );
}

/**
 * Unicode control (Cc: C0, DEL, C1 such as U+0085 and U+009B), format (Cf: bidi overrides such
 * as U+202E, zero-width characters), line and paragraph separators (Zl U+2028, Zp U+2029), and
 * lone surrogates (Cs). A peer-supplied string holding one could forge a second log line,
 * reorder what a terminal shows, or hide text.
 */
const UNSAFE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/gu;

/**
 * Make a string safe for one log line: a newline becomes a space, every other unsafe character
 * (see UNSAFE) becomes a visible escape (`\x1b`, `\u202e`), so the line shows that something
 * was there without acting on the terminal.
 */
export function sanitize(s: string): string {
  return s.replace(UNSAFE, (c) => {
    if (c === '\n') return ' ';
    const cp = c.codePointAt(0)!;
    return cp <= 0xff ? `\\x${cp.toString(16).padStart(2, '0')}` : `\\u${cp.toString(16).padStart(4, '0')}`;
  });
}

/** Longest log line in bytes (UTF-8, without its newline); a longer message is cut with a mark. */
export const MAX_LINE_BYTES = 1024;
const CUT_MARK = ' …[cut]';

/** Cut `line` to at most MAX_LINE_BYTES of UTF-8, on a character boundary. */
export function capLine(line: string): string {
  if (line.length <= MAX_LINE_BYTES / 3 || Buffer.byteLength(line, 'utf8') <= MAX_LINE_BYTES) return line;
  const room = MAX_LINE_BYTES - Buffer.byteLength(CUT_MARK, 'utf8');
  const buf = Buffer.from(line.slice(0, MAX_LINE_BYTES), 'utf8');
  let end = Math.min(room, buf.length);
  // Step back over UTF-8 continuation bytes so no character is split.
  while (end > 0 && (buf[end]! & 0xc0) === 0x80) end--;
  return buf.subarray(0, end).toString('utf8') + CUT_MARK;
}

export class Logger {
  constructor(
    private readonly sink: Sink,
    private levels: LogLevels = { base: 'info', subsystems: {} },
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** The levels in force (a copy). */
  getLevels(): LogLevels {
    return { base: this.levels.base, subsystems: { ...this.levels.subsystems } };
  }

  /** Change levels at run time (`lnps debuglevel`, SIGHUP). */
  setLevels(levels: LogLevels): void {
    this.levels = { base: levels.base, subsystems: { ...levels.subsystems } };
  }

  enabled(sub: string, level: Level): boolean {
    const min = this.levels.subsystems[sub] ?? this.levels.base;
    return ORDER[level] >= ORDER[min] && level !== 'off';
  }

  log(sub: string, level: Exclude<Level, 'off'>, message: string): void {
    if (!this.enabled(sub, level)) return;
    this.sink(capLine(`${formatTime(this.now())} [${TAG[level]}] ${sub}: ${sanitize(message)}`));
  }

  /** A logger bound to one subsystem tag. */
  sub(tag: string): SubLogger {
    return new SubLogger(this, tag);
  }
}

export class SubLogger {
  constructor(private readonly root: Logger, readonly tag: string) {}
  trace(m: string): void {
    this.root.log(this.tag, 'trace', m);
  }
  debug(m: string): void {
    this.root.log(this.tag, 'debug', m);
  }
  info(m: string): void {
    this.root.log(this.tag, 'info', m);
  }
  warn(m: string): void {
    this.root.log(this.tag, 'warn', m);
  }
  error(m: string): void {
    this.root.log(this.tag, 'error', m);
  }
  critical(m: string): void {
    this.root.log(this.tag, 'critical', m);
  }
  enabled(level: Level): boolean {
    return this.root.enabled(this.tag, level);
  }
  /** The same subsystem with its info and warning lines written at debug level. */
  quiet(): SubLogger {
    return new QuietSubLogger(this.root, this.tag);
  }
}

/** A source over its log budget: errors still show, the rest only at debug level. */
class QuietSubLogger extends SubLogger {
  override info(m: string): void {
    this.debug(m);
  }
  override warn(m: string): void {
    this.debug(m);
  }
  override quiet(): SubLogger {
    return this;
  }
}

/** A logger that drops everything: for library use without a sink. */
export const silentLogger = new Logger(() => {}, { base: 'off', subsystems: {} });
