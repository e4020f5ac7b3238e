// The node's view of the parts it drives. Each is a narrow interface, so the peer logic can be
// exercised over an in-memory pipe in tests and the adapters (wire, transport, store) stay in
// one place each.

/** A whole-message connection to one authenticated peer (BOLT #8 below it). */
export interface MessageConn {
  /** The peer's 33-byte compressed node key, proven by the handshake. */
  readonly remotePubkey: Uint8Array;
  /** Send one whole message; resolves when the transport accepted it (backpressure). */
  send(msg: Uint8Array): Promise<void>;
  /** The next whole message, or null once the connection is closed. */
  read(): Promise<Uint8Array | null>;
  close(): void;
  /** Remote address for logs, when known. */
  readonly remoteAddress?: string | undefined;
}

/** The messages the node acts on, decoded. Everything else arrives as `other` or `unknown`. */
export type NodeMsg =
  /** `features`: the set bits up to 1023 only; `featureCount`: every set bit of the vector. */
  | { kind: 'init'; features: ReadonlySet<number>; featureCount?: number; networks: Uint8Array[] | undefined }
  | { kind: 'ping'; numPongBytes: number; ignoredLen: number }
  | { kind: 'pong'; ignoredLen: number }
  | { kind: 'peer_storage'; blob: Uint8Array }
  | { kind: 'peer_storage_retrieval'; blob: Uint8Array }
  | { kind: 'warning'; text: string }
  | { kind: 'error'; text: string }
  /** A type the wire layer knows but the node has no use for (channel messages, ...). */
  | { kind: 'other'; type: number; name: string }
  /** A type nobody here knows: odd is ignored, even fails the connection (BOLT #1). */
  | { kind: 'unknown'; type: number };

/** Encodes and decodes NodeMsg; `decode` throws only DecodeError on malformed known messages. */
export interface NodeCodec {
  decode(bytes: Uint8Array): NodeMsg;
  init(opts: { features: number[]; chainHash: Uint8Array }): Uint8Array;
  ping(numPongBytes: number, ignoredLen: number): Uint8Array;
  pong(len: number): Uint8Array;
  warning(text: string): Uint8Array;
  peerStorage(blob: Uint8Array): Uint8Array;
  peerStorageRetrieval(blob: Uint8Array): Uint8Array;
}

/** What the provider service does with a peer's blob, as far as the node logs it. */
export interface ReceiveOutcome {
  /** stored now, pending behind the cooldown, or refused */
  status: string;
  reason?: string | undefined;
  detail?: string | undefined;
}

/** The provider side (issue 3's service), called per peer; it never sees the transport. */
export interface ProviderPort {
  receive(peer: Uint8Array, blob: Uint8Array, now: number): Promise<ReceiveOutcome> | ReceiveOutcome;
  retrieval(peer: Uint8Array): Promise<Uint8Array | undefined> | Uint8Array | undefined;
  flush(): Promise<unknown> | unknown;
}

/** What a peer gave back after init; `none`: no peer_storage_retrieval within the wait. */
export type RetrievalStatus = 'confirmed' | 'stale' | 'corrupt' | 'foreign' | 'none';

/** Our newest sealed backup, ready to hand to peers. */
export interface OwnBlob {
  seq: bigint;
  sealed: Uint8Array;
  sha256: Uint8Array;
}

/** The consumer side: our own backups and what each peer holds of them. */
export interface ConsumerPort {
  /** The newest sealed blob we want `peer` to hold, if any (the same for every peer unless striped). */
  newest(peer?: Uint8Array): Promise<OwnBlob | undefined> | OwnBlob | undefined;
  /** Verify a returned blob, classify it, and keep it when it is the newest valid one. */
  /** `recorded: false` when the peer was never sent a blob: judged, counted, not stored. */
  onRetrieval(peer: Uint8Array, blob: Uint8Array, now: number): Promise<{ status: RetrievalStatus; seq?: bigint | undefined; detail?: string | undefined; recorded?: boolean | undefined }>;
  /** Record that we sent `blob` to `peer`. */
  recordSent(peer: Uint8Array, blob: OwnBlob, now: number): Promise<void> | void;
  /** The peer's init arrived: is it refused for placement (a refusal on record with the same features, or no storage bit)? */
  onInit?(peer: Uint8Array, features: readonly number[], providesStorage: boolean, now: number): Promise<{ refused?: string | undefined }> | { refused?: string | undefined };
  /** The peer sent no peer_storage_retrieval within the wait after init. */
  onNoRetrieval?(peer: Uint8Array, now: number, connectedAt: number): Promise<void> | void;
  /** The peer refused what we sent it (a warning about peer_storage after our blob). */
  onRefusal?(peer: Uint8Array, reason: string, features: readonly number[], now: number): Promise<void> | void;
  /** The operator asks to place with this peer again, refusal or not. */
  forgetRefusal?(peer: Uint8Array): Promise<void> | void;
}

/**
 * Events the node reports as they happen, for metrics. Every label a sink may derive from them
 * is from a closed set (a direction, an outcome, a refusal reason): never a peer or an address.
 */
export interface NodeEvents {
  /** A peer_storage message taken in: stored now, pending behind the cooldown, refused (with the reason), or failed. */
  peerStorage(status: string, reason?: string | undefined): void;
  /** A BOLT #8 handshake finished (ok) or did not (failed, timed out, the dial failed). */
  handshake(direction: 'inbound' | 'outbound', ok: boolean): void;
  /** A connection became active (init exchanged). */
  connection(direction: 'inbound' | 'outbound'): void;
  /** An inbound connection turned away before any key work (connection limits). */
  inboundRefused(): void;
}
