// restorefrompeer --as cln|ldk|lnd|kmp: get another implementation's peer storage backup back
// from its peers, starting from the wallet secret alone. Connect to each peer as that node
// (the node key its implementation derives, see backup/formats/identity.ts), take the
// peer_storage_retrieval, open it with that implementation's format, pick the newest, and hand
// back the bytes that implementation's own recovery reads.
//
// Newest: Core Lightning's backup carries a timestamp (its static_chan_backup); the other
// formats carry no order, so the first valid one in the try order is used and any valid copy
// that differs from it is reported as `different`.
import { sha256 } from '@noble/hashes/sha2.js';
import { equalBytes, toHex } from '../bytes.js';
import { InputError } from '../errors.js';
import {
  foreignIdentity,
  openForeignWithKey,
  ForeignSecretError,
  type ForeignIdentity,
  type ForeignOpenResult,
  type ForeignFormat,
  type ForeignSecrets,
} from '../backup/formats/index.js';
import { contactPeers, restoreCandidates, type Answer, type PeerCandidate, type PeerListOptions, type ProgressEvent } from './contact.js';

export const FORMAT_NAMES: Record<ForeignFormat, string> = { cln: 'Core Lightning', ldk: 'LDK', lnd: 'lnd', kmp: 'Phoenix (lightning-kmp)' };

export interface ForeignPeerAnswer {
  peer: string;
  address: string | null;
  source: PeerCandidate['source'];
  answer: Answer;
  /**
   * - chosen: the backup written
   * - same: a copy identical to the one written
   * - stale: valid, but older than the one written (Core Lightning's timestamp)
   * - different: valid, differs from the one written, and the format has no order to tell which is newer
   * - invalid: returned a blob that does not open as this node's backup (reason says why)
   * - otherwise the answer: nothing, refused, unreachable, timed_out, no_address
   */
  status: 'chosen' | 'same' | 'stale' | 'different' | 'invalid' | Exclude<Answer, 'returned'>;
  blob_len: number | null;
  /** Core Lightning: the backup's own timestamp (seconds since 1970). */
  scb_timestamp?: number;
  /** How many channels the backup lists, where the format's content is decoded. */
  channels?: number;
  used: boolean;
  reason?: string;
}

/** The file(s) the implementation's own recovery reads. */
export interface RecoveryOutput {
  /** What goes to --out. */
  main: Uint8Array;
  /** LDK: the decoded channel holders as JSON, written next to --out with this suffix. */
  sidecar?: { suffix: string; bytes: Uint8Array };
  /** What the bytes are, in words. */
  what: string;
}

export interface ForeignRestoreResult {
  format: ForeignFormat;
  node_id: string;
  peers: ForeignPeerAnswer[];
  chosen?: { peer: string; blob: Uint8Array; opened: ForeignOpenResult; output: RecoveryOutput };
  /** Set when valid copies differ and the format cannot order them. */
  ambiguous?: string;
}

interface Valid {
  i: number;
  blob: Uint8Array;
  opened: ForeignOpenResult;
  output: RecoveryOutput;
  timestamp?: number;
}

const jsonSafe = (v: unknown): unknown => JSON.parse(JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x)));

/**
 * The bytes each implementation's recovery reads, from a blob that opened:
 * - cln: the blob exactly as the peer returned it: Core Lightning sends its encrypted static
 *   channel backup unpadded, which is the content of an `emergency.recover` file
 * - lnd: the sealed PackedMulti without the draft's zero padding: a `channel.backup` file
 * - ldk: the plaintext (the serialized channel holders), plus the holders decoded as JSON
 * - kmp: the version byte, then the plaintext, as Phoenix reads its own backup; for the legacy
 *   list layout, the opened channel states in the list's own framing
 */
export function recoveryOutput(format: ForeignFormat, blob: Uint8Array, opened: ForeignOpenResult): RecoveryOutput {
  const plain = opened.plaintext!;
  switch (format) {
    case 'cln':
      return { main: Uint8Array.from(blob), what: 'emergency.recover (the encrypted static channel backup, as returned)' };
    case 'lnd':
      // The reader found the sealed end (the padding lies outside the encryption).
      return { main: Uint8Array.from(opened.sealed ?? blob), what: 'channel.backup (the sealed PackedMulti, padding removed)' };
    case 'ldk': {
      const json = { format: 'ldk', plaintext_sha256: toHex(sha256(plain)), channels: jsonSafe(opened.channels ?? []), ...(opened.content_error ? { content_error: opened.content_error } : {}) };
      return {
        main: Uint8Array.from(plain),
        sidecar: { suffix: '.json', bytes: new TextEncoder().encode(JSON.stringify(json, null, 2) + '\n') },
        what: 'the decrypted channel holders (PeerStorageMonitorHolder list); decoded in the .json file beside it',
      };
    }
    case 'kmp': {
      if (opened.details?.layout === 'legacy_list')
        return { main: Uint8Array.from(plain), what: `the decrypted channel states of the legacy list layout (${String(opened.details.items_opened)} of ${String(opened.details.items)} items opened; a BigSize count, then each state BigSize-length-prefixed)` };
      const version = typeof opened.details?.version === 'number' ? opened.details.version : blob[0]!;
      const out = new Uint8Array(1 + plain.length);
      out[0] = version;
      out.set(plain, 1);
      return { main: out, what: `the decrypted backup with its version byte (${version})` };
    }
  }
}

