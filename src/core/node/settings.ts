// The node's effective settings: each one from a flag, else lnps.conf, else its default, with
// where it came from (getinfo shows both). The same resolution runs at start, on SIGHUP (the
// file is read again; flags still win) and for offline `getinfo`, so they can never disagree.
import { hostname } from 'node:os';
import { UsageError } from '../errors.js';
import { toHex } from '../bytes.js';
import { parsePubkey } from '../keys.js';
import { DEFAULT_SETTINGS, providerSettings, STORAGE_POLICIES, type ProviderSettings, type StoragePolicy } from '../provider/policy.js';
import { CONFIG_KEYS, LNPS_DEFAULT_PORT, parseBool, parseDuration, parseHostPort, type ConfigKey, type ConfigValues } from './config.js';
import { parseDebugLevel, type LogLevels } from './log.js';
import { DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_CONNECTIONS_PER_IP } from './node.js';

export type SettingSource = 'default' | 'file' | 'flag';

/** Every setting as text (lists as arrays), with its source. */
export interface RawSettings {
  values: Record<ConfigKey, string[]>;
  sources: Record<ConfigKey, SettingSource>;
  /** The config file read, named in errors about its values. */
  confPath: string;
}

/** Defaults as the text a flag would carry; an empty list means "not set". */
export const DEFAULTS: Record<ConfigKey, string[]> = {
  network: ['mainnet'],
  'key-file': [],
  listen: [`0.0.0.0:${LNPS_DEFAULT_PORT}`],
  connect: [],
  'storage-policy': [DEFAULT_SETTINGS.policy],
  allow: [],
  'max-peers': [String(DEFAULT_SETTINGS.maxPeers)],
  'max-bytes': [String(DEFAULT_SETTINGS.maxBytes)],
  'max-blob-bytes': [String(DEFAULT_SETTINGS.maxBlobLen)],
  'max-connections': [String(DEFAULT_MAX_CONNECTIONS)],
  'max-connections-per-ip': [String(DEFAULT_MAX_CONNECTIONS_PER_IP)],
  cooldown: ['1s'],
  'retention-blocks': [String(DEFAULT_SETTINGS.retentionBlocks)],
  'retention-interval': ['10m'],
  'provide-storage': ['true'],
  'ping-interval': ['60s'],
  'pong-timeout': ['30s'],
  'handshake-timeout': ['10s'],
  'reconnect-delay': ['1s'],
  'retrieval-timeout': ['10s'],
  'shard-move-after': ['24h'],
  'confirm-delay': ['5s'],
  'confirm-interval': ['1m'],
  debuglevel: ['info'],
  'log-file': [],
  'backup-file': [],
  'backup-debounce': ['1s'],
  'height-cmd': [],
  'height-interval': ['1m'],
  'channels-cmd': [],
  'channels-interval': ['10m'],
  'cmd-timeout': ['30s'],
  'metrics-listen': [],
};

/** Settings a SIGHUP applies to the running node; the others take effect on the next start. */
export const RELOADABLE: ReadonlySet<ConfigKey> = new Set<ConfigKey>([
  'debuglevel',
  'storage-policy',
  'allow',
  'max-peers',
  'max-bytes',
  'max-blob-bytes',
  'cooldown',
  'retention-blocks',
]);

/** Flags win over the file, the file over defaults. `flags` holds only what was given on the command line. */
export function resolveSettings(flags: ConfigValues, conf: ConfigValues, confPath: string): RawSettings {
  const values = {} as Record<ConfigKey, string[]>;
  const sources = {} as Record<ConfigKey, SettingSource>;
  for (const k of Object.keys(CONFIG_KEYS) as ConfigKey[]) {
    const f = flags[k];
    const c = conf[k];
    if (f !== undefined) [values[k], sources[k]] = [f, 'flag'];
    else if (c !== undefined) [values[k], sources[k]] = [c, 'file'];
    else [values[k], sources[k]] = [DEFAULTS[k], 'default'];
  }
  return { values, sources, confPath };
}

/** What getinfo prints: each setting's value (a string, a list, or null when unset) and source. */
export function settingsReport(raw: RawSettings): Record<string, { value: string | string[] | null; source: SettingSource }> {
  const out: Record<string, { value: string | string[] | null; source: SettingSource }> = {};
  for (const k of Object.keys(CONFIG_KEYS) as ConfigKey[]) {
    const v = raw.values[k];
    out[k] = { value: CONFIG_KEYS[k] === 'list' ? v : (v[v.length - 1] ?? null), source: raw.sources[k] };
  }
  return out;
}

/** The typed node settings `lnps serve` runs with. */
export interface NodeSettings {
  listen: { host: string; port: number }[];
  connect: string[];
  provider: ProviderSettings;
  provideStorage: boolean;
  levels: LogLevels;
  debuglevel: string;
  timeouts: { handshakeMs: number; initMs: number; retrievalMs: number; pingIntervalMs: number; pongTimeoutMs: number; reconnectMs: number };
  retentionIntervalMs: number;
  shardMoveAfterMs: number;
  logFile: string | undefined;
  backupFile: string | undefined;
  backupDebounceMs: number;
  heightCmd: string | undefined;
  heightIntervalMs: number;
  channelsCmd: string | undefined;
  channelsIntervalMs: number;
  cmdTimeoutMs: number;
  metricsListen: { host: string; port: number } | undefined;
  maxConnections: number;
  maxConnectionsPerIp: number;
  confirm: { delayMs: number; intervalMs: number };
}

