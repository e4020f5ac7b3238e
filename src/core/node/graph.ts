// The channel graph as a map back to a node's peers: from `lncli describegraph` JSON, or Core
// Lightning's `listchannels` and `listnodes` JSON (one file each, or both in one object), find
// every node that shares a channel with ours and the addresses its node announcement gives.
//
// The file is untrusted input (an operator may fetch it from anywhere): it is read with a size
// bound, every field used is checked for its type, and a wrong shape is one line naming the
// file and the field. Addresses lnps cannot dial (Tor, websocket, malformed) are kept as notes,
// never as errors, so one odd announcement does not hide the other peers.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { InputError, StoreError } from '../errors.js';
import { fromHex, toHex } from '../bytes.js';
import { isValidPubkey } from '../keys.js';

/**
 * The largest graph file read. A mainnet `describegraph` is tens of MiB; JSON.parse needs
 * several times the file's size in memory, so the bound keeps that within reach of a small
 * machine. A larger file is refused with a hint to filter it first.
 */
export const MAX_GRAPH_BYTES = 256 * 1024 * 1024;
/** Channel peers kept from a graph; a node with more has the rest listed as dropped. */
export const MAX_GRAPH_PEERS = 1000;
/** Addresses kept per node (announcements carry a handful; more is noise). */
export const MAX_ADDRESSES_PER_NODE = 8;

export interface DialAddress {
  host: string;
  port: number;
}

export interface GraphPeer {
  /** 66 hex digits, lower case. */
  id: string;
  pubkey: Uint8Array;
  /** Addresses lnps can dial, in the announcement's order. */
  addresses: DialAddress[];
  /** Announced addresses lnps cannot dial, each with why (e.g. "x.onion:9735 (Tor)"). */
  undialable: string[];
}

export interface GraphPeers {
  /** Which shape the input had. */
  kind: 'lnd' | 'cln';
  /** Every node sharing a channel with ours, ordered by node id (a stable order). */
  peers: GraphPeer[];
  /** Channel peers beyond MAX_GRAPH_PEERS, not tried. */
  dropped: number;
}

export interface GraphDoc {
  /** The file's name, for errors. */
  source: string;
  json: unknown;
}

/** Read and parse one graph file. Errors: StoreError (cannot read, exit 3), InputError (not JSON or too large, exit 1). */
export function readGraphFile(path: string, maxBytes = MAX_GRAPH_BYTES): GraphDoc {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new StoreError('unavailable', `cannot read graph file ${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (code ?? 'unreadable')}`);
  }
  let text: string;
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new InputError(`graph file ${path}: not a regular file`, 'bad_graph');
    if (st.size > maxBytes)
      throw new InputError(`graph file ${path}: ${st.size} bytes, more than the ${maxBytes} read; keep only our channels and their nodes (e.g. with jq)`, 'bad_graph');
    // Read at most the bound plus one byte, so a file that grows while read is still bounded.
    const buf = Buffer.alloc(Math.min(st.size, maxBytes) + 1);
    let n = 0;
    for (;;) {
      const r = readSync(fd, buf, n, buf.length - n, null);
      if (r === 0) break;
      n += r;
      if (n === buf.length) throw new InputError(`graph file ${path}: grew while being read; read it again from a copy`, 'bad_graph');
    }
    text = buf.subarray(0, n).toString('utf8');
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new StoreError('unavailable', `cannot read graph file ${path}: ${(e as NodeJS.ErrnoException).code ?? 'unreadable'}`);
  } finally {
    closeSync(fd);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new InputError(`graph file ${path}: not JSON (${(e as Error).message.split('\n')[0]})`, 'bad_graph');
  }
  return { source: path, json };
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

class Shape {
  constructor(readonly source: string) {}
  fail(path: string, what: string): never {
    throw new InputError(`graph file ${this.source}: ${path}: ${what}`, 'bad_graph');
  }
  array(v: unknown, path: string): unknown[] {
    if (!Array.isArray(v)) this.fail(path, `expected an array, got ${typeName(v)}`);
    return v;
  }
  obj(v: unknown, path: string): Record<string, unknown> {
    if (!isObj(v)) this.fail(path, `expected an object, got ${typeName(v)}`);
    return v;
  }
  nodeId(v: unknown, path: string): string {
    if (typeof v !== 'string' || !/^0[23][0-9a-fA-F]{64}$/.test(v)) this.fail(path, `expected a node id (66 hex digits), got ${typeName(v)}`);
    return v.toLowerCase();
  }
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return v.length > 40 ? `a string of ${v.length} characters` : JSON.stringify(v);
  return typeof v === 'object' ? 'an object' : `${typeof v} ${String(v)}`;
}

interface Collected {
  kind: 'lnd' | 'cln' | undefined;
  /** Channel peers of our node. */
  peers: Set<string>;
  /** Node id → announced addresses, as raw entries with their path. */
  addrs: Map<string, { raw: unknown; path: string; source: string }[]>;
}

/** Which shape a document has, by the fields each tool prints. */
function docKind(j: Record<string, unknown>): 'lnd' | 'cln' | undefined {
  if ('edges' in j) return 'lnd';
  if ('channels' in j) return 'cln';
  if (Array.isArray(j.nodes)) {
    const first = j.nodes[0];
    if (isObj(first)) return 'pub_key' in first ? 'lnd' : 'nodeid' in first ? 'cln' : undefined;
    return undefined;
  }
  return undefined;
}

