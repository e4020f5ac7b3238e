// lnps connect: ask the running node to dial a peer over BOLT #8 and exchange init.
import type { Command } from 'commander';
import { nodePaths } from '../core/datadir.js';
import { callRunningNode } from '../core/node/control.js';
import { parsePeerAddress } from '../core/node/peeraddr.js';
import { action, examples, globals, onePeer } from './_common.js';

export function register(program: Command): void {
  program
    .command('connect')
    .description('Connect the running node (`lnps serve`) to a peer: BOLT #8 handshake, then init. Prints the peer as listpeers shows it.')
    .argument('[pubkey@host:port]', "the peer's node public key (66 hex digits), its host, and its port (default 9737, lnps's own)")
    .option('--peer <pubkey@host:port>', 'the peer, as a flag')
    .addHelpText('after', examples('lnps connect 02eec7245d6b7d2ccb30380bfbe2a3648cd7a942653f5aa340edcea1f283686619@127.0.0.1:9737'))
    .action(
      action(async (positional: string | undefined, opts: { peer?: string }, cmd: Command) => {
        const g = globals(cmd);
        const address = onePeer(positional, opts.peer, 'lnps connect PUBKEY@HOST:PORT, or --peer PUBKEY@HOST:PORT');
        parsePeerAddress(address); // a malformed address is refused here, before the socket
        const paths = nodePaths(g);
        return callRunningNode(paths, 'connect', { address });
      }),
    );
}
