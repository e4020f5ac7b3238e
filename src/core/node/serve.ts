// `lnps serve` without the terminal: open the database, take the pid file and the control
// socket, listen for peers, run retention, and stop cleanly. The command parses flags and the
// config file, handles signals and prints nothing itself; the log sink is the only output.
import type { Socket } from 'node:net';
import { toHex } from '../bytes.js';
import { InputError, StoreError, UsageError } from '../errors.js';
import { parsePubkey, publicKeyOf } from '../keys.js';
import { makePrivateDir, secureNodeDir, type NodePaths } from '../datadir.js';
import { deriveSealKey, type SealKey } from '../backup/seal.js';
import { CHAIN_HASH } from '../wire/registry.js';
import { acceptPeer, adoptAccepted, connectPeer, LocalKey, type PeerConnection } from '../transport/index.js';
import { openLevelKv } from '../store/level.js';
import { LnpsStore } from '../store/store.js';
import { Provider } from '../provider/provider.js';
import type { ProviderSettings } from '../provider/policy.js';
import { OPS, type OpContext } from '../service/ops.js';
import { bindNodeKey, recordedNotice } from '../service/create.js';
import { wireCodec } from './codec.js';
import { Consumer, OwnBackupFile } from './consumer.js';
import { checkSocketPath, connectControl, listenControl, type ControlServer } from './control.js';
import { parseDebugLevel, type Logger } from './log.js';
import { DEFAULT_CONFIRM, LnpsNode, type ConfirmSettings, type NodeTimeouts, type PeerInfo, type Transport } from './node.js';
import { removePidFile, runningPid, writePidFile } from './pidfile.js';
import { backupParams, backupSummary, listBackups, newBackup, nextSeq } from './backup.js';
import { StripeStore } from './stripe-store.js';
import { backupStatus } from './status.js';
import { makeKeeper, moveCheckInterval, stripedSummary, stripeParam } from './stripe-serve.js';
import { parsePeerAddress } from './peeraddr.js';
import type { MessageConn } from './types.js';
import { changedSettings, nodeSettings, RELOADABLE, settingsReport, shareableUris, type RawSettings } from './settings.js';
import { VERSION } from '../version.js';
import { join, resolve } from 'node:path';
import { createHash } from 'node:crypto';
import { MAX_PLAINTEXT, open as openSealed } from '../backup/seal.js';
import { parseChannelsJson } from '../service/channels-json.js';
import { formatChanPoint } from '../store/store.js';
import { COPY_STATES, listenMetrics, NodeMetrics, type MetricsServer } from './metrics.js';
import { parseHeightOutput, startPoller, watchFile, type FileWatcher, type Poller } from './inputs.js';

export interface ServeConfig {
  paths: NodePaths;
  secret: Uint8Array;
  /** Where to listen for peers (several listeners allowed); empty to only dial out. */
  listen: { host: string; port: number }[];
  provideStorage: boolean;
  provider: ProviderSettings;
  timeouts: NodeTimeouts;
  /** How often retention runs (ms). */
  retentionIntervalMs: number;
  /** Peers to keep connected (`--connect`, `connect=` in lnps.conf). */
  keep?: { pubkey: Uint8Array; host: string; port: number }[];
  /** Most inbound connections at once, and from one source address (defaults in node.ts). */
  maxConnections?: number | undefined;
  maxConnectionsPerIp?: number | undefined;
  /** A peer holding a shard of our striped backup and away this long has its shard moved (ms). */
  shardMoveAfterMs?: number;
  /** Read-back of our blob by reconnecting (default DEFAULT_CONFIRM). */
  confirm?: ConfirmSettings | undefined;
  log: Logger;
  /** The settings as resolved from flags, lnps.conf and defaults: getinfo reports them, SIGHUP diffs against them. */
  raw?: RawSettings;
  /** Live inputs from the Lightning node beside lnps (`--backup-file`, `--height-cmd`, `--channels-cmd`). */
  inputs?: LiveInputs;
  /** Serve Prometheus metrics here (`--metrics-listen`); off when absent. */
  metricsListen?: { host: string; port: number } | undefined;
}

