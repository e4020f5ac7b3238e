// Independent builders for other implementations' peer storage blobs, used only by the
// formats tests. They are written from each implementation's description, on node:crypto
// wherever it has the primitive (HKDF, HMAC, PBKDF2, ChaCha20, ChaCha20-Poly1305), and
// share no code with src/core/backup/formats, so a mistake there cannot hide here.
import { createCipheriv, createHash, createHmac, hkdfSync, pbkdf2Sync } from 'node:crypto';
import { hchacha } from '@noble/ciphers/chacha.js';
import { poly1305 } from '@noble/ciphers/_poly1305.js';
import { getPublicKey } from '@noble/secp256k1';

export const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));
export const toHexT = (b: Uint8Array): string => Buffer.from(b).toString('hex');
export const sha256T = (b: Uint8Array): Uint8Array => Uint8Array.from(createHash('sha256').update(b).digest());
export const cat = (...p: Uint8Array[]): Uint8Array => Uint8Array.from(Buffer.concat(p.map((x) => Buffer.from(x))));
export const be = (n: number | bigint, len: number): Uint8Array => {
  const out = new Uint8Array(len);
  let v = BigInt(n);
  for (let i = len - 1; i >= 0; i--) { out[i] = Number(v & 0xffn); v >>= 8n; }
  return out;
};
const le = (n: number, len: number): Uint8Array => be(n, len).reverse();

// ---- key derivations -------------------------------------------------------------------

export function hkdfT(ikm: Uint8Array, info: string): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', ikm, new Uint8Array(0), Buffer.from(info), 32));
}

/** Core Lightning makesecret(info) from the root secret. */
export function clnMakeSecretT(root: Uint8Array, info: string): Uint8Array {
  return hkdfT(hkdfT(root, 'derived secrets'), info);
}

export function bip39SeedT(mnemonic: string, passphrase = ''): Uint8Array {
  return Uint8Array.from(pbkdf2Sync(Buffer.from(mnemonic.normalize('NFKD')), Buffer.from(('mnemonic' + passphrase).normalize('NFKD')), 2048, 64, 'sha512'));
}

const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const big = (b: Uint8Array): bigint => BigInt('0x' + (toHexT(b) || '0'));

export interface Node { k: Uint8Array; c: Uint8Array }

export function masterT(seed: Uint8Array): Node {
  const I = createHmac('sha512', 'Bitcoin seed').update(seed).digest();
  return { k: Uint8Array.from(I.subarray(0, 32)), c: Uint8Array.from(I.subarray(32)) };
}

/**
 * Strict BIP32 CKDpriv, or btcutil's legacy one (`strip`): the parent secret's minimal bytes
 * copied into a 33-byte buffer after the 0x00 prefix (btcutil issue 172), then the index.
 */
export function ckdT(p: Node, index: number, strip = false): Node {
  let data: Uint8Array;
  if (index >= 0x80000000) {
    let k = p.k;
    if (strip) while (k.length > 0 && k[0] === 0) k = k.subarray(1);
    const buf = Buffer.alloc(33);
    Buffer.from(k).copy(buf, 1);
    data = cat(buf, be(index, 4));
  } else {
    data = cat(getPublicKey(p.k, true), be(index, 4));
  }
  const I = createHmac('sha512', p.c).update(data).digest();
  return { k: be((big(I.subarray(0, 32)) + big(p.k)) % N, 32), c: Uint8Array.from(I.subarray(32)) };
}

export function pathT(seed: Uint8Array, path: number[]): Uint8Array {
  let n = masterT(seed);
  for (const i of path) n = ckdT(n, i);
  return n.k;
}
export const H = (i: number): number => i + 0x80000000;

// ---- ciphers -------------------------------------------------------------------------------

/** HChaCha20 through noble's word-level core (not the code under test). */
export function hchachaT(key: Uint8Array, n16: Uint8Array): Uint8Array {
  const words = (b: Uint8Array): Uint32Array => new Uint32Array(Uint8Array.from(b).buffer);
  const out = new Uint32Array(8);
  hchacha(new Uint32Array([0x61707865, 0x3320646e, 0x79622d32, 0x6b206574]), words(key), words(n16), out);
  return new Uint8Array(out.buffer);
}

/** ChaCha20 keystream XOR from node:crypto: the IV is le32(block counter) || 12-byte nonce. */
function chachaXor(key: Uint8Array, nonce12: Uint8Array, counter: number, data: Uint8Array): Uint8Array {
  const c = createCipheriv('chacha20', key, cat(le(counter, 4), nonce12));
  return Uint8Array.from(Buffer.concat([c.update(data), c.final()]));
}

/** libsodium secretstream push of one message (no associated data), with a chosen header. */
export function secretstreamPushT(key: Uint8Array, header: Uint8Array, msg: Uint8Array, tag = 0): Uint8Array {
  const k = hchachaT(key, header.subarray(0, 16));
  const nonce = cat(le(1, 4), header.subarray(16, 24));
  const block0 = chachaXor(k, nonce, 0, new Uint8Array(64));
  const block1 = new Uint8Array(64);
  block1[0] = tag;
  const encBlock = chachaXor(k, nonce, 1, block1);
  const c = chachaXor(k, nonce, 2, msg);
  const m = poly1305.create(block0.subarray(0, 32));
  m.update(encBlock).update(c).update(new Uint8Array(msg.length % 16)).update(le(0, 8)).update(le(64 + msg.length, 8));
  return cat(header, encBlock.subarray(0, 1), c, m.digest());
}

