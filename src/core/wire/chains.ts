// Kept so that imports of this path keep working: the chain hashes now live in registry.ts, next
// to init's networks record (one module, for start-up time). Prefer importing from index.js.
export { CHAIN_HASH, chainHashByName, chainName, type ChainName } from './registry.js';
