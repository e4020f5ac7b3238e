// verify-blob --blob-format cln|ldk|kmp|lnd|auto end to end through the built CLI: exit codes,
// the printed result, --out, passphrase files, and that no secret reaches the output.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { pbkdf2Sync } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getPublicKey } from '@noble/secp256k1';
import {
  hex, toHexT, sha256T, cat, be, clnMakeSecretT, bip39SeedT, pathT, H, clnBlobT, ldkBlobT, kmpBlobT, lndBlobT, lndPackedT, lndMultiT, lndSingleT, scbT, modernChanT, ldkHolderT,
} from './formats-build.js';

const BIN = fileURLToPath(new URL('../../bin/lnps.js', import.meta.url));
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const seq = (n: number, f: (i: number) => number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => f(i) & 0xff);
const MNEMONIC = 'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about';
const NODE = hex('022d223620a359a47ff7f7ac447c85c46c923da53389221a0054c11c1e3ca31d59');

function withDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'lnps-formats-'));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function run(dir: string, args: string[]): { status: number | null; out: any; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, 'verify-blob', '--datadir', dir, ...args], { encoding: 'utf8', input: '', timeout: 30_000 });
  let out: unknown;
  try {
    out = JSON.parse(r.stdout);
  } catch {
    out = undefined;
  }
  return { status: r.status, out, stdout: r.stdout, stderr: r.stderr };
}

const file = (dir: string, name: string, bytes: Uint8Array | string): string => {
  const p = join(dir, name);
  writeFileSync(p, bytes, { mode: 0o600 });
  return p;
};

const SCB = scbT(6137, 1n, 1_700_000_000, [
  modernChanT({ id: 7, cid: seq(32, (i) => 0x11 + i), node: NODE, addr: hex('017f000001b2e3'), txid: seq(32, (i) => i), n: 1, sats: 250_000n, type: hex('1000'), tlvs: hex('050100') }),
]);

test('cln: a plain hsm_secret opens the blob; the channel list is printed and --out writes the plaintext (0600)', () => {
  withDir((dir) => {
    const root = new Uint8Array(32);
    root.set(enc('lightning-1'));
    const hsm = file(dir, 'hsm_secret', root);
    const blob = file(dir, 'blob.bin', clnBlobT(clnMakeSecretT(root, 'scb secret'), seq(24, (i) => i), SCB));
    const outPath = join(dir, 'scb.bin');
    const r = run(dir, ['--blob-format', 'cln', '--hsm-secret', hsm, '--file', blob, '--out', outPath]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.out, {
      valid: true,
      format: 'cln',
      plaintext_len: SCB.length,
      plaintext_sha256: toHexT(sha256T(SCB)),
      scb_version: '1',
      scb_version_compatible: true,
      scb_timestamp: 1_700_000_000,
      scb_type: 'with_tlvs',
      channels: [
        {
          id: '7', channel_id: toHexT(seq(32, (i) => 0x11 + i)), peer_id: toHexT(NODE), address: '127.0.0.1:45795',
          funding_txid: toHexT(seq(32, (i) => 31 - i)), funding_outnum: 1, funding_sat: '250000', channel_type: '1000',
          tlv_types: [5], opener: 'local',
        },
      ],
      out: outPath,
    });
    assert.equal(toHexT(readFileSync(outPath)), toHexT(SCB));
    assert.equal(statSync(outPath).mode & 0o777, 0o600);
  });
});

test('cln: a mnemonic hsm_secret with passphrase reads it from --passphrase-file; a wrong one is bad_secret, exit 1', () => {
  withDir((dir) => {
    const seed = bip39SeedT(MNEMONIC, 'correct horse');
    const hsm = file(dir, 'hsm_secret', cat(sha256T(seed), enc(MNEMONIC)));
    const blob = toHexT(clnBlobT(clnMakeSecretT(seed, 'scb secret'), seq(24, (i) => 2 * i), SCB));
    const ok = run(dir, ['--blob-format', 'cln', '--hsm-secret', hsm, '--passphrase-file', file(dir, 'pass', 'correct horse\n'), blob]);
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(ok.out.valid, true);
    const bad = run(dir, ['--blob-format', 'cln', '--hsm-secret', hsm, '--passphrase-file', file(dir, 'pass2', 'wrong horse\n'), blob]);
    assert.equal(bad.status, 1);
    assert.deepEqual(bad.out, { valid: false, format: 'cln', reason: 'bad_secret', detail: 'wrong passphrase for this hsm_secret' });
    assert.ok(!bad.stdout.includes('wrong horse') && !bad.stderr.includes('wrong horse'));
    // No passphrase and no terminal to ask on: a usage error naming the flag.
    const none = run(dir, ['--blob-format', 'cln', '--hsm-secret', hsm, blob]);
    assert.equal(none.status, 2);
    assert.match(none.stderr, /^lnps: this hsm_secret is protected by a passphrase: give it with --passphrase-file F/);
  });
});

