export * from './ops.js';
export * from './create.js';
