// Where a node keeps its files, and its secret key. Everything in it is private to the user
// running lnps: directories 0700, files 0600 (see secureNodeDir and src/core/umask.ts).
//
//   <datadir>/node.key            32-byte secret as 64 hex digits, mode 0600
//   <datadir>/lnps.conf           optional settings for `lnps serve`
//   <datadir>/<network>/db/       the LevelDB database of that network
//   <datadir>/<network>/lnps.sock the running node's control socket (mode 0600)
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { chmodSync, closeSync, fstatSync, lstatSync, openSync, readSync, readdirSync, mkdirSync, statSync } from 'node:fs';
import { StoreError, type NotFoundIn } from './errors.js';
import { writeOutputFile } from './outfile.js';

export type Network = 'mainnet' | 'testnet' | 'signet' | 'regtest';
export const NETWORKS: readonly Network[] = ['mainnet', 'testnet', 'signet', 'regtest'];

export interface NodePaths {
  datadir: string;
  network: Network;
  networkDir: string;
  dbPath: string;
  keyPath: string;
  socketPath: string;
  confPath: string;
}

export function nodePaths(opts: { datadir?: string | undefined; network?: Network | undefined; keyFile?: string | undefined }): NodePaths {
  const datadir = resolve(opts.datadir ?? process.env.LNPS_DIR ?? join(homedir(), '.lnps'));
  const network = opts.network ?? 'mainnet';
  const networkDir = join(datadir, network);
  return {
    datadir,
    network,
    networkDir,
    dbPath: join(networkDir, 'db'),
    keyPath: opts.keyFile !== undefined ? resolve(opts.keyFile) : join(datadir, 'node.key'),
    socketPath: join(networkDir, 'lnps.sock'),
    confPath: join(datadir, 'lnps.conf'),
  };
}

/** What a StoreError says was not found in this data directory and network. */
export function notFoundIn(what: NotFoundIn['what'], paths: Pick<NodePaths, 'datadir' | 'network'>): NotFoundIn {
  return { what, datadir: paths.datadir, network: paths.network };
}

/** secp256k1 group order: a secret key must be in [1, n-1]. */
const CURVE_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

/** True when 32 bytes form a valid secp256k1 secret key (in [1, n-1]). */
export function isValidSecret(secret: Uint8Array): boolean {
  let k = 0n;
  for (const b of secret) k = (k << 8n) | BigInt(b);
  return secret.length === 32 && k > 0n && k < CURVE_N;
}

function checkSecret(secret: Uint8Array, path: string): Uint8Array {
  if (!isValidSecret(secret)) throw new StoreError('corrupt', `key file ${path} does not hold a valid secp256k1 secret key`);
  return secret;
}

/**
 * Read the node secret key. Like ssh, a key file that group or others may read is refused:
 * this key decrypts our backups. The error never includes the key's bytes.
 */
export function readNodeKey(path: string): Uint8Array {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new StoreError('unavailable', `no key file at ${path}: run \`lnps create\` or pass --key-file`);
    throw new StoreError('unavailable', `cannot read key file ${path}: ${code === 'EACCES' ? 'permission denied' : code}`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new StoreError('unavailable', `key file ${path} is not a regular file`);
    // Like ssh: a key that belongs to another user is not ours to use, even when we can read
    // it (as root we can read anything).
    const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;
    if (uid !== undefined && st.uid !== uid)
      throw new StoreError('unavailable', `key file ${path} is owned by user id ${st.uid}, not by the user running lnps (${uid}): it must be the user's own (chown it, or run lnps as its owner)`);
    if ((st.mode & 0o077) !== 0) {
      const mode = (st.mode & 0o777).toString(8).padStart(4, '0');
      throw new StoreError('unavailable', `key file ${path} has permissions ${mode}, which are too open: it must be readable by its owner only (chmod 600 ${path})`);
    }
    const buf = Buffer.alloc(200);
    const n = readSync(fd, buf, 0, buf.length, 0);
    const text = buf.subarray(0, n).toString('latin1').trim();
    if (!/^[0-9a-fA-F]{64}$/.test(text)) throw new StoreError('corrupt', `key file ${path} must hold 64 hex digits on one line`);
    const b = Buffer.from(text, 'hex');
    return checkSecret(new Uint8Array(b.buffer, b.byteOffset, 32), path);
  } finally {
    closeSync(fd);
  }
}

/** The networks of this data directory that have a database. */
export function databasesIn(datadir: string): Network[] {
  return NETWORKS.filter((n) => exists(join(datadir, n, 'db')));
}

