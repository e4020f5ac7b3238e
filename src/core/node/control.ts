// The control socket: how every other `lnps` command reaches a running node, so that the
// database the node holds stays usable. A unix socket `<networkDir>/lnps.sock`, mode 0600
// (only the owner of the node may drive it), speaking newline-delimited JSON:
//
//   request   {"id": 1, "method": "op", "params": {...}}
//   rows      {"id": 1, "row": {...}}          zero or more, for list operations
//   end       {"id": 1, "result": {...}}       or {"id": 1, "error": {"kind", "code", "message"}}
//
// Rows stream with backpressure on both ends, so listing 100,000 peers keeps memory flat.
// Values already follow the JSON output contract (bytes as hex, 64-bit integers as strings),
// so a client prints exactly what the command would print without a node.
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { chmodSync, unlinkSync } from 'node:fs';
import { CryptoError, DecodeError, InputError, StoreError, UsageError } from '../errors.js';
import { toHex } from '../bytes.js';
import { notFoundIn, type NodePaths } from '../datadir.js';

/** The output contract's JSON: bigint as decimal string, bytes as hex. */
function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Uint8Array) return toHex(value);
  return value;
}

/**
 * Longest unix socket path in bytes: sun_path holds 108 bytes on Linux (104 on the BSDs and
 * macOS), its terminating NUL included. A longer path fails with misleading errors (EADDRINUSE,
 * or a hang), so it is refused before any socket call.
 */
export const MAX_SOCKET_PATH_BYTES = process.platform === 'linux' ? 107 : 103;

/** Refuse a control socket path the system cannot bind or connect to. */
export function checkSocketPath(path: string): void {
  const n = Buffer.byteLength(path, 'utf8');
  if (n > MAX_SOCKET_PATH_BYTES)
    throw new UsageError(`the control socket path ${path} is ${n} bytes; unix sockets allow at most ${MAX_SOCKET_PATH_BYTES}: use a shorter --datadir`);
}

/** Longest request or response line accepted; a sealed backup in hex fits many times over. */
const MAX_LINE = 4 * 1024 * 1024;

export interface ControlContext {
  /** Send one row of a list result; resolves when the socket can take more. */
  row(row: unknown): Promise<void>;
}

export type ControlHandler = (method: string, params: Record<string, unknown>, ctx: ControlContext) => Promise<unknown>;

export interface WireError {
  kind: string;
  code?: string;
  path?: string;
  message: string;
  exit_code?: number;
}

/** An error as it crosses the socket: kind and code survive, so the client exits the same way. */
export function errorToWire(err: unknown): WireError {
  if (err instanceof DecodeError) return { kind: 'DecodeError', code: err.code, path: err.path, message: err.message };
  if (err instanceof StoreError) return { kind: 'StoreError', code: err.code, message: err.message };
  if (err instanceof InputError) return { kind: 'InputError', code: err.code, message: err.message };
  if (err instanceof CryptoError) return { kind: 'CryptoError', code: err.code, message: err.message };
  if (err instanceof UsageError) return { kind: 'UsageError', message: err.message };
  const message = err instanceof Error ? err.message : String(err);
  const exit = err && typeof err === 'object' && 'exitCode' in err && typeof (err as { exitCode: unknown }).exitCode === 'number' ? (err as { exitCode: number }).exitCode : undefined;
  return exit === undefined ? { kind: 'Error', message } : { kind: 'Error', message, exit_code: exit };
}

/** The inverse of errorToWire: the same error class on the client side. */
export function errorFromWire(e: WireError): Error {
  const message = typeof e.message === 'string' ? e.message : 'error from the running node';
  switch (e.kind) {
    case 'DecodeError': {
      // DecodeError builds its message from path and detail; strip the path prefix back off.
      const path = e.path ?? '';
      const detail = path !== '' && message.startsWith(path + ': ') ? message.slice(path.length + 2) : message;
      return new DecodeError((e.code ?? 'bad_value') as DecodeError['code'], path, detail);
    }
    case 'StoreError':
      return new StoreError((e.code ?? 'unavailable') as StoreError['code'], message);
    case 'InputError':
      return new InputError(message, e.code);
    case 'CryptoError':
      return new CryptoError(e.code ?? 'crypto', message);
    case 'UsageError':
      return new UsageError(message);
    default: {
      const err = new Error(message) as Error & { exitCode?: number };
      if (typeof e.exit_code === 'number') err.exitCode = e.exit_code;
      return err;
    }
  }
}

function writeLine(sock: Socket, value: unknown): Promise<void> {
  const ok = sock.write(JSON.stringify(value, jsonReplacer) + '\n');
  if (ok || sock.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      sock.off('drain', done);
      sock.off('close', done);
      resolve();
    };
    sock.on('drain', done);
    sock.on('close', done);
  });
}

/**
 * Split a socket's bytes into lines and hand them to `onLine` one at a time, pausing the
 * socket while a line is being handled (backpressure: no unbounded queue of lines).
 */
function lineReader(sock: Socket, onLine: (line: string) => Promise<void> | void, onTooLong: () => void): void {
  let buf = '';
  let busy = false;
  const queue: string[] = [];
  const pump = async () => {
    if (busy) return;
    busy = true;
    try {
      while (queue.length > 0) {
        const line = queue.shift()!;
        await onLine(line);
      }
    } finally {
      busy = false;
      if (!sock.destroyed) sock.resume();
    }
  };
  sock.setEncoding('utf8');
  sock.on('data', (chunk: string) => {
    buf += chunk;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (line.trim() !== '') queue.push(line);
    }
    if (buf.length > MAX_LINE) {
      onTooLong();
      return;
    }
    if (queue.length > 0) {
      sock.pause();
      void pump();
    }
  });
}

