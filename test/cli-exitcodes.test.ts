// The exit-code rule (README, "Exit codes"), swept over every command and every flag: a command
// line that is wrong (an unknown flag, a missing argument, a value outside its form or range) is
// exit 2 with one `lnps:` line on stderr; a flag that carries data (DATA_FLAGS) with wrong data
// is exit 1. The sweep is generated from the commander program itself, so a command or a flag
// added later is swept too: a flag this file does not know gets an empty value, which the rule
// for every value flag refuses.
//
// Every run points at an empty data directory, so a wrong value that slipped through would fail
// fast with another code (no database, no key, no node) rather than do anything. The sweep calls
// the CLI's entry in-process (main() returns the exit code and writes what the process would
// write), a few hundred runs in a second or two; one case of every command then runs again as a
// real process of bin/lnps.js, which must give the same code and the same line.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command, Option } from 'commander';
import { fullProgram, main } from '../src/cli.js';
import { DATA_FLAGS } from '../src/commands/_flags.js';
import { BIN, offCurvePubkeyHex, removeDir, tempDir } from './stress-helpers.js';

const PK = '02eec7245d6b7d2ccb30380bfbe2a3648cd7a942653f5aa340edcea1f283686619';
const TXID = 'ab'.repeat(32);
let DIR = '';
let FILE = '';

/** A well-formed value for a required positional argument, by its name. */
function validArg(cmd: string, name: string, i: number): string {
  const table: Record<string, string> = {
    pubkey: PK,
    height: '100',
    'pubkey@host:port': `${PK}@127.0.0.1:1`,
    peers: `${PK}@127.0.0.1:1`,
    paths: DIR,
    hex: '00070003010203',
    type: 'ping',
    shell: 'bash',
  };
  return table[name] ?? (cmd === 'encode' ? 'ping' : i === 0 ? FILE : FILE);
}

/** A well-formed value for a required option. */
function validFlag(long: string): string {
  const table: Record<string, string> = {
    '--peer': PK,
    '--chan-point': `${TXID}:0`,
    '--k': '2',
    '--n': '3',
    '--stripe': '2-of-3',
    '--height': '100',
  };
  return table[long] ?? join(DIR, 'out-' + long.replace(/^--/, ''));
}

/** Malformed values by flag; `command --flag` keys win. Any other value flag gets ''. */
const MALFORMED: Record<string, string> = {
  '--height': '-5',
  '--cooldown': '120s',
  '--timeout': '15 parsecs',
  '--retention-interval': '10ms',
  '--shard-move-after': '1ms',
  '--ping-interval': '0',
  '--pong-timeout': 'soon',
  '--retrieval-timeout': '-1s',
  '--handshake-timeout': '1e3',
  '--reconnect-delay': '1d',
  '--peer': '02abc',
  '--allow': 'not-a-key',
  '--connect': `${PK}@127.0.0.1:99999`,
  '--listen': 'localhost:port',
  '--chan-point': `${TXID}:-1`,
  '--seq': '18446744073709551616',
  '--k': '0',
  '--n': '33',
  '--stripe': '3-of-2',
  '--max-peers': '-1',
  '--max-bytes': '1.5',
  '--max-blob-bytes': '65532',
  '--retention-blocks': 'many',
  '--debuglevel': 'loud',
};

/** Malformed positional arguments, by name (arguments that carry data are not swept). */
const MALFORMED_ARG: Record<string, string> = {
  pubkey: offCurvePubkeyHex(),
  height: '-5',
  'pubkey@host:port': 'nopubkey@127.0.0.1',
  peers: `${PK.slice(0, 64)}@127.0.0.1`,
  file: '',
  paths: '',
};

/** Data flags with wrong data, and the command line that carries it: exit 1. */
const DATA_CASES: Record<string, string[]> = {
  'encode --blob': ['encode', 'peer_storage', '--blob', 'zz'],
  'encode --payload': ['encode', '32769', '--payload', 'xyz'],
  'encode --data': ['encode', 'warning', '--data', 'x'.repeat(70000)],
  'encode --data-hex': ['encode', 'warning', '--data-hex', '0'],
  'encode --channel-id': ['encode', 'warning', '--channel-id', 'abcd', '--data', 'x'],
  'encode --remote-addr': ['encode', 'init', '--remote-addr', 'zz'],
  'encode --networks': ['encode', 'init', '--networks', 'moonnet'],
};

