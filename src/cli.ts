// The CLI entry: builds the commander program, loads only the command being run, and maps
// errors to exit codes (src/exit.ts). The only place that decides how the process ends.
//
// Start-up is a feature (scripts call lnps in loops), and every module costs time: commander and
// the exit-code table are loaded only when needed, and a command may answer its simplest form
// without commander at all (see `fast` below).
import type { Command, Option } from 'commander';
import { ALIASES, COMMANDS } from './commands/index.js';
import { VERSION } from './core/version.js';

type Commander = typeof import('commander');

/**
 * The global options. They are accepted before the command (`lnps --datadir D getinfo`) and
 * after it (`lnps getinfo --datadir D`): each command gets its own copy, listed in its --help when
 * it applies (COMMANDS[name].globals; `--format` and `--debug` always), unless it declares an option of the
 * same name for itself (as verify-blob does for `--format`, to point the old `--format cln` at `--blob-format`). No defaults here: `globals()`
 * applies them, so a value given before the command is not masked by a default.
 */
function globalOptions({ Option }: Commander): Option[] {
  return [
    new Option('--datadir <dir>', 'data directory (default ~/.lnps, or $LNPS_DIR)'),
    new Option('--network <net>', 'network whose database to use (default mainnet)').choices([...NETWORKS]),
    new Option('--key-file <file>', 'node secret key file (default <datadir>/node.key)'),
    new Option('--format <fmt>', 'output format (default json)').choices(['json', 'table']),
    new Option('--debug', 'print stack traces on errors'),
  ];
}

const NETWORKS = ['mainnet', 'testnet', 'signet', 'regtest'] as const;
const ALWAYS = new Set(['--format', '--debug']);

/**
 * A global option that does not apply to the command is still accepted (scripts pass the same
 * global flags to every command) but hidden from its --help.
 */
function addGlobalOptions(commander: Commander, cmd: Command, applies: readonly string[] | undefined): void {
  for (const opt of globalOptions(commander)) {
    if (cmd.options.some((o) => o.long === opt.long)) continue;
    if (applies && !ALWAYS.has(opt.long!) && !applies.includes(opt.long!.slice(2))) opt.hideHelp();
    cmd.addOption(opt);
  }
}

function buildProgram(commander: Commander): Command {
  const program = new commander.Command('lnps');
  addGlobalOptions(commander, program, undefined);
  program
    .description('Operator toolkit and node for the Lightning peer storage protocol (BOLT #1 peer_storage, option_provide_storage)')
    .version(VERSION, '-V, --version')
    .enablePositionalOptions()
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({ outputError: (str, write) => write(oneLine(str)) });
  return program;
}

/**
 * Commander's error as one `lnps:` line. A value refused by a form check (src/commands/_flags.ts)
 * already names the flag and what it expects, so commander's preamble is dropped.
 */
function oneLine(str: string): string {
  const first = str.replace(/\n+$/, '').split('\n')[0]!;
  return (
    first
      .replace(/^error: option '[^']*' argument '.*?' is invalid\. (?!Allowed choices)/s, 'error: ')
      .replace(/^error: command-argument value '.*?' is invalid for argument '[^']*'\. (?!Allowed choices)/s, 'error: ')
      .replace(/^error: /, 'lnps: ') + '\n'
  );
}

/** First argument that is not an option: the command name, if any. */
function commandName(args: string[]): string | undefined {
  const valueFlags = new Set(['--datadir', '--network', '--key-file', '--format']);
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (valueFlags.has(a)) {
      i++;
      continue;
    }
    if (a.startsWith('-')) continue;
    return a;
  }
  return undefined;
}

/** One line on stderr (a stack trace only with --debug) and the exit code for the error. */
async function reportError(err: unknown, debug: boolean, args: readonly string[] = []): Promise<number> {
  const [{ EXIT, exitCodeFor }, { withContext }] = await Promise.all([import('./exit.js'), import('./commands/_hints.js')]);
  const code = exitCodeFor(err);
  const message = withContext(err, err instanceof Error ? err.message : String(err), args);
  if (debug && err instanceof Error && err.stack) process.stderr.write(err.stack + '\n');
  else process.stderr.write(`lnps: ${code === EXIT.internal ? 'internal error: ' : ''}${message.split('\n')[0]}\n`);
  return code;
}