/**
 * Check and type every setting. A bad value is exit 2, naming the flag (`--cooldown`) or the
 * file and key (`/path/lnps.conf: cooldown`).
 */
export function nodeSettings(raw: RawSettings): NodeSettings {
  const name = (k: ConfigKey) => (raw.sources[k] === 'file' ? `${raw.confPath}: ${k}` : `--${k}`);
  const one = (k: ConfigKey): string | undefined => {
    const v = raw.values[k];
    return v.length === 0 ? undefined : v[v.length - 1];
  };
  const usage = <T>(k: ConfigKey, f: () => T): T => {
    try {
      return f();
    } catch (e) {
      throw e instanceof UsageError ? e : new UsageError(e instanceof Error ? e.message : String(e));
    }
  };
  const int = (k: ConfigKey): number => {
    const v = one(k)!;
    if (!/^\d{1,15}$/.test(v)) throw new UsageError(`${name(k)} must be a non-negative integer, got ${JSON.stringify(v)}`);
    return Number(v);
  };
  const dur = (k: ConfigKey, min = 1): number => {
    const ms = usage(k, () => parseDuration(one(k)!, name(k)));
    if (ms < min) throw new UsageError(`${name(k)} must be at least ${min} ms`);
    return ms;
  };
  const text = (k: ConfigKey): string | undefined => {
    const v = one(k)?.trim();
    return v === undefined || v === '' ? undefined : v;
  };

  // lnd's convention: an empty listen= (or false) means do not listen.
  const listenValues = raw.values.listen;
  const listen =
    listenValues.some((l) => l === '' || l === 'false')
      ? []
      : listenValues.map((l) => usage('listen', () => parseHostPort(l.trim(), name('listen'), LNPS_DEFAULT_PORT)));

  const policy = one('storage-policy')!;
  if (!STORAGE_POLICIES.includes(policy as StoragePolicy))
    throw new UsageError(`${name('storage-policy')} must be one of ${STORAGE_POLICIES.join(', ')}, got ${JSON.stringify(policy)}`);
  const allowlist = new Set(
    raw.values.allow.map((a) => {
      const t = a.trim().toLowerCase();
      return toHex(usage('allow', () => parsePubkey(t, name('allow'))));
    }),
  );
  const provider = usage('cooldown', () =>
    providerSettings({
      policy: policy as StoragePolicy,
      allowlist,
      maxPeers: int('max-peers'),
      maxBytes: int('max-bytes'),
      maxBlobLen: int('max-blob-bytes'),
      cooldownMs: usage('cooldown', () => parseDuration(one('cooldown')!, name('cooldown'))),
      retentionBlocks: int('retention-blocks'),
    }),
  );
  const debuglevel = one('debuglevel')!;
  const levels = usage('debuglevel', () => parseDebugLevel(debuglevel));
  const handshake = dur('handshake-timeout');
  const atLeastOne = (k: ConfigKey): number => {
    const n = int(k);
    if (n < 1) throw new UsageError(`${name(k)} must be at least 1`);
    return n;
  };
  const metrics = text('metrics-listen');
  return {
    listen,
    connect: raw.values.connect.map((c) => c.trim()),
    provider,
    provideStorage: usage('provide-storage', () => parseBool(one('provide-storage')!, name('provide-storage'))),
    levels,
    debuglevel,
    timeouts: {
      handshakeMs: handshake,
      initMs: handshake,
      retrievalMs: dur('retrieval-timeout'),
      pingIntervalMs: dur('ping-interval'),
      pongTimeoutMs: dur('pong-timeout'),
      reconnectMs: dur('reconnect-delay'),
    },
    retentionIntervalMs: dur('retention-interval', 100),
    shardMoveAfterMs: dur('shard-move-after', 100),
    logFile: text('log-file'),
    backupFile: text('backup-file'),
    backupDebounceMs: dur('backup-debounce', 10),
    heightCmd: text('height-cmd'),
    heightIntervalMs: dur('height-interval', 100),
    channelsCmd: text('channels-cmd'),
    channelsIntervalMs: dur('channels-interval', 100),
    cmdTimeoutMs: dur('cmd-timeout', 100),
    confirm: { delayMs: dur('confirm-delay', 100), intervalMs: dur('confirm-interval') },
    maxConnections: atLeastOne('max-connections'),
    maxConnectionsPerIp: atLeastOne('max-connections-per-ip'),
    metricsListen: metrics === undefined ? undefined : usage('metrics-listen', () => parseHostPort(metrics, name('metrics-listen'))),
  };
}

/**
 * The addresses to give other operators: `pubkey@host:port` per listener. A wildcard listener
 * (0.0.0.0, ::) is shown with this machine's host name, the best guess lnps can make; an
 * operator behind NAT shares their public name instead.
 */
export function shareableUris(pubkey: string, listen: { host: string; port: number }[]): string[] {
  return listen.map(({ host, port }) => {
    const h = host === '0.0.0.0' || host === '::' ? hostname() : host;
    return `${pubkey}@${h.includes(':') ? '[' + h + ']' : h}:${port}`;
  });
}

/** Settings whose value differs between two resolutions, for the SIGHUP log. */
export function changedSettings(before: RawSettings, after: RawSettings): ConfigKey[] {
  return (Object.keys(CONFIG_KEYS) as ConfigKey[]).filter((k) => before.values[k].join('\n') !== after.values[k].join('\n'));
}
