// A backup status earned from evidence, end to end with real `lnps serve` processes on
// 127.0.0.1: refusals are heard and shown, copies are confirmed by reading them back after a
// reconnection the node makes by itself, a provider that lost its database shows `missing`,
// and a backup that cannot be placed is refused before anything is sent.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { cleanup, cli, cliJson, createNode, d, storedSha, until, Serve, sleep } from './node-harness.js';

after(cleanup);

const sorted = (a: string[]) => [...a].sort();

test('three providers that store: listbackups shows all three confirmed by read-back, with no manual reconnect; a provider that loses its database shows missing', { timeout: 60_000 }, async () => {
  const C = await createNode();
  const P = await Promise.all([1, 2, 3].map(() => createNode()));
  const serves: Serve[] = [];
  let c: Serve | undefined;
  try {
    serves.push(...(await Promise.all(P.map((p) => Serve.start(p.dir, ['--storage-policy', 'any'])))));
    const addr = (i: number) => `${P[i]!.pubkey}@127.0.0.1:${serves[i]!.port}`;
    // --confirm-interval is long: one read-back each, so the state after the provider's loss stays to be seen.
    c = await Serve.start(C.dir, ['--no-listen', '--retrieval-timeout', '300ms', '--confirm-delay', '300ms', '--confirm-interval', '1h', '--reconnect-delay', '200ms', ...[0, 1, 2].flatMap((i) => ['--connect', addr(i)])]);
    await until(async () => (await cliJson(['listpeers', ...d(C.dir)])).peers.length === 3, 'three peers connected');
    await sleep(500); // past their retrieval waits: they hold nothing of ours yet
    const file = join(C.dir, 'channel.backup');
    writeFileSync(file, randomBytes(2000));
    const bk = await cliJson(['backup', file, ...d(C.dir)]);
    assert.deepEqual(sorted(bk.peers.filter((p: any) => p.sent).map((p: any) => p.peer)), sorted(P.map((p) => p.pubkey)));
    assert.deepEqual(bk.replaces, []);
    // No operator action: the node reconnects to each peer and its retrieval proves the copy.
    let lb: any;
    await until(async () => {
      lb = await cliJson(['listbackups', ...d(C.dir)]);
      return lb.versions[0].confirmed.length === 3;
    }, 'all three copies confirmed by read-back', 30_000);
    const v = lb.versions[0];
    assert.deepEqual([v.seq, v.mode, v.needed, v.recoverable, v.can_lose, v.unconfirmed, v.missing, v.refused], [bk.seq, 'plain', 1, true, 2, [], [], []]);
    assert.deepEqual(sorted(v.confirmed), sorted(P.map((p) => p.pubkey)));
    assert.deepEqual(lb.health, { status: 'ok', seq: bk.seq, can_lose: 2, newest_recoverable: true });
    await c.waitFor(/reconnecting to read back our backup seq/);

    // Provider 0 loses its database and comes back on the same port, empty.
    assert.equal(await serves[0]!.stop(), 0);
    rmSync(join(P[0]!.dir, 'regtest', 'db'), { recursive: true, force: true });
    assert.equal((await cli(['create', ...d(P[0]!.dir)])).status, 0);
    serves[0] = await Serve.start(P[0]!.dir, ['--storage-policy', 'any', '--listen', `127.0.0.1:${serves[0]!.port}`]);
    await until(async () => {
      lb = await cliJson(['listbackups', ...d(C.dir)]);
      return lb.versions[0].missing.length === 1;
    }, 'the provider that lost its database shown missing', 20_000);
    assert.deepEqual(lb.versions[0].missing, [P[0]!.pubkey]);
    assert.deepEqual(sorted(lb.versions[0].confirmed), sorted([P[1]!.pubkey, P[2]!.pubkey]));
    assert.deepEqual([lb.versions[0].can_lose, lb.health.status], [1, 'ok']);
    const row = lb.backups.find((r: any) => r.peer === P[0]!.pubkey);
    assert.equal(row.status, 'none');
    // It was sent the backup again when it came back (the copy heals), but it is not proved yet.
    await until(async () => (await storedSha(P[0]!.dir, C.pubkey)) !== undefined, 'the backup sent again to the emptied provider');
    const table = await cli(['listbackups', '--format', 'table', ...d(C.dir)]);
    assert.equal(table.status, 0, table.stderr);
    assert.match(table.stdout, new RegExp(`health: ok: seq ${bk.seq} is recoverable, can lose 1 confirmed copy\\n`));
    assert.match(table.stdout, new RegExp(`seq ${bk.seq} \\(plain\\): 2 confirmed, 1 missing; recoverable, can lose 1 \\(needs 1 confirmed\\)`));
  } finally {
    await Promise.all([...serves.map((s) => s.stop()), c?.stop()]);
  }
});

