// lnps listpeers: the running node's connected peers, their features and storage status.
import type { Command } from 'commander';
import { nodePaths } from '../core/datadir.js';
import { callRunningNode } from '../core/node/control.js';
import { renderTable } from '../output.js';
import { action, examples, globals } from './_common.js';

export function register(program: Command): void {
  program
    .command('listpeers')
    .description(
      'List the peers connected to the running node: address, direction, feature bits, whether they provide storage (bit 42/43), ' +
        'what they returned of our backup (retrieval_status: confirmed, stale, corrupt, foreign) and the seq we sent them',
    )
    .addHelpText('after', examples('lnps listpeers', 'lnps listpeers --format table'))
    .action(
      action(
        async (_opts: unknown, cmd: Command) => {
          const paths = nodePaths(globals(cmd));
          return callRunningNode(paths, 'listpeers', {});
        },
        (r: { peers: Record<string, unknown>[] }) =>
          renderTable(
            r.peers.map((p) => ({ ...p, features: (p.features as number[]).join(',') })),
            ['peer', 'address', 'connected_at', 'inbound', 'provides_storage', 'retrieval_status', 'retrieval_seq', 'sent_seq', 'blobs_received'],
          ),
      ),
    );
}