interface Case {
  name: string;
  args: string[];
  code: number;
}

const takesValue = (o: Option) => o.required || o.optional;

function baseArgs(cmd: Command): string[] {
  const args: string[] = [cmd.name()];
  cmd.registeredArguments.forEach((a, i) => {
    if (a.required) args.push(validArg(cmd.name(), a.name(), i));
  });
  for (const o of cmd.options) if (o.mandatory && o.long) args.push(o.long, validFlag(o.long));
  return args;
}

function casesOf(cmd: Command): Case[] {
  const name = cmd.name();
  const base = baseArgs(cmd);
  const cases: Case[] = [
    { name: `${name} --no-such-flag`, args: [...base, '--no-such-flag'], code: 2 },
  ];
  if (cmd.registeredArguments.some((a) => a.required)) cases.push({ name: `${name} (no arguments)`, args: [name], code: 2 });
  for (const o of cmd.options) {
    if (!o.long || o.long === '--help' || o.long === '--version') continue;
    const key = `${name} ${o.long}`;
    if (DATA_FLAGS.has(key)) {
      const args = DATA_CASES[key];
      assert.ok(args, `${key} carries data: give it a case in DATA_CASES`);
      cases.push({ name: `${key} (wrong data)`, args, code: 1 });
      continue;
    }
    // Replace a required flag's good value; add any other flag.
    const without = base.filter((_, i) => !(base[i] === o.long || (i > 0 && base[i - 1] === o.long)));
    if (!takesValue(o)) {
      cases.push({ name: `${key}=x (a switch given a value)`, args: [...without, `${o.long}=x`], code: 2 });
      continue;
    }
    const bad = o.argChoices ? 'no-such-choice' : (MALFORMED[key] ?? MALFORMED[o.long] ?? '');
    cases.push({ name: `${key} ${JSON.stringify(bad)}`, args: [...without, o.long, bad], code: 2 });
  }
  cmd.registeredArguments.forEach((a, i) => {
    const bad = MALFORMED_ARG[a.name()];
    if (bad === undefined) return;
    const args = [...base];
    if (a.required) args[1 + i] = bad;
    else args.splice(1 + i, 0, bad);
    cases.push({ name: `${name} <${a.name()}> ${JSON.stringify(bad)}`, args, code: 2 });
  });
  return cases;
}

function run(args: string[]): Promise<{ code: number | null; stderr: string; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, LNPS_DIR: join(DIR, 'empty-datadir'), NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    // A wrong value that slipped through must not hang the suite (a node that starts, say).
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr, stdout });
    });
  });
}

/** The CLI entry in this process, with stdout and stderr captured: what a process would print and its code. */
async function runHere(args: string[]): Promise<{ code: number | null; stderr: string; stdout: string }> {
  let stdout = '';
  let stderr = '';
  const writeOut = process.stdout.write;
  const writeErr = process.stderr.write;
  const dir = process.env.LNPS_DIR;
  process.stdout.write = ((c: string | Uint8Array) => ((stdout += String(c)), true)) as typeof process.stdout.write;
  process.stderr.write = ((c: string | Uint8Array) => ((stderr += String(c)), true)) as typeof process.stderr.write;
  process.env.LNPS_DIR = join(DIR, 'empty-datadir');
  process.exitCode = undefined;
  try {
    const code = await main([process.execPath, BIN, ...args]);
    return { code, stderr, stdout };
  } finally {
    process.stdout.write = writeOut;
    process.stderr.write = writeErr;
    if (dir === undefined) delete process.env.LNPS_DIR;
    else process.env.LNPS_DIR = dir;
    process.exitCode = undefined;
  }
}

