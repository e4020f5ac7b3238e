// Key derivations shared by the format readers: HKDF-SHA256 with empty salt (Core Lightning's
// hsmd), Argon2id at libsodium's MODERATE limits (Core Lightning's encrypted hsm_secret),
// and BIP39 seeds.
import { hkdf } from '@noble/hashes/hkdf.js';
import { argon2idAsync } from '@noble/hashes/argon2.js';
import { pbkdf2 } from '@noble/hashes/pbkdf2.js';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { validateMnemonic } from '@scure/bip39';
import { wordlist as english } from '@scure/bip39/wordlists/english.js';
import { abytes, equalBytes } from '../../bytes.js';
import { ForeignSecretError } from './types.js';
import { secretstreamPullFirst } from './chacha.js';

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

/**
 * HKDF-SHA256 with an empty salt and a 32-byte output, as Core Lightning's hsmd calls it.
 * (An empty HMAC key equals RFC 5869's default of HashLen zero bytes.)
 */
export function hkdf32(ikm: Uint8Array, info: string): Uint8Array {
  return hkdf(sha256, ikm, undefined, utf8(info), 32);
}

/** Core Lightning's derived_secret: HKDF(ikm = the whole root secret, info = "derived secrets"). */
export function clnDerivedSecret(root: Uint8Array): Uint8Array {
  return hkdf32(root, 'derived secrets');
}

/** Core Lightning's `makesecret` for a string: HKDF(ikm = derived_secret, info = string). */
export function clnMakeSecret(root: Uint8Array, info: string): Uint8Array {
  const derived = clnDerivedSecret(root);
  try {
    return hkdf32(derived, info);
  } finally {
    derived.fill(0);
  }
}

/** The key of Core Lightning's static channel backup and of the blob it sends to peers. */
export function clnScbKey(root: Uint8Array): Uint8Array {
  return clnMakeSecret(root, 'scb secret');
}

/** libsodium crypto_pwhash_argon2id MODERATE: opslimit 3, memlimit 256 MiB, one lane. */
export interface Argon2Params {
  t: number;
  /** Memory in KiB. */
  m: number;
}
export const CLN_ARGON2: Argon2Params = { t: 3, m: 256 * 1024 };

/** The salt Core Lightning uses for its hsm_secret encryption key: "c-lightning" then 5 zero bytes. */
export const CLN_SALT: Uint8Array = (() => {
  const s = new Uint8Array(16);
  s.set(utf8('c-lightning'));
  return s;
})();

/** Argon2id(passphrase, "c-lightning\0\0\0\0\0") → 32-byte key, as Core Lightning's get_encryption_key. */
export async function clnPassphraseKey(passphrase: Uint8Array, params: Argon2Params = CLN_ARGON2): Promise<Uint8Array> {
  // libsodium's crypto_pwhash refuses passwords outside its bounds; the shortest is 0 bytes,
  // so an empty passphrase is accepted as libsodium does.
  return argon2idAsync(passphrase, CLN_SALT, { t: params.t, m: params.m, p: 1, dkLen: 32, asyncTick: 50 });
}

/** The shapes of an hsm_secret file, told apart by length as Core Lightning does. */
export type HsmSecretKind = 'plain' | 'encrypted' | 'mnemonic' | 'mnemonic_with_passphrase';

const ENCRYPTED_LEN = 24 + 32 + 17; // secretstream header + 32-byte secret + ABYTES

export function hsmSecretKind(file: Uint8Array): HsmSecretKind {
  if (file.length < 32) throw new ForeignSecretError(`the hsm_secret file has ${file.length} bytes; Core Lightning's is at least 32`);
  if (file.length === 32) return 'plain';
  if (file.length === ENCRYPTED_LEN) return 'encrypted';
  return file.subarray(0, 32).every((b) => b === 0) ? 'mnemonic' : 'mnemonic_with_passphrase';
}

export function hsmSecretNeedsPassphrase(file: Uint8Array): boolean {
  const kind = hsmSecretKind(file);
  return kind === 'encrypted' || kind === 'mnemonic_with_passphrase';
}

/**
 * The root secret Core Lightning derives everything from, read from its hsm_secret file:
 * - 32 bytes: the root itself
 * - 73 bytes: a secretstream box of the 32-byte root under Argon2id(passphrase)
 * - longer: 32 bytes (zero, or SHA-256 of the BIP39 seed when a passphrase is used), then
 *   a BIP39 mnemonic; the root is the whole 64-byte BIP39 seed
 * A wrong passphrase or an unusable file throws ForeignSecretError (reason bad_secret).
 */
export async function clnRootFromHsmSecret(
  file: Uint8Array,
  passphrase: Uint8Array | undefined,
  argon: Argon2Params = CLN_ARGON2,
): Promise<Uint8Array> {
  abytes(file, undefined, 'hsm_secret');
  const kind = hsmSecretKind(file);
  if ((kind === 'encrypted' || kind === 'mnemonic_with_passphrase') && passphrase === undefined)
    throw new ForeignSecretError('this hsm_secret is protected by a passphrase, and none was given');
  switch (kind) {
    case 'plain':
      return Uint8Array.from(file);
    case 'encrypted': {
      const key = await clnPassphraseKey(passphrase!, argon);
      try {
        const opened = secretstreamPullFirst(key, file);
        if (!opened || opened.plaintext.length !== 32) throw new ForeignSecretError('wrong passphrase for this hsm_secret');
        return opened.plaintext;
      } finally {
        key.fill(0);
      }
    }
    case 'mnemonic':
    case 'mnemonic_with_passphrase': {
      const bytes = file.subarray(32);
      const nul = bytes.indexOf(0);
      const words = nul >= 0 ? bytes.subarray(0, nul) : bytes;
      let mnemonic: string;
      try {
        mnemonic = new TextDecoder('utf-8', { fatal: true }).decode(words);
      } catch {
        throw new ForeignSecretError('the hsm_secret mnemonic is not valid UTF-8');
      }
      if (!validateMnemonic(mnemonic, english)) throw new ForeignSecretError('the hsm_secret does not hold a valid BIP39 mnemonic');
      // libwally's bip39_mnemonic_to_seed, which Core Lightning calls, hashes the mnemonic and
      // the passphrase as the raw bytes it is given: no NFKD. So do we (a passphrase with a
      // precomposed "é" must stay precomposed).
      const salt = new Uint8Array(8 + (kind === 'mnemonic_with_passphrase' ? passphrase!.length : 0));
      salt.set(utf8('mnemonic'));
      if (kind === 'mnemonic_with_passphrase') salt.set(passphrase!, 8);
      const seed = pbkdf2(sha512, words, salt, { c: 2048, dkLen: 64 });
      salt.fill(0);
      if (kind === 'mnemonic_with_passphrase') {
        // Core Lightning stores SHA-256 of the seed so that a wrong passphrase is detected
        // instead of silently giving another wallet.
        const check = sha256(seed);
        const ok = equalBytes(check, file.subarray(0, 32));
        check.fill(0);
        if (!ok) {
          seed.fill(0);
          throw new ForeignSecretError('wrong passphrase for this hsm_secret');
        }
      }
      return seed;
    }
  }
}
