// Reading other implementations' peer storage blobs: one entry point over the four formats.
// Secrets come in already read; keys are derived here, used, and wiped.
import { clnRootFromHsmSecret, clnScbKey, type Argon2Params } from './kdf.js';
import { openClnBlob } from './cln.js';
import { ldkPeerStorageKey, openLdkBlob } from './ldk.js';
import { kmpNodeKeyFromSeed, openKmpBlob, type KmpNetwork } from './kmp.js';
import { lndKeyFromEntropy, lndKeyFromRoot, openLndBlob } from './lnd.js';
import type { ExtendedPrivateKey } from './bip32.js';
import { ForeignSecretError, invalid, type ForeignFormat, type ForeignOpenResult } from './types.js';

export * from './types.js';
export { hsmSecretKind, hsmSecretNeedsPassphrase, clnScbKey, clnMakeSecret, clnRootFromHsmSecret, CLN_ARGON2 } from './kdf.js';
export { openClnBlob, decodeStaticChanBackup, clnScbVersionCompatible, CLN_SCB_VERSION } from './cln.js';
export { openLdkBlob, ldkPeerStorageKey, decodeMonitorHolders } from './ldk.js';
export { openKmpBlob, kmpNodeKeyFromSeed, kmpNodeKeyPath } from './kmp.js';
export { openLndBlob, decodeLndMulti, LND_PADDED_LEN, lndKeyFromEntropy, lndKeyFromXprv, lndKeyFromRoot, lndFamilyKey } from './lnd.js';
export { foreignIdentity, clnNodeKey, ldkNodeKey, ldkKeysManagerSeed, lndNodeKeyFromRoot, LND_NODE_KEY_FAMILY, type ForeignIdentity } from './identity.js';
export { parseRootXprvBytes, type ExtendedPrivateKey } from './bip32.js';

/** The secrets an operator may hold, one set per format. */
export interface ForeignSecrets {
  cln?: { hsmSecret: Uint8Array; passphrase?: Uint8Array; argon?: Argon2Params };
  ldk?: { seed: Uint8Array };
  kmp?: { nodeKey: Uint8Array } | { seed: Uint8Array; network: KmpNetwork };
  lnd?: { coin: number } & ({ entropy: Uint8Array } | { root: ExtendedPrivateKey });
}

/** Formats for which secrets were given, in the order `auto` tries them. */
export function formatsWithSecrets(s: ForeignSecrets): ForeignFormat[] {
  return (['cln', 'ldk', 'kmp', 'lnd'] as const).filter((f) => s[f] !== undefined);
}

async function deriveKey(format: ForeignFormat, s: ForeignSecrets): Promise<Uint8Array> {
  switch (format) {
    case 'cln': {
      const root = await clnRootFromHsmSecret(s.cln!.hsmSecret, s.cln!.passphrase, s.cln!.argon);
      try {
        return clnScbKey(root);
      } finally {
        root.fill(0);
      }
    }
    case 'ldk':
      return ldkPeerStorageKey(s.ldk!.seed);
    case 'kmp': {
      const k = s.kmp!;
      return 'nodeKey' in k ? Uint8Array.from(k.nodeKey) : kmpNodeKeyFromSeed(k.seed, k.network);
    }
    case 'lnd': {
      const l = s.lnd!;
      return 'entropy' in l ? lndKeyFromEntropy(l.entropy, l.coin) : lndKeyFromRoot(l.root, l.coin);
    }
  }
}

/** Open `blob` as `format` with an already derived key (see foreignIdentity's openKey). */
export function openForeignWithKey(format: ForeignFormat, blob: Uint8Array, key: Uint8Array): ForeignOpenResult {
  switch (format) {
    case 'cln':
      return openClnBlob(blob, key);
    case 'ldk':
      return openLdkBlob(blob, key);
    case 'kmp':
      return openKmpBlob(blob, key);
    case 'lnd':
      return openLndBlob(blob, key);
  }
}

/**
 * Open `blob` as `format` with the given secrets. A secret that cannot be used gives
 * { valid: false, reason: 'bad_secret', secret_error } rather than an exception; the
 * message never contains the secret. Missing secrets for the format are our caller's bug.
 */
export async function openForeign(format: ForeignFormat, blob: Uint8Array, secrets: ForeignSecrets): Promise<ForeignOpenResult & { secret_error?: string }> {
  if (secrets[format] === undefined) throw new TypeError(`no secrets given for format ${format}`);
  let key: Uint8Array;
  try {
    key = await deriveKey(format, secrets);
  } catch (e) {
    if (e instanceof ForeignSecretError) return { ...invalid(format, 'bad_secret', format === 'lnd' ? { experimental: true } : {}), secret_error: e.message };
    throw e;
  }
  try {
    return openForeignWithKey(format, blob, key);
  } finally {
    key.fill(0);
  }
}

/** `auto`: each format the secrets allow, first valid wins; otherwise every attempt's reason. */
export async function openForeignAuto(
  blob: Uint8Array,
  secrets: ForeignSecrets,
): Promise<{ result?: ForeignOpenResult; tried: { format: ForeignFormat; reason: string; secret_error?: string }[] }> {
  const tried: { format: ForeignFormat; reason: string; secret_error?: string }[] = [];
  for (const f of formatsWithSecrets(secrets)) {
    const r = await openForeign(f, blob, secrets);
    if (r.valid) return { result: r, tried };
    tried.push({ format: f, reason: r.reason!, ...(r.secret_error ? { secret_error: r.secret_error } : {}) });
  }
  return { tried };
}