export async function main(argv: string[]): Promise<number> {
  const args = argv.slice(2);
  const debug = args.includes('--debug');
  const name = commandName(args);
  const canonical = name === undefined ? undefined : (ALIASES[name] ?? name);
  // `lnps --version` alone needs no command loaded (commander would print the same line).
  if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
    process.stdout.write(VERSION + '\n');
    return 0;
  }
  try {
    // A command may answer its simplest form from a light module, without commander (see
    // FastPath in src/commands/index.ts); its result is JSON-ready, printed as `action()` would.
    const entry = canonical !== undefined && args[0] === name ? COMMANDS[canonical] : undefined;
    const run = entry?.fast ? (await entry.fast()).fast(args.slice(1)) : undefined;
    if (run) {
      const result = await run();
      if (result !== undefined) process.stdout.write(JSON.stringify(result, null, 2) + '\n');
      return typeof process.exitCode === 'number' ? process.exitCode : 0;
    }
  } catch (err) {
    return reportError(err, debug, args);
  }
  // An unknown command is answered from the command table alone: no command is loaded.
  if (name !== undefined && canonical !== undefined && !COMMANDS[canonical] && name !== 'help') {
    const near = nearestCommands(name);
    const guess = near.length > 0 ? ` (did you mean ${near.join(' or ')}?)` : '';
    process.stderr.write(`lnps: unknown command '${name}'${guess}; \`lnps --help\` lists the commands\n`);
    return 2; // EXIT.usage
  }
  const commander = await import('commander');
  const { CommanderError } = commander;
  const { EXIT } = await import('./exit.js');
  try {
    const program = await buildWithCommands(commander, canonical !== undefined && COMMANDS[canonical] ? [canonical] : Object.keys(COMMANDS));
    program.addHelpText('after', '\nRun `lnps <command> --help` for a command\'s flags and an example.\nExit codes: 0 ok, 1 invalid data or a failed check, 2 wrong command line, 3 database or file unavailable, 70 internal error.\n');
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version are not errors; every other commander error is a usage error.
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return EXIT.ok;
      return EXIT.usage;
    }
    return reportError(err, debug, args);
  }
}

/** The program with the given commands registered, each with its global options and flag checks. */
async function buildWithCommands(commander: Commander, names: string[]): Promise<Command> {
  const [{ applyForms }] = await Promise.all([import('./commands/_flags.js')]);
  const program = buildProgram(commander);
  for (const n of names) (await COMMANDS[n]!.load()).register(program);
  applyForms(program);
  for (const sub of program.commands) {
    const entry = COMMANDS[sub.name()];
    addGlobalOptions(commander, sub, entry?.globals);
    applyForms(sub);
    // The command list shows the one-line summary; `lnps <command> --help` the full text.
    if (entry && !sub.summary()) sub.summary(entry.summary);
    sub.exitOverride().configureOutput({ outputError: (str, write) => write(oneLine(str)) });
    sub.showHelpAfterError(false);
  }
  return program;
}

/**
 * The whole program, every command registered as `lnps` would run it: what `lnps completion`
 * describes and what the exit-code tests sweep, so a command added later is covered by both.
 */
export async function fullProgram(): Promise<Command> {
  return buildWithCommands(await import('commander'), Object.keys(COMMANDS));
}

/**
 * The commands closest to a mistyped one: those it begins (up to three), else the nearest by
 * edit distance when it is within about a third of the word, as commander's own suggestions.
 */
export function nearestCommands(name: string): string[] {
  const names = [...Object.keys(COMMANDS), ...Object.keys(ALIASES)];
  const lower = name.toLowerCase();
  const prefixed = names.filter((n) => n.startsWith(lower));
  if (prefixed.length > 0 && prefixed.length <= 3) return prefixed.sort((a, b) => a.length - b.length);
  let best: string | undefined;
  let bestD = Infinity;
  for (const n of names) {
    const d = editDistance(lower, n);
    if (d < bestD) {
      bestD = d;
      best = n;
    }
  }
  return best !== undefined && bestD <= Math.max(1, Math.floor(Math.max(name.length, best.length) / 3)) ? [best] : [];
}

/** Damerau-Levenshtein distance (adjacent transpositions count as one edit). */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}