test('cln: the passphrase is its raw bytes (a precomposed "é" opens, no NFKD) with only one trailing \\n dropped, a \\r kept', () => {
  withDir((dir) => {
    // libwally's bip39_mnemonic_to_seed: PBKDF2-SHA512(mnemonic, "mnemonic" || passphrase bytes), no normalisation.
    const rawSeed = (pass: Uint8Array): Uint8Array =>
      Uint8Array.from(pbkdf2Sync(Buffer.from(MNEMONIC), Buffer.concat([Buffer.from('mnemonic'), Buffer.from(pass)]), 2048, 64, 'sha512'));
    // Each: the passphrase, the file's bytes, and what a reader that normalised or stripped more would use.
    const cases: [string, Uint8Array, Uint8Array, string][] = [
      ['precomposed', hex('636166c3a9'), hex('636166c3a90a'), 'cafe\u0301'], // "café" with U+00E9, then \n in the file
      ['carriage return', hex('70770d'), hex('70770d0a'), 'pw'], // "pw\r": CLN drops the \n only
    ];
    for (const [name, pass, stored, other] of cases) {
      const seed = rawSeed(pass);
      assert.notEqual(toHexT(seed), toHexT(bip39SeedT(MNEMONIC, other)), name);
      const hsm = file(dir, `hsm-${name}`, cat(sha256T(seed), enc(MNEMONIC)));
      const blob = toHexT(clnBlobT(clnMakeSecretT(seed, 'scb secret'), seq(24, (i) => i + 1), SCB));
      const r = run(dir, ['--blob-format', 'cln', '--hsm-secret', hsm, '--passphrase-file', file(dir, `pass-${name}`, stored), blob]);
      assert.equal(r.status, 0, `${name}: ${r.stderr}`);
      assert.equal(r.out.valid, true, name);
    }
  });
});

test('ldk: --ldk-seed-file opens the blob and lists the channel holders; a wrong seed is auth_failed; the seed is never printed', () => {
  withDir((dir) => {
    const seedHex = '01'.repeat(32);
    const key = pathT(hex(seedHex), [H(6)]);
    const pt = cat(be(1, 2), ldkHolderT(seq(32, (i) => i), NODE, 42n, enc('monitor')));
    const blob = toHexT(ldkBlobT(key, seq(32, (i) => 9 * i), pt));
    const r = run(dir, ['--blob-format', 'ldk', '--ldk-seed-file', file(dir, 'seed', seedHex + '\n'), blob]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.out, {
      valid: true, format: 'ldk', plaintext_len: pt.length, plaintext_sha256: toHexT(sha256T(pt)),
      channels: [{ channel_id: toHexT(seq(32, (i) => i)), peer_id: toHexT(NODE), min_seen_secret: '42', monitor_len: 7, monitor_sha256: toHexT(sha256T(enc('monitor'))) }],
    });
    const wrong = run(dir, ['--blob-format', 'ldk', '--ldk-seed-file', file(dir, 'seed2', '02'.repeat(32)), blob]);
    assert.equal(wrong.status, 1);
    assert.deepEqual(wrong.out, { valid: false, format: 'ldk', reason: 'auth_failed' });
    for (const x of [r, wrong]) assert.ok(!x.stdout.includes('0101010101') && !x.stderr.includes('0101010101'));
    const empty = run(dir, ['--blob-format', 'ldk', '--ldk-seed-file', join(dir, 'seed'), '']);
    assert.deepEqual([empty.status, empty.out], [1, { valid: false, format: 'ldk', reason: 'empty' }]);
  });
});

