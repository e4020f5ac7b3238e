// The small key-value interface the store is built on: ordered keys, atomic batches, prefix
// iteration. Two implementations: LevelDB on disk (level.ts) and memory for tests (memory.ts).

export type BatchOp = { type: 'put'; key: Uint8Array; value: Uint8Array } | { type: 'del'; key: Uint8Array };

export interface IterateOptions {
  /** Start after this key (exclusive); must lie inside the prefix. */
  after?: Uint8Array;
  /** Read keys only (values are returned empty). */
  keysOnly?: boolean;
  /**
   * Entries fetched per read-ahead (default 256). Larger is faster for small records; keep it
   * small where values may be whole blobs (64 KiB each), so memory stays bounded.
   */
  batch?: number;
}

export interface KvStore {
  get(key: Uint8Array): Promise<Uint8Array | undefined>;
  /** Apply every operation or none: a crash never leaves half a change. */
  batch(ops: BatchOp[]): Promise<void>;
  /** Entries whose key starts with `prefix`, in ascending byte order. */
  iterate(prefix: Uint8Array, opts?: IterateOptions): AsyncIterable<[Uint8Array, Uint8Array]>;
  close(): Promise<void>;
  /** Batches committed since open: each is one database write. */
  readonly writes: number;
  /**
   * A read-only view of the database as it is now: reads through it see no later change. Several
   * reads that must agree with each other (a listing and the status computed beside it) go
   * through one. Its `batch` refuses; `close` releases it and leaves the database open.
   */
  snapshot(): KvStore;
}

/** Smallest key greater than every key with this prefix, or undefined when there is none. */
export function prefixEnd(prefix: Uint8Array): Uint8Array | undefined {
  const end = Uint8Array.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i]!++;
      return end.subarray(0, i + 1);
    }
  }
  return undefined;
}

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}
