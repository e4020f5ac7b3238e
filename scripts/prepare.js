#!/usr/bin/env node
// The `prepare` step: compile src/ to dist/ with tsc, in every way npm may run it.
//
//   npm install / npm link / npm test  TypeScript is installed (a devDependency): build.
//   npm install -g . on a fresh clone   npm links the folder and runs prepare without installing
//                                       any dependency in it, so neither tsc nor commander is
//                                       there: install the locked dependencies (dev included,
//                                       scripts off) into the folder first, as npm itself does
//                                       before it prepares a git dependency, then build.
//   no tsc, but a build already there   (say `npm install --omit=dev` after a build) use it.
//   no sources (an installed package)   nothing to build.
//
// Plain JavaScript on purpose: it must run before anything is compiled.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const say = (line) => process.stderr.write(`lnps prepare: ${line}\n`);

function findTsc() {
  try {
    return createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc');
  } catch {
    return undefined;
  }
}

function run(cmd, args, env = process.env) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env });
  if (r.error) throw r.error;
  return r.status ?? 1;
}

function build(tsc) {
  const code = run(process.execPath, [tsc, '-p', 'tsconfig.json']);
  if (code !== 0) process.exit(code);
}

/** `npm ci` in this folder, as a local install whatever the outer npm was asked to do. */
function installHere() {
  const npm = process.env.npm_execpath;
  if (!npm) return false;
  const env = {};
  // The outer npm passes its own settings down (global=true, its prefix): a local install
  // into this folder must not inherit them, or it would install into the global prefix.
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^npm_config_(global|global_prefix|local_prefix|prefix|location)$/i.test(k)) env[k] = v;
  }
  say('no dependencies in this folder (a global install of a clone): installing them here to build');
  const args = [npm, 'ci', '--include=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--location=project', `--prefix=${root}`];
  return run(process.execPath, args, env) === 0;
}

const hasSources = existsSync(join(root, 'src', 'cli.ts')) && existsSync(join(root, 'tsconfig.json'));
const built = existsSync(join(root, 'dist', 'src', 'cli.js'));
const hasRuntimeDeps = existsSync(join(root, 'node_modules', 'commander', 'package.json'));

if (!hasSources) {
  process.exit(0);
}
let tsc = findTsc();
if (tsc) {
  build(tsc);
} else if (!hasRuntimeDeps && installHere() && (tsc = findTsc())) {
  build(tsc);
} else if (built && hasRuntimeDeps) {
  say('TypeScript is not installed here; using the build already in dist/');
} else {
  say('cannot build: TypeScript is not installed and there is no build in dist/. Run `npm install` in this folder first.');
  process.exit(1);
}
