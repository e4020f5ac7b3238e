// lnps encode: build a BOLT #1 wire message from flags, or from the JSON that `lnps decode` prints.
import { statSync } from 'node:fs';
import type { Command } from 'commander';
import { fromHex, concatBytes } from '../core/bytes.js';
import { InputError, UsageError } from '../core/errors.js';
import {
  MAX_BLOB_LEN,
  REGISTRY,
  chainHashByName,
  encodeFeatures,
  encodeMessage,
  featureBitByName,
  messageFromJson,
  messageTypeByName,
  type KnownName,
  type Message,
} from '../core/wire/index.js';
import { FORCE_HELP, action, examples, outputBytes, parseIntFlag, readFileBytes, readStdin } from './_common.js';

interface EncodeOptions {
  json?: string;
  blob?: string;
  blobFile?: string;
  features?: string;
  globalFeatures?: string;
  networks?: string;
  remoteAddr?: string;
  numPongBytes?: string;
  ignoredLen?: string;
  channelId?: string;
  data?: string;
  dataHex?: string;
  payload?: string;
  out?: string;
  force?: boolean;
}

/** Which message flags each type takes (the others are refused, so a typo cannot go unnoticed). */
const FLAGS: Record<KnownName | 'unknown', (keyof EncodeOptions)[]> = {
  peer_storage: ['blob', 'blobFile'],
  peer_storage_retrieval: ['blob', 'blobFile'],
  init: ['features', 'globalFeatures', 'networks', 'remoteAddr'],
  ping: ['numPongBytes', 'ignoredLen'],
  pong: ['ignoredLen'],
  error: ['channelId', 'data', 'dataHex'],
  warning: ['channelId', 'data', 'dataHex'],
  unknown: ['payload'],
};
const MESSAGE_FLAGS = [...new Set(Object.values(FLAGS).flat())];
const flagName = (k: string) => '--' + k.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());

export function register(program: Command): void {
  program
    .command('encode')
    .description(
      'Build a Lightning wire message and print it as hex (--out writes raw bytes). TYPE is peer_storage, ' +
        'peer_storage_retrieval (alias your_peer_storage), init, ping, pong, error, warning, or a type number with --payload. ' +
        '--json takes exactly what `lnps decode` prints (an array gives a stream of u16-length-prefixed messages).',
    )
    .argument('[type]', 'message name or type number')
    .option('--json <file>', "build from decode's JSON output: a file, or '-' for standard input")
    .option('--blob <hex>', `peer_storage(_retrieval): the blob as hex (at most ${MAX_BLOB_LEN} bytes)`)
    .option('--blob-file <file>', 'peer_storage(_retrieval): read the blob as raw bytes from a file')
    .option('--features <bits>', 'init: feature bits or names, comma separated (a name sets its optional bit), e.g. 43 or option_provide_storage')
    .option('--global-features <bits>', 'init: bits for the legacy globalfeatures vector')
    .option('--networks <chains>', 'init: chain names (mainnet, testnet, testnet4, signet, regtest) or 64-hex chain hashes, comma separated')
    .option('--remote-addr <hex>', 'init: remote_addr as a hex address descriptor')
    .option('--num-pong-bytes <n>', 'ping: pong size asked for (65532 or more: no pong), default 0')
    .option('--ignored-len <n>', 'ping/pong: number of zero bytes to carry, default 0')
    .option('--channel-id <hex>', 'error/warning: 32-byte channel_id (default all zero: all channels)')
    .option('--data <text>', 'error/warning: the message text')
    .option('--data-hex <hex>', 'error/warning: the data as hex')
    .option('--payload <hex>', 'a message of another type: its raw payload as hex')
    .option('--out <file>', 'write the raw bytes to a file (mode 0600) and print a summary')
    .option('--force', FORCE_HELP)
    .addHelpText(
      'after',
      examples(
        'lnps encode peer_storage --blob 010203',
        'lnps encode init --features 43 --networks mainnet',
        'lnps encode ping --num-pong-bytes 4 --ignored-len 2',
        'lnps encode warning --data "blob is outdated"',
        'lnps decode 00070003010203 | lnps encode --json -',
      ),
    )
    .action(action(async (type: string | undefined, opts: EncodeOptions, cmd: Command) => encodeCommand(type, opts, cmd)));
}

