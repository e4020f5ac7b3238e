import type { Command } from 'commander';
import { action, examples, globals } from './_common.js';
import { runOp } from './_db.js';

export function register(program: Command): void {
  program
    .command('getinfo')
    .description('Node public key, data directory, network, schema version, peers stored, bytes held, channels known')
    .addHelpText('after', examples('lnps getinfo', 'lnps getinfo --network regtest --format table'))
    .action(action(async (_opts: unknown, cmd: Command) => runOp(globals(cmd), 'getinfo', {})));
}
