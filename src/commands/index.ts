// The command table. Each command lives in its own file and is loaded only when it runs,
// so `lnps decode` never pays for classic-level or secp256k1 (start-up is a feature).
import type { Command } from 'commander';

export interface CommandModule {
  /** Adds the command (its flags, help text with an example, and action) to the program. */
  register(program: Command): void;
}

/**
 * Given the arguments after the command name, a runner when the command can answer them
 * exactly as its commander declaration would (say, `lnps decode HEX` with no flags), or
 * undefined to go the usual way. The runner returns a JSON-ready value (no bigint, no bytes).
 */
export type FastPath = (args: string[]) => (() => Promise<unknown>) | undefined;

/** Global options other than --format and --debug, which every command has. */
export type GlobalName = 'datadir' | 'network' | 'key-file';

export interface CommandEntry {
  summary: string;
  /**
   * The global options that apply to the command (`--help` lists only those, and others are
   * refused); all of them when not given.
   */
  globals?: readonly GlobalName[];
  load(): Promise<CommandModule>;
  /** A module with the command's fast path, lighter than the command itself. */
  fast?(): Promise<{ fast: FastPath }>;
}

export const COMMANDS: Record<string, CommandEntry> = {
  decode: { summary: 'decode a wire message (peer_storage, init, ping, ...) to JSON', globals: [], load: () => import('./decode.js'), fast: () => import('./_decode.js') },
  encode: { summary: 'build a wire message from flags or from decode\'s JSON', globals: [], load: () => import('./encode.js') },
  seal: { summary: 'seal a backup with the node key into an lnps blob for peer_storage', globals: ['datadir', 'key-file'], load: () => import('./seal.js') },
  'verify-blob': { summary: 'check that a blob is ours and intact, and show its seq', globals: ['datadir', 'key-file', 'network'], load: () => import('./verify-blob.js') },
  stripe: { summary: 'split a backup into N sealed shards, any K of which rebuild it (offline)', globals: ['datadir', 'key-file'], load: () => import('./stripe.js') },
  rebuild: { summary: 'rebuild a striped backup from its shard files (offline)', globals: ['datadir', 'key-file'], load: () => import('./rebuild.js') },
  create: { summary: 'create the data directory, the node key and the network\'s database', load: () => import('./create.js') },
  getinfo: { summary: 'node public key, network, schema version, peers stored, bytes held, channels known', load: () => import('./getinfo.js') },
  listpeerstorage: { summary: 'list the blobs stored for peers (streams)', load: () => import('./listpeerstorage.js') },
  getpeerstorage: { summary: 'show or save the blob stored for one peer', load: () => import('./getpeerstorage.js') },
  prunepeerbackup: { summary: 'remove the blobs that retention lets go (all or nothing)', load: () => import('./prunepeerbackup.js') },
  exportpeerstorage: { summary: 'export stored blobs as JSON lines', load: () => import('./exportpeerstorage.js') },
  importpeerstorage: { summary: 'import an export file (checked first; all or nothing)', load: () => import('./importpeerstorage.js') },
  addchannel: { summary: 'register an open channel with a peer', load: () => import('./addchannel.js') },
  closechannel: { summary: 'mark a channel closed (with its close height)', load: () => import('./closechannel.js') },
  listchannels: { summary: 'list the channels the registry knows', load: () => import('./listchannels.js') },
  importchannels: { summary: 'register channels from lncli listchannels / closedchannels JSON', load: () => import('./importchannels.js') },
  setheight: { summary: 'record the best known block height', load: () => import('./setheight.js') },
  serve: { summary: 'run the node: BOLT #8 peers, store their blobs, keep ours with them, control socket', load: () => import('./serve.js') },
  stop: { summary: 'stop the running node and wait until it has (pending blobs written, socket and pid file removed)', load: () => import('./stop.js') },
  debuglevel: { summary: "change the running node's log level (all subsystems or one)", load: () => import('./debuglevel.js') },
  connect: { summary: 'connect the running node to a peer (PUBKEY@HOST:PORT)', load: () => import('./connect.js') },
  disconnect: { summary: 'disconnect the running node from a peer', load: () => import('./disconnect.js') },
  listpeers: { summary: 'connected peers: features, storage status, our backup with them', load: () => import('./listpeers.js') },
  backup: { summary: 'seal our backup and send it to the peers that store', load: () => import('./backup.js') },
  listbackups: { summary: 'our backup per peer: seq sent, seq confirmed, status, last seen', load: () => import('./listbackups.js') },
  restorefrompeer: { summary: 'fetch our backup back from peers, verify it, write the newest', load: () => import('./restorefrompeer.js') },
  completion: { summary: 'print a shell completion script: lnps completion bash|zsh|fish', globals: [], load: () => import('./completion.js') },
};

/** Other names a command answers to. */
export const ALIASES: Record<string, string> = {};
