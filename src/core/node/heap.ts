// How the `lnps serve` process holds its memory while peers stream full-size messages at it.
// bin/lnps.js calls tuneHeapForServing() first thing when the command is `serve`, before the
// CLI's modules load: the young generation grows while they load, and cannot shrink back.
//
// Each 65535-byte message leaves a buffer that Node allocates with malloc, outside V8's heap:
// the plaintext node:crypto returns (no public API decrypts into a caller's buffer). Sockets
// read through 'data' events add a second one, the socket read (the transport's own sockets
// read into reused buffers instead: transport/reader.ts). Both are freed only when V8 collects
// their ArrayBuffer objects. V8 counts the external memory allocated since its last full
// collection against the old generation's limit, so a flood of such buffers started full
// mark-compacts (about 7 per 2000 messages, on the main and helper threads) unless scavenges
// freed them first. bench/serve-cpu.ts measures it; BENCHMARKS.md,
// "transport: the running node", has the figures. What is set, all read by V8 at run time:
// - `--semi-space-growth-factor=1`: the young generation stays at its initial 1 MiB semi-space
//   instead of growing to 16 MiB while the CLI's modules load, so scavenges come every few
//   hundred messages and free the buffers while they are few (`--max-semi-space-size` is read
//   only when the heap is set up, hence the growth factor);
// - `--no-concurrent-array-buffer-sweeping`: the buffers a scavenge found dead are freed, and
//   uncounted, during that scavenge rather than later on a helper thread, so the count V8
//   compares with the limit falls at once;
// - `--heap-growing-percent=300`: the old generation's limit is 4 times its live size, the
//   largest factor V8 picks by itself, instead of falling toward its 1.1 minimum once full
//   collections come often (which made them come more often still). With a ~10 MiB heap that
//   leaves room for the ~32 MiB of buffers V8 lets pile up between two scavenges.
// And for the C library: glibc gives the top of its heap back to the kernel (brk) once more
// than its trim threshold, 128 KiB by default, is free there. Each scavenge frees several MiB
// of these buffers at once, so the heap shrank and grew about 90 times per 2000 messages, and
// every regrowth faulted its pages in again (2,000 to 5,000 page faults per flood). glibc
// raises the trim threshold to twice the size of the largest mmap'ed block freed so far (at
// most 32 MiB, so 64 MiB): allocating one 31 MiB buffer and dropping it does that. Its pages
// are never touched, so it costs no memory. Other C libraries ignore it harmlessly.
// Together: about 0.40 s of CPU per 2000-message flood before, 0.14 s after, against 0.10 s
// for node:crypto's decryption alone.
import { setFlagsFromString } from 'node:v8';

/** V8 flags read at run time, each time they apply; the notes above say what each is for. */
export const SERVING_V8_FLAGS = ['--semi-space-growth-factor=1', '--no-concurrent-array-buffer-sweeping', '--heap-growing-percent=300'] as const;
/** Just under glibc's largest dynamic mmap threshold (32 MiB on 64-bit). */
export const ALLOCATOR_RAISE_BYTES = 31 * 1024 * 1024;

/**
 * True when `argv` (process.argv) runs `serve`: the long-lived process the tuning is for. A
 * stray `serve` elsewhere on the command line only tunes a short command, which is harmless.
 */
export function runsServe(argv: readonly string[]): boolean {
  return argv.slice(2).includes('serve');
}

/** Set up this process's heap for a streaming server; see the notes at the top of this file. */
export function tuneHeapForServing(): void {
  for (const flag of SERVING_V8_FLAGS) setFlagsFromString(flag);
  // Freed at the next scavenge, which raises glibc's thresholds as it goes.
  Buffer.allocUnsafeSlow(ALLOCATOR_RAISE_BYTES);
}