/**
 * Read the node key of `paths`. When it is missing but the data directory holds a database,
 * the message never suggests `lnps create` (that would make a second identity next to the
 * database): it asks for that node's key instead.
 */
export function readNodeKeyOf(paths: NodePaths): Uint8Array {
  if (!exists(paths.keyPath)) {
    const dbs = databasesIn(paths.datadir);
    if (dbs.length > 0)
      throw new StoreError(
        'unavailable',
        `no key file at ${paths.keyPath}, but ${paths.datadir} holds the ${dbs.join(' and ')} database${dbs.length === 1 ? '' : 's'} of a node: ` +
          `pass --key-file with that node's key, or put its node.key back from your offline copy (a new key would not open what the database belongs to)`,
      );
  }
  return readNodeKey(paths.keyPath);
}

/**
 * Write a new key file (mode 0600); never overwrites an existing one. It goes through the
 * `--out` writer: a private temporary file, fsynced, linked to its name (which fails when a
 * key is there), then the directory fsynced. A crash just after `lnps create` leaves no key
 * or the whole key, never an empty node.key.
 */
export function writeNewNodeKey(path: string, secret: Uint8Array): void {
  try {
    writeOutputFile(path, Buffer.from(secret).toString('hex') + '\n', { force: false });
  } catch (e) {
    if (e instanceof StoreError && e.code === 'exists') throw new StoreError('exists', `a key file already exists at ${path}: lnps never overwrites a node key`);
    if (e instanceof StoreError) throw new StoreError('unavailable', e.message.replace(/^cannot write /, 'cannot create key file '));
    throw e;
  }
}

/** Make a directory (and parents) with mode 0700. */
export function makePrivateDir(path: string): void {
  try {
    mkdirSync(path, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new StoreError('unavailable', `cannot create directory ${path}: ${(e as NodeJS.ErrnoException).code}`);
  }
}

const modeText = (mode: number): string => (mode & 0o777).toString(8).padStart(4, '0');

/** chmod `path` to `mode`; when that fails, a StoreError naming the looser permissions it has (`was`). */
function makePrivate(path: string, was: number, mode: number): void {
  try {
    chmodSync(path, mode);
  } catch (e) {
    throw new StoreError('unavailable', `${path} has permissions ${modeText(was)}, open to other users, and cannot be made private: ${(e as NodeJS.ErrnoException).code}`);
  }
}

/** Make a regular file 0600 when it is looser; true when it changed. Symlinks are left alone. */
function tightenFile(path: string): boolean {
  const st = lstatSync(path);
  if (!st.isFile() || (st.mode & 0o077) === 0) return false;
  makePrivate(path, st.mode, 0o600);
  return true;
}

/**
 * The directories of a node are private. The data directory, the network's directory and its
 * LevelDB directory, when they exist, are made 0700, and LevelDB's files 0600; each that was
 * looser (made before lnps set its umask, or by hand) is tightened, and `notice` gets one line
 * per directory saying so; files are tightened quietly (their count is returned). Tightened rather than refused: the node's own files are never
 * meant for other users, so there is nothing for the operator to decide. The data directory
 * itself may be a symlink (its target is checked).
 */
export function secureNodeDir(paths: NodePaths, notice: (line: string) => void): number {
  for (const dir of [paths.datadir, paths.networkDir, paths.dbPath]) {
    let st;
    try {
      st = statSync(dir);
    } catch {
      continue; // not made yet: it is created 0700
    }
    if (!st.isDirectory()) throw new StoreError('unavailable', `${dir} is not a directory`);
    if ((st.mode & 0o077) !== 0) {
      makePrivate(dir, st.mode, 0o700);
      notice(`${dir} had permissions ${modeText(st.mode)}, open to other users: made it 0700`);
    }
  }
  let names: string[];
  try {
    names = readdirSync(paths.dbPath);
  } catch {
    return 0;
  }
  // LevelDB keeps a handful of files (log, manifest, tables); at most a few thousand tables.
  let n = 0;
  for (const name of names) {
    try {
      if (tightenFile(join(paths.dbPath, name))) n++;
    } catch (e) {
      if (e instanceof StoreError) throw e;
      // Gone in between (LevelDB compacts): nothing to tighten.
    }
  }
  // Files are tightened without a word: LevelDB makes its files 0644 less the umask, and a
  // process without lnps's umask (an older lnps, a tool opening the database) leaves them so
  // at every compaction; saying so each time would only be noise. The count is returned.
  return n;
}

export function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}
