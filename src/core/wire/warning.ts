// warning (type 1, BOLT #1): like error, but fails nothing; the receiver "SHOULD log the message".
import { defineMessage, fixedBytes, u16Bytes } from './codec.js';
import type { TlvRecord } from './tlv.js';

export const WARNING = 1;

export interface WarningMessage {
  type: 1;
  name: 'warning';
  /** 32 bytes; all zero when the warning is not about one channel. */
  channelId: Uint8Array;
  data: Uint8Array;
  extension?: TlvRecord[];
}

export const warningCodec = defineMessage<WarningMessage>({
  type: WARNING,
  name: 'warning',
  fields: [
    ['channelId', fixedBytes(32), 'channel_id'],
    ['data', u16Bytes()],
  ],
});

/** `channelId` null means not about one channel (32 zero bytes); `text` is sent as UTF-8. */
export function warningMessage(channelId: Uint8Array | null, text: string): WarningMessage {
  return { type: WARNING, name: 'warning', channelId: channelId ?? new Uint8Array(32), data: new TextEncoder().encode(text) };
}
