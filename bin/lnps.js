#!/usr/bin/env node
// Runs the compiled CLI (npm install builds it); never a TypeScript loader at run time.
import { main } from '../dist/src/cli.js';

// `lnps listpeerstorage | head` closes the pipe early: that is not an error.
process.stdout.on('error', (err) => {
  if (err && err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`lnps: internal error: ${err && err.message ? err.message : String(err)}\n`);
    process.exitCode = 70;
  },
);
