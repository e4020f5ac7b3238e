// Typed failures of the BOLT #8 transport. The handshake codes follow the names used by the
// spec's test vectors (Appendix A: `ERROR (ACT2_BAD_VERSION 1)` has the code ACT2_BAD_VERSION),
// so tests can match the expected failures exactly.

export type TransportErrorCode =
  // Handshake, one family per act. READ_FAILED: fewer bytes than the act's fixed size arrived
  // (a short input, or the socket closed first).
  | 'ACT1_READ_FAILED'
  | 'ACT1_BAD_VERSION'
  | 'ACT1_BAD_PUBKEY'
  | 'ACT1_BAD_TAG'
  | 'ACT2_READ_FAILED'
  | 'ACT2_BAD_VERSION'
  | 'ACT2_BAD_PUBKEY'
  | 'ACT2_BAD_TAG'
  | 'ACT3_READ_FAILED'
  | 'ACT3_BAD_VERSION'
  | 'ACT3_BAD_CIPHERTEXT' // the encrypted static key fails its MAC
  | 'ACT3_BAD_PUBKEY' // the decrypted static key is not a point on the curve
  | 'ACT3_BAD_TAG'
  // Socket layer.
  | 'HANDSHAKE_TIMEOUT' // the three acts did not finish in time
  | 'CONNECT_FAILED' // TCP connect failed (refused, unreachable, reset)
  | 'CLOSED' // the connection is closed: nothing more can be sent
  | 'SOCKET_ERROR' // the socket failed after the handshake
  // Messages after the handshake.
  | 'MSG_LENGTH_BAD_TAG' // the encrypted length prefix fails its MAC
  | 'MSG_BAD_TAG'; // the encrypted message body fails its MAC

/**
 * A transport failure on untrusted input or the network. It never carries key material: the
 * message names the act or the check, not the bytes.
 */
export class TransportError extends Error {
  override readonly name = 'TransportError';
  /** Exit status if one reaches the CLI (src/exit.ts reads `exitCode`): 1, a failed check. */
  readonly exitCode = 1;
  constructor(
    readonly code: TransportErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
