#!/usr/bin/env node
// Runs the compiled CLI (npm install builds it); never a TypeScript loader at run time.
import { main } from '../dist/src/cli.js';
import { onStdoutError } from '../dist/src/pipes.js';
import { usePrivateUmask } from '../dist/src/core/umask.js';

// Files and directories of a node are private (0600 / 0700) whatever the shell's umask.
usePrivateUmask();

// `lnps listpeerstorage | head` closes the pipe early: that is not an error (and `lnps serve`
// keeps running when it happens; see src/pipes.ts).
process.stdout.on('error', onStdoutError);

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`lnps: internal error: ${err && err.message ? err.message : String(err)}\n`);
    process.exitCode = 70;
  },
);
