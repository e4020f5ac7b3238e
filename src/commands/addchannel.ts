import type { Command } from 'commander';
import { action, examples, globals, onePeer } from './_common.js';
import { heightFlag, runOp } from './_db.js';

export function register(program: Command): void {
  program
    .command('addchannel')
    .description('Register an open channel with a peer (under the default policy, only channel peers may store with us)')
    .argument('[pubkey]', 'the peer (66 hex digits)')
    .option('--peer <pubkey>', 'the peer, as a flag')
    .requiredOption('--chan-point <txid:n>', 'the funding outpoint, as lnd prints it')
    .option('--height <h>', 'the current block height, to record as best known')
    .addHelpText('after', examples('lnps addchannel 02… --chan-point 5f3a…e1:0', 'lnps addchannel --peer 02… --chan-point 5f3a…e1:0 --height 900000'))
    .action(
      action(async (pubkey: string | undefined, opts: { peer?: string; chanPoint: string; height?: string }, cmd: Command) =>
        runOp(globals(cmd), 'addchannel', { peer: onePeer(pubkey, opts.peer, 'lnps addchannel PUBKEY --chan-point TXID:N, or --peer PUBKEY'), chan_point: opts.chanPoint, height: heightFlag(opts.height) }),
      ),
    );
}