export interface ControlServer {
  readonly path: string;
  close(): Promise<void>;
}

/**
 * Listen on the control socket. The caller has made sure no live node owns `path` (a stale
 * file left by a crash is removed here). The socket is created under a 0177 umask and then
 * chmod-ed to 0600, so there is no moment when others may connect.
 */
export async function listenControl(path: string, handler: ControlHandler): Promise<ControlServer> {
  checkSocketPath(path);
  try {
    unlinkSync(path);
  } catch {
    /* nothing stale to remove */
  }
  const sockets = new Set<Socket>();
  const server: Server = createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => sock.destroy());
    lineReader(
      sock,
      async (line) => {
        let id: unknown = null;
        try {
          let req: { id?: unknown; method?: unknown; params?: unknown };
          try {
            req = JSON.parse(line) as typeof req;
          } catch {
            throw new UsageError('control socket: request is not JSON');
          }
          id = req.id ?? null;
          if (typeof req.method !== 'string') throw new UsageError('control socket: request has no method');
          const params = req.params && typeof req.params === 'object' ? (req.params as Record<string, unknown>) : {};
          const result = await handler(req.method, params, { row: (row) => writeLine(sock, { id, row }) });
          await writeLine(sock, { id, result: result ?? null });
        } catch (err) {
          await writeLine(sock, { id, error: errorToWire(err) });
        }
      },
      () => sock.destroy(),
    );
  });
  const oldMask = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (e) {
    throw new StoreError('unavailable', `cannot create control socket ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  } finally {
    process.umask(oldMask);
  }
  chmodSync(path, 0o600);
  return {
    path,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => {
          try {
            unlinkSync(path);
          } catch {
            /* already gone */
          }
          resolve();
        });
      }),
  };
}

/** A connection to a running node's control socket. */
export interface ControlClient {
  call(method: string, params?: Record<string, unknown>, onRow?: (row: any) => Promise<void> | void): Promise<any>;
  close(): void;
}

/**
 * Connect to the running node, or return null when none is running: no socket file, or a stale
 * file nobody listens on (a node that crashed). Any other failure is an error.
 */
export async function connectControl(path: string, timeoutMs = 5000): Promise<ControlClient | null> {
  // No node can listen on a path this long (listenControl refuses it): none is running.
  if (Buffer.byteLength(path, 'utf8') > MAX_SOCKET_PATH_BYTES) return null;
  const sock = await new Promise<Socket | null>((resolve, reject) => {
    const s = createConnection(path);
    const timer = setTimeout(() => {
      s.destroy();
      reject(new StoreError('unavailable', `the node's control socket ${path} did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
    s.once('connect', () => {
      clearTimeout(timer);
      resolve(s);
    });
    s.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      s.destroy();
      if (e.code === 'ENOENT' || e.code === 'ECONNREFUSED' || e.code === 'ENOTSOCK') resolve(null);
      else if (e.code === 'EACCES') reject(new StoreError('unavailable', `cannot use the node's control socket ${path}: permission denied (it belongs to the user running the node)`));
      else reject(new StoreError('unavailable', `cannot use the node's control socket ${path}: ${e.code ?? e.message}`));
    });
  });
  if (sock === null) return null;
  sock.on('error', () => {});

  type Pending = { resolve(v: unknown): void; reject(e: Error): void; onRow?: ((row: unknown) => Promise<void> | void) | undefined };
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let closedError: Error | null = null;
  const failAll = (err: Error) => {
    closedError = err;
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  };
  sock.on('close', () => failAll(new StoreError('unavailable', 'the running node closed the control connection (was it stopped?)')));
  lineReader(
    sock,
    async (line) => {
      let msg: { id?: number; row?: unknown; result?: unknown; error?: WireError };
      try {
        msg = JSON.parse(line) as typeof msg;
      } catch {
        failAll(new StoreError('unavailable', 'the running node sent a reply that is not JSON'));
        sock.destroy();
        return;
      }
      const p = pending.get(msg.id as number);
      if (!p) return;
      if ('row' in msg) {
        if (p.onRow) await p.onRow(msg.row);
        return;
      }
      pending.delete(msg.id as number);
      if (msg.error) p.reject(errorFromWire(msg.error));
      else p.resolve(msg.result);
    },
    () => {
      failAll(new StoreError('unavailable', 'the running node sent a reply line that is too long'));
      sock.destroy();
    },
  );
  return {
    call(method, params = {}, onRow) {
      if (closedError) return Promise.reject(closedError);
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject, onRow });
        sock.write(JSON.stringify({ id, method, params }, jsonReplacer) + '\n');
      });
    },
    close() {
      sock.end();
      sock.destroy();
    },
  };
}

/** One call to the running node, or `undefined` when no node is running. */
export async function callNodeIfRunning(
  path: string,
  method: string,
  params: Record<string, unknown>,
  onRow?: (row: any) => Promise<void> | void,
): Promise<{ result: any } | undefined> {
  const client = await connectControl(path);
  if (!client) return undefined;
  try {
    return { result: await client.call(method, params, onRow) };
  } finally {
    client.close();
  }
}

/** One call to the running node; when none runs, a clear error saying how to start one. */
export async function callRunningNode(
  paths: Pick<NodePaths, 'socketPath' | 'datadir' | 'network'>,
  method: string,
  params: Record<string, unknown>,
  onRow?: (row: any) => Promise<void> | void,
): Promise<any> {
  const r = await callNodeIfRunning(paths.socketPath, method, params, onRow);
  if (r === undefined)
    throw new StoreError('unavailable', `no lnps node is running for ${paths.datadir} (${paths.network}): start one with \`lnps serve\``, notFoundIn('running_node', paths));
  return r.result;
}