export interface LiveInputs {
  backupFile?: string | undefined;
  backupDebounceMs: number;
  heightCmd?: string | undefined;
  heightIntervalMs: number;
  channelsCmd?: string | undefined;
  channelsIntervalMs: number;
  /** A command run still going after this is killed, with its whole process group. */
  cmdTimeoutMs: number;
}

/** Default time a shard holder may stay away before its shard moves: a day. */
export const DEFAULT_SHARD_MOVE_AFTER_MS = 24 * 3600_000;

export function pidPath(paths: NodePaths): string {
  return join(paths.networkDir, 'lnps.pid');
}

/** The BOLT #8 transport under the node's MessageConn. */
export function bolt8Transport(secret: Uint8Array): Transport {
  // Prepared once per node: no connection pays for parsing our static key.
  const localSecret = new LocalKey(secret);
  const adapt = (c: PeerConnection): MessageConn => ({
    remotePubkey: c.remotePubkey,
    remoteAddress: c.remoteAddress !== undefined ? `${c.remoteAddress.includes(':') ? '[' + c.remoteAddress + ']' : c.remoteAddress}:${c.remotePort}` : undefined,
    send: (m) => c.send(m),
    read: () => c.read(),
    close: () => void c.close(),
  });
  return {
    dial: async ({ host, port, remotePubkey, timeoutMs }) => adapt(await connectPeer({ host, port, remotePubkey, localSecret, timeoutMs })),
    accept: async (socket: Socket, { timeoutMs }) => adapt(await acceptPeer(socket, { localSecret, timeoutMs })),
    adopt: (socket: Socket) => adoptAccepted(socket),
  };
}

export interface RunningNode {
  node: LnpsNode;
  pubkey: string;
  /** The first bound p2p address, when listening. */
  address: { host: string; port: number } | null;
  /** Every bound p2p address. */
  addresses: { host: string; port: number }[];
  /** Resolves when the node has stopped (after stop()). */
  stopped: Promise<void>;
  /** Stop accepting, close peers, flush pending blobs, close the database. Idempotent. */
  stop(reason: string): Promise<void>;
  /**
   * Apply newly read settings (SIGHUP): log level, storage policy, allowlist, quotas and
   * cooldown change at once, connections stay up; other changes are logged as waiting for a
   * restart. Invalid settings are logged and change nothing.
   */
  reload(next: RawSettings): void;
}

