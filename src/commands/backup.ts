// lnps backup: seal our backup with the node key and hand it to the peers that store.
import { statSync } from 'node:fs';
import type { Command } from 'commander';
import { Option } from 'commander';
import { InputError, StoreError, UsageError } from '../core/errors.js';
import { nodePaths, notFoundIn, readNodeKeyOf, exists } from '../core/datadir.js';
import { parsePubkey } from '../core/keys.js';
import { toHex } from '../core/bytes.js';
import { callNodeIfRunning } from '../core/node/control.js';
import { action, examples, globals, readFileBytes, readStdin } from './_common.js';

const MAX_PLAINTEXT = 65448;
/** Shard data per sealed shard (docs/FORMAT.md, "Sealed shard, version 2": 65448 - 55): k data shards hold k times this. */
const MAX_SHARD_DATA = 65393;

interface BackupOptions {
  peer?: string;
  stripe?: string;
  seq?: string;
  pad?: 'full' | 'none' | 'bucket';
  allowEmpty?: boolean;
  force?: boolean;
}

export function register(program: Command): void {
  program
    .command('backup')
    .description(
      'Seal FILE (at most 65448 bytes) with the node key as our newest backup and send it in peer_storage to the connected peers that advertise ' +
        'option_provide_storage (bit 42/43); the database records, per peer, the seq and hash sent. A peer still inside its retrieval wait gets it when the wait ends. ' +
        'With no node running, the backup is sealed and kept, and the node sends it when it connects to peers. ' +
        'With --stripe K-of-N (running node only), the backup (up to K x 65393 bytes) is split into N sealed shards, any K of which rebuild it, and each goes to a different ' +
        'connected storing peer: channel peers first, then the longest connected. 1-of-N with a backup that fits one blob keeps the same blob with N peers. ' +
        '`lnps listbackups` shows where every shard is; a holder away longer than `serve --shard-move-after` has its shard moved.',
    )
    .argument('<file>', "the backup, or '-' for standard input")
    .option('--peer <pubkey>', 'send only to this connected peer now (others get it on their next connection)')
    .option('--stripe <K-of-N>', 'split across N storing peers, any K of which rebuild it (K 1..16, N K..32); needs a running node with N storing peers connected')
    .option('--seq <n>', 'sequence number, larger than the last backup\'s (default: the current time in milliseconds)')
    .option('--force', 'send even when too few connected peers would accept it (and to peers that refused before); without it, backup first checks that 1 peer (N with --stripe) that stores and has not refused is connected, else exit 1 with nothing sent')
    .option('--allow-empty', 'send an empty backup (0 bytes) anyway; without it an empty FILE is refused (exit 1), so a truncated file never replaces a good backup')
    .addOption(new Option('--pad <mode>', 'padding: full (65531 bytes, the default), none, bucket').choices(['full', 'none', 'bucket']))
    .addHelpText('after', examples('lnps backup channel.backup', 'lnps backup channel.backup --peer 02eec7245d6b7d2ccb30380bfbe2a3648cd7a942653f5aa340edcea1f283686619', 'lnps backup big-channel.backup --stripe 4-of-6'))
    .action(action(async (file: string, opts: BackupOptions, cmd: Command) => backup(file, opts, cmd)));
}

async function backup(file: string, opts: BackupOptions, cmd: Command): Promise<unknown> {
  const g = globals(cmd);
  const paths = nodePaths(g);
  if (opts.seq !== undefined && (!/^\d{1,20}$/.test(opts.seq) || BigInt(opts.seq) > 0xffff_ffff_ffff_ffffn))
    throw new UsageError(`--seq must be an integer from 0 to 2^64-1, got ${JSON.stringify(opts.seq)}`);
  const peer = opts.peer !== undefined ? toHex(parsePubkey(opts.peer, '--peer')) : undefined;
  let limit = MAX_PLAINTEXT;
  if (opts.stripe !== undefined) {
    if (peer !== undefined) throw new UsageError('--stripe chooses its own peers: give --stripe or --peer, not both');
    const { parseStripeSpec } = await import('../core/node/placement.js');
    const { k } = parseStripeSpec(opts.stripe);
    limit = Math.max(k * MAX_SHARD_DATA, k === 1 ? MAX_PLAINTEXT : 0);
  }
  if (file !== '-') {
    let size: number | undefined;
    try {
      size = statSync(file).size;
    } catch {
      /* readFileBytes names the problem */
    }
    if (size !== undefined && size > limit)
      throw new InputError(
        opts.stripe === undefined
          ? `${file} is ${size} bytes; one sealed blob holds at most ${MAX_PLAINTEXT} bytes: nothing was sent (--stripe K-of-N splits a larger backup across peers)`
          : `${file} is ${size} bytes; --stripe ${opts.stripe} holds at most ${limit} bytes (K x ${MAX_SHARD_DATA}): nothing was sent (use a larger K, at most 16)`,
        'too_large',
      );
  }
  const plaintext = file === '-' ? await readStdin() : readFileBytes(file, 'backup file');
  const params = { plaintext: toHex(plaintext), seq: opts.seq, pad: opts.pad, peer, stripe: opts.stripe, allow_empty: opts.allowEmpty === true, force: opts.force === true };
  // Checked here too, before the node or the database is touched (the core checks it again).
  if (plaintext.length === 0 && opts.allowEmpty !== true) (await import('../core/node/backup.js')).backupParams(params);
  await (await import('./_db.js')).checkKeyOfRunningNode(g);
  const viaNode = await callNodeIfRunning(paths.socketPath, 'backup', params);
  if (viaNode) return viaNode.result;

  // No node running: seal and keep it; `lnps serve` sends it to peers as they connect.
  if (opts.stripe !== undefined)
    throw new StoreError(
      'unavailable',
      `no lnps node is running for ${paths.datadir} (${paths.network}): a striped backup goes to connected peers, so start \`lnps serve\`, connect the storing peers, then run this again`,
      notFoundIn('running_node', paths),
    );
  if (peer !== undefined)
    throw new StoreError('unavailable', `no lnps node is running for ${paths.datadir} (${paths.network}), so nothing can be sent to ${peer} now: start \`lnps serve\``, notFoundIn('running_node', paths));
  if (!exists(paths.dbPath)) throw new StoreError('no_database', `no database at ${paths.dbPath}: run \`lnps create\``, notFoundIn('database', paths));
  const [{ deriveSealKey }, { OwnBackupFile }, { newBackup, backupParams, backupSummary }, { StripeStore }, { openContext }] = await Promise.all([
    import('../core/backup/seal.js'),
    import('../core/node/consumer.js'),
    import('../core/node/backup.js'),
    import('../core/node/stripe-store.js'),
    import('./_db.js'),
  ]);
  // A new backup must be newer than our striped one too, whose seq is in the database.
  const { ctx, close } = await openContext(g);
  let striped: bigint | undefined;
  try {
    striped = (await new StripeStore(ctx.store).current())?.seq;
  } finally {
    await close();
  }
  const secret = readNodeKeyOf(paths);
  const key = deriveSealKey(secret);
  secret.fill(0);
  try {
    const b = newBackup(new OwnBackupFile(paths.networkDir, key), key, backupParams(params), Date.now(), striped);
    return { ...backupSummary(b), peers: [], note: 'no node running: the backup is kept and sent to storing peers when `lnps serve` connects to them' };
  } finally {
    key.wipe();
  }
}
