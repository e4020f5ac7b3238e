// Core Lightning: the peer storage blob is the encrypted static channel backup file
// (emergency.recover) as it is: `header(24) || encrypted tag(1) || ciphertext || MAC(16)`,
// a one-message libsodium secretstream under makesecret("scb secret"). The plaintext is a
// `static_chan_backup` message (common/scb_wire.csv), decoded here into a channel list.
import { DecodeError } from '../../errors.js';
import { toHex } from '../../bytes.js';
import { Cursor, readTlvStream } from './reader.js';
import { SECRETSTREAM_ABYTES, SECRETSTREAM_HEADER, secretstreamPullFirst } from './chacha.js';
import { invalid, type ForeignOpenResult } from './types.js';

export const CLN_MIN_BLOB = SECRETSTREAM_HEADER + SECRETSTREAM_ABYTES; // 41

/** Message types of the backup plaintext. */
export const WIRE_STATIC_CHAN_BACKUP = 6135; // legacy channels, no TLVs
export const WIRE_STATIC_CHAN_BACKUP_WITH_TLVS = 6137;

export function openClnBlob(blob: Uint8Array, scbKey: Uint8Array): ForeignOpenResult {
  if (blob.length === 0) return invalid('cln', 'empty');
  if (blob.length < CLN_MIN_BLOB) return invalid('cln', 'too_short');
  const opened = secretstreamPullFirst(scbKey, blob);
  if (!opened) return invalid('cln', 'auth_failed');
  const result: ForeignOpenResult = { valid: true, format: 'cln', plaintext: opened.plaintext };
  try {
    const scb = decodeStaticChanBackup(opened.plaintext);
    result.details = {
      scb_version: scb.version,
      scb_version_compatible: clnScbVersionCompatible(scb.version),
      scb_timestamp: scb.timestamp,
      scb_type: scb.withTlvs ? 'with_tlvs' : 'legacy',
      ...(scb.trailing > 0 ? { trailing_bytes: scb.trailing } : {}),
    };
    result.channels = scb.channels;
  } catch (e) {
    if (!(e instanceof DecodeError)) throw e;
    result.content_error = e.message;
  }
  return result;
}

/** The version Core Lightning writes (plugins/chanbackup.c, VERSION). */
export const CLN_SCB_VERSION = 1n;
const SCB_VERSION_MASK = 0x5555555555555555n;

/**
 * Core Lightning's own check before `emergencyrecover` uses a backup (plugins/chanbackup.c:379):
 * the even bits of the version must equal those of the version it writes; odd bits are free.
 */
export function clnScbVersionCompatible(version: bigint): boolean {
  return (version & SCB_VERSION_MASK) === (CLN_SCB_VERSION & SCB_VERSION_MASK);
}

export interface StaticChanBackup {
  version: bigint;
  timestamp: number;
  withTlvs: boolean;
  channels: Record<string, unknown>[];
  /** Bytes after the message: Core Lightning's generated decoder ignores them, and so does this one. */
  trailing: number;
}

/** Decode a `static_chan_backup` (6135) or `static_chan_backup_with_tlvs` (6137) message. */
export function decodeStaticChanBackup(plain: Uint8Array): StaticChanBackup {
  const c = new Cursor(plain, 'static_chan_backup');
  const type = c.u16('type');
  if (type !== WIRE_STATIC_CHAN_BACKUP && type !== WIRE_STATIC_CHAN_BACKUP_WITH_TLVS)
    throw new DecodeError('bad_value', 'static_chan_backup.type', `message type ${type}, expected ${WIRE_STATIC_CHAN_BACKUP} or ${WIRE_STATIC_CHAN_BACKUP_WITH_TLVS}`);
  const withTlvs = type === WIRE_STATIC_CHAN_BACKUP_WITH_TLVS;
  const version = c.u64('version');
  const timestamp = c.u32('timestamp');
  const num = c.u16('num');
  const channels: Record<string, unknown>[] = [];
  for (let i = 0; i < num; i++) channels.push(decodeScbChan(c, `channels[${i}]`, withTlvs));
  return { version, timestamp, withTlvs, channels, trailing: c.left };
}

