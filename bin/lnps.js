#!/usr/bin/env node
// Runs the compiled CLI (npm install builds it); never a TypeScript loader at run time.
import { main } from '../dist/src/cli.js';

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`lnps: internal error: ${err && err.message ? err.message : String(err)}\n`);
    process.exitCode = 70;
  },
);
