// The BOLT #1 wire codec: BigSize, TLV streams, feature vectors, and the messages lnps speaks.
// Pure bytes: no I/O, no printing. Every decoder is total (DecodeError or a value).
export { Reader } from './reader.js';
export { BIGSIZE_MAX, readBigSize, decodeBigSize, encodeBigSize, bigSizeLength, writeBigSize } from './bigsize.js';
export { readTlvStream, decodeTlvStream, encodeTlvStream, checkTlvRecords, tlvStreamLength, writeTlvStream } from './tlv.js';
export type { TlvRecord, TlvNamespace, TlvValueCheck } from './tlv.js';
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
export { CHAIN_HASH, chainHashByName, chainName } from './chains.js';
export type { ChainName } from './chains.js';
export { MAX_MESSAGE_LEN, defineMessage } from './codec.js';
export type { FieldCodec, MessageCodec, MessageDef, TlvField } from './codec.js';
export { MAX_BLOB_LEN, PEER_STORAGE, peerStorage } from './peer-storage.js';
export type { PeerStorage } from './peer-storage.js';
export { PEER_STORAGE_RETRIEVAL, peerStorageRetrieval } from './peer-storage-retrieval.js';
export type { PeerStorageRetrieval } from './peer-storage-retrieval.js';
export { INIT, initMessage, describeAddress } from './init.js';
export type { InitMessage } from './init.js';
export { ERROR, errorMessage } from './error.js';
export type { ErrorMessage } from './error.js';
export { WARNING, warningMessage } from './warning.js';
export type { WarningMessage } from './warning.js';
export { PING, PING_NO_PONG, ping, pingWantsPong } from './ping.js';
export type { Ping } from './ping.js';
export { PONG, pong } from './pong.js';
export type { Pong } from './pong.js';
export { MSG_ALIASES, MSG_TYPE, REGISTRY, decodeMessage, encodeMessage, messageTypeByName } from './registry.js';
export type { KnownMessage, KnownName, Message, UnknownMessage } from './registry.js';
export { isPrintableAscii, messageFromJson, messageToJson } from './json.js';
export type { JsonObject } from './json.js';
