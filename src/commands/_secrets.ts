// The wallet-secret flags, defined once for every command that opens another implementation's
// backup (verify-blob, restorefrompeer). Each names a FILE, or '-' for standard input (a
// no-echo prompt when standard input is a terminal); the core reads them (src/core/secrets.ts).
//
//   addWalletSecretOptions(cmd)                          // adds the flags (and the removed ones, to refuse them)
//   const s = await walletSecretsFromOptions(opts, cmd)  // ForeignSecrets; call wipeWalletSecrets(s) when done
//   givenSecretFlags(opts)                               // the secret flags given, e.g. to refuse them where unused
import { Option, type Command } from 'commander';
import { UsageError } from '../core/errors.js';
import { loadWalletSecrets, wipeWalletSecrets, type WalletSecretSpec } from '../core/secrets.js';
import type { ForeignFormat, ForeignSecrets } from '../core/backup/formats/index.js';
import { globals, parseIntFlag } from './_common.js';

export { wipeWalletSecrets };

/** Each flag: its commander attribute, its format, and its help. */
const FLAGS = [
  { attr: 'hsmSecret', spec: 'hsmSecret', flag: '--hsm-secret <file>', format: 'cln', help: "cln: the node's hsm_secret file ('-': standard input)" },
  { attr: 'passphraseFile', spec: 'passphrase', flag: '--passphrase-file <file>', format: 'cln', help: "cln: file holding the hsm_secret's passphrase ('-': standard input, or a prompt on a terminal)" },
  { attr: 'ldkSeedFile', spec: 'ldkSeed', flag: '--ldk-seed-file <file>', format: 'ldk', help: "ldk: the 32-byte KeysManager seed, raw or as hex ('-': stdin or prompt)" },
  { attr: 'kmpSeedFile', spec: 'kmpSeed', flag: '--kmp-seed-file <file>', format: 'kmp', help: "kmp: Phoenix's 12 recovery words, or the BIP39 seed as hex; uses --network ('-': stdin or prompt)" },
  { attr: 'kmpNodeKeyFile', spec: 'kmpNodeKey', flag: '--kmp-node-key-file <file>', format: 'kmp', help: "kmp: the node private key as hex ('-': stdin or prompt)" },
  { attr: 'lndRootKeyFile', spec: 'lndRootKey', flag: '--lnd-root-key-file <file>', format: 'lnd', help: "lnd: the wallet's BIP32 root key, xprv/tprv ('-': stdin or prompt)" },
  { attr: 'lndSeedFile', spec: 'lndSeed', flag: '--lnd-seed-file <file>', format: 'lnd', help: "lnd: the aezeed's 16-byte entropy as hex ('-': stdin or prompt)" },
] as const;

/** Flags that took a secret as their value; refused with the flag that replaces them. */
const REMOVED = [
  { attr: 'ldkSeed', flag: '--ldk-seed', now: '--ldk-seed-file' },
  { attr: 'kmpSeed', flag: '--kmp-seed', now: '--kmp-seed-file' },
  { attr: 'kmpNodeKey', flag: '--kmp-node-key', now: '--kmp-node-key-file' },
  { attr: 'lndSeed', flag: '--lnd-seed', now: '--lnd-seed-file' },
  { attr: 'lndRootKey', flag: '--lnd-root-key', now: '--lnd-root-key-file' },
] as const;

const flagName = (f: string): string => f.split(' ')[0]!;

/** Add the wallet-secret flags (and --lnd-coin) to a command. */
export function addWalletSecretOptions(cmd: Command): Command {
  for (const f of FLAGS) cmd.addOption(new Option(f.flag, f.help));
  cmd.addOption(new Option('--lnd-coin <n>', 'lnd: the coin type of the key path (default 0 on mainnet, 1 elsewhere)'));
  // Hidden, optional value: whatever follows, the answer is the one-line refusal below.
  for (const r of REMOVED) cmd.addOption(new Option(`${r.flag} [value]`).hideHelp());
  return cmd;
}

/** The secret flags given (as typed, e.g. '--ldk-seed-file'), with the format each is for. */
export function givenSecretFlags(opts: Record<string, unknown>): { flag: string; format: ForeignFormat }[] {
  const out: { flag: string; format: ForeignFormat }[] = FLAGS.filter((f) => opts[f.attr] !== undefined).map((f) => ({ flag: flagName(f.flag), format: f.format }));
  if (opts.lndCoin !== undefined) out.push({ flag: '--lnd-coin', format: 'lnd' });
  return out;
}

/** Refuse a removed flag in one line that names its replacement, never echoing its value. */
export function refuseRemovedSecretFlags(opts: Record<string, unknown>): void {
  for (const r of REMOVED) {
    if (opts[r.attr] !== undefined)
      throw new UsageError(`${r.flag} is gone (a secret on the command line is readable by every local user): put it in a file and give ${r.now} FILE, or ${r.now} - to pipe or type it`);
  }
}

/**
 * Read the secrets the flags name, through the core. `stdinTakenBy` says what else reads
 * standard input in this run (e.g. 'the blob'), so that no secret tries to.
 */
export async function walletSecretsFromOptions(opts: Record<string, unknown>, cmd: Command, stdinTakenBy?: string): Promise<ForeignSecrets> {
  refuseRemovedSecretFlags(opts);
  const spec: WalletSecretSpec = { network: globals(cmd).network };
  for (const f of FLAGS) if (opts[f.attr] !== undefined) spec[f.spec] = String(opts[f.attr]);
  if (opts.lndCoin !== undefined) spec.lndCoin = parseIntFlag(String(opts.lndCoin), '--lnd-coin', 0x7fffffff);
  return loadWalletSecrets(spec, {
    stdin: process.stdin,
    promptOut: process.stderr,
    ...(stdinTakenBy !== undefined ? { stdinTakenBy } : {}),
  });
}