test('the three-node scenario: refusing peers are shown refused, the striped version is not recoverable, health is lost; too few accepting peers then sends nothing', { timeout: 60_000 }, async () => {
  // n2 is our node; n1 and n0 store only for channel peers (refuse us); n3 stores for anyone.
  const n2 = await createNode();
  const [n1, n3, n0] = await Promise.all([1, 2, 3].map(() => createNode()));
  const s1 = await Serve.start(n1!.dir); // default policy: channel-peers
  const s3 = await Serve.start(n3!.dir, ['--storage-policy', 'any']);
  const s0 = await Serve.start(n0!.dir);
  let c: Serve | undefined;
  try {
    c = await Serve.start(n2.dir, ['--no-listen', '--retrieval-timeout', '300ms', '--confirm-delay', '300ms', '--confirm-interval', '1s']);
    const addr = (p: { pubkey: string }, s: Serve) => `${p.pubkey}@127.0.0.1:${s.port}`;
    // An earlier good single-blob backup, kept by n3 and read back.
    await cliJson(['connect', addr(n3!, s3), ...d(n2.dir)]);
    await sleep(500);
    const small = join(n2.dir, 'small.backup');
    writeFileSync(small, 'the earlier backup');
    const first = await cliJson(['backup', small, ...d(n2.dir)]);
    let lb: any;
    await until(async () => {
      lb = await cliJson(['listbackups', ...d(n2.dir)]);
      return lb.versions[0]?.confirmed.length === 1;
    }, 'the earlier backup confirmed on n3', 20_000);
    assert.deepEqual(lb.health, { status: 'at_risk', seq: first.seq, can_lose: 0, newest_recoverable: true });

    // n1 and n0 come; the earlier backup goes to them too, and they refuse it with a warning
    // naming the reason: our node marks them refused.
    await cliJson(['connect', addr(n1!, s1), ...d(n2.dir)]);
    await cliJson(['connect', addr(n0!, s0), ...d(n2.dir)]);
    await s1.waitFor(/peer_storage \d+ bytes: refused/);
    // The node reconnects to read back (--confirm-interval 1s), so a peer can be between two
    // connections at any moment: the listing that showed both refused is the one checked.
    let peers: any[] = [];
    await until(async () => {
      peers = (await cliJson(['listpeers', ...d(n2.dir)])).peers;
      return peers.filter((p: any) => p.refused !== null).length === 2;
    }, 'n1 and n0 marked refused', 20_000);
    assert.match(peers.find((p: any) => p.peer === n0!.pubkey).refused, /^peer_storage refused \(policy\): policy channel-peers: no open channel with this peer/);

    // A bigger backup striped 2-of-3: only n3 would accept it, so it is refused before anything
    // is sent, naming the refusing peers; n3 keeps the earlier backup.
    const big = join(n2.dir, 'big.backup');
    writeFileSync(big, randomBytes(90_000));
    const kept = await storedSha(n3!.dir, n2.pubkey);
    const pre = await cli(['backup', big, '--stripe', '2-of-3', ...d(n2.dir)]);
    assert.equal(pre.status, 1);
    assert.match(pre.stderr, /a 2-of-3 backup needs 3 connected peers that store and have not refused it, but only 1 does; /);
    assert.match(pre.stderr, new RegExp(`${n1!.pubkey} refused \\(peer_storage refused \\(policy\\)`));
    assert.match(pre.stderr, /nothing was sent and the current backup stays where it is/);
    assert.equal(await storedSha(n3!.dir, n2.pubkey), kept);
    assert.equal((await cliJson(['listbackups', ...d(n2.dir)])).health.status, 'at_risk');

    // The operator insists (--force): the scenario of the report. The shards go out; n1 and n0
    // refuse theirs, n3 stores its shard in place of the earlier backup.
    const bk = await cliJson(['backup', big, '--stripe', '2-of-3', '--force', ...d(n2.dir)]);
    assert.equal(bk.mode, 'striped');
    // It says whose confirmed copy it replaces: n3's copy of the earlier backup.
    assert.deepEqual(bk.replaces, [{ peer: n3!.pubkey, seq: first.seq }]);
    await until(async () => {
      lb = await cliJson(['listbackups', ...d(n2.dir)]);
      const v = lb.versions.find((x: any) => x.seq === bk.seq);
      return v.refused.length === 2 && v.confirmed.length === 1;
    }, 'two refusals heard and n3 read back', 20_000);
    const v = lb.versions.find((x: any) => x.seq === bk.seq);
    assert.deepEqual(sorted(v.refused), sorted([n1!.pubkey, n0!.pubkey]));
    assert.deepEqual(v.confirmed, [n3!.pubkey]);
    assert.deepEqual([v.recoverable, v.can_lose, v.needed], [false, null, 2]);
    // The earlier version's copy on n3 was replaced: nothing is recoverable. Never "can lose".
    const old = lb.versions.find((x: any) => x.seq === first.seq);
    assert.deepEqual([old.confirmed, old.recoverable, old.can_lose], [[], false, null]);
    assert.deepEqual(lb.health, { status: 'lost', seq: null, can_lose: null, newest_recoverable: false });
    const refusedRow = lb.backups.find((r: any) => r.peer === n1!.pubkey);
    assert.match(refusedRow.refused, /^peer_storage refused \(policy\): policy channel-peers: no open channel with this peer/);
    const table = await cli(['listbackups', '--format', 'table', ...d(n2.dir)]);
    assert.match(table.stdout, /health: lost: no version of the backup can be rebuilt from confirmed copies/);
    assert.match(table.stdout, /1 confirmed, 2 refused; not recoverable \(needs 2 confirmed\)/);
    assert.match(table.stdout, /PEER {11}shard 0 +shard 1 +shard 2/);
  } finally {
    await Promise.all([s1.stop(), s3.stop(), s0.stop(), c?.stop()]);
  }
});