function check(c: Case, r: { code: number | null; stderr: string }): string | undefined {
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  if (r.code !== c.code) return `${c.name}: exit ${r.code}, expected ${c.code}: ${r.stderr.trim()} [lnps ${c.args.join(' ')}]`;
  if (lines.length !== 1 || !lines[0]!.startsWith('lnps: ')) return `${c.name}: stderr is not one lnps: line: ${JSON.stringify(r.stderr)}`;
  return undefined;
}

let program: Command;
let cases: Case[];

before(async () => {
  DIR = tempDir('lnps-exitcodes-');
  mkdirSync(join(DIR, 'empty-datadir'));
  FILE = join(DIR, 'input.bin');
  writeFileSync(FILE, 'hello');
  program = await fullProgram();
  cases = program.commands.filter((c) => c.name() !== 'help').flatMap(casesOf);
});

after(() => removeDir(DIR));

test('every command and every flag: a malformed value is exit 2 (1 for data flags), one lnps: line on stderr', async () => {
  // Every command is swept, with at least its unknown-flag case and one case per flag.
  const swept = new Set(cases.map((c) => c.args[0]));
  for (const c of program.commands) assert.ok(swept.has(c.name()), `${c.name()} is not swept`);
  assert.ok(cases.length >= program.commands.length * 3, `only ${cases.length} cases`);
  const failures: string[] = [];
  for (const c of cases) {
    const problem = check(c, await runHere(c.args));
    if (problem) failures.push(problem);
  }
  assert.deepEqual(failures, [], `${failures.length} of ${cases.length} cases failed`);
});

test('the same codes and lines from real processes: one malformed flag of every command', async () => {
  const sample = [...new Map(cases.filter((c) => c.code === 2 && !c.name.includes('no-such-flag')).map((c) => [c.args[0], c])).values()];
  assert.ok(sample.length >= program.commands.length - 1);
  // In-process runs one at a time (they capture the process's own stdout and stderr).
  const here: string[] = [];
  for (const c of sample) here.push((await runHere(c.args)).stderr);
  const failures: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < sample.length) {
      const i = next++;
      const c = sample[i]!;
      const real = await run(c.args);
      const problem = check(c, real);
      if (problem) failures.push(problem);
      else if (real.stderr !== here[i]) failures.push(`${c.name}: the process printed ${JSON.stringify(real.stderr)}, in-process ${JSON.stringify(here[i])}`);
    }
  };
  // Three at a time: enough to overlap start-up, little enough for a two-core machine.
  await Promise.all([worker(), worker(), worker()]);
  assert.deepEqual(failures, []);
});

test('an unknown command names the nearest ones, exit 2', async () => {
  const a = await run(['listper']);
  assert.equal(a.code, 2);
  assert.equal(a.stderr, "lnps: unknown command 'listper' (did you mean listpeers?); `lnps --help` lists the commands\n");
  const b = await run(['listp']);
  assert.equal(b.code, 2);
  assert.match(b.stderr, /did you mean listpeers or listpeerstorage\?/);
  const c = await run(['xyzzy']);
  assert.equal(c.code, 2);
  assert.equal(c.stderr, "lnps: unknown command 'xyzzy'; `lnps --help` lists the commands\n");
});

test('--help lists only the global options that apply to the command', async () => {
  const decode = await run(['decode', '--help']);
  assert.equal(decode.code, 0);
  assert.doesNotMatch(decode.stdout, /--datadir|--network|--key-file/);
  assert.match(decode.stdout, /--format/);
  const seal = await run(['seal', '--help']);
  assert.match(seal.stdout, /--datadir/);
  assert.match(seal.stdout, /--key-file/);
  assert.doesNotMatch(seal.stdout, /--network/);
  const getinfo = await run(['getinfo', '--help']);
  for (const flag of ['--datadir', '--network', '--key-file', '--format', '--debug']) assert.match(getinfo.stdout, new RegExp(flag));
  // Accepted all the same, so scripts may pass the same global flags to every command.
  const d = await run(['decode', '00070003010203', '--datadir', DIR, '--network', 'regtest']);
  assert.equal(d.code, 0);
  assert.equal(JSON.parse(d.stdout).name, 'peer_storage');
});
