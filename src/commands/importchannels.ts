import type { Command } from 'commander';
import { UsageError } from '../core/errors.js';
import { parseChannelsJson } from '../core/service/channels-json.js';
import { action, examples, globals, readFileBytes, readStdin } from './_common.js';
import { runOp } from './_db.js';

/** A file's text, or standard input's for `-`. */
async function readText(path: string, what: string): Promise<string> {
  const bytes = path === '-' ? await readStdin() : readFileBytes(path, `${what} file`);
  return Buffer.from(bytes).toString('utf8');
}

export function register(program: Command): void {
  program
    .command('importchannels')
    .description(
      'Register channels from the Lightning node beside lnps: lnd\'s `lncli listchannels` (open) and `lncli closedchannels` (closed, with close_height), ' +
        'or Core Lightning\'s `lightning-cli listpeerchannels` (open or closed by each channel\'s state). The format is recognised from the JSON. ' +
        '`-` reads standard input. One atomic write.',
    )
    .option('--listchannels <file>', 'output of `lncli listchannels` (or of `lightning-cli listpeerchannels`); - for stdin')
    .option('--closedchannels <file>', 'output of `lncli closedchannels`; - for stdin')
    .option('--listpeerchannels <file>', 'output of `lightning-cli listpeerchannels`; - for stdin')
    .addHelpText(
      'after',
      examples(
        'lncli listchannels > open.json; lncli closedchannels > closed.json',
        'lnps importchannels --listchannels open.json --closedchannels closed.json',
        'lightning-cli listpeerchannels | lnps importchannels --listpeerchannels -',
      ),
    )
    .action(
      action(async (opts: { listchannels?: string; closedchannels?: string; listpeerchannels?: string }, cmd: Command) => {
        const given = [opts.listchannels, opts.closedchannels, opts.listpeerchannels].filter((v) => v !== undefined);
        if (given.length === 0) throw new UsageError('give --listchannels F, --closedchannels F or --listpeerchannels F (- for stdin)');
        if (given.filter((v) => v === '-').length > 1) throw new UsageError('standard input (-) can be read once: give - to one option only');
        const open = [];
        const closed = [];
        for (const [file, what, kind] of [
          [opts.listchannels, 'listchannels', 'open'],
          [opts.closedchannels, 'closedchannels', 'closed'],
          [opts.listpeerchannels, 'listpeerchannels', 'open'],
        ] as const) {
          if (file === undefined) continue;
          const p = parseChannelsJson(await readText(file, what), file === '-' ? 'standard input' : file, kind);
          open.push(...p.open);
          closed.push(...p.closed);
        }
        return runOp(globals(cmd), 'importchannels', { open, closed });
      }),
    );
}