export async function restoreForeignFromPeers(
  candidates: PeerCandidate[],
  opts: PeerListOptions & { identity: ForeignIdentity },
): Promise<ForeignRestoreResult> {
  const { identity, ...contact } = opts;
  const format = identity.format;
  const opened = new Map<string, ForeignOpenResult>();
  const open = (peer: string, blob: Uint8Array): ForeignOpenResult => {
    let r = opened.get(peer);
    if (!r) {
      r = openForeignWithKey(format, blob, identity.openKey);
      opened.set(peer, r);
    }
    return r;
  };
  // Every listed peer is asked: a later one may hold a newer backup.
  const contacts = await contactPeers(candidates, {
    ...contact,
    judge: (c) => {
      const r = open(c.candidate.id, c.blob!);
      if (!r.valid) return `${c.blob!.length} bytes that do not open as this node's ${FORMAT_NAMES[format]} backup (${r.reason})`;
      const bits = [`${FORMAT_NAMES[format]} backup, ${c.blob!.length} bytes`];
      if (format === 'cln' && typeof r.details?.scb_timestamp === 'number') bits.push(`timestamp ${r.details.scb_timestamp} (${new Date(r.details.scb_timestamp * 1000).toISOString()})`);
      if (r.channels) bits.push(`${r.channels.length} channel${r.channels.length === 1 ? '' : 's'}`);
      return bits.join(', ');
    },
  });

  const peers: ForeignPeerAnswer[] = [];
  const valid: Valid[] = [];
  for (const ct of contacts) {
    const base = { peer: ct.candidate.id, address: ct.address, source: ct.candidate.source, answer: ct.answer, used: false };
    if (ct.answer !== 'returned') {
      peers.push({ ...base, status: ct.answer, blob_len: null, ...(ct.reason ? { reason: ct.reason } : {}) });
      continue;
    }
    const blob = ct.blob!;
    const r = open(ct.candidate.id, blob);
    const row: ForeignPeerAnswer = { ...base, status: 'invalid', blob_len: blob.length };
    if (!r.valid) {
      row.reason = r.reason === 'auth_failed' ? `auth_failed: not this node's ${FORMAT_NAMES[format]} backup, or altered` : (r.reason ?? 'invalid');
      peers.push(row);
      continue;
    }
    const v: Valid = { i: peers.length, blob, opened: r, output: recoveryOutput(format, blob, r) };
    if (format === 'cln' && typeof r.details?.scb_timestamp === 'number') v.timestamp = r.details.scb_timestamp;
    if (v.timestamp !== undefined) row.scb_timestamp = v.timestamp;
    if (r.channels) row.channels = r.channels.length;
    if (r.content_error) row.reason = `opened, but its content does not decode: ${r.content_error}`;
    valid.push(v);
    peers.push(row);
  }

  // Core Lightning: the newest timestamp (the first in try order among equals). Others: the first.
  let best: Valid | undefined;
  for (const v of valid) if (!best || (v.timestamp !== undefined && best.timestamp !== undefined && v.timestamp > best.timestamp)) best = v;
  let ambiguous: string | undefined;
  if (best) {
    const b = best;
    peers[b.i]!.status = 'chosen';
    peers[b.i]!.used = true;
    let differing = 0;
    for (const v of valid) {
      if (v === b) continue;
      const row = peers[v.i]!;
      if (equalBytes(v.output.main, b.output.main)) row.status = 'same';
      else if (v.timestamp !== undefined && b.timestamp !== undefined && v.timestamp < b.timestamp) row.status = 'stale';
      else {
        row.status = 'different';
        differing++;
      }
    }
    if (differing > 0) {
      const why = b.timestamp !== undefined ? 'with the same timestamp' : `and ${FORMAT_NAMES[format]}'s format has no order to tell which is newer`;
      ambiguous = `${differing} peer${differing === 1 ? '' : 's'} returned a valid backup that differs from the one written, ${why}; the first in the try order (${peers[b.i]!.peer}) was written`;
    }
  }
  for (const v of valid) if (v !== best) v.opened.plaintext?.fill(0);
  return {
    format,
    node_id: toHex(identity.nodeId),
    peers,
    ...(best ? { chosen: { peer: peers[best.i]!.peer, blob: best.blob, opened: best.opened, output: best.output } } : {}),
    ...(ambiguous ? { ambiguous } : {}),
  };
}

/**
 * What the operator does with the file once it is written, for each implementation: the
 * steps that implementation's own recovery takes. `network` names Core Lightning's network
 * directory.
 */
