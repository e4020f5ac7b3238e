// BIP32 private derivation for the key paths other implementations use. Standard paths go
// through @scure/bip32; lnd's wallet (btcwallet) needs one step that differs from strict
// BIP32, written here.
import { HDKey } from '@scure/bip32';
import { getPublicKey } from '@noble/secp256k1';
import { hmac } from '@noble/hashes/hmac.js';
import { sha512 } from '@noble/hashes/sha2.js';
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

const XPRV_VERSIONS = {
  mainnet: { private: 0x0488ade4, public: 0x0488b21e },
  testnet: { private: 0x04358394, public: 0x043587cf },
};

/** Parse an extended root private key (xprv or tprv, depth 0). */
export function parseRootXprv(xprv: string): ExtendedPrivateKey {
  const t = xprv.trim();
  const versions = t.startsWith('tprv') ? XPRV_VERSIONS.testnet : XPRV_VERSIONS.mainnet;
  let node: HDKey;
  try {
    node = HDKey.fromExtendedKey(t, versions);
  } catch (e) {
    throw new ForeignSecretError(`the root key is not a valid xprv/tprv: ${(e as Error).message}`);
  }
  if (!node.privateKey || !node.chainCode) throw new ForeignSecretError('the root key is an extended public key; an extended private key (xprv/tprv) is needed');
  if (node.depth !== 0) throw new ForeignSecretError(`the root key has depth ${node.depth}; give the wallet's root (depth 0) key`);
  const out = { key: Uint8Array.from(node.privateKey), chainCode: Uint8Array.from(node.chainCode), legacyShort: false };
  node.wipePrivateData();
  return out;
}
