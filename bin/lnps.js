#!/usr/bin/env node
// Runs the compiled CLI (npm install builds it); never a TypeScript loader at run time.
import { onStdoutError } from '../dist/src/pipes.js';
import { usePrivateUmask } from '../dist/src/core/umask.js';
import { runsServe, tuneHeapForServing } from '../dist/src/core/node/heap.js';

// Files and directories of a node are private (0600 / 0700) whatever the shell's umask.
usePrivateUmask();

// `lnps serve` streams full-size messages from its peers: its heap is set up for that before
// the CLI's modules load (src/core/node/heap.ts says why it must be this early).
if (runsServe(process.argv)) tuneHeapForServing();

// `lnps listpeerstorage | head` closes the pipe early: that is not an error (and `lnps serve`
// keeps running when it happens; see src/pipes.ts).
process.stdout.on('error', onStdoutError);

const { main } = await import('../dist/src/cli.js');
main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`lnps: internal error: ${err && err.message ? err.message : String(err)}\n`);
    process.exitCode = 70;
  },
);
