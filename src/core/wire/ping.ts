// Kept so that imports of this path keep working: ping now lives in registry.ts with the other
// messages (one module, for start-up time). Prefer importing from index.js.
export { PING, PING_NO_PONG, ping, pingWantsPong, type Ping } from './registry.js';
