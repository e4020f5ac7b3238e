// error (type 17, BOLT #1): fails the channel(s) it names; an all-zero channel_id means all.
import { defineMessage, fixedBytes, u16Bytes } from './codec.js';
import type { TlvRecord } from './tlv.js';

export const ERROR = 17;

export interface ErrorMessage {
  type: 17;
  name: 'error';
  /** 32 bytes; all zero refers to every channel with the peer. */
  channelId: Uint8Array;
  data: Uint8Array;
  extension?: TlvRecord[];
}

export const errorCodec = defineMessage<ErrorMessage>({
  type: ERROR,
  name: 'error',
  fields: [
    ['channelId', fixedBytes(32), 'channel_id'],
    ['data', u16Bytes()],
  ],
});

/** `channelId` null means all channels (32 zero bytes); `text` is sent as UTF-8. */
export function errorMessage(channelId: Uint8Array | null, text: string): ErrorMessage {
  return { type: ERROR, name: 'error', channelId: channelId ?? new Uint8Array(32), data: new TextEncoder().encode(text) };
}
