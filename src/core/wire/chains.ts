// Chain hashes as they appear on the wire in init's `networks` TLV: the genesis block hash in
// the byte order the hash function outputs it. BOLT #0: "Unlike bitcoin-cli, the hash is not
// reversed but is used directly" (mainnet: 6fe28c0a...0000000000).
import { fromHex, toHex } from '../bytes.js';

export type ChainName = 'mainnet' | 'testnet' | 'signet' | 'regtest';

const WIRE_HEX: Record<ChainName | 'testnet4', string> = {
  mainnet: '6fe28c0ab6f1b372c1a6a246ae63f74f931e8365e15a089c68d6190000000000',
  testnet: '43497fd7f826957108f4a30fd9cec3aeba79972084e90ead01ea330900000000', // testnet3
  signet: 'f61eee3b63a380a477a063af32b2bbc97c9ff9f01f2c4225e973988108000000', // the default signet
  regtest: '06226e46111a0b59caaf126043eb5bbf28c34f3a5e332a1fc7b2b73cf188910f',
  testnet4: '43f08bdab050e35b567c864b91f47f50ae725ae2de53bcfbbaf284da00000000',
};

export const CHAIN_HASH: Readonly<Record<ChainName, Uint8Array>> = Object.freeze({
  mainnet: fromHex(WIRE_HEX.mainnet),
  testnet: fromHex(WIRE_HEX.testnet),
  signet: fromHex(WIRE_HEX.signet),
  regtest: fromHex(WIRE_HEX.regtest),
});

const BY_HEX = new Map(Object.entries(WIRE_HEX).map(([name, hex]) => [hex, name]));

/** Name of a chain hash in wire order (`testnet4` included), or undefined. */
export function chainName(hash: Uint8Array): string | undefined {
  return hash.length === 32 ? BY_HEX.get(toHex(hash)) : undefined;
}

/** Chain hash by name (the four of CHAIN_HASH and `testnet4`). */
export function chainHashByName(name: string): Uint8Array | undefined {
  const hex = (WIRE_HEX as Record<string, string>)[name];
  return hex === undefined ? undefined : fromHex(hex);
}
