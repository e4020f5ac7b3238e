import type { Command } from 'commander';
import { Option } from 'commander';
import { examples, globals } from './_common.js';
import { listPrinter, runOp } from './_db.js';

export function register(program: Command): void {
  program
    .command('listchannels')
    .description('List the channels the registry knows')
    .option('--peer <pubkey>', 'only channels with this peer')
    .addOption(new Option('--state <state>', 'only open or only closed channels').choices(['open', 'closed']))
    .addHelpText('after', examples('lnps listchannels', 'lnps listchannels --state closed --format table'))
    .action(async (opts: { peer?: string; state?: string }, cmd: Command) => {
      const g = globals(cmd);
      const out = await listPrinter(g.format, 'channels', [
        { key: 'chan_point', width: 68 },
        { key: 'peer', width: 66 },
        { key: 'state', width: 6 },
        { key: 'close_height', width: 12, align: 'right' },
      ]);
      await runOp(g, 'listchannels', { peer: opts.peer, state: opts.state }, out);
      await out.finish();
    });
}
