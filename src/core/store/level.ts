// The on-disk KvStore: classic-level (LevelDB). LevelDB allows one open handle per directory,
// and so does a process: a second open of the same path in this process shares the handle.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { StoreError } from '../errors.js';
import { exists, notFoundIn, type NodePaths } from '../datadir.js';
import { prefixEnd, type BatchOp, type IterateOptions, type KvStore } from './kv.js';

type Db = ClassicLevel<Uint8Array, Uint8Array>;

interface Shared {
  db: Db;
  refs: number;
  writes: number;
}
const OPEN = new Map<string, Shared>();
const OPENING = new Map<string, Promise<Shared>>();

export interface OpenLevelOptions {
  /** Create the database when missing (only `lnps create` does). */
  create?: boolean;
  /** The running node writes its pid here; named in the lock error when present. */
  pidFile?: string;
  /** The data directory and network the database belongs to, carried by a no_database error. */
  node?: Pick<NodePaths, 'datadir' | 'network'>;
}

function noDatabase(path: string, opts: OpenLevelOptions): StoreError {
  return new StoreError('no_database', `no database at ${path}: run \`lnps create\``, opts.node && notFoundIn('database', opts.node));
}

/** True when a LevelDB database exists at `path`. */
export function levelExists(path: string): boolean {
  return exists(join(path, 'CURRENT'));
}

/** Signal 0 checks that a process exists without touching it; EPERM means it exists but is not ours. */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function lockMessage(path: string, pidFile: string | undefined): string {
  if (pidFile !== undefined) {
    try {
      const pid = Number.parseInt(readFileSync(pidFile, 'utf8').trim(), 10);
      if (Number.isSafeInteger(pid) && pid > 0 && processAlive(pid))
        return `the database is held by the running lnps node (pid ${pid}); stop it, or wait for its control socket to accept commands`;
    } catch {
      // No pid file (or a stale one): some other process holds the database.
    }
  }
  return `the database at ${path} is locked by another process: close it (or stop the lnps node using it) and retry`;
}

async function openShared(path: string, opts: OpenLevelOptions): Promise<Shared> {
  if (!opts.create && !levelExists(path)) throw noDatabase(path, opts);
  const db: Db = new ClassicLevel<Uint8Array, Uint8Array>(path, { keyEncoding: 'view', valueEncoding: 'view' });
  try {
    await db.open({ createIfMissing: opts.create === true });
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    if (cause?.code === 'LEVEL_LOCKED') throw new StoreError('locked', lockMessage(path, opts.pidFile));
    const detail = cause?.message ?? (e as Error).message;
    if (/does not exist/.test(detail)) throw noDatabase(path, opts);
    if (cause?.code === 'LEVEL_CORRUPTION') throw new StoreError('corrupt', `the database at ${path} is corrupt: ${detail}`);
    throw new StoreError('unavailable', `cannot open the database at ${path}: ${detail}`);
  }
  return { db, refs: 0, writes: 0 };
}

export async function openLevelKv(path: string, opts: OpenLevelOptions = {}): Promise<KvStore> {
  let shared = OPEN.get(path);
  if (!shared) {
    let pending = OPENING.get(path);
    if (!pending) {
      pending = openShared(path, opts);
      OPENING.set(path, pending);
    }
    try {
      shared = await pending;
    } finally {
      OPENING.delete(path);
    }
    OPEN.set(path, shared);
  }
  shared.refs++;
  return new LevelKv(path, shared);
}

/** LevelDB hands out Buffers; the core works on plain Uint8Arrays (a Buffer's slice does not copy). */
const plain = (b: Uint8Array): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.length);

function wrapIoError(e: unknown, what: string): never {
  if (e instanceof StoreError) throw e;
  const cause = (e as { cause?: { message?: string } }).cause;
  const detail = cause?.message ?? (e as Error).message;
  throw new StoreError(/corrupt/i.test(detail) ? 'corrupt' : 'unavailable', `database ${what} failed: ${detail}`);
}

class LevelKv implements KvStore {
  private closed = false;
  /** Set on a snapshot view: every read goes through it, and writes are refused. */
  private readonly snap: ReturnType<Db['snapshot']> | undefined;
  constructor(
    private readonly path: string,
    private readonly shared: Shared,
    snap?: ReturnType<Db['snapshot']>,
  ) {
    this.snap = snap;
  }

  snapshot(): KvStore {
    if (this.closed) throw new StoreError('unavailable', 'the database is closed');
    if (this.snap !== undefined) throw new StoreError('unavailable', 'a snapshot of a snapshot is not needed: read the first one');
    // LevelDB takes the snapshot at this call, synchronously: a batch committed after it is not seen.
    return new LevelKv(this.path, this.shared, this.shared.db.snapshot());
  }

  get writes(): number {
    return this.shared.writes;
  }

  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    try {
      const v = await this.shared.db.get(key, { snapshot: this.snap });
      return v === undefined ? undefined : plain(v);
    } catch (e) {
      return wrapIoError(e, 'read');
    }
  }

  async batch(ops: BatchOp[]): Promise<void> {
    if (this.snap !== undefined) throw new StoreError('unavailable', 'a database snapshot is read-only');
    if (ops.length === 0) return;
    try {
      // `sync: true` so a committed change survives a power cut, not only a process crash.
      await this.shared.db.batch(ops as never, { sync: true });
    } catch (e) {
      wrapIoError(e, 'write');
    }
    this.shared.writes++;
  }

  async *iterate(prefix: Uint8Array, opts: IterateOptions = {}): AsyncIterable<[Uint8Array, Uint8Array]> {
    const end = prefixEnd(prefix);
    const range: { gt?: Uint8Array; gte?: Uint8Array; lt?: Uint8Array; snapshot?: ReturnType<Db['snapshot']> } = {};
    if (this.snap !== undefined) range.snapshot = this.snap;
    if (opts.after !== undefined) range.gt = opts.after;
    else range.gte = prefix;
    if (end !== undefined) range.lt = end;
    const empty = new Uint8Array(0);
    const size = Math.max(1, Math.min(opts.batch ?? 256, 10_000));
    if (opts.keysOnly) {
      const it = this.shared.db.keys(range);
      try {
        for (;;) {
          const keys = await it.nextv(size);
          if (keys.length === 0) break;
          for (const k of keys) yield [plain(k), empty];
        }
      } catch (e) {
        wrapIoError(e, 'read');
      } finally {
        await it.close();
      }
      return;
    }
    const it = this.shared.db.iterator(range);
    try {
      for (;;) {
        const entries = await it.nextv(size);
        if (entries.length === 0) break;
        for (const [k, v] of entries) yield [plain(k), plain(v)];
      }
    } catch (e) {
      wrapIoError(e, 'read');
    } finally {
      await it.close();
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.snap !== undefined) {
      await this.snap.close();
      return;
    }
    if (--this.shared.refs === 0) {
      OPEN.delete(this.path);
      await this.shared.db.close();
    }
  }
}
