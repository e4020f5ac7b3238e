import type { Command } from 'commander';
import { action, examples, globals } from './_common.js';
import { heightFlag, runOp } from './_db.js';

export function register(program: Command): void {
  program
    .command('closechannel')
    .description('Mark a channel closed; retention counts 2016 blocks from the close height (or 14 days when none is given)')
    .requiredOption('--chan-point <txid:n>', 'the funding outpoint')
    .option('--height <h>', 'the block height the channel closed at')
    .addHelpText('after', examples('lnps closechannel --chan-point 5f3a…e1:0 --height 900000'))
    .action(
      action(async (opts: { chanPoint: string; height?: string }, cmd: Command) =>
        runOp(globals(cmd), 'closechannel', { chan_point: opts.chanPoint, height: heightFlag(opts.height) }),
      ),
    );
}
