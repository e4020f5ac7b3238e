// Kept so that imports of this path keep working: init now lives in registry.ts with the other
// messages (one module, for start-up time). Prefer importing from index.js.
export { INIT, initMessage, describeAddress, type InitMessage } from './registry.js';
