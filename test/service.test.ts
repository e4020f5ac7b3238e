// contrib/lnps.service: the systemd unit shipped for running `lnps serve` as a service. Its
// hardening options are read from the file, and `systemd-analyze verify` checks it where
// systemd-analyze is installed (skipped elsewhere, saying so). The unit's ExecStart names
// /usr/local/bin/lnps, which verify requires to exist; the checked copy points at this
// checkout's bin/lnps.js instead, and is otherwise the file as shipped.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BIN, cleanup, tempDir } from './node-harness.js';

after(cleanup);

const UNIT = fileURLToPath(new URL('../../contrib/lnps.service', import.meta.url));

/** The unit's settings: section -> key -> every value (a key may repeat). */
function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const out = new Map<string, Map<string, string[]>>();
  let section: Map<string, string[]> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const s = /^\[(.+)\]$/.exec(line);
    if (s) {
      section = new Map();
      out.set(s[1]!, section);
      continue;
    }
    const eq = line.indexOf('=');
    assert.ok(section && eq > 0, `a key=value line inside a section: ${line}`);
    const k = line.slice(0, eq);
    section.set(k, [...(section.get(k) ?? []), line.slice(eq + 1)]);
  }
  return out;
}

test('lnps.service: runs lnps serve as its own user with the data directory the only writable path', () => {
  const unit = parseUnit(readFileSync(UNIT, 'utf8'));
  const svc = unit.get('Service')!;
  const one = (k: string) => svc.get(k)?.at(-1);
  const exec = one('ExecStart')!;
  const datadir = /--datadir (\S+)/.exec(exec)?.[1];
  assert.equal(datadir, '/var/lib/lnps');
  assert.match(exec, /^\/usr\/local\/bin\/lnps serve /);
  assert.equal(one('User'), 'lnps');
  assert.equal(one('NoNewPrivileges'), 'yes');
  assert.equal(one('ProtectSystem'), 'strict');
  assert.equal(one('PrivateTmp'), 'yes');
  assert.equal(one('ProtectHome'), 'read-only');
  assert.equal(one('ReadWritePaths'), datadir);
  assert.equal(one('StateDirectory'), 'lnps');
  assert.equal(one('CapabilityBoundingSet'), '');
  assert.equal(one('RestrictAddressFamilies'), 'AF_UNIX AF_INET AF_INET6');
  assert.equal(one('UMask'), '0077');
  // SIGHUP reloads lnps.conf; SIGTERM stops cleanly.
  assert.equal(one('ExecReload'), '/bin/kill -HUP $MAINPID');
  assert.equal(one('KillSignal'), 'SIGTERM');
  assert.equal(unit.get('Install')!.get('WantedBy')?.[0], 'multi-user.target');
});

test('systemd-analyze verify contrib/lnps.service', (t) => {
  const probe = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    t.skip('systemd-analyze is not installed on this machine: the unit is not verified here');
    return;
  }
  const dir = tempDir();
  const copy = join(dir, 'lnps.service');
  const text = readFileSync(UNIT, 'utf8');
  assert.ok(text.includes('ExecStart=/usr/local/bin/lnps '));
  writeFileSync(copy, text.replace('ExecStart=/usr/local/bin/lnps ', `ExecStart=${BIN} `));
  const r = spawnSync('systemd-analyze', ['verify', copy], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, `systemd-analyze verify failed:\n${r.stdout}${r.stderr}`);
  assert.equal(r.stderr.trim(), '', 'no warning either');
});
