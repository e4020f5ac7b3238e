// The node key each implementation derives from its wallet secret: the identity a node proves
// in the BOLT #8 handshake, and so the identity its peers keep its peer storage under. With
// it, lnps can connect *as* that node and take back what its peers hold, with no node running.
//
// - Core Lightning (hsmd `node_key`): HKDF-SHA256(salt = u32 counter in host byte order from
//   0, ikm = the first 32 bytes of the root secret, info "nodeid"); the counter goes up until
//   the output is a valid secp256k1 secret.
// - LDK (KeysManager::new): BIP32 m/0' from the master of the 32-byte KeysManager seed.
//   ldk-node makes that seed from its 64-byte wallet seed: the master private key of it.
// - lnd: key family 6 (node key), index 0: m/1017'/coin'/6'/0/0 of the wallet root, with
//   btcwallet's legacy step at m/1017' → coin' (see lndFamilyKey).
// - lightning-kmp (Phoenix): m/50'/0' on mainnet, m/48'/0' on test networks, of the BIP39
//   seed; the same key also opens its peer storage blob.
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { getPublicKey, utils as secpUtils } from '@noble/secp256k1';
import { abytes } from '../../bytes.js';
import { bip32PrivateKey, masterFromSeed, type ExtendedPrivateKey } from './bip32.js';
import { clnRootFromHsmSecret, clnScbKey } from './kdf.js';
import { kmpNodeKeyFromSeed } from './kmp.js';
import { ldkPeerStorageKey } from './ldk.js';
import { lndFamilyKey, lndKeyFromRoot } from './lnd.js';
import type { ForeignSecrets } from './index.js';
import type { ForeignFormat } from './types.js';

const NODEID_INFO = new TextEncoder().encode('nodeid');

/**
 * Core Lightning's node private key from its root secret (what clnRootFromHsmSecret gives:
 * the 32-byte hsm_secret, or the 64-byte BIP39 seed of the mnemonic form; only the first 32
 * bytes are used either way).
 */
export function clnNodeKey(root: Uint8Array): Uint8Array {
  abytes(root, undefined, 'root secret');
  if (root.length < 32) throw new RangeError(`"root secret" expected at least 32 bytes, got ${root.length}`);
  const ikm = root.subarray(0, 32);
  const salt = new Uint8Array(4);
  // hsmd passes its u32 counter's own memory as the salt: host byte order, little-endian on
  // every platform Core Lightning supports. A miss has probability about 2^-128 per try, so
  // this bound is never reached; it is there so a bug cannot loop forever.
  for (let counter = 0; counter < 256; counter++) {
    new DataView(salt.buffer).setUint32(0, counter, true);
    const k = hkdf(sha256, ikm, salt, NODEID_INFO, 32);
    if (secpUtils.isValidSecretKey(k)) return k;
    k.fill(0);
  }
  throw new Error('no valid node key after 256 counters');
}

/**
 * The KeysManager seed from what an LDK operator holds: a 32-byte seed is the KeysManager
 * seed itself; a 64-byte one is ldk-node's wallet seed (its keys_seed file, or the BIP39 seed
 * of its mnemonic), whose BIP32 master private key ldk-node hands to KeysManager.
 */
export function ldkKeysManagerSeed(seed: Uint8Array): Uint8Array {
  abytes(seed, undefined, 'LDK seed');
  if (seed.length === 32) return Uint8Array.from(seed);
  if (seed.length === 64) {
    const master = masterFromSeed(seed);
    master.chainCode.fill(0);
    return master.key;
  }
  throw new RangeError(`"LDK seed" expected 32 bytes (KeysManager) or 64 bytes (ldk-node), got ${seed.length}`);
}

/** LDK's node private key: m/0' of the KeysManager seed. */
export function ldkNodeKey(keysManagerSeed: Uint8Array): Uint8Array {
  abytes(keysManagerSeed, 32, 'KeysManager seed');
  return bip32PrivateKey(keysManagerSeed, "m/0'");
}

/** lnd's key family 6: the node key. */
export const LND_NODE_KEY_FAMILY = 6;

/** lnd's node private key from the wallet root. */
export function lndNodeKeyFromRoot(root: ExtendedPrivateKey, coin: number): Uint8Array {
  return lndFamilyKey(root, coin, LND_NODE_KEY_FAMILY);
}

/** A node's identity, and the key that opens its implementation's peer storage blob. */
export interface ForeignIdentity {
  format: ForeignFormat;
  /** The node private key (BOLT #8 static key). */
  nodeSecret: Uint8Array;
  /** Its compressed public key: the node id peers know it by. */
  nodeId: Uint8Array;
  /** The key the format's opener takes (openForeignWithKey). */
  openKey: Uint8Array;
  /** Overwrite both secrets; call when done. */
  wipe(): void;
}

function identity(format: ForeignFormat, nodeSecret: Uint8Array, openKey: Uint8Array): ForeignIdentity {
  return {
    format,
    nodeSecret,
    nodeId: getPublicKey(nodeSecret, true),
    openKey,
    wipe: () => {
      nodeSecret.fill(0);
      openKey.fill(0);
    },
  };
}

/**
 * Both keys of a node of `format` from its secrets, each derived once (for an encrypted
 * hsm_secret, Argon2id runs once). Throws ForeignSecretError for an unusable secret; missing
 * secrets for the format are our caller's bug.
 */
export async function foreignIdentity(format: ForeignFormat, secrets: ForeignSecrets): Promise<ForeignIdentity> {
  switch (format) {
    case 'cln': {
      const s = secrets.cln;
      if (!s) throw new TypeError('no secrets given for format cln');
      const root = await clnRootFromHsmSecret(s.hsmSecret, s.passphrase, s.argon);
      try {
        return identity('cln', clnNodeKey(root), clnScbKey(root));
      } finally {
        root.fill(0);
      }
    }
    case 'ldk': {
      const s = secrets.ldk;
      if (!s) throw new TypeError('no secrets given for format ldk');
      const km = ldkKeysManagerSeed(s.seed);
      try {
        return identity('ldk', ldkNodeKey(km), ldkPeerStorageKey(km));
      } finally {
        km.fill(0);
      }
    }
    case 'lnd': {
      const s = secrets.lnd;
      if (!s) throw new TypeError('no secrets given for format lnd');
      // A copy of the parsed root, so the wipe below leaves the caller's secrets to the caller.
      const root: ExtendedPrivateKey =
        'entropy' in s
          ? masterFromSeed(abytes(s.entropy, 16, 'aezeed entropy'))
          : { key: Uint8Array.from(s.root.key), chainCode: Uint8Array.from(s.root.chainCode), legacyShort: false };
      try {
        return identity('lnd', lndNodeKeyFromRoot(root, s.coin), lndKeyFromRoot(root, s.coin));
      } finally {
        root.key.fill(0);
        root.chainCode.fill(0);
      }
    }
    case 'kmp': {
      const s = secrets.kmp;
      if (!s) throw new TypeError('no secrets given for format kmp');
      // The node key is also the blob key, so each gets its own copy to wipe.
      const key = 'nodeKey' in s ? Uint8Array.from(abytes(s.nodeKey, 32, 'kmp node key')) : kmpNodeKeyFromSeed(s.seed, s.network);
      return identity('kmp', key, Uint8Array.from(key));
    }
  }
}
