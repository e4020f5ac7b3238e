// Reading a peer's socket into buffers we choose, instead of the fresh 64 KiB buffer Node
// allocates for every read by default.
//
// Node's `onread` socket option ({ buffer, callback }) makes a socket read into the buffer its
// function returns, asked again after every read. The transport uses it so that a 64 KiB frame
// is decrypted where the kernel put it: no allocation and no garbage per read, up to four
// frames a read, and one copy at most of a partial frame per read (see
// MessageDecryptor.readBuffer). Measured alone, reading 131 MB
// from loopback this way took about a third of the CPU that 'data' events took.
//
// A ReadRoute sits between the socket and whoever reads it: the handshake first, then the
// PeerConnection. Reads that come while nobody is attached (the moment between the two) are
// copied and held, and the socket pauses after the first one, so at most one read (64 KiB,
// SMALL_READ_SIZE) is held.
//
// Outbound sockets get `onread` when they are made (connectRouted). Inbound ones are made by
// net.Server, which passes no `onread`; adoptAccepted() moves the accepted socket's TCP handle to
// a new Socket made with it. That uses two things Node does not document (an accepted Socket's
// `_handle`, and the `handle` constructor option, with which net.Server builds every accepted
// socket); where either is missing the accepted socket is kept as it is, and it is read through
// 'data' events as before (the transport handles both).
import { Socket, connect, type SocketConstructorOpts } from 'node:net';
import { sharedSmallRead } from './cipher.js';

/** Takes `n` bytes that were just read into `view`; they stay there only until the next buffer is chosen. */
export type ReadSink = (view: Uint8Array, n: number) => void;

/** The `onread` routing of one socket. */
export class ReadRoute {
  private sink: ReadSink | undefined;
  private next: (() => Uint8Array) | undefined;
  private held: Buffer[] = [];
  private socket: Socket | undefined;

  /** The value of the socket's `onread` option. */
  readonly onread = {
    buffer: (): Uint8Array => (this.next !== undefined ? this.next() : sharedSmallRead()),
    // Always true: pausing goes through socket.pause(), so isPaused() tells the truth (a `false`
    // here stops reading without the socket counting as paused).
    callback: (n: number, view: Uint8Array): boolean => {
      if (this.sink !== undefined) this.sink(view, n);
      else {
        // Nobody attached: keep a copy, and read no more until someone is.
        this.held.push(Buffer.from(view.subarray(0, n)));
        this.socket?.pause();
      }
      return true;
    },
  };

  bind(socket: Socket): Socket {
    this.socket = socket;
    routes.set(socket, this);
    return socket;
  }

  /**
   * Send the socket's reads to `sink`, and let `next` choose where each read goes (default: the
   * first 64 KiB of the shared buffer, which the sink must use or copy before it returns). Returns the bytes held
   * while nobody was attached, oldest first; the caller resumes the socket.
   */
  attach(sink: ReadSink, next?: () => Uint8Array): Buffer[] {
    this.sink = sink;
    this.next = next;
    const held = this.held;
    this.held = [];
    return held;
  }

  detach(): void {
    this.sink = undefined;
    this.next = undefined;
  }
}

const routes = new WeakMap<Socket, ReadRoute>();

/** The ReadRoute of a socket made by connectRouted() or adoptAccepted(); undefined for any other socket. */
export function readRouteOf(socket: Socket): ReadRoute | undefined {
  return routes.get(socket);
}

/** net.connect() for a socket read through a ReadRoute. */
export function connectRouted(opts: { host: string; port: number; noDelay?: boolean }): Socket {
  const route = new ReadRoute();
  return route.bind(connect({ ...opts, onread: route.onread }));
}

interface StreamHandle {
  readStart(): number;
  useUserBuffer(buf: Uint8Array): void;
}

/**
 * An accepted socket moved onto a ReadRoute, or the same socket when the runtime does not allow
 * it. Call it in the server's 'connection' listener, before anything else uses the socket, on a
 * server made with `pauseOnConnect` (so nothing was read yet): from then on use only the socket
 * returned. The accepted Socket is destroyed without its handle, which also ends net.Server's
 * count of it; the caller keeps its own connection accounting.
 */
export function adoptAccepted(accepted: Socket): Socket {
  const internal = accepted as unknown as { _handle: StreamHandle | null };
  const handle = internal._handle;
  if (
    handle === null ||
    typeof handle !== 'object' ||
    typeof handle.useUserBuffer !== 'function' ||
    typeof handle.readStart !== 'function' ||
    accepted.destroyed ||
    accepted.readableLength > 0
  )
    return accepted;
  const route = new ReadRoute();
  let socket: Socket;
  try {
    socket = new Socket({ handle, onread: route.onread } as SocketConstructorOpts);
  } catch {
    return accepted;
  }
  if ((socket as unknown as { _handle: unknown })._handle !== handle) return accepted;
  internal._handle = null;
  accepted.destroy();
  return route.bind(socket);
}