export function recoverySteps(format: ForeignFormat, out: string, network: 'mainnet' | 'testnet' | 'signet' | 'regtest'): string[] {
  switch (format) {
    case 'cln': {
      const dir = network === 'mainnet' ? 'bitcoin' : network;
      return [
        'Keep the old lightningd stopped. Set up the new node with the same hsm_secret (and its passphrase, if any), and do not start it yet.',
        `Copy ${out} to the network directory as emergency.recover: cp ${out} ~/.lightning/${dir}/emergency.recover (use your --lightning-dir if it is elsewhere), mode 0600.`,
        'Start lightningd, let it sync, then run: lightning-cli emergencyrecover',
        'Each peer is asked to force-close its channel; the funds come back to the on-chain wallet once the closes confirm (see lightning-cli listfunds).',
      ];
    }
    case 'lnd':
      return [
        'Keep the old lnd stopped. Start a new lnd and restore the wallet from the same 24 words: lncli create, answer "y" to using an existing cipher seed, type the words and the seed passphrase (if any); let it sync until lncli getinfo shows "synced_to_chain": true.',
        `Then run: lncli restorechanbackup --multi_file ${out}`,
        'lnd reconnects to each channel peer and asks it to force-close; watch lncli pendingchannels until the closes confirm and the funds are swept to the on-chain wallet (lncli walletbalance).',
      ];
    case 'ldk':
      return [
        `${out} holds the channel holders as LDK serialized them (channel id, counterparty node id, and each channel's monitor bytes); ${out}.json lists them.`,
        'LDK ships no restore command: the application built on LDK reads these itself. Keep the old node stopped while it does.',
      ];
    case 'kmp':
      return [
        `${out} holds Phoenix's backup: its version byte, then the channel data it serializes.`,
        'Phoenix restores from its 12 words and fetches this from its peer by itself; keep the file as a copy for inspection or for tools that read lightning-kmp data.',
      ];
  }
}

/**
 * The whole of `restorefrompeer --as`: derive the node's identity from its secrets (wiped
 * here, also on failure), read the graph, ask the peers, and say what to write. Throws
 * InputError for an unusable secret (never quoting it) or a malformed graph.
 */
export async function runForeignRestore(o: {
  format: ForeignFormat;
  secrets: ForeignSecrets;
  network: 'mainnet' | 'testnet' | 'signet' | 'regtest';
  targets: { pubkey: Uint8Array; host: string; port: number }[];
  graphFiles: string[];
  timeoutMs: number;
  onStart?: (nodeId: string) => void;
  onProgress?: (e: ProgressEvent) => void;
}): Promise<{
  result: ForeignRestoreResult;
  graph: { kind: 'lnd' | 'cln'; channel_peers: number; dropped: number } | null;
  summary: Record<string, unknown>;
  steps: (out: string) => string[];
}> {
  let identity: ForeignIdentity;
  try {
    identity = await foreignIdentity(o.format, o.secrets);
  } catch (e) {
    if (e instanceof ForeignSecretError) throw new InputError(`cannot derive the ${FORMAT_NAMES[o.format]} node key: ${e.message}`, 'bad_secret');
    throw e;
  } finally {
    wipeSecrets(o.secrets);
  }
  try {
    const nodeId = toHex(identity.nodeId);
    const { candidates, graph } = restoreCandidates(o.targets, o.graphFiles, identity.nodeId);
    o.onStart?.(nodeId);
    const [{ bolt8Transport }, { wireCodec }, { CHAIN_HASH }, { silentLogger }] = await Promise.all([
      import('./serve.js'),
      import('./codec.js'),
      import('../wire/registry.js'),
      import('./log.js'),
    ]);
    const result = await restoreForeignFromPeers(candidates, {
      identity,
      transport: bolt8Transport(identity.nodeSecret),
      codec: wireCodec,
      chainHash: CHAIN_HASH[o.network],
      timeoutMs: o.timeoutMs,
      log: silentLogger.sub('PEER'),
      ...(o.onProgress ? { onProgress: o.onProgress } : {}),
    });
    const c = result.chosen;
    const summary: Record<string, unknown> = {
      out_len: c ? c.output.main.length : null,
      out_sha256: c ? toHex(sha256(c.output.main)) : null,
      ...(o.format === 'cln' ? { scb_timestamp: (c?.opened.details?.scb_timestamp as number | undefined) ?? null } : {}),
      channels: c?.opened.channels ? c.opened.channels.length : null,
    };
    return { result, graph, summary, steps: (out) => recoverySteps(o.format, out, o.network) };
  } finally {
    identity.wipe();
  }
}

/** Overwrite the secret bytes the caller read (the xprv string of lnd cannot be). */
export function wipeSecrets(s: ForeignSecrets): void {
  s.cln?.hsmSecret.fill(0);
  s.cln?.passphrase?.fill(0);
  s.ldk?.seed.fill(0);
  if (s.kmp) ('nodeKey' in s.kmp ? s.kmp.nodeKey : s.kmp.seed).fill(0);
  if (s.lnd && 'entropy' in s.lnd) s.lnd.entropy.fill(0);
}