function collect(doc: GraphDoc, ours: string, into: Collected): void {
  const s = new Shape(doc.source);
  const j = s.obj(doc.json, '(top level)');
  const kind = docKind(j);
  if (kind === undefined) s.fail('(top level)', 'neither lncli describegraph ({nodes, edges}) nor Core Lightning listchannels/listnodes ({channels} / {nodes})');
  if (into.kind !== undefined && into.kind !== kind) s.fail('(top level)', `an ${kind} graph mixed with an ${into.kind} one`);
  into.kind = kind;
  // The two shapes differ only in their names: lnd's edges[].node1_pub/node2_pub and
  // nodes[].pub_key, Core Lightning's channels[].source/destination and nodes[].nodeid.
  const f = kind === 'lnd' ? { edges: 'edges', a: 'node1_pub', b: 'node2_pub', id: 'pub_key' } : { edges: 'channels', a: 'source', b: 'destination', id: 'nodeid' };
  if (j[f.edges] !== undefined) {
    const edges = s.array(j[f.edges], f.edges);
    for (let i = 0; i < edges.length; i++) {
      const e = s.obj(edges[i], `${f.edges}[${i}]`);
      const a = s.nodeId(e[f.a], `${f.edges}[${i}].${f.a}`);
      const b = s.nodeId(e[f.b], `${f.edges}[${i}].${f.b}`);
      if (a === ours && b !== ours) into.peers.add(b);
      else if (b === ours && a !== ours) into.peers.add(a);
    }
  }
  if (j.nodes !== undefined) {
    const nodes = s.array(j.nodes, 'nodes');
    for (let i = 0; i < nodes.length; i++) {
      const n = s.obj(nodes[i], `nodes[${i}]`);
      const id = s.nodeId(n[f.id], `nodes[${i}].${f.id}`);
      // A node seen in a channel but never announced has no addresses field.
      if (n.addresses === undefined || n.addresses === null) continue;
      const list = s.array(n.addresses, `nodes[${i}].addresses`);
      const at = into.addrs.get(id) ?? [];
      list.forEach((raw, k) => at.push({ raw, path: `nodes[${i}].addresses[${k}]`, source: doc.source }));
      into.addrs.set(id, at);
    }
  }
}

/** One announced address: dialable, or a note saying why not. */
function address(kind: 'lnd' | 'cln', raw: unknown, path: string, s: Shape): DialAddress | string {
  let host: string;
  let port: number;
  if (kind === 'lnd') {
    const a = s.obj(raw, path);
    if (typeof a.addr !== 'string') s.fail(`${path}.addr`, `expected "host:port", got ${typeName(a.addr)}`);
    const text = a.addr.length > 300 ? a.addr.slice(0, 300) + '…' : a.addr;
    const v6 = /^\[([0-9a-fA-F:.]+)\]:(\d{1,5})$/.exec(a.addr);
    const plain = /^([^\s:[\]]+):(\d{1,5})$/.exec(a.addr);
    const m = v6 ?? plain;
    if (!m) return `${text} (not host:port)`;
    host = m[1]!;
    port = Number(m[2]);
    if (host.toLowerCase().endsWith('.onion')) return `${text} (Tor)`;
  } else {
    const a = s.obj(raw, path);
    const type = a.type;
    if (typeof type !== 'string') s.fail(`${path}.type`, `expected a string, got ${typeName(type)}`);
    if (typeof a.address !== 'string' || a.address.length > 255) s.fail(`${path}.address`, `expected a host, got ${typeName(a.address)}`);
    if (typeof a.port !== 'number' || !Number.isInteger(a.port)) s.fail(`${path}.port`, `expected a port number, got ${typeName(a.port)}`);
    host = a.address;
    port = a.port;
    const text = `${host.includes(':') ? '[' + host + ']' : host}:${port}`;
    if (type === 'torv2' || type === 'torv3' || host.toLowerCase().endsWith('.onion')) return `${text} (Tor)`;
    if (type !== 'ipv4' && type !== 'ipv6' && type !== 'dns') return `${text} (${type.length > 20 ? 'unknown type' : type})`;
    if (/\s/.test(host) || host === '') return `${text} (not a host)`;
  }
  if (port < 1 || port > 65535) return `${host}:${port} (port out of range)`;
  return { host, port };
}

/**
 * Every node that shares a channel with `ourId`, with its dialable addresses, from one or
 * more graph documents of the same tool. Throws InputError (exit 1) on a wrong shape.
 */
export function channelPeersFromGraph(docs: GraphDoc[], ourId: Uint8Array): GraphPeers {
  const ours = toHex(ourId);
  const c: Collected = { kind: undefined, peers: new Set(), addrs: new Map() };
  for (const d of docs) collect(d, ours, c);
  const ids = [...c.peers].sort();
  const kept = ids.slice(0, MAX_GRAPH_PEERS);
  for (const id of kept) if (!isValidPubkey(fromHex(id))) throw new InputError(`graph: node id ${id}, a channel peer of ours, is not a point on secp256k1`, 'bad_graph');
  const peers: GraphPeer[] = kept.map((id) => {
    const addresses: DialAddress[] = [];
    const undialable: string[] = [];
    const seen = new Set<string>();
    for (const { raw, path, source } of c.addrs.get(id) ?? []) {
      const a = address(c.kind!, raw, path, new Shape(source));
      if (typeof a === 'string') {
        if (undialable.length < MAX_ADDRESSES_PER_NODE) undialable.push(a);
        continue;
      }
      const key = `${a.host}:${a.port}`;
      if (seen.has(key) || addresses.length >= MAX_ADDRESSES_PER_NODE) continue;
      seen.add(key);
      addresses.push(a);
    }
    return { id, pubkey: fromHex(id), addresses, undialable };
  });
  return { kind: c.kind ?? 'lnd', peers, dropped: ids.length - kept.length };
}
