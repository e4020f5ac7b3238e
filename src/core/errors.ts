// Error kinds that cross the core's boundary. The core throws these; only the CLI entry
// maps them to exit codes (src/exit.ts). Misuse by our own code throws TypeError/RangeError.

/** Stable codes for malformed untrusted bytes. */
export type DecodeErrorCode =
  | 'truncated' // fewer bytes than a field needs
  | 'non_minimal' // BigSize not minimally encoded
  | 'too_large' // a length or size over its limit
  | 'tlv_order' // TLV types not strictly increasing
  | 'tlv_unknown_even' // an unknown even TLV type ("it's OK to be odd")
  | 'tlv_length' // a TLV value longer than the stream, or a known record of the wrong size
  | 'trailing' // bytes left where none may stand
  | 'bad_hex' // not hex, or an odd number of digits
  | 'bad_base64'
  | 'bad_value'; // a field whose value is out of its domain

/** Malformed untrusted input: the only error a decoder lets escape. */
export class DecodeError extends Error {
  override readonly name = 'DecodeError';
  constructor(
    readonly code: DecodeErrorCode,
    /** Path of the failing field, e.g. `init.tlv.networks` */
    readonly path: string,
    detail: string,
  ) {
    super(`${path}: ${detail}`);
  }
}

/** Invalid input from the operator (a bad pubkey, a file too large, conflicting values): exit 1. */
export class InputError extends Error {
  override readonly name = 'InputError';
  constructor(message: string, readonly code: string = 'invalid_input') {
    super(message);
  }
}

/** A wrong way of calling a command (missing or conflicting flags): exit 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export type StoreErrorCode =
  | 'no_database' // nothing at the path: run `lnps create`
  | 'locked' // another process holds the database
  | 'corrupt' // a record or the database itself cannot be read
  | 'unavailable' // a file or directory cannot be read or written
  | 'exists' // refusing to overwrite
  | 'wrong_key'; // the database belongs to another node key

/**
 * What was looked for in a node's data directory and not found there: the network's database,
 * or a node running for that network. Lets a hint name what the other networks there have.
 */
export interface NotFoundIn {
  what: 'database' | 'running_node';
  datadir: string;
  network: string;
}

/** The database, a key file or another file is unavailable: exit 3. */
export class StoreError extends Error {
  override readonly name = 'StoreError';
  constructor(
    readonly code: StoreErrorCode,
    message: string,
    readonly notFoundIn?: NotFoundIn,
  ) {
    super(message);
  }
}

/** A cryptographic check failed on untrusted bytes (wrong key or tampering): exit 1. */
export class CryptoError extends Error {
  override readonly name = 'CryptoError';
  constructor(readonly code: string, message: string) {
    super(message);
  }
}
