// `lnps completion bash|zsh|fish`: the scripts come from the commander program, so every command
// and flag is in them. The bash script is parsed by bash and its completion function driven the
// way bash drives it (COMP_WORDS, COMP_CWORD).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fullProgram } from '../src/cli.js';
import { BIN, ROOT } from './stress-helpers.js';

function lnps(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: ROOT });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const bashScript = lnps(['completion', 'bash']).stdout;
const hasBash = spawnSync('bash', ['-c', 'exit 0']).status === 0;

/** What the bash completion offers for the words typed so far (the last one being completed). */
function complete(...words: string[]): string[] {
  const quoted = words.map((w) => `'${w.replace(/'/g, `'\\''`)}'`).join(' ');
  const r = spawnSync('bash', ['--norc', '--noprofile', '-c', `${bashScript}\nCOMP_WORDS=(${quoted}); COMP_CWORD=${words.length - 1}; _lnps; printf '%s\\n' "\${COMPREPLY[@]}"`], {
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').filter((l) => l !== '').sort();
}

test('bash: the script parses, and completes commands, flags and choices', { skip: !hasBash && 'no bash here' }, () => {
  const n = spawnSync('bash', ['-n'], { input: bashScript, encoding: 'utf8' });
  assert.equal(n.status, 0, n.stderr);
  assert.deepEqual(complete('lnps', 'listp'), ['listpeers', 'listpeerstorage']);
  assert.deepEqual(complete('lnps', '--network', 'regtest', 'listp'), ['listpeers', 'listpeerstorage']);
  assert.deepEqual(complete('lnps', '--network', ''), ['mainnet', 'regtest', 'signet', 'testnet']);
  assert.deepEqual(complete('lnps', 'seal', 'x.bin', '--pad', ''), ['bucket', 'full', 'none']);
  assert.deepEqual(complete('lnps', 'serve', '--storage-policy', ''), ['allowlist', 'any', 'channel-peers']);
  assert.deepEqual(complete('lnps', 'listpeerstorage', '--format', 't'), ['table']);
  assert.deepEqual(complete('lnps', 'completion', ''), ['bash', 'fish', 'zsh']);
  assert.deepEqual(complete('lnps', 'prunepeerbackup', '--d'), ['--datadir', '--debug', '--dry-run']);
  // decode has no data directory: its flags do not offer --datadir.
  assert.ok(!complete('lnps', 'decode', '--').includes('--datadir'));
  // A flag whose value is a file is left to the shell's file completion.
  assert.deepEqual(complete('lnps', 'getpeerstorage', PK, '--out', ''), []);
});

const PK = '02eec7245d6b7d2ccb30380bfbe2a3648cd7a942653f5aa340edcea1f283686619';

test('every command and every visible flag of the program is in each script', async () => {
  const program = await fullProgram();
  const scripts = Object.fromEntries(['bash', 'zsh', 'fish'].map((s) => [s, lnps(['completion', s])]));
  for (const [shell, r] of Object.entries(scripts)) {
    assert.equal(r.status, 0, `${shell}: ${r.stderr}`);
    for (const c of program.commands) {
      if (c.name() === 'help') continue;
      assert.ok(r.stdout.includes(c.name()), `${shell}: no ${c.name()}`);
      for (const o of c.options) {
        if (o.hidden || !o.long) continue;
        const form = shell === 'fish' ? `-l ${o.long.slice(2)} ` : o.long;
        assert.ok(r.stdout.includes(form), `${shell}: no ${c.name()} ${o.long}`);
      }
    }
    assert.ok(r.stdout.includes('mainnet testnet signet regtest'), `${shell}: no --network choices`);
  }
  assert.match(scripts.zsh!.stdout, /^#compdef lnps\n/);
  assert.equal(lnps(['completion', 'tcsh']).status, 2);
});
