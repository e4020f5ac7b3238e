// The CLI entry: builds the commander program, loads only the command being run, and maps
// errors to exit codes (src/exit.ts). The only place that decides how the process ends.
import { Command, CommanderError, Option } from 'commander';
import { ALIASES, COMMANDS } from './commands/index.js';
import { EXIT, exitCodeFor } from './exit.js';

const VERSION = '0.1.0';

/**
 * The global options. They are accepted before the command (`lnps --datadir D getinfo`) and
 * after it (`lnps getinfo --datadir D`): each command gets its own copy, unless it declares an
 * option of the same name for itself (as `verify-blob --format cln` does). No defaults here:
 * `globals()` applies them, so a value given before the command is not masked by a default.
 */
function globalOptions(): Option[] {
  return [
    new Option('--datadir <dir>', 'data directory (default ~/.lnps, or $LNPS_DIR)'),
    new Option('--network <net>', 'network whose database to use (default mainnet)').choices(['mainnet', 'testnet', 'signet', 'regtest']),
    new Option('--key-file <file>', 'node secret key file (default <datadir>/node.key)'),
    new Option('--format <fmt>', 'output format (default json)').choices(['json', 'table']),
    new Option('--debug', 'print stack traces on errors'),
  ];
}

function addGlobalOptions(cmd: Command): void {
  for (const opt of globalOptions()) {
    if (!cmd.options.some((o) => o.long === opt.long)) cmd.addOption(opt);
  }
}

function buildProgram(): Command {
  const program = new Command('lnps');
  addGlobalOptions(program);
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

export async function main(argv: string[]): Promise<number> {
  const args = argv.slice(2);
  const debug = args.includes('--debug');
  const program = buildProgram();
  const name = commandName(args);
  const canonical = name === undefined ? undefined : (ALIASES[name] ?? name);
  try {
    if (canonical !== undefined && COMMANDS[canonical]) {
      (await COMMANDS[canonical]!.load()).register(program);
    } else {
      // Help, version, or an unknown command: register everything so commander can list
      // the commands or suggest the closest one.
      for (const entry of Object.values(COMMANDS)) (await entry.load()).register(program);
    }
    for (const sub of program.commands) {
      addGlobalOptions(sub);
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
    const code = exitCodeFor(err);
    const message = err instanceof Error ? err.message : String(err);
    if (debug && err instanceof Error && err.stack) process.stderr.write(err.stack + '\n');
    else process.stderr.write(`lnps: ${code === EXIT.internal ? 'internal error: ' : ''}${message.split('\n')[0]}\n`);
    return code;
  }
}
