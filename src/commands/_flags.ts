// The form of every flag value and positional argument, checked while commander parses the
// command line, before any command runs (README, "Exit codes"): a value outside its form or
// range is a wrong command line, exit 2, and nothing is read, opened or sent.
//
// The checks are attached by name to every command in src/cli.ts, so a command that declares
// `--height`, `--peer` or a `<pubkey>` argument gets the same check as every other one, and a flag
// this table does not know still gets the rule every value flag follows: it is not empty.
// Commands still parse the values themselves; this only makes sure a wrong one never gets that
// far. Flags that carry data rather than settings (the hex of a message or blob, the text of a
// warning) are in DATA_FLAGS: what is wrong in them is wrong data, exit 1, found by the command.
//
// Kept light: it runs on every command that loads commander, so it loads nothing else.
import { InvalidArgumentError, type Command } from 'commander';

type Check = (value: string) => void;

const fail = (msg: string): never => {
  throw new InvalidArgumentError(msg);
};
const quote = (v: string) => JSON.stringify(v.length > 80 ? v.slice(0, 80) + '…' : v);

// ---- the forms ----

/** A block height: a whole number that fits a u32. */
export function checkHeight(name: string): Check {
  return (v) => {
    if (!/^\d{1,10}$/.test(v) || Number(v) > 0xffffffff) fail(`${name} must be a block height (a whole number, 0 to 4294967295), got ${quote(v)}`);
  };
}

/** A whole number in min..max. */
export function checkInt(name: string, min: number, max = Number.MAX_SAFE_INTEGER): Check {
  return (v) => {
    if (!/^\d{1,16}$/.test(v) || Number(v) < min || Number(v) > max) fail(`${name} must be a whole number from ${min} to ${max}, got ${quote(v)}`);
  };
}

/** A u64 in decimal (a seq). */
export function checkU64(name: string): Check {
  return (v) => {
    if (!/^\d{1,20}$/.test(v) || BigInt(v) > 0xffff_ffff_ffff_ffffn) fail(`${name} must be a whole number from 0 to 2^64-1, got ${quote(v)}`);
  };
}

// secp256k1: y^2 = x^3 + 7 over the field of p. A compressed key names a point when x < p and
// x^3 + 7 is a square mod p (Euler's criterion); checked here in BigInt so that the check does
// not load the curve library at start-up.
const P = 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2fn;
function modPow(b: bigint, e: bigint, m: bigint): bigint {
  let r = 1n;
  b %= m;
  while (e > 0n) {
    if (e & 1n) r = (r * b) % m;
    b = (b * b) % m;
    e >>= 1n;
  }
  return r;
}
/** True when 66 hex digits are a compressed secp256k1 public key (02/03 ‖ x of a curve point). */
export function isCompressedPubkey(hex: string): boolean {
  if (!/^0[23][0-9a-fA-F]{64}$/.test(hex)) return false;
  const x = BigInt('0x' + hex.slice(2));
  if (x >= P) return false;
  const rhs = (modPow(x, 3n, P) + 7n) % P;
  return rhs === 0n || modPow(rhs, (P - 1n) / 2n, P) === 1n;
}

export function checkPubkey(name: string): Check {
  return (v) => {
    if (!/^0[23][0-9a-fA-F]{64}$/.test(v)) fail(`${name} must be a node public key (66 hex digits starting 02 or 03), got ${quote(v)}`);
    if (!isCompressedPubkey(v)) fail(`${name} ${v.toLowerCase()} is not a point on secp256k1`);
  };
}

/** HOST:PORT, [v6]:PORT, or a bare host when a default port applies; port 0 only to listen. */
function hostPortError(v: string, portRequired: boolean, allowZero: boolean): string | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^\s:@[\]/]+))(?::(\d{1,5}))?$/.exec(v);
  if (!m) return 'HOST:PORT';
  if (m[3] === undefined) return portRequired ? 'HOST:PORT (with a port)' : undefined;
  const port = Number(m[3]);
  if (port > 65535 || (port === 0 && !allowZero)) return `a port from ${allowZero ? 0 : 1} to 65535`;
  return undefined;
}

export function checkListen(name: string): Check {
  return (v) => {
    const e = hostPortError(v, false, true);
    if (e) fail(`${name} must be ${e}, got ${quote(v)}`);
  };
}

