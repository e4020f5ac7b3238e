import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/lnps.js', import.meta.url));

test('lnps --help lists the global flags and exit codes, exit 0', () => {
  const r = spawnSync(process.execPath, [BIN, '--help'], { encoding: 'utf8' });
  assert.equal(r.status, 0);
  assert.match(r.stdout, /--datadir <dir>/);
  assert.match(r.stdout, /Exit codes: 0 ok/);
});

test('an unknown flag is a usage error: one line, exit 2', () => {
  const r = spawnSync(process.execPath, [BIN, '--no-such-flag'], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  assert.match(r.stderr, /^lnps: unknown option '--no-such-flag'/);
});