export async function startNode(cfg: ServeConfig): Promise<RunningNode> {
  const { paths, log } = cfg;
  const srvr = log.sub('SRVR');
  const pidFile = pidPath(paths);
  // Before anything is opened: a socket path the system cannot bind is the operator's to fix.
  checkSocketPath(paths.socketPath);

  // One node per data directory and network: a node answering on the control socket says so
  // (and the database lock below would refuse a second one anyway).
  const live = await connectControl(paths.socketPath, 2000).catch(() => null);
  if (live) {
    const who = (await live.call('ping').catch(() => undefined)) as { pid?: number } | undefined;
    live.close();
    const pid = who?.pid ?? runningPid(pidFile);
    throw new StoreError('locked', `an lnps node is already running on ${paths.datadir} (${paths.network})${pid !== undefined ? `, pid ${pid}` : ''}`);
  }

  // The node's directories 0700 and its database files 0600; looser ones are tightened, and
  // the log says so.
  secureNodeDir(paths, (line) => srvr.warn(line));
  makePrivateDir(paths.networkDir);
  const kv = await openLevelKv(paths.dbPath, { pidFile, node: paths });
  const store = await LnpsStore.open(kv);
  const pubkeyBytes = publicKeyOf(cfg.secret);
  const pubkey = toHex(pubkeyBytes);
  // The database belongs to one node key; another key is refused before anything starts.
  try {
    if ((await bindNodeKey(store, paths, pubkeyBytes, Date.now())) === 'recorded') srvr.info(recordedNotice(paths, pubkeyBytes));
  } catch (e) {
    await store.close();
    throw e;
  }
  writePidFile(pidFile);

  const sealKey: SealKey = deriveSealKey(cfg.secret);
  const own = new OwnBackupFile(paths.networkDir, sealKey);
  const provider = new Provider(store, cfg.provider, {
    onError: (e, peer) => log.sub('STOR').error(`deferred write for ${peer} failed, will retry: ${e instanceof Error ? e.message : String(e)}`),
  });
  const stripes = new StripeStore(store);
  /** Where our backup stands, its records read from one snapshot (see backupStatus). */
  const statusNow = (connected: (peer: string) => boolean | null) => {
    const ownSeq = own.load()?.seq;
    return store.atSnapshot((snap) => backupStatus(snap, new StripeStore(snap), ownSeq, connected));
  };
  const consumer = new Consumer(own, store, sealKey, stripes);
  // Metrics read the node lazily, when scraped; `node` exists by then.
  const metrics: NodeMetrics | undefined = cfg.metricsListen
    ? new NodeMetrics({
        totals: () => store.totals(),
        dbWrites: () => kv.writes,
        connections: () => {
          const active = node.listPeers().filter((p) => p.state === 'active');
          const inbound = active.filter((p) => p.inbound).length;
          return { inbound, outbound: active.length - inbound };
        },
        backup: async () => {
          const connected = new Set(node.listPeers().filter((p) => p.state === 'active').map((p) => p.peer));
          const { versions, health } = await statusNow((peer) => connected.has(peer));
          const newest = versions[0];
          const copies = Object.fromEntries(COPY_STATES.map((k) => [k, newest ? newest[k].length : 0])) as Record<(typeof COPY_STATES)[number], number>;
          return { copies, health: health.status ?? 'none' };
        },
      })
    : undefined;
  const node: LnpsNode = new LnpsNode({
    events: metrics,
    chainHash: CHAIN_HASH[paths.network],
    provideStorage: cfg.provideStorage,
    timeouts: cfg.timeouts,
    codec: wireCodec,
    transport: bolt8Transport(cfg.secret),
    log,
    provider,
    consumer,
    maxConnections: cfg.maxConnections,
    maxConnectionsPerIp: cfg.maxConnectionsPerIp,
    confirm: cfg.confirm ?? DEFAULT_CONFIRM,
  });

  const keeper = makeKeeper({
    node,
    store,
    stripes,
    key: sealKey,
    log: log.sub('BKUP'),
    moveAfterMs: cfg.shardMoveAfterMs ?? DEFAULT_SHARD_MOVE_AFTER_MS,
    plainSeq: () => own.load()?.seq,
  });

  const startedAt = Date.now();
  let current = cfg.raw;
  let addresses: { host: string; port: number }[] = [];
  const ctx: OpContext = {
    store,
    paths,
    settings: cfg.provider,
    provider,
    now: Date.now,
    nodePubkey: () => pubkey,
    info: () => ({
      version: VERSION,
      uris: shareableUris(pubkey, addresses),
      connected_peers: node.listPeers().filter((p) => p.state === 'active').length,
      started_at: Math.floor(startedAt / 1000),
      uptime_s: Math.floor((Date.now() - startedAt) / 1000),
      pid: process.pid,
      log_levels: log.getLevels(),
      ...(current ? { settings: effectiveReport(current, paths) } : {}),
    }),
  };

  let retentionTimer: NodeJS.Timeout | undefined;
  let retentionRunning: Promise<void> | undefined;
  const retention = log.sub('RETN');
  const runRetention = async (): Promise<void> => {
    const h = await store.height();
    if (h === undefined) {
      retention.debug('no block height known yet (`lnps setheight H` or --height-cmd): retention waits');
      return;
    }
    let pruned = 0;
    const r = await OPS.prunepeerbackup!.run(ctx, { height: h.height }, {
      row: (row) => {
        pruned++;
        retention.debug(`pruned the blob of ${String(row.peer)} (retention over at height ${h.height})`);
      },
    });
    // One line per run at INF; the per-peer lines above are DBG, so a large prune cannot flood the log.
    metrics?.retention(pruned);
    retention.info(`retention at height ${h.height}: ${pruned} pruned, ${String(r.kept)} kept`);
  };
  const scheduleRetention = () => {
    if (retentionRunning) return;
    retentionRunning = runRetention()
      .catch((e) => retention.error(`retention failed: ${e instanceof Error ? e.message : String(e)}`))
      .finally(() => (retentionRunning = undefined));
  };

  // ---- live inputs from the Lightning node beside lnps ----
  const inpt = log.sub('INPT');
  /** A new version of our backup from --backup-file: sealed and sent as `lnps backup` does. */
  const backupFromFile = async (path: string, bytes: Uint8Array): Promise<void> => {
    if (stopping) return;
    const bkup = log.sub('BKUP');
    // An empty file replaces nothing: a good copy at every peer is worth more than an empty one.
    if (bytes.length === 0) return bkup.warn(`--backup-file ${path} is empty: not sealed; the current backup stays with the peers`);
    const b = newBackup(own, sealKey, { plaintext: bytes }, Date.now(), (await stripes.current())?.seq);
    bkup.info(`--backup-file ${path} changed: new backup seq ${b.seq} (${bytes.length} bytes, ${b.sealed.length} sealed)`);
    const placed = await node.placeBackup();
    const sent = placed.filter((x) => x.sent).length;
    if (sent === 0) bkup.warn(`backup seq ${b.seq} is sealed but no connected peer took it yet; each peer that stores gets it when it connects`);
    else bkup.info(`backup seq ${b.seq} sent to ${sent} peer${sent === 1 ? '' : 's'}`);
  };
  let heightSeen = false;
  /** Best height from --height-cmd: written only when it changed, then retention runs. */
  const heightFromCmd = async (out: string): Promise<void> => {
    const h = parseHeightOutput(out);
    const old = await store.height();
    const first = !heightSeen;
    heightSeen = true;
    if (old?.height !== h) await store.setHeight(h, Date.now());
    // The first height of this run at INF (retention runs from here on), every change after at DBG.
    if (first) inpt.info(`best height ${h} (from --height-cmd${old !== undefined && old.height !== h ? `, was ${old.height}` : ''}): retention can run`);
    else if (old?.height !== h) inpt.debug(`best height ${h} (from --height-cmd, was ${old?.height ?? 'unknown'})`);
    if (old?.height !== h) scheduleRetention();
  };
  /**
   * The channel registry from --channels-cmd. The output is the node's whole list, so a channel
   * open in the registry and missing from it has closed (lnd's listchannels drops a channel
   * once it closes): it is marked closed at the best known height. Memory: one string per
   * registry channel and per listed channel, the list itself bounded by MAX_CMD_OUTPUT.
   */
  const channelsFromCmd = async (out: string): Promise<void> => {
    const parsed = parseChannelsJson(out, '--channels-cmd output');
    const listed = new Set([...parsed.open, ...parsed.closed].map((c) => c.chan_point.toLowerCase()));
    const h = (await store.height())?.height;
    const vanished: { peer: string; chan_point: string; close_height: number | null }[] = [];
    for await (const c of store.channels()) {
      if (c.rec.state !== 'open') continue;
      const cp = formatChanPoint(c.chanPoint);
      if (!listed.has(cp.toLowerCase())) vanished.push({ peer: toHex(c.rec.peer), chan_point: cp, close_height: h ?? null });
    }
    const r = await OPS.importchannels!.run(ctx, { open: parsed.open, closed: [...parsed.closed, ...vanished] });
    const moved = Number(r.added) + Number(r.closed) + Number(r.updated);
    if (moved > 0) {
      inpt.info(`channels from --channels-cmd: ${String(r.added)} added, ${String(r.closed)} closed${vanished.length > 0 ? ` (${vanished.length} no longer listed)` : ''}, ${String(r.updated)} updated, ${String(r.unchanged)} unchanged`);
      scheduleRetention();
    } else inpt.debug(`channels from --channels-cmd: ${String(r.unchanged)} unchanged`);
  };
  const startInputs = (): void => {
    const i = cfg.inputs;
    if (!i) return;
    if (i.heightCmd !== undefined)
      pollers.push(startPoller({ name: '--height-cmd', cmd: i.heightCmd, intervalMs: i.heightIntervalMs, timeoutMs: i.cmdTimeoutMs, log: inpt, use: heightFromCmd }));
    if (i.channelsCmd !== undefined)
      pollers.push(startPoller({ name: '--channels-cmd', cmd: i.channelsCmd, intervalMs: i.channelsIntervalMs, timeoutMs: i.cmdTimeoutMs, log: inpt, use: channelsFromCmd }));
    if (i.backupFile !== undefined) {
      const path = resolve(i.backupFile);
      // The content our newest backup already holds is not sealed again at each start.
      const cur = own.load();
      const opened = cur ? openSealed(cur.sealed, sealKey) : undefined;
      const initialHash = opened?.ok ? createHash('sha256').update(opened.plaintext).digest('hex') : undefined;
      watcher = watchFile({ path, debounceMs: i.backupDebounceMs, maxBytes: MAX_PLAINTEXT, initialHash, log: inpt, onContent: (b) => backupFromFile(path, b) });
      inpt.info(`watching --backup-file ${path}`);
    }
  };

  const handler = async (method: string, params: Record<string, unknown>, c: { row(r: unknown): Promise<void> }): Promise<unknown> => {
    switch (method) {
      case 'op': {
        const name = params.name;
        if (typeof name !== 'string' || !OPS[name]) throw new UsageError(`unknown operation ${JSON.stringify(name)}`);
        const result = await OPS[name]!.run(ctx, params.params ?? {}, { row: (r) => c.row(r) });
        // The node was told a new height (setheight, or a channel command): retention follows it.
        if (name === 'setheight' || name === 'closechannel' || name === 'importchannels') scheduleRetention();
        return result;
      }
      case 'connect': {
        const { pubkey: pk, host, port } = parsePeerAddress(String(params.address ?? ''));
        return { peer: peerJson(await node.connect(pk, host, port)) };
      }
      case 'disconnect': {
        const pk = parsePubkey(String(params.peer ?? ''), 'peer');
        if (!node.disconnect(pk)) throw new InputError(`not connected to ${toHex(pk)}: see \`lnps listpeers\``, 'not_connected');
        return { peer: toHex(pk), disconnected: true };
      }
      case 'listpeers':
        return { peers: node.listPeers().map(peerJson) };
      case 'backup': {
        const p = backupParams(params);
        const only = p.peer !== undefined ? parsePubkey(p.peer, '--peer') : undefined;
        const st = stripeParam(params);
        const force = params.force === true;
        if (st && only) throw new UsageError('--stripe chooses its own peers: give --stripe or --peer, not both');
        if (only && !node.peer(only)) throw new InputError(`not connected to ${toHex(only)}: run \`lnps connect\` first`, 'not_connected');
        // The operator's --force is their word over earlier refusals of the connected peers.
        if (force) for (const peer of node.listPeers()) if (peer.refused !== null) await node.peer(Buffer.from(peer.peer, 'hex'))?.forgetRefusal();
        // Before anything is sealed or sent: can the new version be placed? If not, the current
        // one stays where it is (the own file is not replaced, no peer is sent anything).
        const active = node.listPeers().filter((x) => x.state === 'active');
        const accepting = active.filter((x) => x.provides_storage && x.refused === null && (!only || x.peer === toHex(only)));
        const needed = st ? st.n : 1;
        if (accepting.length < needed && !(force && !st)) throw new InputError(placementShortfall(active, accepting.length, needed, st), 'not_enough_peers');
        // Whose confirmed copies the new version replaces (each peer keeps one blob of ours).
        const before = await statusNow(() => null);
        const heldBy = new Map<string, string>();
        for (const v of before.versions) for (const peer of v.confirmed) if (!heldBy.has(peer)) heldBy.set(peer, v.seq);
        const replaces = (peers: string[]) => peers.filter((x) => heldBy.has(x)).map((x) => ({ peer: x, seq: heldBy.get(x)! }));
        if (st) {
          const seq = p.seq ?? nextSeq(await keeper.newestSeq(), Date.now());
          const r = await keeper.backup({ plaintext: p.plaintext, k: st.k, n: st.n, seq, pad: p.pad ?? 'full' });
          return { ...stripedSummary(r.version, r.placed), replaces: replaces(r.placed.filter((x) => x.sent).map((x) => x.peer)) };
        }
        const b = newBackup(own, sealKey, p, Date.now(), (await stripes.current())?.seq);
        log.sub('BKUP').info(`new backup seq ${b.seq} (${b.sealed.length} bytes sealed)`);
        const placed = (await node.placeBackup()).filter((r) => !only || r.peer === toHex(only));
        return { ...backupSummary(b), peers: placed, replaces: replaces(placed.filter((x) => x.sent).map((x) => x.peer)) };
      }
      case 'listbackups': {
        // One snapshot for the rows and the status, so a retrieval recorded meanwhile cannot make
        // a row disagree with the version computed beside it.
        const connected = new Set(node.listPeers().filter((p) => p.state === 'active').map((p) => p.peer));
        const ownSeq = own.load()?.seq;
        const { count, versions, health } = await store.atSnapshot(async (snap) => {
          const count = await listBackups(snap, (r) => c.row(r));
          return { count, ...(await backupStatus(snap, new StripeStore(snap), ownSeq, (peer) => connected.has(peer))) };
        });
        return { newest_seq: (await keeper.newestSeq())?.toString() ?? null, count, health, versions };
      }
      case 'ping':
        return { pubkey, pid: process.pid };
      case 'stop': {
        // Answer first, then stop: the client waits for the pid, socket and pid file to go.
        setImmediate(() => void stop('stop requested over the control socket'));
        return { stopping: true, pid: process.pid };
      }
      case 'debuglevel': {
        const level = params.level;
        const sub = params.subsystem;
        if (typeof level !== 'string') throw new UsageError('give a level: trace, debug, info, warn, error, critical, off');
        if (sub !== undefined && sub !== null && typeof sub !== 'string') throw new UsageError('subsystem must be a string');
        const parsed = parseDebugLevel(typeof sub === 'string' ? `${sub}=${level}` : level);
        const levels = log.getLevels();
        if (typeof sub === 'string') Object.assign(levels.subsystems, parsed.subsystems);
        else levels.base = parsed.base;
        log.setLevels(levels);
        srvr.info(`log level ${typeof sub === 'string' ? sub.toUpperCase() + ' ' : ''}set to ${level.toLowerCase()} (lnps debuglevel)`);
        return { log_levels: log.getLevels() };
      }
      default:
        throw new UsageError(`unknown control method ${JSON.stringify(method)}`);
    }
  };

  const pollers: Poller[] = [];
  let watcher: FileWatcher | undefined;
  let metricsServer: MetricsServer | undefined;
  let control: ControlServer | undefined;
  let address: { host: string; port: number } | null = null;
  let stopping: Promise<void> | undefined;
  let resolveStopped!: () => void;
  const stopped = new Promise<void>((r) => (resolveStopped = r));

  const stop = (reason: string): Promise<void> => {
    stopping ??= (async () => {
      srvr.info(`Shutting down (${reason})`);
      if (retentionTimer) clearInterval(retentionTimer);
      // No input starts anything new; a run under way finishes (a command is bounded by its timeout).
      await Promise.all([...pollers.map((p) => p.stop()), watcher?.stop()]);
      await keeper.stop();
      // Stop accepting and close every peer, so no blob arrives after the flush.
      await node.stop();
      try {
        const n = await provider.flush();
        if (n > 0) srvr.info(`Flushed ${n} pending blob${n === 1 ? '' : 's'}`);
        await provider.close();
      } catch (e) {
        srvr.error(`flushing pending blobs failed: ${e instanceof Error ? e.message : String(e)}`);
      }
      if (retentionRunning) await retentionRunning;
      if (metricsServer) await metricsServer.close();
      if (control) await control.close();
      // Closing the store closes its database handle.
      await store.close();
      removePidFile(pidFile);
      sealKey.wipe();
      srvr.info('Shutdown complete');
      resolveStopped();
    })();
    return stopping;
  };

  try {
    control = await listenControl(paths.socketPath, handler);
    for (const l of cfg.listen) addresses.push(await node.listen(l.host, l.port));
    address = addresses[0] ?? null;
    if (metrics && cfg.metricsListen) {
      metricsServer = await listenMetrics(metrics, cfg.metricsListen.host, cfg.metricsListen.port, (e) =>
        srvr.error(`metrics: ${e instanceof Error ? e.message : String(e)}`),
      );
      const m = metricsServer.address;
      srvr.info(`Metrics at http://${m.host.includes(':') ? '[' + m.host + ']' : m.host}:${m.port}/metrics`);
    }
  } catch (e) {
    await stop('start-up failed');
    throw e;
  }
  srvr.info(`lnps node ${pubkey} on ${paths.network}, providing storage: ${cfg.provideStorage ? 'yes (' + cfg.provider.policy + ')' : 'no'}`);
  srvr.info(`Control socket ${paths.socketPath}`);
  for (const k of cfg.keep ?? []) node.keepConnected(k.pubkey, k.host, k.port);
  keeper.start(moveCheckInterval(cfg.shardMoveAfterMs ?? DEFAULT_SHARD_MOVE_AFTER_MS));
  retentionTimer = setInterval(scheduleRetention, cfg.retentionIntervalMs);
  retentionTimer.unref?.();
  if ((await store.height()) === undefined)
    retention.warn('retention: waiting for height: no block height is known, so no blob is pruned until one is (--height-cmd, or `lnps setheight H`)');
  scheduleRetention();
  startInputs();

  const reload = (next: RawSettings): void => {
    let typed;
    try {
      typed = nodeSettings(next);
    } catch (e) {
      srvr.error(`reload: settings not applied, the node keeps its current ones: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    const before = current ?? next;
    const changed = current ? changedSettings(current, next) : [];
    if (changed.length === 0) srvr.info('reload: lnps.conf read again, nothing changed');
    const show = (v: string[]) => (v.length === 0 ? '(unset)' : v.join(', '));
    const applied = { ...before, values: { ...before.values }, sources: { ...before.sources } };
    for (const k of changed) {
      if (RELOADABLE.has(k)) {
        srvr.info(`reload: ${k} changed from ${show(before.values[k])} to ${show(next.values[k])}`);
        applied.values[k] = next.values[k];
        applied.sources[k] = next.sources[k];
      } else srvr.warn(`reload: ${k} changed from ${show(before.values[k])} to ${show(next.values[k])}; it takes effect on the next start`);
    }
    // Connections stay up: the provider reads its settings on each message.
    provider.settings = typed.provider;
    ctx.settings = typed.provider;
    if (changed.includes('debuglevel')) log.setLevels(typed.levels);
    current = applied;
  };

  return { node, pubkey, address, addresses, stopped, stop, reload };
}

/** getinfo's settings: the key file and network as the node uses them (paths resolved). */
function effectiveReport(raw: RawSettings, paths: NodePaths) {
  const r = settingsReport(raw);
  r['key-file'] = { value: paths.keyPath, source: raw.sources['key-file'] };
  r.network = { value: paths.network, source: raw.sources.network };
  return r;
}

/**
 * Why a new backup cannot be placed: how many connected peers store and have not refused, and
 * what each other connected peer lacks. Nothing was sent.
 */
export function placementShortfall(active: PeerInfo[], accepting: number, needed: number, stripe: { k: number; n: number } | undefined): string {
  const why = active
    .filter((p) => !p.provides_storage || p.refused !== null)
    .map((p) => `${p.peer} ${p.provides_storage ? `refused (${p.refused})` : 'does not advertise option_provide_storage'}`);
  const what = stripe ? `a ${stripe.k}-of-${stripe.n} backup needs ${needed} connected peers` : 'a backup needs a connected peer';
  return (
    `${what} that store and have not refused it, but ${accepting === 0 ? 'none does' : `only ${accepting} ${accepting === 1 ? 'does' : 'do'}`}` +
    `${why.length > 0 ? '; ' + why.join('; ') : active.length === 0 ? '; no peer is connected' : ''}: ` +
    `nothing was sent and the current backup stays where it is (connect more peers with \`lnps connect\`, or --force to send anyway${stripe ? ' to refused peers' : ''})`
  );
}

/** A peer as the control socket shows it: every time in Unix seconds, as in all lnps JSON. */
function peerJson<P extends { connected_at: number; last_received_at: number }>(p: P): P {
  return { ...p, connected_at: Math.floor(p.connected_at / 1000), last_received_at: Math.floor(p.last_received_at / 1000) };
}
