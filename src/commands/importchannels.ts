import type { Command } from 'commander';
import { InputError, UsageError } from '../core/errors.js';
import type { ChannelImport } from '../core/service/ops.js';
import { action, examples, globals, readFileBytes } from './_common.js';
import { runOp } from './_db.js';

/** The channels of `lncli listchannels` / `lncli closedchannels` JSON: remote_pubkey, channel_point, close_height. */
function lndChannels(path: string, what: string): ChannelImport[] {
  const text = Buffer.from(readFileBytes(path, `${what} file`)).toString('utf8');
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new InputError(`${path}: not valid JSON (expected the output of \`lncli ${what}\`)`);
  }
  const list = (v as { channels?: unknown } | null)?.channels;
  if (!Array.isArray(list)) throw new InputError(`${path}: no "channels" list (expected the output of \`lncli ${what}\`)`);
  return list.map((c: Record<string, unknown>, i) => {
    if (typeof c !== 'object' || c === null) throw new InputError(`${path}: channel ${i + 1} is not an object`);
    const h = c.close_height;
    // lnd prints uint32 fields as numbers; accept a numeric string too.
    const close_height = typeof h === 'string' && /^\d+$/.test(h) ? Number(h) : (h as number | undefined);
    return { peer: c.remote_pubkey as string, chan_point: c.channel_point as string, close_height };
  });
}

export function register(program: Command): void {
  program
    .command('importchannels')
    .description('Register channels from lnd: the JSON that `lncli listchannels` (open) and `lncli closedchannels` (closed, with close_height) print. One atomic write.')
    .option('--listchannels <file>', 'output of `lncli listchannels`')
    .option('--closedchannels <file>', 'output of `lncli closedchannels`')
    .addHelpText('after', examples('lncli listchannels > open.json; lncli closedchannels > closed.json', 'lnps importchannels --listchannels open.json --closedchannels closed.json'))
    .action(
      action(async (opts: { listchannels?: string; closedchannels?: string }, cmd: Command) => {
        if (opts.listchannels === undefined && opts.closedchannels === undefined) throw new UsageError('give --listchannels F, --closedchannels F, or both');
        const open = opts.listchannels === undefined ? [] : lndChannels(opts.listchannels, 'listchannels');
        const closed = opts.closedchannels === undefined ? [] : lndChannels(opts.closedchannels, 'closedchannels');
        return runOp(globals(cmd), 'importchannels', { open, closed });
      }),
    );
}
