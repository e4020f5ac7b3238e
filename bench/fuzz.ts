// `npm run fuzz -- --runs N [--seed S] [--target NAME] [--time-limit SECONDS]`: a fast-check
// campaign over the decoders of untrusted bytes. The short, fixed-seed form of the same targets
// runs inside `npm test` (test/fuzz.test.ts); this entry point is the long form.
//
// What each target claims:
// - wire.*: decodeMessage throws DecodeError (and nothing else) or gives a message that encodes
//   back to exactly the input, and whose JSON form does too.
// - seal.*: open() never throws on bytes, and says ok only for bytes that really are a sealed
//   blob under our key (checked against an independent reading of the layout).
// - stripe.rebuild: rebuild() never throws on any list of blobs, accounts for every blob once,
//   and gives back only the original backup.
import { pathToFileURL } from 'node:url';
import fc from 'fast-check';
import { concatBytes, equalBytes, toHex } from '../src/core/bytes.js';
import { DecodeError } from '../src/core/errors.js';
import {
  MSG_TYPE,
  REGISTRY,
  decodeMessage,
  encodeMessage,
  messageFromJson,
  messageToJson,
  type KnownName,
  type Message,
  type TlvRecord,
} from '../src/core/wire/index.js';
import { buildFrame, deriveSealKey, open, seal, sealFrame, MAX_BLOB, MIN_BLOB, type Frame, type Padding } from '../src/core/backup/seal.js';
import { rebuild, stripe } from '../src/core/backup/stripe.js';
import { createHash } from 'node:crypto';

// ---- Generators of valid messages, one per registered type ----

const bytes = (max: number) => fc.uint8Array({ maxLength: max });
const exact = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });

/** Sometimes a blob near the 65531-byte limit, so length checks at the edge are reached. */
const blob = fc.oneof(
  { weight: 6, arbitrary: bytes(300) },
  { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 65000, max: 65531 }), fc.nat(255)).map(([n, b]) => new Uint8Array(n).fill(b)) },
);

/** A valid extension stream: odd types (unknown odd is kept), strictly increasing. */
function extension(exclude: bigint[] = []): fc.Arbitrary<TlvRecord[] | undefined> {
  const type = fc.oneof(fc.bigInt({ min: 0n, max: 600n }), fc.bigInt({ min: 0n, max: 0xffff_ffff_ffff_ffffn }));
  return fc
    .uniqueArray(type.map((t) => t | 1n), { maxLength: 3, comparator: (a, b) => a === b })
    .chain((types) => {
      const sorted = types.filter((t) => !exclude.includes(t)).sort((a, b) => (a < b ? -1 : 1));
      return fc.tuple(...sorted.map((t) => bytes(300).map((value) => ({ type: t, value }))));
    })
    .map((recs) => (recs.length > 0 ? recs : undefined));
}

function withExt<M extends object>(arb: fc.Arbitrary<M>, exclude?: bigint[]): fc.Arbitrary<Message> {
  return fc.tuple(arb, extension(exclude)).map(([m, ext]) => (ext ? { ...m, extension: ext } : { ...m }) as unknown as Message);
}

/** One generator per message the registry knows; a test checks none is missing. */
export const GENERATORS: Record<KnownName, fc.Arbitrary<Message>> = {
  warning: withExt(fc.record({ type: fc.constant(1), name: fc.constant('warning'), channelId: exact(32), data: bytes(300) })),
  error: withExt(fc.record({ type: fc.constant(17), name: fc.constant('error'), channelId: exact(32), data: bytes(300) })),
  peer_storage: withExt(fc.record({ type: fc.constant(7), name: fc.constant('peer_storage'), blob })),
  peer_storage_retrieval: withExt(fc.record({ type: fc.constant(9), name: fc.constant('peer_storage_retrieval'), blob })),
  ping: withExt(fc.record({ type: fc.constant(18), name: fc.constant('ping'), numPongBytes: fc.nat(65535), ignored: bytes(300) })),
  pong: withExt(fc.record({ type: fc.constant(19), name: fc.constant('pong'), ignored: bytes(300) })),
  init: withExt(
    fc.record(
      {
        type: fc.constant(16),
        name: fc.constant('init'),
        globalFeatures: bytes(6),
        features: bytes(12),
        networks: fc.array(exact(32), { maxLength: 3 }),
        remoteAddr: bytes(40),
      },
      { requiredKeys: ['type', 'name', 'globalFeatures', 'features'] },
    ),
    [1n, 3n],
  ),
};

