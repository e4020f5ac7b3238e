// The store's public face.
export * from './kv.js';
export { MemoryKv } from './memory.js';
export { openLevelKv, levelExists, type OpenLevelOptions } from './level.js';
export * from './records.js';
export * from './store.js';
