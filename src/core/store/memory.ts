// An in-memory KvStore for tests: same ordering and batch semantics as LevelDB.
import { compareBytes, type BatchOp, type IterateOptions, type KvStore } from './kv.js';

const keyOf = (k: Uint8Array): string => Buffer.from(k.buffer, k.byteOffset, k.length).toString('latin1');
const bytesOf = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'latin1'));

export class MemoryKv implements KvStore {
  private readonly map = new Map<string, Uint8Array>();
  private closed = false;
  /** A snapshot: writes are refused. */
  private readOnly = false;
  writes = 0;
  /** Test hook: throw from the next batch before applying anything (a failed write). */
  failNextBatch = false;

  private check(): void {
    if (this.closed) throw new Error('memory store is closed');
  }

  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    this.check();
    const v = this.map.get(keyOf(key));
    return v === undefined ? undefined : Uint8Array.from(v);
  }

  async batch(ops: BatchOp[]): Promise<void> {
    this.check();
    if (this.readOnly) throw new Error('a database snapshot is read-only');
    if (this.failNextBatch) {
      this.failNextBatch = false;
      throw new Error('injected write failure');
    }
    for (const op of ops) {
      if (op.type === 'put') this.map.set(keyOf(op.key), Uint8Array.from(op.value));
      else this.map.delete(keyOf(op.key));
    }
    this.writes++;
  }

  async *iterate(prefix: Uint8Array, opts: IterateOptions = {}): AsyncIterable<[Uint8Array, Uint8Array]> {
    this.check();
    const p = keyOf(prefix);
    const after = opts.after === undefined ? undefined : keyOf(opts.after);
    // A snapshot of the matching keys, sorted as bytes (latin1 strings sort the same way).
    const keys = [...this.map.keys()].filter((k) => k.startsWith(p) && (after === undefined || k > after)).sort();
    for (const k of keys) {
      const v = this.map.get(k);
      if (v === undefined) continue;
      yield [bytesOf(k), opts.keysOnly ? new Uint8Array(0) : Uint8Array.from(v)];
    }
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  /** A copy of the entries as they are now, read-only. */
  snapshot(): KvStore {
    this.check();
    if (this.readOnly) throw new Error('a snapshot of a snapshot is not needed: read the first one');
    const copy = new MemoryKv();
    for (const [k, v] of this.map) copy.map.set(k, v);
    copy.readOnly = true;
    return copy;
  }

  /** Number of keys held (tests). */
  get size(): number {
    return this.map.size;
  }
}

export { compareBytes };
