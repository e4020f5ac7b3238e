// The BOLT #1 wire codec: BigSize, TLV streams, feature vectors, and the messages lnps speaks.
// Pure bytes: no I/O, no printing. Every decoder is total (DecodeError or a value).
export { Reader } from './codec.js';
export { BIGSIZE_MAX, readBigSize, decodeBigSize, encodeBigSize, bigSizeLength, writeBigSize } from './codec.js';
export { readTlvStream, decodeTlvStream, encodeTlvStream, checkTlvRecords, tlvStreamLength, writeTlvStream } from './codec.js';
export type { TlvRecord, TlvNamespace, TlvValueCheck } from './codec.js';
export {
  FEATURE_NAMES,
  MAX_FEATURE_BIT,
  OPTION_PROVIDE_STORAGE_OPTIONAL,
  OPTION_PROVIDE_STORAGE_REQUIRED,
  encodeFeatures,
  featureBitByName,
  featureBits,
  featureName,
  hasFeature,
  minimalFeatureLength,
  offersProvideStorage,
} from './features.js';
export { CHAIN_HASH, chainHashByName, chainName } from './registry.js';
export type { ChainName } from './registry.js';
export { MAX_MESSAGE_LEN, defineMessage } from './codec.js';
export type { FieldCodec, MessageCodec, MessageDef, TlvField } from './codec.js';
export { MAX_BLOB_LEN, PEER_STORAGE, peerStorage } from './registry.js';
export type { PeerStorage } from './registry.js';
export { PEER_STORAGE_RETRIEVAL, peerStorageRetrieval } from './registry.js';
export type { PeerStorageRetrieval } from './registry.js';
export { INIT, initMessage, describeAddress } from './registry.js';
export type { InitMessage } from './registry.js';
export { ERROR, errorMessage } from './registry.js';
export type { ErrorMessage } from './registry.js';
export { WARNING, warningMessage } from './registry.js';
export type { WarningMessage } from './registry.js';
export { PING, PING_NO_PONG, ping, pingWantsPong } from './registry.js';
export type { Ping } from './registry.js';
export { PONG, pong } from './registry.js';
export type { Pong } from './registry.js';
export { MSG_ALIASES, MSG_TYPE, REGISTRY, decodeMessage, encodeMessage, messageTypeByName } from './registry.js';
export type { KnownMessage, KnownName, Message, UnknownMessage } from './registry.js';
export { isPrintableAscii, messageFromJson, messageToJson } from './json.js';
export type { JsonObject } from './json.js';
