// BOLT #8 transport: the handshake, the encrypted message stream and the socket layer.
// It moves bytes only; it knows no message types (the wire layer decodes what read() returns).
//
// Outbound:
//   const conn = await connectPeer({ host, port, localSecret, remotePubkey, timeoutMs: 10_000 });
// Inbound (one failed handshake rejects for that socket only; prepare the static key once):
//   const localKey = new LocalKey(secret);
//   net.createServer((socket) => acceptPeer(socket, { localSecret: localKey }).then(onPeer, onHandshakeError));
// (A server made with { pauseOnConnect: true } that calls acceptPeer(adoptAccepted(socket), ...)
// reads each peer into the transport's own buffers: see reader.ts.)
// Then, on either side:
//   conn.on('close', (reason) => ...);           // once; reason undefined on a clean close
//   await conn.send(bytes);                       // <= 65535 bytes; await it (backpressure)
//   for await (const msg of conn) { ... }         // whole messages; ends when the connection closes
//   await conn.close();  /  conn.destroy(reason);
export { TransportError, type TransportErrorCode } from './errors.js';
export {
  InitiatorHandshake,
  ResponderHandshake,
  LocalKey,
  PROTOCOL_NAME,
  PROLOGUE,
  ACT_ONE_SIZE,
  ACT_TWO_SIZE,
  ACT_THREE_SIZE,
  type HandshakeResult,
  type InitiatorOptions,
  type ResponderOptions,
} from './handshake.js';
export {
  SessionKeys,
  MessageEncryptor,
  MessageDecryptor,
  MAX_MESSAGE_SIZE,
  MAX_FRAME_SIZE,
  ROTATION_NONCE,
} from './cipher.js';
export { adoptAccepted, readRouteOf } from './reader.js';
export {
  connectPeer,
  acceptPeer,
  PeerConnection,
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  DEFAULT_HIGH_WATER_MARK,
  DEFAULT_SEND_HIGH_WATER_MARK,
  MESSAGE_OVERHEAD,
  MAX_QUEUED_MESSAGES,
  type ConnectOptions,
  type PeerOptions,
  type PeerConnectionEvents,
} from './peer.js';
