// The command table. Each command lives in its own file and is loaded only when it runs,
// so `lnps decode` never pays for classic-level or secp256k1 (start-up is a feature).
import type { Command } from 'commander';

export interface CommandModule {
  /** Adds the command (its flags, help text with an example, and action) to the program. */
  register(program: Command): void;
}

export interface CommandEntry {
  summary: string;
  load(): Promise<CommandModule>;
}

export const COMMANDS: Record<string, CommandEntry> = {
  stripe: { summary: 'split a backup into N sealed shards, any K of which rebuild it (offline)', load: () => import('./stripe.js') },
  rebuild: { summary: 'rebuild a striped backup from its shard files (offline)', load: () => import('./rebuild.js') },
  decode: { summary: 'decode a wire message (peer_storage, init, ping, ...) to JSON', load: () => import('./decode.js') },
  encode: { summary: 'build a wire message from flags or from decode\'s JSON', load: () => import('./encode.js') },
  seal: { summary: 'seal a backup with the node key into an lnps blob for peer_storage', load: () => import('./seal.js') },
  'verify-blob': { summary: 'check that a blob is ours and intact, and show its seq', load: () => import('./verify-blob.js') },
};

/** Other names a command answers to. */
export const ALIASES: Record<string, string> = {};
