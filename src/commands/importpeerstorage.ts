import { resolve } from 'node:path';
import type { Command } from 'commander';
import { action, examples, globals } from './_common.js';
import { runOp } from './_db.js';

export function register(program: Command): void {
  program
    .command('importpeerstorage')
    .description('Import blobs from an exportpeerstorage file. Every line is checked first (valid secp256k1 key, blob hex of at most 65531 bytes); if any line is bad nothing is imported. One atomic write. A stored blob updated later than the imported one is kept (skipped_older) unless --force; a line for this node\'s own key is refused.')
    .argument('<file>', 'JSON lines as written by exportpeerstorage')
    .option('--force', 'replace a stored blob even when it was updated later than the imported one (listed under skipped_older otherwise)')
    .addHelpText('after', examples('lnps importpeerstorage peers.jsonl'))
    .action(action(async (file: string, opts: { force?: boolean }, cmd: Command) => runOp(globals(cmd), 'importpeerstorage', { path: resolve(file), force: opts.force === true })));
}
