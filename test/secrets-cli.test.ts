// Wallet secrets through the built CLI: every secret flag reads a file, standard input, and a
// no-echo prompt on a real pseudo-terminal (python3's pty module), opens a blob built here by
// an independent path, and no secret shows in argv, stdout, stderr or the terminal. The old
// flags that took a secret as their value are refused in one line naming the new flag.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getPublicKey } from '@noble/secp256k1';
import { HDKey } from '@scure/bip32';
import {
  hex, toHexT, sha256T, cat, be, clnMakeSecretT, bip39SeedT, pathT, H, clnBlobT, ldkBlobT, kmpBlobT, lndBlobT, scbT,
} from './formats-build.js';

const BIN = fileURLToPath(new URL('../../bin/lnps.js', import.meta.url));
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const seq = (n: number, f: (i: number) => number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => f(i) & 0xff);
const MNEMONIC = 'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about';
const PY = spawnSync('python3', ['-c', 'import pty'], { timeout: 10_000 }).status === 0;

function withDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'lnps-secrets-'));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const file = (dir: string, name: string, bytes: Uint8Array | string): string => {
  const p = join(dir, name);
  writeFileSync(p, bytes, { mode: 0o600 });
  return p;
};

interface Run { status: number | null; out: any; text: string; cmdline?: string }

function parse(stdout: string): unknown {
  const i = stdout.indexOf('{');
  try {
    return JSON.parse(stdout.slice(i));
  } catch {
    return undefined;
  }
}

