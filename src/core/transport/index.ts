// BOLT #8 transport: the handshake, the encrypted message stream and the socket layer.
// It moves bytes only; it knows no message types (the wire layer decodes what read() returns).
export { TransportError, type TransportErrorCode } from './errors.js';
export {
  InitiatorHandshake,
  ResponderHandshake,
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
export {
  connectPeer,
  acceptPeer,
  PeerConnection,
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  DEFAULT_HIGH_WATER_MARK,
  DEFAULT_SEND_HIGH_WATER_MARK,
  type ConnectOptions,
  type PeerOptions,
  type PeerConnectionEvents,
} from './peer.js';
