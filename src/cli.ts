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
 * after it (`lnps getinfo --datadir D`): each command gets its own copy, unless it declares an
 * option of the same name for itself (as verify-blob does for `--format`, to point the old `--format cln` at `--blob-format`). No defaults here:
 * `globals()` applies them, so a value given before the command is not masked by a default.
 */
function globalOptions({ Option }: Commander): Option[] {
  return [
    new Option('--datadir <dir>', 'data directory (default ~/.lnps, or $LNPS_DIR)'),
    new Option('--network <net>', 'network whose database to use (default mainnet)').choices(['mainnet', 'testnet', 'signet', 'regtest']),
    new Option('--key-file <file>', 'node secret key file (default <datadir>/node.key)'),
    new Option('--format <fmt>', 'output format (default json)').choices(['json', 'table']),
    new Option('--debug', 'print stack traces on errors'),
  ];
}

function addGlobalOptions(commander: Commander, cmd: Command): void {
  for (const opt of globalOptions(commander)) {
    if (!cmd.options.some((o) => o.long === opt.long)) cmd.addOption(opt);
  }
}

function buildProgram(commander: Commander): Command {
  const program = new commander.Command('lnps');
  addGlobalOptions(commander, program);
  program
    .description('Operator toolkit and node for the Lightning peer storage protocol (BOLT #1 peer_storage, option_provide_storage)')
    .version(VERSION, '-V, --version')
    .enablePositionalOptions()
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      outputError: (str, write) => write(str.replace(/\n+$/, '').split('\n')[0]!.replace(/^error: /, 'lnps: ') + '\n'),
    });
  return program;
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
async function reportError(err: unknown, debug: boolean): Promise<number> {
  const { EXIT, exitCodeFor } = await import('./exit.js');
  const code = exitCodeFor(err);
  const message = err instanceof Error ? err.message : String(err);
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
    return reportError(err, debug);
  }
  const commander = await import('commander');
  const { CommanderError } = commander;
  const { EXIT } = await import('./exit.js');
  const program = buildProgram(commander);
  try {
    if (canonical !== undefined && COMMANDS[canonical]) {
      (await COMMANDS[canonical]!.load()).register(program);
    } else {
      // Help, version, or an unknown command: register everything so commander can list
      // the commands or suggest the closest one.
      for (const entry of Object.values(COMMANDS)) (await entry.load()).register(program);
    }
    for (const sub of program.commands) {
      addGlobalOptions(commander, sub);
      // The command list shows the one-line summary; `lnps <command> --help` the full text.
      const entry = COMMANDS[sub.name()];
      if (entry && !sub.summary()) sub.summary(entry.summary);
      sub.exitOverride().configureOutput({
        outputError: (str, write) => write(str.replace(/\n+$/, '').split('\n')[0]!.replace(/^error: /, 'lnps: ') + '\n'),
      });
      sub.showHelpAfterError(false);
    }
    program.addHelpText('after', '\nRun `lnps <command> --help` for a command\'s flags and an example.\nExit codes: 0 ok, 1 invalid input or failed check, 2 usage error, 3 database or file unavailable, 70 internal error.\n');
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version are not errors; every other commander error is a usage error.
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return EXIT.ok;
      return EXIT.usage;
    }
    return reportError(err, debug);
  }
}
