// ping (type 18, BOLT #1): keep-alive; asks for a pong of `numPongBytes` ignored bytes.
import { defineMessage, u16, u16Bytes } from './codec.js';
import type { TlvRecord } from './tlv.js';

export const PING = 18;

/** "if num_pong_bytes is less than 65532: MUST respond ... otherwise MUST ignore the ping". */
export const PING_NO_PONG = 65532;

export interface Ping {
  type: 18;
  name: 'ping';
  numPongBytes: number;
  /** "SHOULD set ignored to 0s" and never to secrets. */
  ignored: Uint8Array;
  extension?: TlvRecord[];
}

export const pingCodec = defineMessage<Ping>({
  type: PING,
  name: 'ping',
  fields: [
    ['numPongBytes', u16, 'num_pong_bytes'],
    ['ignored', u16Bytes()],
  ],
});

export function ping(numPongBytes: number, ignoredLen = 0): Ping {
  return { type: PING, name: 'ping', numPongBytes, ignored: new Uint8Array(ignoredLen) };
}

/** Whether a receiver answers this ping at all. */
export function pingWantsPong(p: Ping): boolean {
  return p.numPongBytes < PING_NO_PONG;
}