test('too few accepting peers: backup sends nothing, exits 1, and the previous version is still restorable', { timeout: 60_000 }, async () => {
  const C = await createNode();
  const [A, B] = await Promise.all([1, 2].map(() => createNode()));
  const sa = await Serve.start(A!.dir, ['--storage-policy', 'any']);
  const sb = await Serve.start(B!.dir); // refuses: no channel with us
  let c: Serve | undefined;
  try {
    c = await Serve.start(C.dir, ['--no-listen', '--retrieval-timeout', '300ms', '--confirm-delay', '300ms']);
    await cliJson(['connect', `${A!.pubkey}@127.0.0.1:${sa.port}`, ...d(C.dir)]);
    await cliJson(['connect', `${B!.pubkey}@127.0.0.1:${sb.port}`, ...d(C.dir)]);
    await sleep(500);
    const v1 = join(C.dir, 'v1');
    writeFileSync(v1, 'version one');
    const first = await cliJson(['backup', v1, ...d(C.dir)]);
    await until(async () => {
      const lb = await cliJson(['listbackups', ...d(C.dir)]);
      return lb.versions[0].confirmed.length === 1 && lb.versions[0].refused.length === 1;
    }, 'A confirmed, B refused', 20_000);
    // 1-of-2 needs two accepting peers; B refused: exit 1, nothing sealed or sent.
    const v2 = join(C.dir, 'v2');
    writeFileSync(v2, 'version two');
    const shaBefore = await storedSha(A!.dir, C.pubkey);
    const r = await cli(['backup', v2, '--stripe', '1-of-2', ...d(C.dir)]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, new RegExp(`but only 1 does; ${B!.pubkey} refused`));
    assert.equal(await storedSha(A!.dir, C.pubkey), shaBefore);
    const lb = await cliJson(['listbackups', ...d(C.dir)]);
    assert.equal(lb.newest_seq, first.seq);
    assert.deepEqual(lb.health, { status: 'at_risk', seq: first.seq, can_lose: 0, newest_recoverable: true });
    // The previous version restores from A.
    const out = join(C.dir, 'restored');
    const rs = await cliJson(['restorefrompeer', `${A!.pubkey}@127.0.0.1:${sa.port}`, '--out', out, '--timeout', '3s', ...d(C.dir)]);
    assert.equal(rs.seq, first.seq);
    assert.equal(readFileSync(out, 'utf8'), 'version one');
    // --force is the operator's word: B is tried again (and refuses again).
    const forced = await cliJson(['backup', v2, '--force', ...d(C.dir)]);
    assert.ok(forced.peers.some((p: any) => p.peer === B!.pubkey && p.sent === true));
  } finally {
    await Promise.all([sa.stop(), sb.stop(), c?.stop()]);
  }
});
