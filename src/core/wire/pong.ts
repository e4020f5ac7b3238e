// pong (type 19, BOLT #1): the answer to a ping, `byteslen` ignored bytes.
import { defineMessage, u16Bytes } from './codec.js';
import type { TlvRecord } from './tlv.js';

export const PONG = 19;

export interface Pong {
  type: 19;
  name: 'pong';
  ignored: Uint8Array;
  extension?: TlvRecord[];
}

export const pongCodec = defineMessage<Pong>({
  type: PONG,
  name: 'pong',
  fields: [['ignored', u16Bytes()]],
});

/** A pong with `len` zero bytes ("SHOULD set ignored to 0s"). */
export function pong(len: number): Pong {
  return { type: PONG, name: 'pong', ignored: new Uint8Array(len) };
}