/** Any registered message, encoded; generators that give an over-long message are skipped. */
const anyWire: fc.Arbitrary<Uint8Array> = fc
  .oneof(...Object.values(GENERATORS))
  .map((m) => {
    try {
      return encodeMessage(m);
    } catch {
      return undefined;
    }
  })
  .filter((w): w is Uint8Array => w !== undefined);

// ---- Mutations ----

/** Where a message keeps its u16 length fields and where its TLV stream starts, read by hand. */
export function lengthFields(wire: Uint8Array): { u16: number[]; tlvLengths: number[] } {
  const u16 = (o: number) => (o + 2 <= wire.length ? (wire[o]! << 8) | wire[o + 1]! : -1);
  const type = u16(0);
  const fields: number[] = [];
  let end = -1;
  const lenAt = (o: number) => {
    const n = u16(o);
    if (n < 0) return -1;
    fields.push(o);
    return o + 2 + n;
  };
  switch (type) {
    case MSG_TYPE.warning:
    case MSG_TYPE.error:
      end = lenAt(34);
      break;
    case MSG_TYPE.peer_storage:
    case MSG_TYPE.peer_storage_retrieval:
    case MSG_TYPE.pong:
      end = lenAt(2);
      break;
    case MSG_TYPE.ping:
      end = lenAt(4);
      break;
    case MSG_TYPE.init: {
      const g = lenAt(2);
      end = g < 0 ? -1 : lenAt(g);
      break;
    }
  }
  // The TLV stream after the payload: note where each record's length sits (1-byte forms only).
  const tlvLengths: number[] = [];
  let o = end;
  for (let guard = 0; o >= 0 && o < wire.length && guard < 64; guard++) {
    const t = wire[o]!;
    const tl = t < 0xfd ? 1 : t === 0xfd ? 3 : t === 0xfe ? 5 : 9;
    const lo = o + tl;
    if (lo >= wire.length || wire[lo]! >= 0xfd) break;
    tlvLengths.push(lo);
    o = lo + 1 + wire[lo]!;
  }
  return { u16: fields, tlvLengths };
}

export type Mutation =
  | { kind: 'flip'; pos: number; bit: number }
  | { kind: 'set'; pos: number; byte: number }
  | { kind: 'truncate'; cut: number }
  | { kind: 'extend'; tail: Uint8Array }
  | { kind: 'length'; which: number; tlv: boolean; to: 'zero' | 'max' | 'minus' | 'plus' | 'random'; r: number }
  | { kind: 'splice'; other: Uint8Array; at: number; from: number }
  | { kind: 'delete'; pos: number; len: number }
  | { kind: 'insert'; pos: number; data: Uint8Array }
  | { kind: 'retype'; type: number };

