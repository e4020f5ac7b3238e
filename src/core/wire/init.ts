// init (type 16, BOLT #1): the first message on every connection, with the node's features.
//   u16 gflen, globalfeatures, u16 flen, features, then init_tlvs:
//   networks (1): ...*chain_hash, remote_addr (3): ...*byte (an address descriptor, BOLT #7)
import { DecodeError, InputError } from '../errors.js';
import { concatBytes } from '../bytes.js';
import { defineMessage, u16Bytes, type TlvField } from './codec.js';
import { encodeFeatures } from './features.js';
import type { TlvRecord } from './tlv.js';

export const INIT = 16;

export interface InitMessage {
  type: 16;
  name: 'init';
  /** Raw feature vectors as sent (kept as is, so re-encoding is exact). */
  globalFeatures: Uint8Array;
  features: Uint8Array;
  /** Chain hashes in wire order; undefined when the record is absent, [] when present but empty. */
  networks?: Uint8Array[];
  /** Raw address descriptor bytes (1 byte type, then the address). */
  remoteAddr?: Uint8Array;
  /** init_tlvs records other than networks and remote_addr (unknown odd types). */
  extension?: TlvRecord[];
}

const networks: TlvField<Uint8Array[]> = {
  type: 1n,
  name: 'networks',
  key: 'networks',
  read(value, path) {
    // "if length is not exactly equal to that required for the known encoding: MUST fail"
    if (value.length % 32 !== 0) throw new DecodeError('tlv_length', path, `${value.length} bytes is not a whole number of 32-byte chain hashes`);
    const out: Uint8Array[] = [];
    for (let i = 0; i < value.length; i += 32) out.push(value.subarray(i, i + 32));
    return out;
  },
  check(v, path) {
    if (!Array.isArray(v)) throw new TypeError(`"${path}" expected an array of 32-byte chain hashes`);
    for (const h of v) {
      if (!(h instanceof Uint8Array)) throw new TypeError(`"${path}" expected Uint8Array chain hashes`);
      if (h.length !== 32) throw new InputError(`${path}: a chain hash is 32 bytes, got ${h.length}`, 'bad_value');
    }
  },
  write: (v) => concatBytes(...v),
};

const remoteAddr: TlvField<Uint8Array> = {
  type: 3n,
  name: 'remote_addr',
  key: 'remoteAddr',
  read: (value) => value,
  check(v, path) {
    if (!(v instanceof Uint8Array)) throw new TypeError(`"${path}" expected Uint8Array`);
  },
  write: (v) => v,
};

export const initCodec = defineMessage<InitMessage>({
  type: INIT,
  name: 'init',
  fields: [
    ['globalFeatures', u16Bytes(), 'globalfeatures'],
    ['features', u16Bytes(), 'features'],
  ],
  tlvs: [networks, remoteAddr],
  streamName: 'tlvs',
});

/**
 * An init with `features` set in the features vector (minimal, "SHOULD use the minimum length")
 * and an empty globalfeatures ("SHOULD NOT set features greater than 13 in globalfeatures").
 */
export function initMessage(opts: { features: number[]; networks?: Uint8Array[]; remoteAddr?: Uint8Array }): InitMessage {
  const msg: InitMessage = { type: INIT, name: 'init', globalFeatures: new Uint8Array(0), features: encodeFeatures(opts.features) };
  if (opts.networks !== undefined) msg.networks = opts.networks;
  if (opts.remoteAddr !== undefined) msg.remoteAddr = opts.remoteAddr;
  return msg;
}

/** A readable form of an address descriptor (BOLT #7), or undefined when it is not one. */
export function describeAddress(a: Uint8Array): string | undefined {
  const port = (i: number) => (a[i]! << 8) | a[i + 1]!;
  switch (a[0]) {
    case 1: // IPv4: 4 bytes + port
      return a.length === 7 ? `${a[1]}.${a[2]}.${a[3]}.${a[4]}:${port(5)}` : undefined;
    case 2: {
      // IPv6: 16 bytes + port
      if (a.length !== 19) return undefined;
      const groups: string[] = [];
      for (let i = 1; i < 17; i += 2) groups.push(((a[i]! << 8) | a[i + 1]!).toString(16));
      return `[${groups.join(':')}]:${port(17)}`;
    }
    case 4: // Tor v3: 35 bytes + port; shown as raw, the .onion form needs a checksum hash
      return a.length === 38 ? `torv3:${Buffer.from(a.subarray(1, 36)).toString('hex')}:${port(36)}` : undefined;
    case 5: {
      // DNS hostname: u8 len, ASCII host, port
      if (a.length < 2 || a.length !== 2 + a[1]! + 2) return undefined;
      const host = a.subarray(2, 2 + a[1]!);
      for (const c of host) if (c < 0x21 || c > 0x7e) return undefined;
      return `${Buffer.from(host).toString('latin1')}:${port(2 + a[1]!)}`;
    }
    default:
      return undefined;
  }
}
