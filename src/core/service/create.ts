// `lnps create`: the data directory (0700), the node key (0600) and the network's database.
import { randomBytes } from 'node:crypto';
import { databasesIn, exists, isValidSecret, makePrivateDir, readNodeKey, secureNodeDir, writeNewNodeKey, type NodePaths } from '../datadir.js';
import { StoreError } from '../errors.js';
import { toHex } from '../bytes.js';
import { publicKeyOf } from '../keys.js';
import { levelExists, openLevelKv } from '../store/level.js';
import { LnpsStore } from '../store/store.js';

/** 32 random bytes that form a valid secp256k1 secret (the retry is astronomically rare). */
export function newSecret(random: (n: number) => Uint8Array = (n) => new Uint8Array(randomBytes(n))): Uint8Array {
  for (let i = 0; i < 16; i++) {
    const s = random(32);
    if (isValidSecret(s)) return s;
  }
  throw new Error('random source gave no valid secret key in 16 tries');
}

export interface CreateResult {
  node_pubkey: string;
  datadir: string;
  network: string;
  database: string;
  key_file: string;
  created: string[];
  reminder: string;
}

/**
 * Create what is missing: the key (never overwritten) and this network's database. Running it
 * again for another network only adds that network's database; when everything exists it is
 * an error, so a mistyped --datadir does not pass silently.
 */
export async function createNode(paths: NodePaths, notice: (line: string) => void = () => undefined): Promise<CreateResult> {
  const keyExists = exists(paths.keyPath);
  const dbExists = levelExists(paths.dbPath);
  if (keyExists && dbExists)
    throw new StoreError('exists', `already created: a node key at ${paths.keyPath} and a ${paths.network} database at ${paths.dbPath} exist (lnps never overwrites a node key)`);
  // A database without its key: never make a new key next to it (it would be a second node
  // identity beside the data of the first). The operator brings the key back instead.
  const dbs = databasesIn(paths.datadir);
  if (!keyExists && dbs.length > 0)
    throw new StoreError(
      'exists',
      `${paths.datadir} already holds the ${dbs.join(' and ')} database${dbs.length === 1 ? '' : 's'} of a node, but no key at ${paths.keyPath}: ` +
        `lnps create does not make a new key next to them; put that node's node.key back from your offline copy, or pass --key-file with it`,
    );
  const created: string[] = [];
  // An existing key is read first: its permissions are checked before anything is created.
  let secret = keyExists ? readNodeKey(paths.keyPath) : undefined;
  // Directories that exist already (made by hand, or by an older lnps) are made private.
  secureNodeDir(paths, notice);
  makePrivateDir(paths.datadir);
  makePrivateDir(paths.networkDir);
  if (!secret) {
    secret = newSecret();
    writeNewNodeKey(paths.keyPath, secret);
    created.push('key');
  }
  const pubkeyBytes = publicKeyOf(secret);
  const pubkey = toHex(pubkeyBytes);
  secret.fill(0);
  if (!dbExists) {
    const kv = await openLevelKv(paths.dbPath, { create: true, pidFile: `${paths.networkDir}/lnps.pid` });
    try {
      const store = await LnpsStore.open(kv);
      // The database belongs to this key from its first write on.
      await store.bindNodeKey(pubkeyBytes, Date.now());
    } finally {
      await kv.close();
    }
    created.push('database');
  }
  return {
    node_pubkey: pubkey,
    datadir: paths.datadir,
    network: paths.network,
    database: paths.dbPath,
    key_file: paths.keyPath,
    created,
    reminder: `${paths.keyPath} decrypts this node's backups: keep a safe offline copy and never share it`,
  };
}

/**
 * Check that the database belongs to the node key in use, recording the key when an older
 * database has none (`recorded`: the caller says so once). Another key is refused (exit 3),
 * naming both, so a forgotten --key-file never acts as a second identity on this database.
 */
export async function bindNodeKey(store: LnpsStore, paths: NodePaths, pubkey: Uint8Array, now: number): Promise<'recorded' | 'matches'> {
  const r = await store.bindNodeKey(pubkey, now);
  if (r.status === 'differs')
    throw new StoreError(
      'wrong_key',
      `the ${paths.network} database at ${paths.dbPath} belongs to node ${toHex(r.recorded)}, but the key file ${paths.keyPath} is node ${toHex(pubkey)}: ` +
        `pass --key-file with the key of node ${toHex(r.recorded)}`,
    );
  return r.status;
}

/** The line said once when an older database is bound to its key on first open. */
export function recordedNotice(paths: NodePaths, pubkey: Uint8Array): string {
  return `recorded node ${toHex(pubkey)} in the ${paths.network} database at ${paths.dbPath}: from now on it opens only with this key`;
}
