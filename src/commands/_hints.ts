// Error hints that repeat the context the user gave. A core error says what to do in general
// ("run `lnps create`"); here, where the command line is known, the hint gets the flags the user
// actually used, and a node running on another network of the same data directory is named.
import { NETWORKS, databasesIn, nodePaths } from '../core/datadir.js';
import { runningNodesIn } from '../core/node/pidfile.js';
import { StoreError } from '../core/errors.js';

/** The value of a global flag as given (`--flag V` or `--flag=V`), the last one winning. */
function flagValue(args: readonly string[], flag: string): string | undefined {
  let v: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') break;
    if (a === flag && i + 1 < args.length) v = args[++i];
    else if (a.startsWith(flag + '=')) v = a.slice(flag.length + 1);
  }
  return v;
}

/** Quote a shell word only when it needs it. */
function shellWord(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * The message of `err` with its hint completed from the command line `args`. Only a suggested
 * `lnps create`, a missing database and a missing node get more; other messages are kept as they are.
 */
export function withContext(err: unknown, message: string, args: readonly string[]): string {
  if (!(err instanceof StoreError)) return message;
  // Every "run `lnps create`" gets the flags the user gave, so the suggestion is the right one.
  if (message.includes('`lnps create`')) {
    const flags: string[] = [];
    const d = flagValue(args, '--datadir');
    if (d !== undefined) flags.push('--datadir', shellWord(nodePaths({ datadir: d }).datadir));
    const n = flagValue(args, '--network');
    if (n !== undefined) flags.push('--network', shellWord(n));
    const k = flagValue(args, '--key-file');
    if (k !== undefined) flags.push('--key-file', shellWord(nodePaths({ keyFile: k }).keyPath));
    message = message.replace('`lnps create`', `\`${['lnps create', ...flags].join(' ')}\``);
  }
  if (!err.notFoundIn) return message;
  const { what, datadir, network } = err.notFoundIn;
  // The user may have forgotten --network: name what does run, or exist, elsewhere in the datadir.
  const others = NETWORKS.filter((n) => n !== network);
  const running = runningNodesIn(datadir, others);
  if (running.length > 0) {
    const list = running.map((r) => `${r.network} (pid ${r.pid})`).join(', ');
    const add = running.length === 1 ? `: add --network ${running[0]!.network}` : ': add --network with one of them';
    return `${message}; a node is running in ${datadir} on ${list}${add}`;
  }
  if (what === 'database') {
    const dbs = databasesIn(datadir).filter((n) => n !== network);
    if (dbs.length > 0) return `${message}, or add --network ${dbs.join(' or --network ')} (${datadir} has a database for ${dbs.join(', ')})`;
  }
  return message;
}
