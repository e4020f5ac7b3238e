// lnps decode: show a BOLT #1 wire message (or a stream of them) as JSON.
import type { Command } from 'commander';
import type { JsonObject } from '../core/wire/json.js';
import { DecodeError } from '../core/errors.js';
import { decodeBytes, withHint } from './_decode.js';
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
    .action(action(async (hex: string | undefined, opts: DecodeOptions) => decodeBytes(await messageBytes(hex, opts), opts.stream === true), decodeTable));
}

/** The input, with the same hint on bad hex as the rest of decode's errors. */
async function messageBytes(hex: string | undefined, opts: DecodeOptions): Promise<Uint8Array> {
  try {
    return await inputBytes(hex, opts, 'message');
  } catch (e) {
    if (e instanceof DecodeError) throw withHint(e);
    throw e;
  }
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