/** PUBKEY@HOST[:PORT]. */
export function checkPeerAddress(name: string): Check {
  return (v) => {
    const at = v.indexOf('@');
    if (at < 0) fail(`${name} must be PUBKEY@HOST:PORT, got ${quote(v)}`);
    checkPubkey(`${name}: the public key`)(v.slice(0, at));
    const e = hostPortError(v.slice(at + 1), false, false);
    if (e) fail(`${name} must be PUBKEY@HOST:PORT, with ${e}, got ${quote(v)}`);
  };
}

/** TXID:N as lnd prints a channel point. */
export function checkChanPoint(name: string): Check {
  return (v) => {
    const m = /^[0-9a-fA-F]{64}:(\d{1,10})$/.exec(v);
    if (!m || Number(m[1]) > 0xffffffff) fail(`${name} must be TXID:N (64 hex digits, a colon, an output index), got ${quote(v)}`);
  };
}

/** The longest a Node timer waits (about 24.8 days); a longer one fires at once. */
const TIMER_MAX_MS = 2 ** 31 - 1;

/** A duration: 500ms, 2s, 1m, 1h or a number of seconds, within min..max milliseconds. */
export function checkDuration(name: string, minMs = 1, maxMs = TIMER_MAX_MS): Check {
  const show = (ms: number) => (ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`);
  return (v) => {
    const m = /^(\d{1,12}(?:\.\d{1,3})?)(ms|s|m|h)?$/.exec(v);
    if (!m) fail(`${name} must be a duration like 500ms, 2s, 1m, 1h or a number of seconds, got ${quote(v)}`);
    const n = Number(m![1]);
    const unit = m![2] ?? 's';
    const ms = Math.round(unit === 'ms' ? n : unit === 's' ? n * 1000 : unit === 'm' ? n * 60_000 : n * 3_600_000);
    // Timers hold at most 2^31-1 ms (about 24.8 days): a longer wait would fire at once.
    if (ms > maxMs && maxMs === TIMER_MAX_MS) fail(`${name} must be at most ${TIMER_MAX_MS} ms (about 24 days, the longest a timer waits), got ${quote(v)}`);
    if (ms < minMs || ms > maxMs) fail(`${name} must be from ${show(minMs)} to ${show(maxMs)}, got ${quote(v)}`);
  };
}

/** K-of-N for a striped backup. */
export function checkStripe(name: string): Check {
  return (v) => {
    const m = /^\s*(\d{1,3})\s*-?of-?\s*(\d{1,3})\s*$/i.exec(v); // as parseStripeSpec reads it
    if (!m) fail(`${name} must be K-of-N, like 4-of-6, got ${quote(v)}`);
    const k = Number(m![1]);
    const n = Number(m![2]);
    if (k < 1 || k > 16 || n < k || n > 32) fail(`${name} ${v}: K must be 1 to 16 and N from K to 32`);
  };
}

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'critical', 'off'];
/** lnd's form: LEVEL, or LEVEL,SUBSYSTEM=LEVEL,... */
export function checkDebugLevel(name: string): Check {
  return (v) => {
    for (const part of v.split(',')) {
      const level = part.includes('=') ? part.slice(part.indexOf('=') + 1) : part;
      const sub = part.includes('=') ? part.slice(0, part.indexOf('=')) : 'x';
      if (!LEVELS.includes(level.toLowerCase()) || !/^[A-Za-z]{1,8}$/.test(sub))
        fail(`${name} must be a level (${LEVELS.join(', ')}) or SUBSYSTEM=level pairs, comma separated, got ${quote(v)}`);
    }
  };
}

/** A file or directory name: not empty, no NUL byte. */
export function checkPath(name: string): Check {
  return (v) => {
    if (v === '' || v.includes('\0')) fail(`${name} must be a file name, got ${quote(v)}`);
  };
}

/** The rule every value flag follows when nothing more is known of it. */
export function checkNotEmpty(name: string): Check {
  return (v) => {
    if (v.trim() === '') fail(`${name} needs a value, got ${quote(v)}`);
  };
}

// ---- the tables ----

/** Forms by flag, for every command that has the flag; `command --flag` keys win over `--flag`. */
export const FLAG_FORMS: Record<string, (name: string) => Check> = {
  '--height': checkHeight,
  '--peer': checkPubkey,
  'connect --peer': checkPeerAddress,
  '--allow': checkPubkey,
  '--connect': checkPeerAddress,
  '--listen': checkListen,
  '--chan-point': checkChanPoint,
  '--seq': checkU64,
  '--stripe': checkStripe,
  '--timeout': (n) => checkDuration(n),
  '--cooldown': (n) => checkDuration(n, 0, 60_000), // the spec's "one update per minute" at most
  '--retention-interval': (n) => checkDuration(n, 100),
  '--shard-move-after': (n) => checkDuration(n, 100),
  '--ping-interval': (n) => checkDuration(n),
  '--pong-timeout': (n) => checkDuration(n),
  '--retrieval-timeout': (n) => checkDuration(n),
  '--handshake-timeout': (n) => checkDuration(n),
  '--reconnect-delay': (n) => checkDuration(n),
  '--max-peers': (n) => checkInt(n, 0),
  '--max-bytes': (n) => checkInt(n, 0),
  '--max-blob-bytes': (n) => checkInt(n, 0, 65531),
  '--retention-blocks': (n) => checkInt(n, 0, 0xffffffff),
  '--debuglevel': checkDebugLevel,
  '--out': checkPath,
  '--file': checkPath,
  '--datadir': checkPath,
  '--key-file': checkPath,
  '--json': checkPath,
  '--blob-file': checkPath,
  '--listchannels': checkPath,
  '--closedchannels': checkPath,
  '--hsm-secret': checkPath,
  '--passphrase-file': checkPath,
};

/**
 * Flags whose value is data, not a setting: the bytes or text of the message `encode` builds
 * (its numbers and feature names are settings, checked by encode itself, exit 2).
 * What is wrong in them is wrong data (exit 1), found where the data is read.
 */
export const DATA_FLAGS: ReadonlySet<string> = new Set([
  'encode --blob',
  'encode --payload',
  'encode --data',
  'encode --data-hex',
  'encode --channel-id',
  'encode --remote-addr',
  'encode --networks',
]);

/** Forms by positional argument name. Data arguments (a message or blob as hex, a file to read) are left to the command. */
export const ARGUMENT_FORMS: Record<string, (name: string) => Check> = {
  pubkey: checkPubkey,
  height: checkHeight,
  'pubkey@host:port': checkPeerAddress,
  peers: checkPeerAddress,
  file: checkPath,
  paths: checkPath,
};

function formOf(cmd: Command, long: string): Check | undefined {
  const key = `${cmd.name()} ${long}`;
  if (DATA_FLAGS.has(key)) return undefined;
  const make = FLAG_FORMS[key] ?? FLAG_FORMS[long];
  return make ? make(long) : checkNotEmpty(long);
}

type Parser = (value: string, previous: unknown) => unknown;
interface Parsed {
  parseArg?: Parser;
  __lnpsForm?: true;
}

function wrap(check: Check, original: Parser | undefined, variadic: boolean): Parser {
  return (value, previous) => {
    check(value);
    if (original) return original(value, previous);
    // A parser on a variadic argument gathers the values itself.
    return variadic ? [...((previous as string[] | undefined) ?? []), value] : value;
  };
}

/**
 * Attach the form checks to a command's value flags and positional arguments. Options with fixed
 * choices are checked by commander already. Idempotent: a flag is wrapped once.
 */
export function applyForms(cmd: Command): void {
  for (const opt of cmd.options) {
    const o = opt as unknown as Parsed;
    if (o.__lnpsForm || !(opt.required || opt.optional) || opt.argChoices || !opt.long) continue;
    const check = formOf(cmd, opt.long);
    if (!check) continue;
    o.parseArg = wrap(check, o.parseArg, false);
    o.__lnpsForm = true;
  }
  for (const arg of cmd.registeredArguments) {
    const a = arg as unknown as Parsed;
    const make = ARGUMENT_FORMS[arg.name()];
    if (a.__lnpsForm || !make || arg.argChoices) continue;
    a.parseArg = wrap(make(arg.name().toUpperCase()), a.parseArg, arg.variadic);
    a.__lnpsForm = true;
  }
}
