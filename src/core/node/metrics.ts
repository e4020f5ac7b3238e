// Prometheus metrics of the running node (`serve --metrics-listen HOST:PORT`, off by default),
// in the text exposition format at /metrics, through prom-client on a registry of our own.
//
// Cardinality is bounded by design: every label value comes from a closed set (a direction,
// an outcome, a refusal reason, a backup state), never a peer key or an address, so no peer
// can add a series. Counters count events as the node reports them (NodeEvents); gauges and
// the database write count are read from the store when scraped.
//
// What a scraper can make the node spend, also bounded: at most MAX_SCRAPE_CONNECTIONS
// connections, headers within HEADERS_TIMEOUT_MS, one collection at a time, and a collection
// at most every MIN_COLLECT_INTERVAL_MS (a faster scraper gets the last text again). A
// collection reads the store's totals and our backup's per-peer records (bounded by the peers
// we sent our backup to), never the stored blobs.
import { createServer, type Server } from 'node:http';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { NodeEvents } from './types.js';

const MAX_SCRAPE_CONNECTIONS = 8;
const HEADERS_TIMEOUT_MS = 5_000;
const REQUEST_TIMEOUT_MS = 10_000;
const MIN_COLLECT_INTERVAL_MS = 1_000;

/** The refusal reasons a label may carry; anything else is counted as `other`. */
const REFUSAL_REASONS = ['policy', 'quota_peers', 'quota_bytes', 'too_large', 'other'] as const;
/** Copy states of our newest backup, as `lnps listbackups` names them. */
export const COPY_STATES = ['confirmed', 'unconfirmed', 'missing', 'refused', 'pending'] as const;
/** Our backup's health, as `lnps listbackups` reports it; `none` when there is no backup yet. */
export const HEALTH_STATES = ['ok', 'at_risk', 'lost', 'none'] as const;
const DIRECTIONS = ['inbound', 'outbound'] as const;

/** What the metrics read from the node when scraped. */
export interface MetricsSources {
  totals(): Promise<{ peers: number; bytes: number }>;
  /** Database write batches committed since the database was opened. */
  dbWrites(): number;
  /** Active connections now, by direction. */
  connections(): { inbound: number; outbound: number };
  /** Our newest backup: how many peers hold each state of it, and its health. */
  backup(): Promise<{ copies: Record<(typeof COPY_STATES)[number], number>; health: (typeof HEALTH_STATES)[number] }>;
}

export class NodeMetrics implements NodeEvents {
  readonly registry = new Registry();
  private readonly received: Counter;
  private readonly stored: Counter;
  private readonly deferred: Counter;
  private readonly refused: Counter<'reason'>;
  private readonly failed: Counter;
  private readonly handshakes: Counter<'direction'>;
  private readonly handshakeFailures: Counter<'direction'>;
  private readonly connectionsTotal: Counter<'direction'>;
  private readonly inboundRefusedTotal: Counter;
  private readonly retentionRuns: Counter;
  private readonly retentionPruned: Counter;

  constructor(sources: MetricsSources) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.received = new Counter({ name: 'lnps_peer_storage_received_total', help: 'peer_storage messages received from peers', registers });
    this.stored = new Counter({ name: 'lnps_peer_storage_stored_total', help: 'peer_storage blobs written to the database at once', registers });
    this.deferred = new Counter({ name: 'lnps_peer_storage_deferred_total', help: 'peer_storage blobs held behind the per-peer cooldown, written when it ends', registers });
    this.refused = new Counter({ name: 'lnps_peer_storage_refused_total', help: 'peer_storage blobs refused, by reason', labelNames: ['reason'], registers });
    this.failed = new Counter({ name: 'lnps_peer_storage_errors_total', help: 'peer_storage blobs that failed to be handled (a database error)', registers });
    for (const reason of REFUSAL_REASONS) this.refused.inc({ reason }, 0);
    this.handshakes = new Counter({ name: 'lnps_handshakes_total', help: 'BOLT #8 handshakes completed, by direction', labelNames: ['direction'], registers });
    this.handshakeFailures = new Counter({ name: 'lnps_handshake_failures_total', help: 'BOLT #8 handshakes (or dials) that failed or timed out, by direction', labelNames: ['direction'], registers });
    this.connectionsTotal = new Counter({ name: 'lnps_connections_total', help: 'connections that became active (init exchanged), by direction', labelNames: ['direction'], registers });
    for (const direction of DIRECTIONS) {
      this.handshakes.inc({ direction }, 0);
      this.handshakeFailures.inc({ direction }, 0);
      this.connectionsTotal.inc({ direction }, 0);
    }
    this.inboundRefusedTotal = new Counter({ name: 'lnps_inbound_refused_total', help: 'inbound connections turned away by the connection limits', registers });
    this.retentionRuns = new Counter({ name: 'lnps_retention_runs_total', help: 'retention runs completed', registers });
    this.retentionPruned = new Counter({ name: 'lnps_retention_pruned_total', help: 'blobs removed by retention', registers });

