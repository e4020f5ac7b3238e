// `lnps create`: the data directory (0700), the node key (0600) and the network's database.
import { randomBytes } from 'node:crypto';
import { exists, isValidSecret, makePrivateDir, readNodeKey, writeNewNodeKey, type NodePaths } from '../datadir.js';
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
export async function createNode(paths: NodePaths): Promise<CreateResult> {
  const keyExists = exists(paths.keyPath);
  const dbExists = levelExists(paths.dbPath);
  if (keyExists && dbExists)
    throw new StoreError('exists', `already created: a node key at ${paths.keyPath} and a ${paths.network} database at ${paths.dbPath} exist (lnps never overwrites a node key)`);
  const created: string[] = [];
  // An existing key is read first: its permissions are checked before anything is created.
  let secret = keyExists ? readNodeKey(paths.keyPath) : undefined;
  makePrivateDir(paths.datadir);
  makePrivateDir(paths.networkDir);
  if (!secret) {
    secret = newSecret();
    writeNewNodeKey(paths.keyPath, secret);
    created.push('key');
  }
  const pubkey = toHex(publicKeyOf(secret));
  secret.fill(0);
  if (!dbExists) {
    const kv = await openLevelKv(paths.dbPath, { create: true, pidFile: `${paths.networkDir}/lnps.pid` });
    try {
      await LnpsStore.open(kv);
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