test('kmp: --kmp-seed-file follows --network (m/50\'/0\' mainnet, m/48\'/0\' testnet); --kmp-node-key-file works alone', () => {
  withDir((dir) => {
    const seed = bip39SeedT(MNEMONIC);
    const testKey = pathT(seed, [H(48), H(0)]);
    const pt = enc('phoenix peer storage');
    const blob = toHexT(kmpBlobT(testKey, 5, pt));
    const t = run(dir, ['--blob-format', 'kmp', '--network', 'testnet', '--kmp-seed-file', file(dir, 'kseed', toHexT(seed)), blob]);
    assert.equal(t.status, 0, t.stderr);
    assert.deepEqual(t.out, { valid: true, format: 'kmp', plaintext_len: pt.length, plaintext_sha256: toHexT(sha256T(pt)), version: 5 });
    const m = run(dir, ['--blob-format', 'kmp', '--kmp-seed-file', file(dir, 'kseed', toHexT(seed)), blob]);
    assert.deepEqual([m.status, m.out.reason], [1, 'auth_failed']);
    const k = run(dir, ['--blob-format', 'kmp', '--kmp-node-key-file', file(dir, 'nk', toHexT(testKey)), blob]);
    assert.deepEqual([k.status, k.out.valid], [0, true]);
    const v = run(dir, ['--blob-format', 'kmp', '--kmp-node-key-file', join(dir, 'nk'), '06' + blob.slice(2)]);
    assert.deepEqual([v.status, v.out], [1, { valid: false, format: 'kmp', reason: 'unknown_version', version: 6 }]);
    // Version 4 (Phoenix up to v1.10.x) opens; random bytes and an LDK blob are auth_failed, not unknown_version.
    const v4 = run(dir, ['--blob-format', 'kmp', '--kmp-node-key-file', join(dir, 'nk'), toHexT(kmpBlobT(testKey, 4, pt))]);
    assert.deepEqual([v4.status, v4.out?.valid, v4.out?.version], [0, true, 4], v4.stderr);
    const random = seq(200, (i) => (i * 151 + 156) % 251);
    const ldk = ldkBlobT(pathT(new Uint8Array(32).fill(9), [H(6)]), seq(32, (i) => i), enc('ldk plaintext'));
    for (const other of [random, ldk]) {
      assert.notEqual(other[0], 5);
      const r = run(dir, ['--blob-format', 'kmp', '--kmp-node-key-file', join(dir, 'nk'), toHexT(other)]);
      assert.deepEqual([r.status, r.out], [1, { valid: false, format: 'kmp', reason: 'auth_failed' }]);
    }
  });
});

test('lnd (experimental): --lnd-seed-file opens a draft blob padded to 65531; --out writes the plaintext, --out --sealed the channel.backup bytes', () => {
  withDir((dir) => {
    const entropy = seq(16, (i) => 0x42 + i);
    const key = sha256T(getPublicKey(pathT(entropy, [H(1017), H(0), H(7), 0, 0]), true));
    const remote = getPublicKey(new Uint8Array(32).fill(0x23), true);
    const multi = lndMultiT([
      lndSingleT({ version: 3, initiator: true, chain: seq(32, () => 0x06), txid: seq(32, (i) => 0x90 + i), index: 2, scid: (840_000n << 40n) | (3n << 16n) | 2n, remote, addrs: new Uint8Array(0), capacity: 5_000_000n, rest: seq(100, (i) => i) }),
    ]);
    const nonce = seq(24, (i) => 0x70 + i);
    const packed = lndPackedT(key, nonce, multi);
    const blob = lndBlobT(key, nonce, multi);
    const plainOut = join(dir, 'multi.bin');
    const r = run(dir, ['--blob-format', 'lnd', '--lnd-coin', '0', '--lnd-seed-file', file(dir, 'ent', toHexT(entropy)), '--file', file(dir, 'b', blob), '--out', plainOut]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.out, {
      valid: true, format: 'lnd', plaintext_len: multi.length, plaintext_sha256: toHexT(sha256T(multi)), experimental: true,
      sealed_len: packed.length, padding_len: 65531 - packed.length, multi_version: 0, channel_count: 1,
      channels: [{
        version: 3, type: 'anchors_zero_fee_htlc', funding_outpoint: `${toHexT(seq(32, (i) => 0x90 + 31 - i))}:2`, remote_node_pub: toHexT(remote),
        short_channel_id: '840000x3x2', capacity_sat: '5000000', initiator: true, chain_hash: '06'.repeat(32), has_close_tx: false,
      }],
      out: plainOut,
    });
    assert.equal(toHexT(readFileSync(plainOut)), toHexT(multi));
    const sealedOut = join(dir, 'channel.backup');
    const s = run(dir, ['--blob-format', 'lnd', '--lnd-seed-file', join(dir, 'ent'), '--file', join(dir, 'b'), '--out', sealedOut, '--sealed']);
    assert.equal(s.status, 0, s.stderr);
    assert.equal(toHexT(readFileSync(sealedOut)), toHexT(packed));
    assert.equal(statSync(sealedOut).mode & 0o777, 0o600);
    const testnet = run(dir, ['--blob-format', 'lnd', '--network', 'testnet', '--lnd-seed-file', join(dir, 'ent'), '--file', join(dir, 'b')]);
    assert.deepEqual([testnet.status, testnet.out], [1, { valid: false, format: 'lnd', reason: 'auth_failed', experimental: true }]);
    const padded = Uint8Array.from(blob);
    padded[65530] = 1;
    const cut = run(dir, ['--blob-format', 'lnd', '--lnd-seed-file', join(dir, 'ent'), '--file', file(dir, 'cut', padded)]);
    assert.deepEqual([cut.status, cut.out], [1, { valid: false, format: 'lnd', reason: 'truncated', experimental: true }]);
  });
});

