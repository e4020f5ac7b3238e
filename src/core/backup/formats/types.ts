// Shared result and reason types for reading other implementations' peer storage blobs.
// A blob that does not open is a result (valid: false with a reason), never an exception:
// the operator asked a question ("is this mine, and intact?") and "no" is an answer.

/** The implementations whose peer storage blobs lnps can open. */
export type ForeignFormat = 'cln' | 'ldk' | 'lnd' | 'kmp';
export const FOREIGN_FORMATS: readonly ForeignFormat[] = ['cln', 'ldk', 'lnd', 'kmp'];

/**
 * Why a blob did not open. One word each, stable for scripts:
 * - `empty`: zero bytes (a peer that holds nothing for us answers with an empty blob)
 * - `too_short`: fewer bytes than the format's fixed overhead
 * - `unknown_version`: the format carries a version byte and this one is not known
 * - `auth_failed`: the tag does not verify: a wrong key, another format, or tampering
 *   (deliberately one reason: which byte was changed is not something to leak)
 * - `truncated`: lnd's draft: exactly 65531 bytes with no zero padding, and does not open:
 *   the sealed backup was longer than the draft's buffer and was cut
 * - `bad_secret`: the secret itself is wrong or unreadable (a wrong passphrase, a corrupt
 *   hsm_secret, an invalid mnemonic)
 */
export type ForeignReason = 'empty' | 'too_short' | 'unknown_version' | 'auth_failed' | 'truncated' | 'bad_secret';

/** What opening a blob found. `plaintext` is only set when `valid`. */
export interface ForeignOpenResult {
  valid: boolean;
  format: ForeignFormat;
  reason?: ForeignReason;
  plaintext?: Uint8Array;
  /** The decoded content, where the format has one the core understands. */
  channels?: Record<string, unknown>[];
  /** Extra facts about the content (e.g. a CLN backup's own timestamp). */
  details?: Record<string, unknown>;
  /** lnd: the sealed PackedMulti without the padding, as lnd writes it to channel.backup. */
  sealed?: Uint8Array;
  /** Set when the plaintext opened but its content could not be decoded. */
  content_error?: string;
  /** The format is an unmerged draft in its implementation and may still change. */
  experimental?: boolean;
}

export function invalid(format: ForeignFormat, reason: ForeignReason, extra: Partial<ForeignOpenResult> = {}): ForeignOpenResult {
  return { valid: false, format, reason, ...extra };
}

/**
 * A secret that cannot be used: a wrong passphrase, an hsm_secret of no known shape, an
 * invalid mnemonic. The message names the problem and never contains the secret.
 */
export class ForeignSecretError extends Error {
  override readonly name = 'ForeignSecretError';
  readonly reason = 'bad_secret' as const;
}