async function encodeCommand(typeArg: string | undefined, opts: EncodeOptions, cmd: Command): Promise<unknown> {
  const given = MESSAGE_FLAGS.filter((k) => opts[k] !== undefined);
  let bytes: Uint8Array;
  let summary: Record<string, unknown>;
  if (opts.json !== undefined) {
    if (typeArg !== undefined || given.length > 0) throw new UsageError('--json builds the whole message: give no TYPE and no message flags with it');
    ({ bytes, summary } = await fromJson(opts.json));
  } else {
    if (typeArg === undefined) throw new UsageError('no message type given: pass TYPE (e.g. peer_storage, init, ping) or --json FILE');
    const msg = await fromFlags(typeArg, opts, given);
    bytes = encodeMessage(msg);
    summary = { type: msg.type, name: msg.name, length: bytes.length };
  }
  return outputBytes(bytes, opts.out, summary, cmd, 'hex', opts.force === true);
}

async function fromJson(source: string): Promise<{ bytes: Uint8Array; summary: Record<string, unknown> }> {
  const raw = source === '-' ? await readStdin() : readFileBytes(source, 'JSON file');
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(raw).toString('utf8'));
  } catch (e) {
    throw new InputError(`${source === '-' ? 'standard input' : source} is not valid JSON: ${(e as Error).message}`, 'bad_json');
  }
  if (!Array.isArray(value)) {
    const msg = messageFromJson(value);
    const bytes = encodeMessage(msg);
    return { bytes, summary: { type: msg.type, name: msg.name, length: bytes.length } };
  }
  // An array is a stream, as `lnps decode --stream` prints it: each message after its u16 length.
  const parts: Uint8Array[] = [];
  value.forEach((v, i) => {
    const m = encodeMessage(messageFromJson(v, `stream[${i}]`));
    parts.push(new Uint8Array([m.length >>> 8, m.length & 0xff]), m);
  });
  const bytes = concatBytes(...parts);
  return { bytes, summary: { messages: value.length, length: bytes.length } };
}

function resolveType(arg: string): { name: KnownName | 'unknown'; type: number } {
  if (/^\d+$/.test(arg)) {
    const type = parseIntFlag(arg, 'TYPE', 0xffff);
    const codec = REGISTRY.get(type);
    return { name: (codec?.def.name as KnownName | undefined) ?? 'unknown', type };
  }
  const type = messageTypeByName(arg);
  if (type === undefined) {
    throw new UsageError(`unknown message type ${JSON.stringify(arg)}: use peer_storage, peer_storage_retrieval, init, ping, pong, error, warning, or a type number`);
  }
  return { name: REGISTRY.get(type)!.def.name as KnownName, type };
}

/** Comma-separated feature bits or names. */
function parseFeatures(list: string, flag: string): number[] {
  const items = list.split(',').map((s) => s.trim()).filter((s) => s !== '');
  return items.map((item) => {
    if (/^\d+$/.test(item)) return parseIntFlag(item, flag, 65535 * 8 - 1);
    const bit = featureBitByName(item);
    if (bit === undefined) throw new UsageError(`${flag}: ${JSON.stringify(item)} is neither a bit number nor a BOLT #9 feature name`);
    return bit;
  });
}

function parseNetworks(list: string): Uint8Array[] {
  return list
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => {
      const named = chainHashByName(s);
      if (named) return named;
      const bytes = fromHex(s, '--networks');
      if (bytes.length !== 32) throw new InputError(`--networks: ${JSON.stringify(s)} is neither a chain name nor a 32-byte chain hash`, 'bad_value');
      return bytes;
    });
}