test('auto: every format the secrets allow is tried; the one that opens is named, else each reason is listed', () => {
  withDir((dir) => {
    const root = new Uint8Array(32).fill(7);
    const hsm = file(dir, 'hsm_secret', root);
    const key = pathT(new Uint8Array(32).fill(3), [H(6)]);
    const blob = toHexT(ldkBlobT(key, seq(32, () => 1), be(0, 2)));
    const r = run(dir, ['--blob-format', 'auto', '--hsm-secret', hsm, '--ldk-seed-file', file(dir, 's3', '03'.repeat(32)), blob]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.out.format, 'ldk');
    assert.deepEqual(r.out.channels, []);
    const miss = run(dir, ['--blob-format', 'auto', '--hsm-secret', hsm, '--ldk-seed-file', file(dir, 's4', '04'.repeat(32)), blob]);
    assert.equal(miss.status, 1);
    assert.deepEqual(miss.out, { valid: false, format: 'auto', reason: 'auth_failed', tried: [{ format: 'cln', reason: 'auth_failed' }, { format: 'ldk', reason: 'auth_failed' }] });
  });
});

test('flags: a missing or doubled secret is a usage error (exit 2), malformed secret content exit 1, an unreadable file exit 3, each one line', () => {
  withDir((dir) => {
    const k1 = file(dir, 'k1', '11'.repeat(32));
    const k2 = file(dir, 'k2', '22'.repeat(64));
    const cases: [string[], number, RegExp][] = [
      [['--blob-format', 'cln', '00'], 2, /^lnps: --blob-format cln needs --hsm-secret FILE/],
      // No node key in this data directory and no secret: nothing auto could try.
      [['--blob-format', 'auto', '00'], 2, /^lnps: --blob-format auto found no node key here and no secret was given/],
      [['--blob-format', 'kmp', '--kmp-node-key-file', k1, '--kmp-seed-file', k2, '00'], 2, /^lnps: give --kmp-seed-file or --kmp-node-key-file, not both/],
      [['--blob-format', 'ldk', '--ldk-seed-file', file(dir, 'xyz', 'x1z\n'), '00'], 1, /^lnps: --ldk-seed-file must hold 64 hex digits; it holds 3 characters\n$/],
      [['--blob-format', 'ldk', '--kmp-node-key-file', k1, '00'], 2, /^lnps: --kmp-node-key-file is a secret for --blob-format kmp \(or auto\), not --blob-format ldk/],
      [['--blob-format', 'cln', '--hsm-secret', join(dir, 'missing'), '00'], 3, /^lnps: cannot read --hsm-secret .*missing: no such file/],
      [['--ldk-seed-file', k1, '00'], 2, /^lnps: --ldk-seed-file is for another implementation's blobs: add --blob-format ldk/],
      [['--format', 'cln', '00'], 2, /--format is the output format \(json\|table\); the blob's kind is --blob-format cln/],
    ];
    for (const [args, status, msg] of cases) {
      const r = run(dir, args);
      assert.equal(r.status, status, args.join(' ') + ': ' + r.stderr);
      assert.equal(r.stderr.trim().split('\n').length, 1);
      assert.match(r.stderr, msg);
      assert.ok(!r.stderr.includes('1111111111') && !r.stderr.includes('x1z'), 'a secret reached stderr');
    }
  });
});
