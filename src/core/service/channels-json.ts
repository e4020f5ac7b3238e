// The channel lists of the Lightning node beside lnps, as its own CLI prints them:
//   lnd:            `lncli listchannels` (open) and `lncli closedchannels` (closed, close_height),
//                   `{"channels": [{"remote_pubkey", "channel_point", "close_height"?}]}`
//   Core Lightning: `lightning-cli listpeerchannels`,
//                   `{"channels": [{"peer_id", "funding_txid", "funding_outnum", "state"}]}`
// Both feed `importchannels` and `serve --channels-cmd`. Errors name the entry and the field.
import { InputError } from '../errors.js';
import type { ChannelImport } from './ops.js';

export type ChannelsFormat = 'lnd' | 'cln';

/**
 * Core Lightning states in which the channel no longer exists for the peer: its funding output
 * is spent or being spent. Every other state (opening, normal, shutting down, splicing) is open:
 * a peer with a channel still in flight is a channel peer.
 */
const CLN_CLOSED_STATES = new Set(['CLOSINGD_COMPLETE', 'AWAITING_UNILATERAL', 'FUNDING_SPEND_SEEN', 'ONCHAIN', 'CLOSED']);

export interface ParsedChannels {
  format: ChannelsFormat;
  open: ChannelImport[];
  closed: ChannelImport[];
}

function describe(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 80 ? s.slice(0, 80) + '…' : s;
}

/**
 * Parse one JSON document. `lndKind` says which lnd list it is (listchannels: open,
 * closedchannels: closed); Core Lightning's list carries each channel's state itself and is
 * recognised by its fields.
 */
export function parseChannelsJson(text: string, source: string, lndKind: 'open' | 'closed' = 'open'): ParsedChannels {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new InputError(`${source}: not valid JSON (expected \`lncli listchannels\`, \`lncli closedchannels\` or \`lightning-cli listpeerchannels\` output)`, 'bad_channels');
  }
  const list = (v as { channels?: unknown } | null)?.channels;
  if (!Array.isArray(list)) throw new InputError(`${source}: no "channels" list (expected \`lncli listchannels\` or \`lightning-cli listpeerchannels\` output)`, 'bad_channels');
  const first = list.find((c) => typeof c === 'object' && c !== null) as Record<string, unknown> | undefined;
  const format: ChannelsFormat = first !== undefined && ('peer_id' in first || 'funding_txid' in first) && !('remote_pubkey' in first) ? 'cln' : 'lnd';
  const out: ParsedChannels = { format, open: [], closed: [] };
  list.forEach((c: unknown, i) => {
    const where = `${source}: channels[${i}]`;
    if (typeof c !== 'object' || c === null || Array.isArray(c)) throw new InputError(`${where}: expected an object, got ${describe(c)}`, 'bad_channels');
    const ch = c as Record<string, unknown>;
    if (format === 'lnd') {
      if (typeof ch.remote_pubkey !== 'string') throw new InputError(`${where}.remote_pubkey: expected a node id, got ${describe(ch.remote_pubkey)}`, 'bad_channels');
      if (typeof ch.channel_point !== 'string') throw new InputError(`${where}.channel_point: expected TXID:N, got ${describe(ch.channel_point)}`, 'bad_channels');
      const h = ch.close_height;
      // lnd prints uint32 fields as numbers; accept a numeric string too.
      const close_height = typeof h === 'string' && /^\d{1,10}$/.test(h) ? Number(h) : (h as number | undefined);
      out[lndKind].push({ peer: ch.remote_pubkey, chan_point: ch.channel_point, close_height });
      return;
    }
    if (typeof ch.peer_id !== 'string') throw new InputError(`${where}.peer_id: expected a node id, got ${describe(ch.peer_id)}`, 'bad_channels');
    if (typeof ch.state !== 'string') throw new InputError(`${where}.state: expected a channel state, got ${describe(ch.state)}`, 'bad_channels');
    // A channel still negotiating its funding has no outpoint yet: nothing to register.
    if (ch.funding_txid === undefined) return;
    if (typeof ch.funding_txid !== 'string') throw new InputError(`${where}.funding_txid: expected a txid, got ${describe(ch.funding_txid)}`, 'bad_channels');
    const n = ch.funding_outnum;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new InputError(`${where}.funding_outnum: expected an output index, got ${describe(n)}`, 'bad_channels');
    const entry = { peer: ch.peer_id, chan_point: `${ch.funding_txid}:${n}` };
    (CLN_CLOSED_STATES.has(ch.state) ? out.closed : out.open).push(entry);
  });
  return out;
}
