// The core of `lnps decode`, in a module of its own so that the common form `lnps decode HEX`
// loads only this and the wire codec (start-up is a feature: see src/cli.ts).
import { DecodeError } from '../core/errors.js';
import { fromHex } from '../core/bytes.js';
import { decodeMessage } from '../core/wire/registry.js';
import { messageToJson, type JsonObject } from '../core/wire/json.js';

/**
 * `lnps decode HEX` with no flags: answered without loading commander or the command's
 * declaration (the CLI entry asks first), since scripts run exactly this in loops. Anything else
 * goes through decode.ts; both paths run decodeBytes and print the same JSON.
 */
export function fast(args: string[]): (() => Promise<unknown>) | undefined {
  if (args.length !== 1 || !/^[0-9a-fA-F]+$/.test(args[0]!)) return undefined;
  const hex = args[0]!;
  return async () => {
    let bytes: Uint8Array;
    try {
      bytes = fromHex(hex, 'message');
    } catch (e) {
      throw e instanceof DecodeError ? withHint(e) : e;
    }
    return decodeBytes(bytes, false);
  };
}

/** Decode one message, or a u16-length-prefixed stream of them, to the JSON `decode` prints. */
export function decodeBytes(bytes: Uint8Array, stream: boolean): JsonObject | JsonObject[] {
  try {
    if (stream) return decodeStream(bytes).map(messageToJson);
    return messageToJson(decodeMessage(bytes));
  } catch (e) {
    if (e instanceof DecodeError) throw withHint(e);
    throw e;
  }
}

const HINTS: Partial<Record<DecodeError['code'], string>> = {
  bad_hex: 'give the message as hex digits, or raw bytes with --file',
  truncated: 'the message is cut short: check it was copied whole',
  too_large: 'a message is at most 65535 bytes and a blob at most 65531',
  trailing: 'extra bytes follow the message',
  non_minimal: 'a BigSize must use its shortest encoding',
  tlv_order: 'TLV types must be strictly increasing',
  tlv_unknown_even: "an unknown even TLV type is an error (it's OK to be odd)",
  tlv_length: 'a TLV length does not fit',
};

/** The same error (same code, same exit status) with a word on what to check. */
export function withHint(e: DecodeError): DecodeError {
  const detail = e.message.slice(e.path.length + 2);
  const hint = HINTS[e.code];
  return new DecodeError(e.code, e.path, hint ? `${detail} (${hint})` : detail);
}

/** Messages each prefixed by a u16 length, back to back; the path of an error names the message. */
export function decodeStream(bytes: Uint8Array) {
  const out = [];
  let pos = 0;
  // Each turn consumes at least the 2-byte prefix, so the loop ends.
  while (pos < bytes.length) {
    const i = out.length;
    if (bytes.length - pos < 2) throw new DecodeError('truncated', `stream[${i}].length`, `needs 2 bytes, only ${bytes.length - pos} left`);
    const len = (bytes[pos]! << 8) | bytes[pos + 1]!;
    pos += 2;
    if (bytes.length - pos < len) throw new DecodeError('truncated', `stream[${i}]`, `length says ${len} bytes, only ${bytes.length - pos} left`);
    try {
      out.push(decodeMessage(bytes.subarray(pos, pos + len)));
    } catch (e) {
      if (e instanceof DecodeError) throw new DecodeError(e.code, `stream[${i}].${e.path}`, e.message.slice(e.path.length + 2));
      throw e;
    }
    pos += len;
  }
  return out;
}