function blobFromFile(path: string): Uint8Array {
  let size: number | undefined;
  try {
    size = statSync(path).size;
  } catch {
    // readFileBytes gives the precise message
  }
  // Refuse before reading a file that cannot fit (never truncate).
  if (size !== undefined && size > MAX_BLOB_LEN) {
    throw new InputError(`${path} is ${size} bytes; a peer storage blob is at most ${MAX_BLOB_LEN} bytes`, 'too_large');
  }
  return readFileBytes(path, 'blob file');
}

async function fromFlags(typeArg: string, opts: EncodeOptions, given: (keyof EncodeOptions)[]): Promise<Message> {
  const { name, type } = resolveType(typeArg);
  const allowed = FLAGS[name];
  const stray = given.filter((k) => !allowed.includes(k));
  if (stray.length > 0) {
    throw new UsageError(`${stray.map(flagName).join(', ')} ${stray.length === 1 ? 'does' : 'do'} not apply to ${name}; it takes ${allowed.map(flagName).join(', ')}`);
  }
  switch (name) {
    case 'peer_storage':
    case 'peer_storage_retrieval': {
      if ((opts.blob === undefined) === (opts.blobFile === undefined)) throw new UsageError(`${name} needs the blob: give --blob HEX or --blob-file FILE (one of them)`);
      const blob = opts.blob !== undefined ? fromHex(opts.blob.trim(), '--blob') : blobFromFile(opts.blobFile!);
      if (blob.length > MAX_BLOB_LEN) throw new InputError(`--blob is ${blob.length} bytes; a peer storage blob is at most ${MAX_BLOB_LEN} bytes`, 'too_large');
      return { type: type as 7 | 9, name, blob } as Message;
    }
    case 'init': {
      const msg: Message = {
        type: 16,
        name: 'init',
        globalFeatures: encodeFeatures(opts.globalFeatures === undefined ? [] : parseFeatures(opts.globalFeatures, '--global-features')),
        features: encodeFeatures(opts.features === undefined ? [] : parseFeatures(opts.features, '--features')),
      };
      if (opts.networks !== undefined) msg.networks = parseNetworks(opts.networks);
      if (opts.remoteAddr !== undefined) msg.remoteAddr = fromHex(opts.remoteAddr.trim(), '--remote-addr');
      return msg;
    }
    case 'ping':
    case 'pong': {
      const ignored = new Uint8Array(opts.ignoredLen === undefined ? 0 : parseIntFlag(opts.ignoredLen, '--ignored-len', 0xffff));
      if (name === 'pong') return { type: 19, name, ignored };
      const numPongBytes = opts.numPongBytes === undefined ? 0 : parseIntFlag(opts.numPongBytes, '--num-pong-bytes', 0xffff);
      return { type: 18, name, numPongBytes, ignored };
    }
    case 'error':
    case 'warning': {
      if (opts.data !== undefined && opts.dataHex !== undefined) throw new UsageError('give --data TEXT or --data-hex HEX, not both');
      const channelId = opts.channelId === undefined ? new Uint8Array(32) : fromHex(opts.channelId.trim(), '--channel-id');
      if (channelId.length !== 32) throw new InputError(`--channel-id must be 32 bytes (64 hex digits), got ${channelId.length}`, 'bad_value');
      const data = opts.dataHex !== undefined ? fromHex(opts.dataHex.trim(), '--data-hex') : new TextEncoder().encode(opts.data ?? '');
      return { type: type as 1 | 17, name, channelId, data } as Message;
    }
    case 'unknown': {
      if (opts.payload === undefined) throw new UsageError(`type ${type} is not a message lnps knows: give its raw payload with --payload HEX`);
      return { type, name: 'unknown', even: (type & 1) === 0, payload: fromHex(opts.payload.trim(), '--payload') };
    }
  }
}
