// serve --metrics-listen: /metrics is Prometheus text (parsed here line by line against the
// exposition format), its counters move when a peer's blob is stored or refused, and no label
// names a peer. A real `lnps serve` process, a real BOLT #8 peer and real HTTP on 127.0.0.1.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { cleanup, createNode, RawPeer, Serve, until } from './node-harness.js';

after(cleanup);

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/**
 * Parse the Prometheus text exposition format (version 0.0.4): `# HELP`, `# TYPE` and sample
 * lines `name{label="value",...} value [timestamp]`, empty lines ignored. Throws on any other line.
 */
function parseProm(text: string): { samples: Sample[]; types: Map<string, string> } {
  const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  assert.ok(text.endsWith('\n'), 'the text ends with a newline');
  for (const line of text.split('\n').slice(0, -1)) {
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
      assert.ok(m, `a HELP or TYPE line: ${line}`);
      assert.match(m[2]!, NAME);
      if (m[1] === 'TYPE') {
        assert.ok(['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(m[3]!), `a known type: ${line}`);
        assert.ok(!types.has(m[2]!), `one TYPE per family: ${m[2]}`);
        types.set(m[2]!, m[3]!);
      }
      continue;
    }
    // The format ignores empty lines (prom-client puts one between families).
    if (line === '') continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: (-?\d+))?$/.exec(line);
    assert.ok(m, `a sample line: ${line}`);
    const labels: Record<string, string> = {};
    if (m[2] !== undefined && m[2] !== '') {
      const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\["\\n])*)"(,|$)/y;
      let at = 0;
      while (at < m[2].length) {
        re.lastIndex = at;
        const l = re.exec(m[2]);
        assert.ok(l, `labels of ${line}`);
        labels[l[1]!] = l[2]!.replace(/\\n/g, '\n').replace(/\\(["\\])/g, '$1');
        at = re.lastIndex;
      }
    }
    const v = m[3]!;
    const value = v === '+Inf' ? Infinity : v === '-Inf' ? -Infinity : v === 'NaN' ? NaN : Number(v);
    assert.ok(v === 'NaN' || !Number.isNaN(value), `a number: ${line}`);
    samples.push({ name: m[1]!, labels, value });
  }
  // Every sample belongs to a declared family (histograms and summaries add suffixes).
  for (const s of samples) {
    const family = types.has(s.name) ? s.name : s.name.replace(/_(bucket|sum|count|total|created)$/, '');
    assert.ok(types.has(family) || types.has(s.name), `sample ${s.name} has a TYPE`);
  }
  return { samples, types };
}

function get(port: number, path: string, method = 'GET'): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

const value = (p: { samples: Sample[] }, name: string, labels: Record<string, string> = {}): number | undefined =>
  p.samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;

test('/metrics is Prometheus text, and its counters move when a blob is stored or refused; no label names a peer', async () => {
  const A = await createNode();
  const a = await Serve.start(A.dir, [
    '--metrics-listen', '127.0.0.1:0',
    '--storage-policy', 'any',
    '--cooldown', '0',
    '--max-blob-bytes', '100',
    '--height-cmd', 'echo 900000',
    '--retention-interval', '200ms',
  ]);
  try {
    const port = Number((await a.waitFor(/\[INF\] SRVR: Metrics at http:\/\/127\.0\.0\.1:(\d+)\/metrics$/))[1]);
    const first = await get(port, '/metrics');
    assert.equal(first.status, 200);
    assert.match(first.type, /^text\/plain; version=0\.0\.4/);
    const p0 = parseProm(first.body);
    assert.equal(p0.types.get('lnps_peer_storage_received_total'), 'counter');
    assert.equal(p0.types.get('lnps_peers_stored'), 'gauge');
    assert.equal(value(p0, 'lnps_peer_storage_stored_total'), 0);
    assert.equal(value(p0, 'lnps_peer_storage_refused_total', { reason: 'too_large' }), 0);
    assert.equal(value(p0, 'lnps_peers_stored'), 0);
    assert.equal(value(p0, 'lnps_backup_health', { status: 'none' }), 1);
    assert.equal(value(p0, 'lnps_backup_copies', { state: 'confirmed' }), 0);
    const writes0 = value(p0, 'lnps_database_writes_total')!;
    assert.ok(writes0 >= 0);

    const peer = await RawPeer.connect(a.port, A.pubkey);
    await peer.send({ type: 7, name: 'peer_storage', blob: new Uint8Array(42).fill(1) });
    await peer.sync();
    await a.waitFor(/peer_storage 42 bytes: stored/);
    await peer.send({ type: 7, name: 'peer_storage', blob: new Uint8Array(101).fill(2) });
    await peer.sync();
    // A new collection at most once a second: poll until it shows the blob.
    const p1 = await until(async () => {
      const p = parseProm((await get(port, '/metrics')).body);
      return value(p, 'lnps_peer_storage_refused_total', { reason: 'too_large' }) === 1 && (value(p, 'lnps_retention_runs_total') ?? 0) > 0 ? p : undefined;
    }, 'the counters to move');
    assert.equal(value(p1, 'lnps_peer_storage_received_total'), 2);
    assert.equal(value(p1, 'lnps_peer_storage_stored_total'), 1);
    assert.equal(value(p1, 'lnps_peer_storage_refused_total', { reason: 'policy' }), 0);
    assert.equal(value(p1, 'lnps_peers_stored'), 1);
    assert.equal(value(p1, 'lnps_bytes_held'), 42);
    assert.ok(value(p1, 'lnps_database_writes_total')! > writes0, 'the stored blob was a database write');
    assert.equal(value(p1, 'lnps_handshakes_total', { direction: 'inbound' }), 1);
    assert.equal(value(p1, 'lnps_connections_total', { direction: 'inbound' }), 1);
    assert.equal(value(p1, 'lnps_connections', { direction: 'inbound' }), 1);
    assert.equal(value(p1, 'lnps_retention_pruned_total'), 0);
    // Bounded cardinality: no label value is a peer key or an address.
    const text = (await get(port, '/metrics')).body;
    assert.ok(!text.includes(peer.pubkey) && !text.includes(A.pubkey), 'no node id in the metrics');
    for (const s of p1.samples.filter((x) => x.name.startsWith('lnps_'))) for (const v of Object.values(s.labels)) assert.match(v, /^[a-z_]{1,20}$/);
    peer.close();

    // Only /metrics, only GET and HEAD.
    assert.equal((await get(port, '/')).status, 404);
    assert.equal((await get(port, '/metrics', 'POST')).status, 405);
    assert.equal((await get(port, '/metrics', 'HEAD')).status, 200);
  } finally {
    assert.equal(await a.stop(), 0);
  }
});

test('metrics are off by default', async () => {
  const A = await createNode();
  const a = await Serve.start(A.dir, []);
  try {
    await a.waitFor(/\[INF\] SRVR: Control socket /);
    assert.equal(a.lines.filter((l) => /Metrics at/.test(l)).length, 0);
  } finally {
    assert.equal(await a.stop(), 0);
  }
});
