// The one table that maps error kinds to process exit codes (README, "Exit codes").
import { CryptoError, DecodeError, InputError, StoreError, UsageError } from './core/errors.js';

export const EXIT = {
  ok: 0,
  invalid: 1, // invalid input or data, or a check that failed
  usage: 2, // wrong flags or arguments
  unavailable: 3, // database or file unavailable
  internal: 70, // a bug: EX_SOFTWARE
} as const;

export function exitCodeFor(err: unknown): number {
  if (err instanceof UsageError) return EXIT.usage;
  if (err instanceof StoreError) return EXIT.unavailable;
  if (err instanceof DecodeError || err instanceof InputError || err instanceof CryptoError) return EXIT.invalid;
  if (err && typeof err === 'object' && 'exitCode' in err && typeof (err as { exitCode: unknown }).exitCode === 'number')
    return (err as { exitCode: number }).exitCode;
  return EXIT.internal;
}