export function chachaPolyT(key: Uint8Array, nonce12: Uint8Array, pt: Uint8Array, aad?: Uint8Array): { ct: Uint8Array; tag: Uint8Array } {
  const c = createCipheriv('chacha20-poly1305', key, nonce12, { authTagLength: 16 });
  if (aad) c.setAAD(aad, { plaintextLength: pt.length });
  const ct = Uint8Array.from(Buffer.concat([c.update(pt), c.final()]));
  return { ct, tag: Uint8Array.from(c.getAuthTag()) };
}

// ---- blobs ---------------------------------------------------------------------------------

export function clnBlobT(scbKey: Uint8Array, header: Uint8Array, scb: Uint8Array): Uint8Array {
  return secretstreamPushT(scbKey, header, scb, 0);
}

export function ldkBlobT(key: Uint8Array, random: Uint8Array, pt: Uint8Array): Uint8Array {
  const nonce = cat(new Uint8Array(4), createHmac('sha256', createHash('sha256').update(key).digest()).update(random).digest().subarray(0, 8));
  const { ct, tag } = chachaPolyT(key, nonce, pt);
  return cat(ct, tag, random);
}

export function kmpBlobT(nodeKey: Uint8Array, version: number, pt: Uint8Array): Uint8Array {
  const nonce = sha256T(pt).subarray(0, 12);
  const { ct, tag } = chachaPolyT(nodeKey, nonce, pt);
  return cat(new Uint8Array([version]), ct, nonce, tag);
}

/** lnd's PackedMulti (a channel.backup file): nonce(24) || XChaCha20-Poly1305(pt, AD = nonce) || tag(16). */
export function lndPackedT(key: Uint8Array, nonce24: Uint8Array, pt: Uint8Array): Uint8Array {
  const sub = hchachaT(key, nonce24.subarray(0, 16));
  const { ct, tag } = chachaPolyT(sub, cat(new Uint8Array(4), nonce24.subarray(16)), pt, nonce24);
  return cat(nonce24, ct, tag);
}

/** lnd draft: the PackedMulti copied into a zeroed buffer of `total` bytes (cut when longer, as Go's copy does). */
export function lndBlobT(key: Uint8Array, nonce24: Uint8Array, content: Uint8Array, total = 65531): Uint8Array {
  const packed = lndPackedT(key, nonce24, content);
  const out = new Uint8Array(total);
  out.set(packed.subarray(0, total));
  return out;
}

// ---- plaintexts ----------------------------------------------------------------------------

/** Core Lightning's published staticbackup example channel (legacy_scb_chan, doc/lightning-staticbackup.7.md). */
export const CLN_DOC_LEGACY_CHAN =
  '0000000000000001c707da9b230e1655b0a6c082b8daf4fa44d9d1f68163ed4d531d45cf453dc651022d223620a359a47ff7f7ac447c85c46c923da53389221a0054c11c1e3ca31d5900017f000001b2e3c707da9b230e1655b0a6c082b8daf4fa44d9d1f68163ed4d531d45cf453dc6510000000000000000000186a000021000';

export function scbT(type: number, version: bigint, timestamp: number, chans: Uint8Array[]): Uint8Array {
  return cat(be(type, 2), be(version, 8), be(timestamp, 4), be(chans.length, 2), ...chans);
}

export function modernChanT(o: { id: number; cid: Uint8Array; node: Uint8Array; addr: Uint8Array; txid: Uint8Array; n: number; sats: bigint; type: Uint8Array; tlvs: Uint8Array }): Uint8Array {
  return cat(be(o.id, 8), o.cid, o.node, o.addr, o.txid, be(o.n, 4), be(o.sats, 8), be(o.type.length, 2), o.type, be(o.tlvs.length, 4), o.tlvs);
}

/** One LDK PeerStorageMonitorHolder: BigSize length, then TLVs 0, 2, 4, 6 (lengths < 253 here). */
export function ldkHolderT(cid: Uint8Array, node: Uint8Array, minSeen: bigint, monitor: Uint8Array, extra: Uint8Array = new Uint8Array(0)): Uint8Array {
  const rec = (t: number, v: Uint8Array): Uint8Array => cat(new Uint8Array([t, v.length]), v);
  const body = cat(rec(0, cid), rec(2, node), rec(4, be(minSeen, 8)), rec(6, monitor), extra);
  return cat(new Uint8Array([body.length]), body);
}

/** lnd chanbackup Single: version(1) || u16 length || body, the body's fixed start as single.go writes it, then `rest`. */
export function lndSingleT(o: { version: number; initiator: boolean; chain: Uint8Array; txid: Uint8Array; index: number; scid: bigint; remote: Uint8Array; addrs: Uint8Array; capacity: bigint; rest: Uint8Array }): Uint8Array {
  const body = cat(new Uint8Array([o.initiator ? 1 : 0]), o.chain, o.txid, be(o.index, 2), be(o.scid, 8), o.remote, be(o.addrs.length, 2), o.addrs, be(o.capacity, 8), o.rest);
  return cat(new Uint8Array([o.version]), be(body.length, 2), body);
}

/** lnd chanbackup Multi, version 0: version || u32 count || singles. */
export function lndMultiT(singles: Uint8Array[]): Uint8Array {
  return cat(new Uint8Array([0]), be(singles.length, 4), ...singles);
}
