// lnps decode: show a BOLT #1 wire message (or a stream of them) as JSON.
import type { Command } from 'commander';
import { DecodeError } from '../core/errors.js';
// The two modules it needs, not index.js: one module fewer to load at start-up.
import { decodeMessage } from '../core/wire/registry.js';
import { messageToJson, type JsonObject } from '../core/wire/json.js';
import { palette, renderTable } from '../output.js';
import { action, examples, inputBytes } from './_common.js';

interface DecodeOptions {
  file?: string;
  base64?: string;
  stream?: boolean;
}

export function register(program: Command): void {
  program
    .command('decode')
    .description(
      'Decode a Lightning wire message (type, payload, extension TLVs) and print it as JSON: ' +
        'peer_storage, peer_storage_retrieval, init, ping, pong, error, warning; other types are shown as raw payload. ' +
        'The output is what `lnps encode --json` takes back.',
    )
    .argument('[hex]', "the message as hex, or '-' to read hex from standard input")
    .option('--file <file>', 'read the raw message bytes from a file')
    .option('--base64 <b64>', 'the message as base64')
    .option('--stream', 'the input holds several messages, each prefixed by its u16 length; prints an array')
    .addHelpText(
      'after',
      examples(
        'lnps decode 00070003010203',
        'lnps decode 00100000000608000000000001206fe28c0ab6f1b372c1a6a246ae63f74f931e8365e15a089c68d6190000000000',
        'lnps decode --file msg.bin --format table',
        'lnps encode ping --num-pong-bytes 4 | lnps decode -',
      ),
    )
    .action(action(async (hex: string | undefined, opts: DecodeOptions) => decodeCommand(hex, opts), decodeTable));
}

/**
 * `lnps decode HEX` and `lnps decode -` with no flags: answered without loading commander (the
 * CLI entry asks first), since scripts run exactly this in loops. Anything else goes through
 * the declaration above; both paths run decodeCommand and print the same JSON.
 */
export function fast(args: string[]): (() => Promise<unknown>) | undefined {
  if (args.length !== 1 || !/^(?:[0-9a-fA-F]+|-)$/.test(args[0]!)) return undefined;
  return () => decodeCommand(args[0], {});
}

export async function decodeCommand(hex: string | undefined, opts: DecodeOptions): Promise<JsonObject | JsonObject[]> {
  try {
    const bytes = await inputBytes(hex, opts, 'message');
    if (opts.stream) return decodeStream(bytes).map(messageToJson);
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
function withHint(e: DecodeError): DecodeError {
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

/** Long hex is cut for people; the JSON output always has it in full. */
function short(v: unknown): string {
  if (v === null || v === undefined) return '-';
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return s.length > 96 ? `${s.slice(0, 64)}… (${typeof v === 'string' && /^[0-9a-f]*$/.test(v) ? `${v.length / 2} bytes` : `${s.length} chars`})` : s;
}

async function decodeTable(result: JsonObject | JsonObject[]): Promise<string> {
  if (Array.isArray(result)) {
    const rows = result.map((m, i) => {
      const { type, name, ...rest } = m;
      return { index: i, type, name, fields: short(rest) };
    });
    return renderTable(rows, ['index', 'type', 'name', 'fields']);
  }
  const p = await palette();
  const keys = Object.keys(result);
  const w = Math.max(...keys.map((k) => k.length));
  return keys.map((k) => `${p.dim(k.padEnd(w))}  ${k === 'name' ? p.head(String(result[k])) : short(result[k])}`).join('\n') + '\n';
}
