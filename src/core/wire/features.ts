// Feature vectors (BOLT #1 init, BOLT #9). A vector is a big-endian bit field: bit 0 is the
// least significant bit of the LAST byte. Even bit = required, odd bit = optional.
import { InputError } from '../errors.js';

export const OPTION_PROVIDE_STORAGE_REQUIRED = 42;
export const OPTION_PROVIDE_STORAGE_OPTIONAL = 43;

/**
 * Every pair BOLT #9 assigns (lightning/bolts master, 09-features.md), including the ones now
 * ASSUMED by every node. Bit 3 (`initial_routing_sync`) and 20/21 (`option_anchor_outputs`)
 * were removed from the table and are not listed.
 */
const ASSIGNED: ReadonlyArray<readonly [number, string]> = [
  [0, 'option_data_loss_protect'],
  [4, 'option_upfront_shutdown_script'],
  [6, 'gossip_queries'],
  [8, 'var_onion_optin'],
  [10, 'gossip_queries_ex'],
  [12, 'option_static_remotekey'],
  [14, 'payment_secret'],
  [16, 'basic_mpp'],
  [18, 'option_support_large_channel'],
  [22, 'option_anchors'],
  [24, 'option_route_blinding'],
  [26, 'option_shutdown_anysegwit'],
  [28, 'option_dual_fund'],
  [34, 'option_quiesce'],
  [36, 'option_attribution_data'],
  [38, 'option_onion_messages'],
  [42, 'option_provide_storage'],
  [44, 'option_channel_type'],
  [46, 'option_scid_alias'],
  [48, 'option_payment_metadata'],
  [50, 'option_zeroconf'],
  [60, 'option_simple_close'],
  [62, 'option_splice'],
];

/** Feature name by bit number, both bits of each pair. */
export const FEATURE_NAMES: Readonly<Record<number, string>> = Object.freeze(
  Object.fromEntries(ASSIGNED.flatMap(([even, name]) => [[even, name], [even + 1, name]])),
);

/** Feature name of a bit, or `unknown`. */
export function featureName(bit: number): string {
  return FEATURE_NAMES[bit] ?? 'unknown';
}

/** Bit number of a feature name: the odd (optional) bit, or the even one with `required`. */
export function featureBitByName(name: string, required = false): number | undefined {
  const pair = ASSIGNED.find(([, n]) => n === name);
  return pair === undefined ? undefined : pair[0] + (required ? 0 : 1);
}

/** The set bits of a vector, ascending. */
export function featureBits(vec: Uint8Array): number[] {
  const bits: number[] = [];
  for (let i = vec.length - 1, base = 0; i >= 0; i--, base += 8) {
    const byte = vec[i]!;
    if (byte === 0) continue;
    for (let b = 0; b < 8; b++) if (byte & (1 << b)) bits.push(base + b);
  }
  return bits;
}

/** A vector can hold at most 65535 bytes (its length is a u16). */
export const MAX_FEATURE_BIT = 65535 * 8 - 1;

/**
 * Minimal vector with exactly `bits` set ("SHOULD use the minimum length required to represent
 * the features field"); `minLength` pads it with leading zero bytes.
 */
export function encodeFeatures(bits: readonly number[], minLength = 0): Uint8Array {
  let max = -1;
  for (const bit of bits) {
    if (!Number.isInteger(bit) || bit < 0 || bit > MAX_FEATURE_BIT) {
      throw new InputError(`feature bit ${String(bit)} is not an integer in 0..${MAX_FEATURE_BIT}`, 'bad_feature');
    }
    if (bit > max) max = bit;
  }
  const len = Math.max(max < 0 ? 0 : (max >> 3) + 1, minLength);
  const vec = new Uint8Array(len);
  for (const bit of bits) vec[len - 1 - (bit >> 3)]! |= 1 << (bit & 7);
  return vec;
}

export function hasFeature(vec: Uint8Array, bit: number): boolean {
  if (!Number.isInteger(bit) || bit < 0) return false;
  const i = vec.length - 1 - (bit >> 3);
  return i >= 0 && (vec[i]! & (1 << (bit & 7))) !== 0;
}

/** Minimal length of the vector: leading zero bytes dropped. */
export function minimalFeatureLength(vec: Uint8Array): number {
  let i = 0;
  while (i < vec.length && vec[i] === 0) i++;
  return vec.length - i;
}

/**
 * Does this `init` offer `option_provide_storage` (bit 42 or 43)? The receiver "MUST combine
 * (logical OR) the two feature bitmaps", so both vectors are looked at.
 */
export function offersProvideStorage(init: { features: Uint8Array; globalFeatures?: Uint8Array }): boolean {
  const g = init.globalFeatures;
  return (
    hasFeature(init.features, OPTION_PROVIDE_STORAGE_REQUIRED) ||
    hasFeature(init.features, OPTION_PROVIDE_STORAGE_OPTIONAL) ||
    (g !== undefined && (hasFeature(g, OPTION_PROVIDE_STORAGE_REQUIRED) || hasFeature(g, OPTION_PROVIDE_STORAGE_OPTIONAL)))
  );
}
