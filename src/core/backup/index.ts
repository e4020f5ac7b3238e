// Backup: our own blobs (seal/open), and later striped shards and other implementations' formats.
export * from './seal.js';
