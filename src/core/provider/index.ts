export * from './clock.js';
export * from './policy.js';
export * from './retention.js';
export * from './provider.js';