/** The CLI with `stdin` piped in. */
function runPiped(dir: string, args: string[], stdin: Uint8Array | string = ''): Run {
  const r = spawnSync(process.execPath, [BIN, 'verify-blob', '--datadir', dir, ...args], { input: stdin, encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, out: parse(r.stdout), text: r.stdout + r.stderr };
}

/**
 * The CLI on a pseudo-terminal: wait for `prompt`, read the child's /proc cmdline while it
 * waits, type `typed`, collect everything the terminal shows. Bounded: 30 s, then killed.
 */
const PTY_SCRIPT = String.raw`
import json, os, pty, select, signal, sys, time
cfg = json.loads(sys.stdin.read())
pid, fd = pty.fork()
if pid == 0:
    os.execv(cfg["argv"][0], cfg["argv"])
out = b""
typed = []
cmdline = b""
deadline = time.time() + 30
prompts = [p.encode() for p in cfg["prompts"]]
while time.time() < deadline:
    r, _, _ = select.select([fd], [], [], 0.1)
    if r:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            chunk = b""
        if not chunk:
            break
        out += chunk
    if len(typed) < len(prompts) and out.count(prompts[len(typed)]) > 0 and out.endswith(prompts[len(typed)]):
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            cmdline += f.read()
        os.write(fd, bytes.fromhex(cfg["typed"][len(typed)]))
        typed.append(1)
else:
    os.kill(pid, signal.SIGKILL)
_, st = os.waitpid(pid, 0)
print(json.dumps({"status": os.WEXITSTATUS(st) if os.WIFEXITED(st) else None, "out": out.decode("utf8", "replace"), "cmdline": cmdline.decode("utf8", "replace")}))
`;

function runPty(dir: string, args: string[], prompts: string[], typed: string[]): Run {
  const cfg = { argv: [process.execPath, BIN, 'verify-blob', '--datadir', dir, ...args], prompts, typed: typed.map((t) => toHexT(enc(t))) };
  const r = spawnSync('python3', ['-c', PTY_SCRIPT], { input: JSON.stringify(cfg), encoding: 'utf8', timeout: 40_000 });
  const j = JSON.parse(r.stdout) as { status: number | null; out: string; cmdline: string };
  return { status: j.status, out: parse(j.out), text: j.out, cmdline: j.cmdline };
}

/** No 6-character window of the secret appears in `text`. */
function assertNoSecret(text: string, secret: string, where: string): void {
  const s = secret.trim();
  for (let i = 0; i + 6 <= s.length; i++) assert.ok(!text.includes(s.slice(i, i + 6)), `${where}: part of the secret shows`);
}

// ---- one blob per flag, each built by the test's own path ------------------------------------

interface Case {
  flag: string;
  format: string;
  /** What the file or pipe holds, and what is typed at the prompt. */
  stored: Uint8Array | string;
  typed: string;
  /** Other flags (the blob file is added). */
  extra: (dir: string) => string[];
  blob: Uint8Array;
  prompt: string;
}

function cases(): Case[] {
  const out: Case[] = [];
  // cln, plain hsm_secret: 32 raw bytes in the file or the pipe; 64 hex digits typed.
  const root = seq(32, (i) => 0xa0 + i);
  out.push({
    flag: '--hsm-secret', format: 'cln', stored: root, typed: toHexT(root), extra: () => [], prompt: 'hsm_secret (64 hex digits): ',
    blob: clnBlobT(clnMakeSecretT(root, 'scb secret'), seq(24, (i) => i), scbT(6137, 1n, 1_700_000_000, [])),
  });
  // cln passphrase of a mnemonic hsm_secret (PBKDF2 over the raw bytes, as libwally).
  const pass = 'correct horse';
  const seed = bip39SeedT(MNEMONIC, pass);
  out.push({
    flag: '--passphrase-file', format: 'cln', stored: pass + '\n', typed: pass, prompt: 'hsm_secret passphrase: ',
    extra: (dir) => ['--hsm-secret', file(dir, 'hsm_secret', cat(sha256T(seed), enc(MNEMONIC)))],
    blob: clnBlobT(clnMakeSecretT(seed, 'scb secret'), seq(24, (i) => 3 * i), scbT(6137, 1n, 1_700_000_001, [])),
  });
  const ldkSeed = seq(32, (i) => 0x51 + 7 * i);
  out.push({
    flag: '--ldk-seed-file', format: 'ldk', stored: toHexT(ldkSeed) + '\n', typed: toHexT(ldkSeed), extra: () => [], prompt: 'LDK seed (64 hex digits): ',
    blob: ldkBlobT(pathT(ldkSeed, [H(6)]), seq(32, (i) => 5 * i), be(0, 2)),
  });
  // Phoenix: the 12 words; the node key is at m/50'/0' on mainnet.
  out.push({
    flag: '--kmp-seed-file', format: 'kmp', stored: MNEMONIC + '\n', typed: MNEMONIC, extra: () => [], prompt: 'wallet recovery words or seed hex: ',
    blob: kmpBlobT(pathT(bip39SeedT(MNEMONIC), [H(50), H(0)]), 5, enc('phoenix channels')),
  });
  const nodeKey = seq(32, (i) => 0x31 + 3 * i);
  out.push({
    flag: '--kmp-node-key-file', format: 'kmp', stored: toHexT(nodeKey), typed: toHexT(nodeKey), extra: () => [], prompt: 'node private key (64 hex digits): ',
    blob: kmpBlobT(nodeKey, 5, enc('phoenix node key')),
  });
  // lnd: one wallet, by its aezeed entropy and by its root key (made by @scure/bip32 here).
  const entropy = seq(16, (i) => 0x42 + i);
  const lndKey = sha256T(getPublicKey(pathT(entropy, [H(1017), H(0), H(7), 0, 0]), true));
  const lndBlob = lndBlobT(lndKey, seq(24, (i) => 0x70 + i), enc('backup'));
  out.push({ flag: '--lnd-seed-file', format: 'lnd', stored: toHexT(entropy), typed: toHexT(entropy), extra: () => [], prompt: 'aezeed entropy (32 hex digits): ', blob: lndBlob });
  const xprv = HDKey.fromMasterSeed(entropy).privateExtendedKey;
  out.push({ flag: '--lnd-root-key-file', format: 'lnd', stored: xprv + '\n', typed: xprv, extra: () => [], prompt: 'root key (xprv/tprv): ', blob: lndBlob });
  return out;
}

const secretText = (c: Case): string => (typeof c.stored === 'string' ? c.stored : toHexT(c.stored));

test('every secret flag reads a file: the blob opens and no part of the secret is printed', () => {
  withDir((dir) => {
    for (const c of cases()) {
      const r = runPiped(dir, ['--blob-format', c.format, ...c.extra(dir), c.flag, file(dir, `s${c.flag}`, c.stored), '--file', file(dir, `b${c.flag}`, c.blob)]);
      assert.equal(r.status, 0, `${c.flag}: ${r.text}`);
      assert.deepEqual([r.out.valid, r.out.format], [true, c.format], c.flag);
      assertNoSecret(r.text, secretText(c), c.flag);
    }
  });
});

test("every secret flag reads standard input with '-': the blob opens and no part of the secret is printed", () => {
  withDir((dir) => {
    for (const c of cases()) {
      const r = runPiped(dir, ['--blob-format', c.format, ...c.extra(dir), c.flag, '-', '--file', file(dir, `b${c.flag}`, c.blob)], c.stored);
      assert.equal(r.status, 0, `${c.flag}: ${r.text}`);
      assert.deepEqual([r.out.valid, r.out.format], [true, c.format], c.flag);
      assertNoSecret(r.text, secretText(c), c.flag);
    }
    // Standard input carries one thing: the blob, or one secret.
    const c = cases()[2]!;
    const both = runPiped(dir, ['--blob-format', 'ldk', c.flag, '-', '-'], toHexT(c.blob));
    assert.equal(both.status, 2);
    assert.match(both.text, /^lnps: --ldk-seed-file - cannot read standard input: it already carries the blob\n$/);
    const two = runPiped(dir, ['--blob-format', 'auto', '--ldk-seed-file', '-', '--kmp-node-key-file', '-', '--file', file(dir, 'bb', c.blob)], 'x');
    assert.equal(two.status, 2);
    assert.match(two.text, /^lnps: only one secret can come from standard input: --ldk-seed-file and --kmp-node-key-file both say -\n$/);
  });
});

test('every secret flag prompts on a terminal without echo; the secret is never in argv or on the screen', { skip: PY ? false : 'python3 is not installed' }, () => {
  withDir((dir) => {
    for (const c of cases()) {
      // The passphrase is asked for even without its flag, when the terminal is there.
      const flagArgs = c.flag === '--passphrase-file' ? [] : [c.flag, '-'];
      const r = runPty(dir, ['--blob-format', c.format, ...c.extra(dir), ...flagArgs, '--file', file(dir, `b${c.flag}`, c.blob)], [c.prompt], [c.typed + '\r']);
      assert.equal(r.status, 0, `${c.flag}: ${r.text}`);
      assert.deepEqual([r.out?.valid, r.out?.format], [true, c.format], c.flag);
      assert.ok(r.text.startsWith(c.prompt), `${c.flag}: the prompt comes first`);
      assertNoSecret(r.text, c.typed, `${c.flag} on the terminal`);
      assert.ok(r.cmdline!.includes('verify-blob'), 'the command line was read while it waited');
      assertNoSecret(r.cmdline!, c.typed, `${c.flag} in /proc/PID/cmdline`);
    }
    // With the flag given as '-', the passphrase prompt is the same.
    const c = cases()[1]!;
    const r = runPty(dir, ['--blob-format', 'cln', ...c.extra(dir), c.flag, '-', '--file', file(dir, 'bp', c.blob)], [c.prompt], [c.typed + '\r']);
    assert.deepEqual([r.status, r.out?.valid], [0, true], r.text);
    // Backspace deletes a typed byte; Ctrl-C cancels with a usage error.
    const l = cases()[2]!;
    const fixed = runPty(dir, ['--blob-format', 'ldk', l.flag, '-', '--file', file(dir, 'bl', l.blob)], [l.prompt], [l.typed.slice(0, 10) + 'z\x7f' + l.typed.slice(10) + '\r']);
    assert.deepEqual([fixed.status, fixed.out?.valid], [0, true], fixed.text);
    const cancel = runPty(dir, ['--blob-format', 'ldk', l.flag, '-', '--file', join(dir, 'bl')], [l.prompt], [l.typed.slice(0, 10) + '\x03']);
    assert.equal(cancel.status, 2);
    assert.match(cancel.text, /lnps: --ldk-seed-file: entry cancelled/);
    assertNoSecret(cancel.text, l.typed.slice(0, 10), 'cancelled entry');
  });
});

test('the old flags that took a secret as their value are refused in one line naming the new flag, without echoing the value', () => {
  withDir((dir) => {
    const old: [string, string, string][] = [
      ['--ldk-seed', '--ldk-seed-file', 'ldk'],
      ['--kmp-seed', '--kmp-seed-file', 'kmp'],
      ['--kmp-node-key', '--kmp-node-key-file', 'kmp'],
      ['--lnd-seed', '--lnd-seed-file', 'lnd'],
      ['--lnd-root-key', '--lnd-root-key-file', 'lnd'],
    ];
    const value = '7c'.repeat(32);
    for (const [flag, now, fmt] of old) {
      for (const args of [['--blob-format', fmt, flag, value, '00'], [flag, value, '00']]) {
        const r = runPiped(dir, args);
        assert.equal(r.status, 2, `${flag}: ${r.text}`);
        assert.equal(r.text.split('\n').length, 2, `${flag}: one line`);
        assert.ok(r.text.startsWith(`lnps: ${flag} is gone`), r.text);
        assert.ok(r.text.includes(`give ${now} FILE`), r.text);
        assertNoSecret(r.text, value, flag);
      }
    }
  });
});

test('a malformed secret is described by its shape, never quoted: an invalid xprv does not name its letters', () => {
  withDir((dir) => {
    const blob = file(dir, 'b', lndBlobT(new Uint8Array(32).fill(1), new Uint8Array(24), enc('x')));
    const xprv = HDKey.fromMasterSeed(seq(16, (i) => i)).privateExtendedKey;
    const bad: [string, RegExp][] = [
      [xprv.slice(0, 20) + '0' + xprv.slice(21), /^lnps: --lnd-root-key-file: the root key is not a valid xprv\/tprv: it has characters outside base58\n$/],
      [xprv.slice(0, 20) + (xprv[20] === 'a' ? 'b' : 'a') + xprv.slice(21), /^lnps: --lnd-root-key-file: the root key is not a valid xprv\/tprv: its checksum does not match/],
      [HDKey.fromMasterSeed(seq(16, (i) => i)).publicExtendedKey, /^lnps: --lnd-root-key-file: the root key is an extended public key/],
      [xprv.slice(0, 40), /^lnps: --lnd-root-key-file: the root key is not a valid xprv\/tprv: it decodes to \d+ bytes, not 82\n$/],
    ];
    for (const [text, msg] of bad) {
      const r = runPiped(dir, ['--blob-format', 'lnd', '--lnd-root-key-file', file(dir, 'x', text), '--file', blob]);
      assert.equal(r.status, 1, r.text);
      assert.match(r.text, msg);
      assert.ok(!/Unknown letter/.test(r.text));
      assertNoSecret(r.text, text, 'xprv');
    }
    const words = runPiped(dir, ['--blob-format', 'kmp', '--kmp-seed-file', file(dir, 'w', MNEMONIC.replace('about', 'abandon')), '--file', blob]);
    assert.equal(words.status, 1);
    assert.match(words.text, /^lnps: --kmp-seed-file: the 12 words are not a valid BIP39 phrase \(a word outside the list, or a wrong checksum\)\n$/);
    assert.ok(!words.text.includes('abandon'));
  });
});
