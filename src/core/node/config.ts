// `lnps.conf`: the node's settings in the data directory, read the way lnd reads lnd.conf:
// `key=value` lines, `#` or `;` comments, `[Section]` headers allowed and ignored. A key may
// repeat when the setting is a list (`allow=`, `listen=`). Flags on the command line override
// the file. This module is light (no key or crypto code): every command reads the file for
// `network` and `key-file`, including the ones that must start fast.
import { readFileSync } from 'node:fs';
import { InputError, StoreError, UsageError } from '../errors.js';

/**
 * The default port lnps listens on. Not 9735: that is the Lightning port of the lnd, Core
 * Lightning, eclair or LDK node that lnps runs beside, and 9736 is where Core Lightning's gRPC
 * plugin usually listens. 9737 is the next one, kept in the same range so a firewall rule for
 * the Lightning ports is easy to extend.
 */
export const LNPS_DEFAULT_PORT = 9737;

/**
 * Every setting: the `serve` flags (without `--`) plus the global `network` and `key-file`.
 * Anything else in the file is an error naming its line.
 */
export const CONFIG_KEYS = {
  network: 'single',
  'key-file': 'single',
  listen: 'list',
  connect: 'list',
  'storage-policy': 'single',
  allow: 'list',
  'max-peers': 'single',
  'max-bytes': 'single',
  'max-blob-bytes': 'single',
  'max-connections': 'single',
  'max-connections-per-ip': 'single',
  cooldown: 'single',
  'retention-blocks': 'single',
  'retention-interval': 'single',
  'provide-storage': 'single',
  'ping-interval': 'single',
  'pong-timeout': 'single',
  'handshake-timeout': 'single',
  'reconnect-delay': 'single',
  'retrieval-timeout': 'single',
  'shard-move-after': 'single',
  'confirm-delay': 'single',
  'confirm-interval': 'single',
  debuglevel: 'single',
  'log-file': 'single',
  'backup-file': 'single',
  'backup-debounce': 'single',
  'height-cmd': 'single',
  'height-interval': 'single',
  'channels-cmd': 'single',
  'channels-interval': 'single',
  'cmd-timeout': 'single',
  'metrics-listen': 'single',
} as const satisfies Record<string, 'single' | 'list'>;

export type ConfigKey = keyof typeof CONFIG_KEYS;
export type ConfigValues = Partial<Record<ConfigKey, string[]>>;

/**
 * Parse the text of a config file. `source` names the file in errors. A line the file cannot
 * mean (an unknown key, a single setting given twice) is exit 2, like an unknown flag.
 */
export function parseConfig(text: string, source = 'lnps.conf'): ConfigValues {
  const out: ConfigValues = {};
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    if (line.startsWith('[')) {
      if (!line.endsWith(']')) throw new UsageError(`${source} line ${i + 1}: unclosed section header`);
      continue;
    }
    const eq = line.indexOf('=');
    // lnd accepts a bare boolean key (`provide-storage`) as true.
    const key = (eq < 0 ? line : line.slice(0, eq)).trim().toLowerCase();
    const value = eq < 0 ? 'true' : line.slice(eq + 1).trim();
    if (!(key in CONFIG_KEYS)) {
      throw new UsageError(`${source} line ${i + 1}: unknown setting ${JSON.stringify(key.length > 40 ? key.slice(0, 40) + '…' : key)} (see lnps.conf.sample for every setting)`);
    }
    const k = key as ConfigKey;
    const list = (out[k] ??= []);
    if (CONFIG_KEYS[k] === 'single' && list.length > 0)
      throw new UsageError(`${source} line ${i + 1}: ${key} is set twice`);
    list.push(value);
  }
  return out;
}

/** Read the config file; a missing file is an empty config, an unreadable one an error. */
export function readConfig(path: string): ConfigValues {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return {};
    throw new StoreError('unavailable', `cannot read config file ${path}: ${code === 'EACCES' ? 'permission denied' : code}`);
  }
  return parseConfig(text, path);
}

/** A boolean setting: true/false, 1/0, yes/no. */
export function parseBool(value: string, name: string): boolean {
  const v = value.toLowerCase();
  if (v === 'true' || v === '1' || v === 'yes') return true;
  if (v === 'false' || v === '0' || v === 'no') return false;
  throw new InputError(`${name} must be true or false, got ${JSON.stringify(value)}`, 'bad_config');
}

/**
 * A duration: a number of seconds (`1.5`) or with a unit (`500ms`, `2s`, `1m`, `1h`), returned
 * in milliseconds. Units follow lnd's duration flags.
 */
export function parseDuration(value: string, name: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
  if (!m) throw new InputError(`${name} must be a duration like 500ms, 2s, 1m or a number of seconds, got ${JSON.stringify(value)}`, 'bad_config');
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  const ms = Math.round(unit === 'ms' ? n : unit === 's' ? n * 1000 : unit === 'm' ? n * 60_000 : n * 3_600_000);
  // A timer longer than this fires at once (Node clamps it to 1 ms): refuse it instead.
  if (!(ms <= MAX_DURATION_MS)) throw new UsageError(`${name} must be at most ${MAX_DURATION_MS} ms (about 24 days, the longest a timer waits), got ${JSON.stringify(value)}`);
  return ms;
}

/** The longest duration a timer can wait: 2^31 - 1 ms, about 24.8 days. */
export const MAX_DURATION_MS = 2 ** 31 - 1;

/** HOST:PORT, with `[v6]:port` for IPv6. Port 0 asks the system for a free port. */
export function parseHostPort(value: string, name: string, defaultPort?: number): { host: string; port: number } {
  let host: string;
  let portText: string | undefined;
  const v6 = /^\[([0-9a-fA-F:.]+)\](?::(\d+))?$/.exec(value);
  if (v6) {
    host = v6[1]!;
    portText = v6[2];
  } else {
    const i = value.lastIndexOf(':');
    if (i < 0) {
      host = value;
    } else {
      host = value.slice(0, i);
      portText = value.slice(i + 1);
    }
  }
  if (host === '' || /\s/.test(host)) throw new InputError(`${name}: expected HOST:PORT, got ${JSON.stringify(value)}`, 'bad_address');
  if (portText === undefined) {
    if (defaultPort === undefined) throw new InputError(`${name}: expected HOST:PORT, got ${JSON.stringify(value)}`, 'bad_address');
    return { host, port: defaultPort };
  }
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535)
    throw new InputError(`${name}: port must be 0 to 65535, got ${JSON.stringify(portText)}`, 'bad_address');
  return { host, port: Number(portText) };
}
