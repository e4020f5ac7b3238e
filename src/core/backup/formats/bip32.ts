// BIP32 private derivation for the key paths other implementations use. Standard paths go
// through @scure/bip32; lnd's wallet (btcwallet) needs one step that differs from strict
// BIP32, written here.
import { HDKey } from '@scure/bip32';
import { getPublicKey } from '@noble/secp256k1';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { abytes } from '../../bytes.js';
import { ForeignSecretError } from './types.js';

const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
export const HARDENED = 0x80000000;

export interface ExtendedPrivateKey {
  /** 32-byte secret scalar, big-endian. */
  key: Uint8Array;
  chainCode: Uint8Array;
  /**
   * btcutil's legacy derivation kept a derived child's secret as a big integer's minimal
   * bytes, and copied those into a 33-byte buffer right after the 0x00 prefix: a secret
   * starting with 0x00 was shifted left one byte, with a zero byte after it. Set on keys
   * that btcwallet holds in that short form.
   */
  legacyShort: boolean;
}

function bytesToBig(b: Uint8Array): bigint {
  let n = 0n;
  for (const x of b) n = (n << 8n) | BigInt(x);
  return n;
}

function bigTo32(n: bigint): Uint8Array {
  const out = new Uint8Array(32);
  let v = n;
  for (let i = 31; i >= 0; i--) { out[i] = Number(v & 0xffn); v >>= 8n; }
  return out;
}

/** BIP32 master key: HMAC-SHA512(key = "Bitcoin seed", seed). */
export function masterFromSeed(seed: Uint8Array): ExtendedPrivateKey {
  abytes(seed, undefined, 'seed');
  if (seed.length < 16 || seed.length > 64) throw new RangeError(`"seed" expected 16..64 bytes, got ${seed.length}`);
  const I = hmac(sha512, new TextEncoder().encode('Bitcoin seed'), seed);
  const k = bytesToBig(I.subarray(0, 32));
  // BIP32: "In case IL is 0 or >= n, the master key is invalid."
  if (k === 0n || k >= N) throw new ForeignSecretError('this seed gives an invalid BIP32 master key');
  const out = { key: I.slice(0, 32), chainCode: I.slice(32), legacyShort: false };
  I.fill(0);
  return out;
}

/**
 * CKDpriv. With `legacy`, follows btcutil's DeriveNonStandard: for a hardened child of a key
 * held in short form, the HMAC input is a 37-byte buffer holding 0x00, then the secret's
 * minimal bytes, then zero fill up to byte 33, then the index. The child is then itself held
 * in short form (legacyShort), as btcutil kept it.
 */
export function deriveChild(parent: ExtendedPrivateKey, index: number, legacy = false): ExtendedPrivateKey {
  if (!Number.isInteger(index) || index < 0 || index > 0xffffffff) throw new RangeError(`"index" expected u32, got ${index}`);
  const hardened = index >= HARDENED;
  const data = new Uint8Array(37);
  if (hardened) {
    let keyBytes: Uint8Array = parent.key;
    if (legacy && parent.legacyShort) {
      let i = 0;
      while (i < keyBytes.length && keyBytes[i] === 0) i++;
      keyBytes = keyBytes.subarray(i);
    }
    data.set(keyBytes, 1);
  } else {
    data.set(getPublicKey(parent.key, true), 0);
  }
  new DataView(data.buffer).setUint32(33, index, false);
  const I = hmac(sha512, parent.chainCode, data);
  data.fill(0);
  const il = bytesToBig(I.subarray(0, 32));
  const child = (il + bytesToBig(parent.key)) % N;
  // BIP32: "In case parse256(IL) >= n or ki = 0, the resulting key is invalid."
  if (il >= N || child === 0n) throw new ForeignSecretError(`BIP32 child ${index} is invalid for this key; the wallet would have skipped it`);
  const out = { key: bigTo32(child), chainCode: I.slice(32), legacyShort: legacy };
  I.fill(0);
  return out;
}