function decodeScbChan(c: Cursor, p: string, withTlvs: boolean): Record<string, unknown> {
  const id = c.u64(`${p}.id`);
  const channelId = c.bytes(32, `${p}.cid`);
  const peerId = c.bytes(33, `${p}.node_id`);
  // legacy_scb_chan keeps one unused byte where an older layout had an address kind.
  if (!withTlvs) c.u8(`${p}.unused`);
  const address = decodeWireaddr(c, `${p}.addr`);
  const txid = c.bytes(32, `${p}.funding.txid`);
  const outnum = c.u32(`${p}.funding.n`);
  const sats = c.u64(`${p}.funding_sats`);
  const typeLen = c.u16(`${p}.type.len`);
  const channelType = c.bytes(typeLen, `${p}.type.features`);
  const chan: Record<string, unknown> = {
    id,
    channel_id: toHex(channelId),
    peer_id: toHex(peerId),
    address,
    // Stored in internal byte order; shown as explorers show it.
    funding_txid: toHex(Uint8Array.from(txid).reverse()),
    funding_outnum: outnum,
    funding_sat: sats,
    channel_type: toHex(channelType),
  };
  if (withTlvs) {
    const len = c.u32(`${p}.len_tlv`);
    const tlvs = new Cursor(c.bytes(len, `${p}.tlvs`), `${p}.tlvs`);
    const records = readTlvStream(tlvs, 'scb_tlvs');
    chan.tlv_types = records.map((r) => Number(r.type));
    for (const r of records) {
      if (r.type === 1n) chan.has_shachain = true; // their revocation secrets: penalty possible
      if (r.type === 3n) chan.has_basepoints = true;
      if (r.type === 5n && r.value.length === 1) chan.opener = r.value[0] === 0 ? 'local' : r.value[0] === 1 ? 'remote' : r.value[0];
      if (r.type === 7n && r.value.length === 2) chan.remote_to_self_delay = (r.value[0]! << 8) | r.value[1]!;
    }
  }
  return chan;
}

/** Core Lightning's wireaddr: type, address bytes (a length byte first for DNS), u16 port. */
function decodeWireaddr(c: Cursor, p: string): string {
  const type = c.u8(`${p}.type`);
  let host: string;
  switch (type) {
    case 1: {
      host = Array.from(c.bytes(4, `${p}.ipv4`)).join('.');
      break;
    }
    case 2: {
      const b = c.bytes(16, `${p}.ipv6`);
      const groups: string[] = [];
      for (let i = 0; i < 16; i += 2) groups.push(((b[i]! << 8) | b[i + 1]!).toString(16));
      host = `[${groups.join(':')}]`;
      break;
    }
    case 3: {
      host = `torv2:${toHex(c.bytes(10, `${p}.torv2`))}`;
      break;
    }
    case 4: {
      host = `${base32(c.bytes(35, `${p}.torv3`))}.onion`;
      break;
    }
    case 5: {
      const len = c.u8(`${p}.dns.len`);
      const name = c.bytes(len, `${p}.dns`);
      if (!name.every((x) => x >= 0x21 && x < 0x7f)) throw new DecodeError('bad_value', `${p}.dns`, 'host name is not printable ASCII');
      host = String.fromCharCode(...name);
      break;
    }
    default:
      throw new DecodeError('bad_value', `${p}.type`, `unknown address type ${type}`);
  }
  return `${host}:${c.u16(`${p}.port`)}`;
}

const B32 = 'abcdefghijklmnopqrstuvwxyz234567';
function base32(b: Uint8Array): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const x of b) {
    value = (value << 8) | x;
    bits += 8;
    while (bits >= 5) {
      out += B32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += B32[(value << (5 - bits)) & 31];
  return out;
}
