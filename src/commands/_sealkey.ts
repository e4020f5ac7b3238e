// The seal key of this node, for the commands that seal or open our own blobs; loaded only by
// them, never at CLI start-up.
import { nodePaths, readNodeKeyOf } from '../core/datadir.js';
import { deriveSealKey, type SealKey } from '../core/backup/seal.js';
import type { GlobalOptions } from './_common.js';

/**
 * Read the node key of the data directory (or --key-file), derive the seal key, run `use`,
 * and wipe both keys afterwards, also when `use` throws.
 */
export function withSealKey<T>(g: GlobalOptions, use: (key: SealKey) => T): T {
  const secret = readNodeKeyOf(nodePaths({ datadir: g.datadir, network: g.network, keyFile: g.keyFile }));
  let key: SealKey;
  try {
    key = deriveSealKey(secret);
  } finally {
    secret.fill(0);
  }
  try {
    return use(key);
  } finally {
    key.wipe();
  }
}
