// `PUBKEY@HOST:PORT`, the way operators name a peer to dial.
import { UsageError } from '../errors.js';
import { parsePubkey } from '../keys.js';
import { LNPS_DEFAULT_PORT, parseHostPort } from './config.js';

/**
 * Parse `PUBKEY@HOST:PORT`. The port defaults to lnps's own (9737): the peers an lnps node dials
 * are other lnps nodes; a Lightning node on 9735 needs its port written out.
 */
export function parsePeerAddress(s: string): { pubkey: Uint8Array; host: string; port: number } {
  const at = s.indexOf('@');
  if (at < 0) throw new UsageError(`expected PUBKEY@HOST:PORT, got ${JSON.stringify(s.length > 120 ? s.slice(0, 120) + '…' : s)}`);
  const pubkey = parsePubkey(s.slice(0, at), 'peer public key');
  const { host, port } = parseHostPort(s.slice(at + 1), 'peer address', LNPS_DEFAULT_PORT);
  if (port === 0) throw new UsageError('peer address: port 0 is not a port to dial');
  return { pubkey, host, port };
}
