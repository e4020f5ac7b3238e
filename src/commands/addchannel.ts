import type { Command } from 'commander';
import { action, examples, globals } from './_common.js';
import { heightFlag, runOp } from './_db.js';

export function register(program: Command): void {
  program
    .command('addchannel')
    .description('Register an open channel with a peer (under the default policy, only channel peers may store with us)')
    .requiredOption('--peer <pubkey>', 'the peer (66 hex digits)')
    .requiredOption('--chan-point <txid:n>', 'the funding outpoint, as lnd prints it')
    .option('--height <h>', 'the current block height, to record as best known')
    .addHelpText('after', examples('lnps addchannel --peer 02… --chan-point 5f3a…e1:0'))
    .action(
      action(async (opts: { peer: string; chanPoint: string; height?: string }, cmd: Command) =>
        runOp(globals(cmd), 'addchannel', { peer: opts.peer, chan_point: opts.chanPoint, height: heightFlag(opts.height) }),
      ),
    );
}