    new Gauge({
      name: 'lnps_connections',
      help: 'active connections now, by direction',
      labelNames: ['direction'],
      registers,
      collect() {
        const c = sources.connections();
        for (const direction of DIRECTIONS) this.set({ direction }, c[direction]);
      },
    });
    new Counter({
      name: 'lnps_database_writes_total',
      help: 'database write batches committed since the node started',
      registers,
      collect() {
        this.reset();
        this.inc(sources.dbWrites());
      },
    });
    // Store totals and our backup's state are read once per collection, shared by their gauges.
    let snapshot: Promise<{ totals: { peers: number; bytes: number }; backup: Awaited<ReturnType<MetricsSources['backup']>> }> | undefined;
    const read = () => (snapshot ??= Promise.all([sources.totals(), sources.backup()]).then(([totals, backup]) => ({ totals, backup })));
    this.forget = () => (snapshot = undefined);
    new Gauge({
      name: 'lnps_peers_stored',
      help: 'peers whose blob the node holds',
      registers,
      async collect() {
        this.set((await read()).totals.peers);
      },
    });
    new Gauge({
      name: 'lnps_bytes_held',
      help: 'bytes of peer blobs the node holds',
      registers,
      async collect() {
        this.set((await read()).totals.bytes);
      },
    });
    new Gauge({
      name: 'lnps_backup_copies',
      help: 'peers by the state of their copy of our newest backup (confirmed by a read-back, unconfirmed, missing, refused, pending)',
      labelNames: ['state'],
      registers,
      async collect() {
        const b = (await read()).backup;
        for (const state of COPY_STATES) this.set({ state }, b.copies[state]);
      },
    });
    new Gauge({
      name: 'lnps_backup_health',
      help: 'our backup health: 1 for the current status (ok, at_risk, lost, or none when there is no backup), 0 for the others',
      labelNames: ['status'],
      registers,
      async collect() {
        const h = (await read()).backup.health;
        for (const status of HEALTH_STATES) this.set({ status }, status === h ? 1 : 0);
      },
    });
  }

  private readonly forget: () => void;

  // ---- NodeEvents ----
  peerStorage(status: string, reason?: string): void {
    this.received.inc();
    if (status === 'stored') this.stored.inc();
    else if (status === 'pending') this.deferred.inc();
    else if (status === 'refused') this.refused.inc({ reason: (REFUSAL_REASONS as readonly string[]).includes(reason ?? '') ? reason! : 'other' });
    else this.failed.inc();
  }
  handshake(direction: 'inbound' | 'outbound', ok: boolean): void {
    (ok ? this.handshakes : this.handshakeFailures).inc({ direction });
  }
  connection(direction: 'inbound' | 'outbound'): void {
    this.connectionsTotal.inc({ direction });
  }
  inboundRefused(): void {
    this.inboundRefusedTotal.inc();
  }
  retention(pruned: number): void {
    this.retentionRuns.inc();
    this.retentionPruned.inc(pruned);
  }

  /** The exposition text; at most one collection at a time, and at most one per MIN_COLLECT_INTERVAL_MS. */
  private last: { at: number; text: Promise<string> } | undefined;
  text(now = Date.now()): Promise<string> {
    if (this.last && now - this.last.at < MIN_COLLECT_INTERVAL_MS) return this.last.text;
    this.forget();
    const text = this.registry.metrics();
    this.last = { at: now, text };
    // A failed collection is not kept: the next scrape tries again.
    text.catch(() => (this.last = undefined));
    return text;
  }
}

export interface MetricsServer {
  address: { host: string; port: number };
  close(): Promise<void>;
}

/** Serve GET /metrics on HOST:PORT. Anything else is 404 (or 405 for another method). */
export async function listenMetrics(metrics: NodeMetrics, host: string, port: number, onError: (e: unknown) => void): Promise<MetricsServer> {
  const server: Server = createServer({ maxHeaderSize: 8192, headersTimeout: HEADERS_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS }, (req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found: the metrics are at /metrics\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('method not allowed\n');
      return;
    }
    metrics.text().then(
      (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(req.method === 'HEAD' ? undefined : text),
      (e: unknown) => {
        onError(e);
        res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end('metrics collection failed\n');
      },
    );
  });
  server.maxConnections = MAX_SCRAPE_CONNECTIONS;
  server.keepAliveTimeout = HEADERS_TIMEOUT_MS;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', onError);
  const a = server.address();
  const bound = typeof a === 'object' && a !== null ? { host: a.address, port: a.port } : { host, port };
  return {
    address: bound,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
