// Systematic Reed-Solomon erasure code over GF(2^8), as the lnps sealed shard (version 2)
// needs it: k data shards, n - k parity shards, any k of the n rebuild the data.
//
// docs/FORMAT.md ("Parity shards") fixes the field (polynomial 0x11d, generator 2) and the encoding matrix
// E = V(n x k) * inverse(top k x k of V), V[r][c] = r^c (0^0 = 1), the construction that
// Backblaze's JavaReedSolomon and klauspost/reedsolomon use. Using exactly that matrix is
// what lets another library rebuild an lnps backup, so none of it is a free choice.
//
// Speed: one 256-byte product table per coefficient (a 64 KiB table for all of them), so
// the inner loop is one table load and one XOR per byte.

/** The field polynomial x^8 + x^4 + x^3 + x^2 + 1. */
export const FIELD_POLYNOMIAL = 0x11d;
/** Most shards a GF(2^8) Vandermonde code can have (distinct evaluation points 0..255). */
export const MAX_FIELD_SHARDS = 256;

/** EXP[i] = 2^i; doubled in length so EXP[LOG[a] + LOG[b]] needs no modulo. */
const EXP = new Uint8Array(512);
/** LOG[a] for a != 0; LOG[0] is unused. */
const LOG = new Uint8Array(256);
{
  let x = 1;
  for (let i = 0; i < 255; i++) {
    EXP[i] = x;
    LOG[x] = i;
    x <<= 1;
    if (x & 0x100) x ^= FIELD_POLYNOMIAL;
  }
  for (let i = 255; i < 512; i++) EXP[i] = EXP[i - 255]!;
}

/** MUL[a * 256 + b] = a * b in the field. */
const MUL = new Uint8Array(256 * 256);
for (let a = 1; a < 256; a++) {
  for (let b = 1; b < 256; b++) MUL[a * 256 + b] = EXP[LOG[a]! + LOG[b]!]!;
}

function checkElement(v: number, name: string): number {
  if (!Number.isInteger(v) || v < 0 || v > 255) throw new RangeError(`"${name}" expected a field element 0..255, got ${v}`);
  return v;
}

export function gfAdd(a: number, b: number): number {
  return checkElement(a, 'a') ^ checkElement(b, 'b');
}

export function gfMul(a: number, b: number): number {
  return MUL[checkElement(a, 'a') * 256 + checkElement(b, 'b')]!;
}

export function gfInv(a: number): number {
  if (checkElement(a, 'a') === 0) throw new RangeError('"a" has no inverse: it is 0');
  return EXP[255 - LOG[a]!]!;
}

export function gfDiv(a: number, b: number): number {
  if (checkElement(b, 'b') === 0) throw new RangeError('"b" expected a non-zero divisor');
  if (checkElement(a, 'a') === 0) return 0;
  return EXP[LOG[a]! + 255 - LOG[b]!]!;
}

/** a^e for a non-negative integer e, with 0^0 = 1 (the Vandermonde matrix's first column). */
export function gfPow(a: number, e: number): number {
  checkElement(a, 'a');
  if (!Number.isInteger(e) || e < 0) throw new RangeError(`"e" expected a non-negative integer, got ${e}`);
  if (e === 0) return 1;
  if (a === 0) return 0;
  return EXP[(LOG[a]! * e) % 255]!;
}

/** A matrix over the field: an array of rows, each a Uint8Array of the same length. */
export type Matrix = Uint8Array[];

function matrix(rows: number, cols: number): Matrix {
  return Array.from({ length: rows }, () => new Uint8Array(cols));
}

/** V[r][c] = r^c, rows x cols. */
export function vandermonde(rows: number, cols: number): Matrix {
  const m = matrix(rows, cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) m[r]![c] = gfPow(r, c);
  return m;
}

export function matMul(a: Matrix, b: Matrix): Matrix {
  const inner = b.length;
  const cols = b[0]?.length ?? 0;
  const out = matrix(a.length, cols);
  for (let r = 0; r < a.length; r++) {
    const ar = a[r]!;
    if (ar.length !== inner) throw new RangeError(`matMul: row ${r} has ${ar.length} columns, expected ${inner}`);
    const o = out[r]!;
    for (let i = 0; i < inner; i++) {
      const coef = ar[i]!;
      if (coef === 0) continue;
      const bi = b[i]!;
      const base = coef * 256;
      for (let c = 0; c < cols; c++) o[c]! ^= MUL[base + bi[c]!]!;
    }
  }
  return out;
}

/**
 * Inverse of a square matrix by Gauss-Jordan elimination. Throws RangeError when the matrix
 * is singular: for rows taken from the encoding matrix that cannot happen, since any k rows
 * of a Vandermonde matrix with distinct points are independent.
 */
export function matInvert(m: Matrix): Matrix {
  const size = m.length;
  // Work on [m | I] so the right half becomes the inverse.
  const work = m.map((row, r) => {
    if (row.length !== size) throw new RangeError(`matInvert: expected a square matrix, row ${r} has ${row.length} columns`);
    const w = new Uint8Array(2 * size);
    w.set(row, 0);
    w[size + r] = 1;
    return w;
  });
  for (let col = 0; col < size; col++) {
    let pivot = col;
    while (pivot < size && work[pivot]![col] === 0) pivot++;
    if (pivot === size) throw new RangeError('matInvert: the matrix is singular');
    if (pivot !== col) [work[col], work[pivot]] = [work[pivot]!, work[col]!];
    const prow = work[col]!;
    const scale = gfInv(prow[col]!);
    if (scale !== 1) for (let c = 0; c < 2 * size; c++) prow[c] = MUL[scale * 256 + prow[c]!]!;
    for (let r = 0; r < size; r++) {
      if (r === col) continue;
      const row = work[r]!;
      const f = row[col]!;
      if (f === 0) continue;
      for (let c = 0; c < 2 * size; c++) row[c]! ^= MUL[f * 256 + prow[c]!]!;
    }
  }
  return work.map((w) => w.slice(size));
}

