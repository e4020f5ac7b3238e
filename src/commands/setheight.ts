import type { Command } from 'commander';
import { action, examples, globals } from './_common.js';
import { heightFlag, runOp } from './_db.js';

export function register(program: Command): void {
  program
    .command('setheight')
    .description('Record the best known block height (used by listpeerstorage and prunepeerbackup when --height is not given)')
    .argument('<height>', 'the current block height')
    .addHelpText('after', examples('lnps setheight 900000'))
    .action(action(async (height: string, _opts: unknown, cmd: Command) => runOp(globals(cmd), 'setheight', { height: heightFlag(height, 'height') })));
}
