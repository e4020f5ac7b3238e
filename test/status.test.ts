// How each copy's state and the backup's health are earned, rule by rule (src/core/node/status.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyState, healthOf, type VersionStatus } from '../src/core/node/status.js';

const placement = (p: { sent_at?: number; confirmed_at?: number }) => ({ peer: undefined, assigned_at: 1, sent_at: p.sent_at, confirmed_at: p.confirmed_at, moves: 0, sealed_sha256: new Uint8Array(32) });

test('copyState: each state needs its evidence', () => {
  // Sent, nothing heard since: unconfirmed, never confirmed.
  assert.equal(copyState({ sent: { seq: 5n, at: 100 } }, 5n, 100), 'unconfirmed');
  // A retrieval of this very seq after the send proves it.
  assert.equal(copyState({ sent: { seq: 5n, at: 100 }, retrieval: { seq: 5n, status: 'confirmed', at: 200 } }, 5n, 100), 'confirmed');
  // A retrieval from before the send proves nothing about it.
  assert.equal(copyState({ sent: { seq: 5n, at: 100 }, retrieval: { seq: 5n, status: 'confirmed', at: 50 } }, 5n, 100), 'unconfirmed');
  // After the send the peer gave nothing, an older seq, or a blob that does not open: missing.
  for (const r of [{ seq: undefined, status: 'none' }, { seq: 4n, status: 'stale' }, { seq: undefined, status: 'corrupt' }])
    assert.equal(copyState({ sent: { seq: 5n, at: 100 }, retrieval: { ...r, at: 200 } }, 5n, 100), 'missing');
  // A refusal after the send.
  assert.equal(copyState({ sent: { seq: 5n, at: 100 }, refusal: { at: 150, reason: 'x' } }, 5n, 100), 'refused');
  // A newer blob went to the peer and it did not refuse: this version is replaced there.
  assert.equal(copyState({ sent: { seq: 6n, at: 300 }, retrieval: { seq: 5n, status: 'confirmed', at: 200 } }, 5n, undefined), 'replaced');
  // It refused the newer blob: it still holds this one.
  assert.equal(copyState({ sent: { seq: 6n, at: 300 }, retrieval: { seq: 5n, status: 'confirmed', at: 200 }, refusal: { at: 310, reason: 'x' } }, 5n, undefined), 'confirmed');
  // Shards: the placement's confirmation counts only while it is the peer's last word.
  assert.equal(copyState({ sent: { seq: 5n, at: 100 }, retrieval: { seq: 5n, status: 'confirmed', at: 200 } }, 5n, 100, placement({ sent_at: 100, confirmed_at: 200 })), 'confirmed');
  assert.equal(copyState({ sent: { seq: 5n, at: 100 }, retrieval: { seq: undefined, status: 'none', at: 300 } }, 5n, 100, placement({ sent_at: 100, confirmed_at: 200 })), 'missing');
  assert.equal(copyState({}, 5n, undefined, placement({})), 'pending');
});

const v = (seq: string, confirmed: number, needed: number): VersionStatus => ({
  seq, mode: 'plain', backup_id: null, k: needed, n: 3, needed, total_len: null, created_at: null,
  confirmed: Array.from({ length: confirmed }, (_, i) => String(i)), unconfirmed: [], refused: [], missing: [], pending: [], replaced: [],
  recoverable: confirmed >= needed, can_lose: confirmed >= needed ? confirmed - needed : null,
});

test('healthOf: the newest recoverable version decides; lost when none is', () => {
  assert.deepEqual(healthOf([]), { status: null, seq: null, can_lose: null, newest_recoverable: false });
  assert.deepEqual(healthOf([v('9', 1, 2), v('8', 3, 1)]), { status: 'ok', seq: '8', can_lose: 2, newest_recoverable: false });
  assert.deepEqual(healthOf([v('9', 2, 2)]), { status: 'at_risk', seq: '9', can_lose: 0, newest_recoverable: true });
  assert.deepEqual(healthOf([v('9', 1, 2), v('8', 0, 1)]), { status: 'lost', seq: null, can_lose: null, newest_recoverable: false });
});

test('Consumer refusals: a warning after our blob or a missing storage bit marks a peer; other features clear it; nothing is said of a peer never sent to', async () => {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { Consumer, OwnBackupFile, NO_STORAGE_FEATURE } = await import('../src/core/node/consumer.js');
  const { deriveSealKey } = await import('../src/core/backup/seal.js');
  const { MemoryKv } = await import('../src/core/store/memory.js');
  const { LnpsStore } = await import('../src/core/store/store.js');
  const dir = mkdtempSync(join(tmpdir(), 'lnps-status-'));
  try {
    const key = deriveSealKey(new Uint8Array(32).fill(9));
    const store = await LnpsStore.open(new MemoryKv());
    const c = new Consumer(new OwnBackupFile(dir, key), store, key);
    const peer = Uint8Array.from(Buffer.from('02' + '33'.repeat(32), 'hex'));
    // Never sent anything: no storage bit is no news, and nothing is recorded.
    assert.deepEqual(await c.onInit(peer, [], false, 1), { refused: NO_STORAGE_FEATURE });
    assert.equal(await store.refusal(peer), undefined);
    await c.onNoRetrieval(peer, 2, 1);
    assert.equal(await store.retrieved(peer), undefined);
    // Sent, then a refusal warning: recorded, and it stands while the features are the same.
    await store.putSent(peer, { seq: 5n, sha256: new Uint8Array(32), len: 10, sent_at: 3 });
    await c.onRefusal(peer, 'peer_storage refused (policy): no channel', [43], 4);
    assert.deepEqual(await c.onInit(peer, [43], true, 5), { refused: 'peer_storage refused (policy): no channel' });
    // Back with other features: it may store now; the refusal is forgotten.
    assert.deepEqual(await c.onInit(peer, [42, 43], true, 6), {});
    assert.equal(await store.refusal(peer), undefined);
    // No storage bit any more, after we gave it a blob: refused, on record.
    assert.deepEqual(await c.onInit(peer, [], false, 7), { refused: NO_STORAGE_FEATURE });
    assert.equal(new TextDecoder().decode((await store.refusal(peer))!.reason), NO_STORAGE_FEATURE);
    // A connection that gave no retrieval is evidence about a peer we sent to.
    await c.onNoRetrieval(peer, 9, 8);
    assert.deepEqual(await store.retrieved(peer), { seq: undefined, status: 'none', last_seen: 9 });
    // The same seq sent again keeps its first sent time.
    await store.putSent(peer, { seq: 5n, sha256: new Uint8Array(32), len: 10, sent_at: 10 });
    assert.equal((await store.sent(peer))!.sent_at, 3);
    key.wipe();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