function checkShape(k: number, n: number): void {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`"k" expected an integer >= 1, got ${k}`);
  if (!Number.isInteger(n) || n < k || n > MAX_FIELD_SHARDS)
    throw new RangeError(`"n" expected an integer from k (${k}) to ${MAX_FIELD_SHARDS}, got ${n}`);
}

const matrixCache = new Map<string, Matrix>();

/**
 * The n x k systematic encoding matrix: its top k rows are the identity (data shards are the
 * data itself), the other rows give the parity shards. Rows are shared; do not modify them.
 */
export function encodingMatrix(k: number, n: number): Matrix {
  checkShape(k, n);
  const key = `${k}/${n}`;
  let m = matrixCache.get(key);
  if (!m) {
    const v = vandermonde(n, k);
    m = matMul(v, matInvert(v.slice(0, k)));
    matrixCache.set(key, m);
  }
  return m;
}

/** out ^= coef * input (or out = coef * input when `assign`), byte by byte. */
function mulAddInto(out: Uint8Array, input: Uint8Array, coef: number, assign: boolean): void {
  const len = out.length;
  if (coef === 0) {
    if (assign) out.fill(0);
    return;
  }
  if (coef === 1) {
    if (assign) out.set(input);
    else for (let j = 0; j < len; j++) out[j]! ^= input[j]!;
    return;
  }
  const t = MUL.subarray(coef * 256, coef * 256 + 256);
  if (assign) for (let j = 0; j < len; j++) out[j] = t[input[j]!]!;
  else for (let j = 0; j < len; j++) out[j]! ^= t[input[j]!]!;
}

/** rows x inputs → one output per row. */
function applyRows(rows: Matrix, inputs: Uint8Array[], size: number): Uint8Array[] {
  return rows.map((row) => {
    const out = new Uint8Array(size);
    for (let i = 0; i < inputs.length; i++) mulAddInto(out, inputs[i]!, row[i]!, i === 0);
    return out;
  });
}

function checkShards(shards: readonly (Uint8Array | undefined)[], count: number, name: string): number {
  if (shards.length !== count) throw new RangeError(`"${name}" expected ${count} shards, got ${shards.length}`);
  let size = -1;
  shards.forEach((s, i) => {
    if (s === undefined) return;
    if (!(s instanceof Uint8Array)) throw new TypeError(`"${name}[${i}]" expected Uint8Array, got ${typeof s}`);
    if (size === -1) size = s.length;
    else if (s.length !== size) throw new RangeError(`"${name}[${i}]" expected ${size} bytes like the others, got ${s.length}`);
  });
  return size;
}

/** The n - k parity shards of k equal-length data shards. */
export function encodeParity(data: readonly Uint8Array[], n: number): Uint8Array[] {
  const k = data.length;
  checkShape(k, n);
  const size = checkShards(data, k, 'data');
  return applyRows(encodingMatrix(k, n).slice(k), data as Uint8Array[], size);
}

/**
 * The shards at `indexes` (0..n-1) of k equal-length data shards: data shards as given, parity
 * computed only for the rows asked for (checking a few extra shards costs only their rows).
 */
export function encodeShards(data: readonly Uint8Array[], n: number, indexes: readonly number[]): Uint8Array[] {
  const k = data.length;
  checkShape(k, n);
  const size = checkShards(data, k, 'data');
  const enc = encodingMatrix(k, n);
  return indexes.map((i) => {
    if (!Number.isInteger(i) || i < 0 || i >= n) throw new RangeError(`"indexes" expected 0..${n - 1}, got ${i}`);
    return i < k ? data[i]! : applyRows([enc[i]!], data as Uint8Array[], size)[0]!;
  });
}

/**
 * Rebuild the k data shards from a length-n array in which missing shards are `undefined`.
 * Uses the first k present shards by index (any k give the same answer for a consistent
 * set). Throws RangeError when fewer than k are present; callers count first to report
 * plainly.
 */
export function reconstructData(shards: readonly (Uint8Array | undefined)[], k: number, n: number): Uint8Array[] {
  checkShape(k, n);
  const size = checkShards(shards, n, 'shards');
  const present: number[] = [];
  for (let i = 0; i < n && present.length < k; i++) if (shards[i] !== undefined) present.push(i);
  if (present.length < k) throw new RangeError(`reconstructData: ${present.length} shards present, ${k} needed`);
  // All data shards present: nothing to compute.
  if (present[k - 1] === k - 1) return present.map((i) => shards[i]!);
  const enc = encodingMatrix(k, n);
  const decode = matInvert(present.map((i) => enc[i]!));
  const inputs = present.map((i) => shards[i]!);
  const out: Uint8Array[] = [];
  for (let d = 0; d < k; d++) {
    const have = shards[d];
    if (have !== undefined) out.push(have);
    else out.push(applyRows([decode[d]!], inputs, size)[0]!);
  }
  return out;
}
