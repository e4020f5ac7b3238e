// lnps disconnect: ask the running node to close its connection to a peer.
import type { Command } from 'commander';
import { nodePaths } from '../core/datadir.js';
import { parsePubkey } from '../core/keys.js';
import { toHex } from '../core/bytes.js';
import { callRunningNode } from '../core/node/control.js';
import { action, examples, globals, onePeer } from './_common.js';

export function register(program: Command): void {
  program
    .command('disconnect')
    .description('Close the running node\'s connection to a peer (exit 1 when not connected)')
    .argument('[pubkey]', "the peer's node public key (66 hex digits)")
    .option('--peer <pubkey>', 'the peer, as a flag')
    .addHelpText('after', examples('lnps disconnect 02eec7245d6b7d2ccb30380bfbe2a3648cd7a942653f5aa340edcea1f283686619'))
    .action(
      action(async (pubkey: string | undefined, opts: { peer?: string }, cmd: Command) => {
        const g = globals(cmd);
        const peer = toHex(parsePubkey(onePeer(pubkey, opts.peer, 'lnps disconnect PUBKEY, or --peer PUBKEY'), 'peer'));
        const paths = nodePaths(g);
        return callRunningNode(paths, 'disconnect', { peer });
      }),
    );
}
