import type { Command } from 'commander';
import { createNode } from '../core/service/create.js';
import { action, examples, globals } from './_common.js';
import { pathsOf } from './_db.js';

export function register(program: Command): void {
  program
    .command('create')
    .description('Create the data directory (0700; an existing one open to other users is made 0700, with a notice), the node secret key (node.key, 0600) and the network\'s database. Never overwrites a key; when the key exists, only the missing database is created.')
    .addHelpText('after', examples('lnps create', 'lnps create --network regtest --datadir ./node1'))
    .action(
      action(async (_opts: unknown, cmd: Command) => createNode(pathsOf(globals(cmd)), (line) => process.stderr.write(`lnps: ${line}\n`))),
    );
}
