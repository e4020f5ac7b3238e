// lnps stop: stop the running node and wait until it has (like `lncli stop`, but it returns
// only once the database is closed and the socket and pid file are gone).
import type { Command } from 'commander';
import { nodePaths } from '../core/datadir.js';
import { parseDuration } from '../core/node/config.js';
import { stopRunningNode } from '../core/node/stop.js';
import { UsageError } from '../core/errors.js';
import { action, examples, globals } from './_common.js';

export function register(program: Command): void {
  program
    .command('stop')
    .description(
      'Stop the running node (`lnps serve`) as SIGTERM would: close peers, write pending blobs, close the database. ' +
        'Waits until the process is gone and its control socket and pid file are removed. Exit 3 when no node runs.',
    )
    .option('--timeout <duration>', 'give up waiting after this (default 60s); the node still stops', '60s')
    .addHelpText('after', examples('lnps stop', 'lnps stop --network regtest --timeout 2m'))
    .action(
      action(async (opts: { timeout: string }, cmd: Command) => {
        let ms: number;
        try {
          ms = parseDuration(opts.timeout, '--timeout');
        } catch (e) {
          throw new UsageError((e as Error).message);
        }
        return stopRunningNode(nodePaths(globals(cmd)), ms);
      }),
    );
}
