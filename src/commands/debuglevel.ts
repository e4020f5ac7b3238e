// lnps debuglevel: change the running node's log level without a restart, as `lncli debuglevel`.
import type { Command } from 'commander';
import { nodePaths } from '../core/datadir.js';
import { callRunningNode } from '../core/node/control.js';
import { LEVELS } from '../core/node/log.js';
import { UsageError } from '../core/errors.js';
import { action, examples, globals } from './_common.js';

export function register(program: Command): void {
  program
    .command('debuglevel')
    .description(
      `Set the running node's log level: for every subsystem, or for one (PEER, SRVR, STOR, RETN, BKUP, INPT). ` +
        'Prints the levels in force. Lasts until the node stops, or until SIGHUP finds a changed debuglevel in lnps.conf.',
    )
    .argument('<level>', LEVELS.join(', '))
    .argument('[subsystem]', 'only this subsystem')
    .addHelpText('after', examples('lnps debuglevel debug', 'lnps debuglevel trace PEER'))
    .action(
      action(async (level: string, subsystem: string | undefined, _opts: unknown, cmd: Command) => {
        if (!(LEVELS as string[]).includes(level.toLowerCase())) throw new UsageError(`unknown level ${JSON.stringify(level)}; use one of ${LEVELS.join(', ')}`);
        if (subsystem !== undefined && !/^[A-Za-z0-9]{1,8}$/.test(subsystem)) throw new UsageError(`bad subsystem name ${JSON.stringify(subsystem)}`);
        const paths = nodePaths(globals(cmd));
        return callRunningNode(paths, 'debuglevel', { level, subsystem });
      }),
    );
}