/** Parse a path like m/50'/0' into indexes. */
export function parsePath(path: string): number[] {
  if (!/^m(\/\d+'?)*$/.test(path)) throw new RangeError(`"path" expected m/… BIP32 path, got ${path}`);
  return path
    .split('/')
    .slice(1)
    .map((p) => (p.endsWith("'") ? Number(p.slice(0, -1)) + HARDENED : Number(p)));
}

/** Strict BIP32 private key at `path` from a seed, through @scure/bip32. */
export function bip32PrivateKey(seed: Uint8Array, path: string): Uint8Array {
  let node: HDKey;
  try {
    node = HDKey.fromMasterSeed(seed).derive(path);
  } catch (e) {
    throw new ForeignSecretError(`cannot derive ${path} from this seed: ${(e as Error).message}`);
  }
  const k = node.privateKey;
  if (!k) throw new ForeignSecretError(`no private key at ${path}`);
  const out = Uint8Array.from(k);
  node.wipePrivateData();
  return out;
}

const XPRV_PRIVATE = { mainnet: 0x0488ade4, testnet: 0x04358394 };
const XPUB_PUBLIC = [0x0488b21e, 0x043587cf];
const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
const B58_INDEX: Int16Array = (() => {
  const t = new Int16Array(128).fill(-1);
  for (let i = 0; i < B58.length; i++) t[B58.charCodeAt(i)] = i;
  return t;
})();

/**
 * Base58 text (as ASCII bytes) to bytes, without ever making a string of it: the text is a
 * secret. Returns null on any character outside the alphabet; which one is never said.
 * Bound: at most 200 characters (an extended key is 111), so the O(n²) loop stays small.
 */
function base58Decode(text: Uint8Array): Uint8Array | null {
  if (text.length === 0 || text.length > 200) return null;
  const out = new Uint8Array(text.length); // base58 never needs more bytes than characters
  let len = 0;
  let zeros = 0;
  while (zeros < text.length && text[zeros] === 0x31) zeros++; // leading '1's are zero bytes
  for (const ch of text) {
    const v = ch < 128 ? B58_INDEX[ch]! : -1;
    if (v < 0) {
      out.fill(0);
      return null;
    }
    let carry = v;
    for (let i = 0; i < len; i++) {
      carry += out[i]! * 58;
      out[i] = carry & 0xff;
      carry >>= 8;
    }
    while (carry > 0) {
      out[len++] = carry & 0xff;
      carry >>= 8;
    }
  }
  const result = new Uint8Array(zeros + len);
  for (let i = 0; i < len; i++) result[zeros + i] = out[len - 1 - i]!;
  out.fill(0);
  return result;
}

/**
 * Parse an extended root private key (xprv or tprv, depth 0) given as the bytes of its text,
 * surrounding whitespace allowed. Errors say what is wrong in general words and never quote
 * a character of the key.
 */
export function parseRootXprvBytes(text: Uint8Array): ExtendedPrivateKey {
  let a = 0;
  let b = text.length;
  const ws = (x: number): boolean => x === 0x20 || x === 0x09 || x === 0x0a || x === 0x0d;
  while (a < b && ws(text[a]!)) a++;
  while (b > a && ws(text[b - 1]!)) b--;
  const raw = base58Decode(text.subarray(a, b));
  if (raw === null) throw new ForeignSecretError('the root key is not a valid xprv/tprv: it has characters outside base58');
  try {
    if (raw.length !== 82) throw new ForeignSecretError(`the root key is not a valid xprv/tprv: it decodes to ${raw.length} bytes, not 82`);
    const body = raw.subarray(0, 78);
    const check = sha256(sha256(body));
    const ok = check[0] === raw[78] && check[1] === raw[79] && check[2] === raw[80] && check[3] === raw[81];
    if (!ok) throw new ForeignSecretError('the root key is not a valid xprv/tprv: its checksum does not match (a mistyped character?)');
    const version = new DataView(body.buffer, body.byteOffset, 78).getUint32(0, false);
    if (XPUB_PUBLIC.includes(version)) throw new ForeignSecretError('the root key is an extended public key; an extended private key (xprv/tprv) is needed');
    if (version !== XPRV_PRIVATE.mainnet && version !== XPRV_PRIVATE.testnet) throw new ForeignSecretError('the root key is not an xprv or tprv (unknown version bytes)');
    if (body[4] !== 0) throw new ForeignSecretError(`the root key has depth ${body[4]}; give the wallet's root (depth 0) key`);
    if (body[45] !== 0) throw new ForeignSecretError('the root key is not a valid xprv/tprv: its key data does not start with 0x00');
    const key = body.slice(46, 78);
    const k = bytesToBig(key);
    if (k === 0n || k >= N) {
      key.fill(0);
      throw new ForeignSecretError('the root key is not a valid xprv/tprv: its private key is out of range');
    }
    return { key, chainCode: body.slice(13, 45), legacyShort: false };
  } finally {
    raw.fill(0);
  }
}

/** Parse an extended root private key (xprv or tprv, depth 0) from its text. */
export function parseRootXprv(xprv: string): ExtendedPrivateKey {
  const bytes = new TextEncoder().encode(xprv);
  try {
    return parseRootXprvBytes(bytes);
  } finally {
    bytes.fill(0);
  }
}