const mutation = (others: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Mutation> =>
  fc.oneof(
    fc.record({ kind: fc.constant('flip' as const), pos: fc.nat(), bit: fc.nat(7) }),
    fc.record({ kind: fc.constant('set' as const), pos: fc.nat(), byte: fc.constantFrom(0, 1, 0x7f, 0x80, 0xfd, 0xfe, 0xff) }),
    fc.record({ kind: fc.constant('truncate' as const), cut: fc.oneof(fc.nat(4), fc.nat()) }),
    fc.record({
      kind: fc.constant('extend' as const),
      tail: fc.oneof(
        bytes(20),
        // A well-formed record of any type: even types are unknown-even errors, odd ones are kept.
        fc.tuple(fc.nat(0xfc), bytes(8)).map(([t, v]) => Uint8Array.from([t, v.length, ...v])),
      ),
    }),
    fc.record({ kind: fc.constant('length' as const), which: fc.nat(), tlv: fc.boolean(), to: fc.constantFrom('zero', 'max', 'minus', 'plus', 'random'), r: fc.nat(0xffff) }),
    fc.record({ kind: fc.constant('splice' as const), other: others, at: fc.nat(), from: fc.nat() }),
    fc.record({ kind: fc.constant('delete' as const), pos: fc.nat(), len: fc.integer({ min: 1, max: 40 }) }),
    fc.record({ kind: fc.constant('insert' as const), pos: fc.nat(), data: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
    fc.record({ kind: fc.constant('retype' as const), type: fc.oneof(fc.constantFrom(...Object.values(MSG_TYPE)), fc.nat(0xffff)) }),
  );

/** Apply one mutation; positions are taken modulo the length, so every draw means something. */
export function mutate(input: Uint8Array, m: Mutation): Uint8Array {
  const b = input.slice();
  const n = b.length;
  switch (m.kind) {
    case 'flip':
      if (n > 0) b[m.pos % n]! ^= 1 << m.bit;
      return b;
    case 'set':
      if (n > 0) b[m.pos % n] = m.byte;
      return b;
    case 'truncate':
      return b.subarray(0, Math.max(0, n - 1 - (m.cut % Math.max(1, n))));
    case 'extend':
      return concatBytes(b, m.tail);
    case 'length': {
      const f = lengthFields(b);
      const list = m.tlv ? f.tlvLengths : f.u16;
      if (list.length === 0) return b;
      const at = list[m.which % list.length]!;
      if (m.tlv) {
        const old = b[at]!;
        b[at] = m.to === 'zero' ? 0 : m.to === 'max' ? 0xfc : m.to === 'minus' ? (old + 255) & 0xff : m.to === 'plus' ? (old + 1) & 0xff : m.r & 0xff;
      } else {
        const old = (b[at]! << 8) | b[at + 1]!;
        const v = m.to === 'zero' ? 0 : m.to === 'max' ? 0xffff : m.to === 'minus' ? (old + 0xffff) & 0xffff : m.to === 'plus' ? (old + 1) & 0xffff : m.r;
        b[at] = v >>> 8;
        b[at + 1] = v & 0xff;
      }
      return b;
    }
    case 'splice':
      return concatBytes(b.subarray(0, m.at % (n + 1)), m.other.subarray(m.from % (m.other.length + 1)));
    case 'delete': {
      if (n === 0) return b;
      const p = m.pos % n;
      return concatBytes(b.subarray(0, p), b.subarray(Math.min(n, p + m.len)));
    }
    case 'insert': {
      const p = m.pos % (n + 1);
      return concatBytes(b.subarray(0, p), m.data, b.subarray(p));
    }
    case 'retype':
      if (n >= 2) {
        b[0] = m.type >>> 8;
        b[1] = m.type & 0xff;
      }
      return b;
  }
}

/** `n` valid messages after 1-3 mutations each, drawn from `seed` (for sending to a running node). */
export function mutatedMessages(seed: number, n: number): Uint8Array[] {
  const arb = fc.tuple(anyWire, fc.array(mutation(anyWire), { minLength: 1, maxLength: 3 })).map(([w, ms]) => ms.reduce((b, m) => mutate(b, m), w));
  return fc.sample(arb, { seed, numRuns: n });
}

// ---- Checks ----

const DECODE_CODES = new Set(['truncated', 'non_minimal', 'too_large', 'tlv_order', 'tlv_unknown_even', 'tlv_length', 'trailing', 'bad_hex', 'bad_base64', 'bad_value']);

export interface Tally {
  inputs: number;
  accepted: number;
  rejected: Record<string, number>;
}

function newTally(): Tally {
  return { inputs: 0, accepted: 0, rejected: {} };
}

function reject(t: Tally, code: string): void {
  t.rejected[code] = (t.rejected[code] ?? 0) + 1;
}

/** The decoder's contract on one input: DecodeError with a known code and a path, or an exact re-encoding. */
export function checkDecode(input: Uint8Array, t: Tally): void {
  t.inputs++;
  let msg: Message;
  try {
    msg = decodeMessage(input);
  } catch (e) {
    if (!(e instanceof DecodeError)) throw new Error(`decodeMessage(${toHex(input).slice(0, 200)}) threw ${String(e)}, not a DecodeError`, { cause: e });
    if (!DECODE_CODES.has(e.code) || e.path.length === 0) throw new Error(`DecodeError with code ${e.code} and path "${e.path}"`);
    reject(t, e.code);
    return;
  }
  t.accepted++;
  const again = encodeMessage(msg);
  if (!equalBytes(again, input)) throw new Error(`decoded ${toHex(input).slice(0, 200)} but it re-encodes to ${toHex(again).slice(0, 200)}`);
  const viaJson = encodeMessage(messageFromJson(JSON.parse(JSON.stringify(messageToJson(msg)))));
  if (!equalBytes(viaJson, input)) throw new Error(`the JSON form of ${toHex(input).slice(0, 200)} encodes to ${toHex(viaJson).slice(0, 200)}`);
}

const SECRET = Uint8Array.from({ length: 32 }, (_, i) => i + 1);
const OTHER_SECRET = Uint8Array.from({ length: 32 }, (_, i) => 200 - i);
const KEY = deriveSealKey(SECRET);
const OTHER_KEY = deriveSealKey(OTHER_SECRET);

/** A deterministic byte source for seal/stripe randomness, from a fast-check drawn seed. */
export function seededBytes(seed: number): (n: number) => Uint8Array {
  let s = seed >>> 0 || 1;
  return (n) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      // xorshift32: quality does not matter here, only that the same seed gives the same bytes.
      s ^= s << 13;
      s >>>= 0;
      s ^= s >>> 17;
      s ^= s << 5;
      s >>>= 0;
      out[i] = s & 0xff;
    }
    return out;
  };
}

const padding = fc.constantFrom<Padding>('none', 'bucket', 'none', 'full');
const seqArb = fc.oneof(fc.bigInt({ min: 0n, max: 1000n }), fc.bigInt({ min: 0n, max: 0xffff_ffff_ffff_ffffn }));

/** The reason the reading order of docs/FORMAT.md ("Reading a sealed blob") gives for a frame sealed under `version`, computed apart from open(). */
function expectedOpen(version: number, frame: Uint8Array): string {
  const T = 25 + frame.length + 16;
  if (T < MIN_BLOB || T > MAX_BLOB) return 'bad_length';
  if (version !== 1 && version !== 2) return 'unknown_version';
  const L = (frame[8]! << 8) | frame[9]!;
  if (42 + L > frame.length) return 'bad_length_field';
  const sum = createHash('sha256').update(frame.subarray(0, 10 + L)).digest();
  if (!equalBytes(sum, frame.subarray(10 + L, 42 + L))) return 'bad_checksum';
  for (let i = 42 + L; i < frame.length; i++) if (frame[i] !== 0) return 'nonzero_padding';
  return 'ok';
}

/** Whether "k intact shards rebuild" is claimed even with resealed shards among the blobs. */
const STRICT_RESEALED = process.env.LNPS_FUZZ_STRICT === '1';

// ---- Targets ----

export interface Target {
  name: string;
  what: string;
  /** A property over the given tally; `runs` is scaled per target (some inputs are costlier). */
  property(t: Tally): fc.IProperty<any>;
  cost: number;
}

export const TARGETS: Target[] = [
  {
    name: 'wire.valid',
    what: 'valid messages of every registered type decode and re-encode exactly',
    cost: 1,
    property: (t) => fc.property(anyWire, (w) => checkDecode(w, t)),
  },
  {
    name: 'wire.mutated',
    what: 'valid messages after 1-3 mutations (bit flips, truncation, extension, length edits, splices, retyping)',
    cost: 1,
    property: (t) =>
      fc.property(anyWire, fc.array(mutation(anyWire), { minLength: 1, maxLength: 3 }), (w, ms) => {
        let b = w;
        for (const m of ms) {
          b = mutate(b, m);
          checkDecode(b, t);
        }
      }),
  },
  {
    name: 'wire.random',
    what: 'random payloads behind every registered type, and random bytes',
    cost: 1,
    property: (t) =>
      fc.property(fc.oneof(fc.constantFrom(...Object.values(MSG_TYPE)), fc.nat(0xffff)), bytes(400), (type, payload) => {
        checkDecode(concatBytes(Uint8Array.from([type >>> 8, type & 0xff]), payload), t);
        checkDecode(payload, t);
      }),
  },
  {
    name: 'seal.open',
    what: 'sealed blobs after mutations: only the untouched bytes open, and to what was sealed',
    cost: 2,
    property: (t) =>
      fc.property(bytes(1500), seqArb, padding, fc.nat(), fc.array(mutation(bytes(120)), { minLength: 0, maxLength: 2 }), fc.boolean(), (pt, seq, pad, rs, ms, otherKey) => {
        const sealed = seal(pt, { seq, pad, key: KEY, random: seededBytes(rs) });
        let b: Uint8Array = sealed;
        for (const m of ms) b = mutate(b, m);
        t.inputs++;
        const r = open(b, otherKey ? OTHER_KEY : KEY);
        const same = !otherKey && equalBytes(b, sealed);
        if (r.ok !== same) throw new Error(`open gave ok=${r.ok} for ${same ? 'unchanged' : 'changed'} bytes (${b.length} bytes)`);
        if (r.ok) {
          t.accepted++;
          if (r.seq !== seq || !equalBytes(r.plaintext, pt) || r.version !== 1) throw new Error('open gave back other contents than were sealed');
        } else reject(t, r.reason);
      }),
  },
  {
    name: 'seal.frame',
    what: 'mutated frames sealed under a valid tag: open gives the reason an independent reading of the layout gives',
    cost: 2,
    property: (t) =>
      fc.property(
        bytes(1200),
        seqArb,
        fc.nat(2000),
        fc.constantFrom(1, 2, 1, 2, 0, 3, 255),
        fc.nat(),
        fc.array(mutation(bytes(60)), { minLength: 0, maxLength: 2 }),
        (pt, seq, extra, version, rs, ms) => {
          const frameLen = Math.min(42 + pt.length + extra, MAX_BLOB - 41);
          let frame: Uint8Array = buildFrame(pt, seq, frameLen);
          for (const m of ms) frame = mutate(frame, m);
          if (frame.length + 41 > 70000) frame = frame.subarray(0, 70000 - 41);
          const blob = sealFrame(frame as Frame, { key: KEY, nonce: seededBytes(rs)(24), version });
          t.inputs++;
          const r = open(blob, KEY);
          const want = expectedOpen(version, frame);
          const got = r.ok ? 'ok' : r.reason;
          if (got !== want) throw new Error(`open gave ${got}, the layout says ${want} (frame of ${frame.length} bytes, version ${version})`);
          if (r.ok) {
            t.accepted++;
            const again = buildFrame(r.plaintext, r.seq, frame.length);
            if (!equalBytes(again, frame)) throw new Error('an opened frame does not rebuild to the same bytes');
          } else reject(t, r.reason);
        },
      ),
  },
  {
    name: 'stripe.rebuild',
    what: 'striped shards dropped, duplicated, mutated, resealed with edited headers, mixed with junk and shuffled',
    cost: 8,
    property: (t) =>
      fc.property(
        bytes(2500),
        fc.integer({ min: 1, max: 4 }).chain((k) => fc.tuple(fc.constant(k), fc.integer({ min: k, max: k + 3 }))),
        seqArb,
        fc.nat(),
        fc.array(
          fc.oneof(
            fc.record({ op: fc.constant('keep' as const), i: fc.nat() }),
            fc.record({ op: fc.constant('mutate' as const), i: fc.nat(), m: mutation(bytes(60)) }),
            fc.record({ op: fc.constant('reheader' as const), i: fc.nat(), m: mutation(bytes(60)), seqDelta: fc.integer({ min: -1, max: 1 }) }),
            fc.record({ op: fc.constant('junk' as const), b: bytes(200) }),
          ),
          { maxLength: 10 },
        ),
        (backup, [k, n], seq, rs, ops) => {
          const random = seededBytes(rs);
          const s = stripe(backup, { k, n, seq, pad: 'none', key: KEY, random });
          const blobs: Uint8Array[] = [];
          const intact = new Set<number>();
          // A resealed shard carries a valid tag (only our key can make one): it may take a good
          // shard's index slot, so "k intact shards rebuild" is claimed only without them.
          const resealed = ops.some((o) => o.op === 'reheader');
          for (const op of ops) {
            if (op.op === 'junk') blobs.push(op.b);
            else {
              const idx = op.i % n;
              const shard = s.shards[idx]!;
              if (op.op === 'keep') {
                blobs.push(shard);
                intact.add(idx);
              } else if (op.op === 'mutate') {
                const m = mutate(shard, op.m);
                blobs.push(m);
                if (equalBytes(m, shard)) intact.add(idx);
              } else {
                // Open, edit the shard plaintext (its header or data), and seal it again with a valid tag.
                const r = open(shard, KEY);
                if (!r.ok) throw new Error('a fresh shard does not open');
                const edited = mutate(r.plaintext, op.m).subarray(0, 65448);
                const nseq = r.seq + BigInt(op.seqDelta);
                const seq2 = nseq < 0n || nseq > 0xffff_ffff_ffff_ffffn ? r.seq : nseq;
                blobs.push(seal(edited, { seq: seq2, pad: 'none', key: KEY, random, version: 2 }));
                if (equalBytes(edited, r.plaintext) && seq2 === r.seq) intact.add(idx);
              }
            }
          }
          t.inputs++;
          const r = rebuild(blobs, KEY);
          // Every blob is accounted for exactly once: used, found, or ignored with a reason.
          const seen = [...r.used, ...(r.found ?? []), ...r.ignored].map((u) => u.input).sort((a, b) => a - b);
          if (seen.join(',') !== blobs.map((_, i) => i).join(',')) throw new Error(`rebuild accounted for inputs [${seen.join(',')}] of ${blobs.length}`);
          if (r.ok) {
            t.accepted++;
            if (!equalBytes(r.backup!, backup)) throw new Error('rebuild gave bytes other than the backup that was striped');
          } else {
            reject(t, r.versions.length === 0 ? 'no_shard' : 'not_rebuilt');
            if (intact.size >= k && (STRICT_RESEALED || !resealed)) throw new Error(`rebuild failed with ${intact.size} intact distinct shards of ${k} needed: ${r.message}`);
          }
        },
      ),
  },
];

// ---- Running ----

export interface TargetReport {
  target: string;
  runs: number;
  inputs: number;
  accepted: number;
  rejected: Record<string, number>;
  ms: number;
  ok: boolean;
  /** On failure: the error, the counterexample and how to replay it. */
  failure?: string;
}

export interface FuzzOptions {
  seed: number;
  runs: number;
  /** Stop a target after this many ms (the runs done so far count). */
  timeLimitMs?: number;
  only?: string[];
}

export function fuzzTarget(target: Target, opts: FuzzOptions): TargetReport {
  const t = newTally();
  const numRuns = Math.max(1, Math.ceil(opts.runs / target.cost));
  const t0 = performance.now();
  const details = fc.check(target.property(t), {
    seed: opts.seed,
    numRuns,
    ...(opts.timeLimitMs !== undefined ? { interruptAfterTimeLimit: opts.timeLimitMs, markInterruptAsFailure: false } : {}),
  });
  const ms = performance.now() - t0;
  const report: TargetReport = { target: target.name, runs: details.numRuns, inputs: t.inputs, accepted: t.accepted, rejected: t.rejected, ms, ok: !details.failed };
  if (details.failed) {
    const err = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
    report.failure = `${err}\n  counterexample: ${fc.stringify(details.counterexample)}\n  replay: seed ${details.seed}, path "${details.counterexamplePath}"`;
  }
  return report;
}

export function fuzz(opts: FuzzOptions): TargetReport[] {
  return TARGETS.filter((t) => !opts.only || opts.only.includes(t.name)).map((t) => fuzzTarget(t, opts));
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  if (i >= 0) return process.argv[i + 1];
  const eq = process.argv.find((a) => a.startsWith(name + '='));
  return eq?.slice(name.length + 1);
}

async function main(): Promise<void> {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    process.stdout.write(`usage: npm run fuzz -- [--runs N] [--seed S] [--target NAME[,NAME]] [--time-limit SECONDS]\ntargets: ${TARGETS.map((t) => t.name).join(', ')}\n`);
    return;
  }
  const runsText = arg('--runs') ?? '100000';
  const seedText = arg('--seed');
  const limitText = arg('--time-limit');
  if (!/^\d+$/.test(runsText) || (seedText !== undefined && !/^-?\d+$/.test(seedText)) || (limitText !== undefined && !/^\d+$/.test(limitText))) {
    process.stderr.write('usage: npm run fuzz -- [--runs N] [--seed S] [--target NAME[,NAME]] [--time-limit SECONDS]\n');
    process.exitCode = 2;
    return;
  }
  const only = arg('--target')?.split(',');
  if (only) {
    const unknown = only.filter((n) => !TARGETS.some((t) => t.name === n));
    if (unknown.length > 0) {
      process.stderr.write(`unknown target ${unknown.join(', ')}; targets: ${TARGETS.map((t) => t.name).join(', ')}\n`);
      process.exitCode = 2;
      return;
    }
  }
  const seed = seedText !== undefined ? Number(seedText) | 0 : (Date.now() ^ (process.pid << 8)) | 0;
  const runs = Number(runsText);
  const timeLimitMs = limitText !== undefined ? Number(limitText) * 1000 : undefined;
  process.stdout.write(`lnps fuzz: seed ${seed}, ${runs} runs per target (heavier targets scaled down)${timeLimitMs ? `, at most ${limitText} s per target` : ''}\n`);
  let total = 0;
  let failed = 0;
  for (const t of TARGETS.filter((x) => !only || only.includes(x.name))) {
    const r = fuzzTarget(t, { seed, runs, timeLimitMs, only });
    total += r.inputs;
    const rej = Object.entries(r.rejected)
      .sort((a, b) => b[1] - a[1])
      .map(([c, n]) => `${c} ${n}`)
      .join(', ');
    process.stdout.write(
      `${r.ok ? 'ok  ' : 'FAIL'} ${t.name}: ${r.inputs} inputs in ${r.runs} runs, ${(r.ms / 1000).toFixed(1)} s; accepted ${r.accepted}; rejected: ${rej || 'none'}\n`,
    );
    if (!r.ok) {
      failed++;
      process.stdout.write(`     ${r.failure}\n`);
    }
  }
  process.stdout.write(`${failed === 0 ? 'no failure' : `${failed} target(s) FAILED`}: ${total} inputs tried, seed ${seed}\n`);
  if (failed > 0) process.exitCode = 1;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
