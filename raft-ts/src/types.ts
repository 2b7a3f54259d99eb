/**
 * The data types of raft-ts: messages, log entries, persistent state, snapshots and the
 * shapes handed to the application in a `Ready`.
 *
 * These are plain objects so the library stays free of any serialization format; the
 * host (Shoal's storage node, the metaserver) maps them to its own wire format.
 */

/**
 * Branded numeric identifiers. The brand is a string-literal property, so the same
 * declaration in `@shoal/common` is structurally identical and the two interoperate
 * without this library depending on anything.
 */
export type Term = number & { readonly __brand: 'Term' };
export type LogIndex = number & { readonly __brand: 'LogIndex' };
export type PeerId = number & { readonly __brand: 'PeerId' };

/** `PeerId` 0 means "nobody": no vote cast, no known leader. */
export const NO_PEER = 0 as PeerId;

/** Message kinds. Numbers are stable: they go on the wire. */
export const MessageType = {
  /** Local: start an election (sent to self by tick or campaign()). */
  Hup: 0,
  /** Local: leader should broadcast heartbeats. */
  Beat: 1,
  /** A proposal (local, or forwarded from a follower to the leader). */
  Prop: 2,
  App: 3,
  AppResp: 4,
  Vote: 5,
  VoteResp: 6,
  Snap: 7,
  Heartbeat: 8,
  HeartbeatResp: 9,
  /** Local: the transport reports `from` as unreachable. */
  Unreachable: 10,
  /** Local: the transport reports the outcome of sending a snapshot (`reject` = failed). */
  SnapStatus: 11,
  /** Local: leader checks that a quorum was recently active. */
  CheckQuorum: 12,
  /** Local or forwarded: transfer leadership to `from`. */
  TransferLeader: 13,
  TimeoutNow: 14,
  ReadIndex: 15,
  ReadIndexResp: 16,
  PreVote: 17,
  PreVoteResp: 18,
} as const;
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

export const EntryType = {
  Normal: 0,
  /** `data` holds an encoded `ConfChange` (see conf-change.ts). */
  ConfChange: 1,
} as const;
export type EntryType = (typeof EntryType)[keyof typeof EntryType];

export interface Entry {
  readonly term: Term;
  readonly index: LogIndex;
  readonly type: EntryType;
  /** Opaque to raft. An empty Normal entry is the no-op a new leader appends. */
  readonly data: Uint8Array;
}

/** What must be persisted before any message of the same Ready is sent. */
export interface HardState {
  readonly term: Term;
  readonly vote: PeerId;
  readonly commit: LogIndex;
}

/**
 * Group membership. While a joint configuration is active, `votersOutgoing` is non-empty
 * and decisions need a quorum of both `voters` and `votersOutgoing`.
 */
export interface ConfState {
  readonly voters: readonly PeerId[];
  readonly learners: readonly PeerId[];
  readonly votersOutgoing: readonly PeerId[];
  /** Learners that become learners once the joint configuration is left (demoted voters). */
  readonly learnersNext: readonly PeerId[];
  /** Whether the joint configuration is left automatically once committed. */
  readonly autoLeave: boolean;
}

export interface SnapshotMetadata {
  readonly confState: ConfState;
  readonly index: LogIndex;
  readonly term: Term;
}

export interface Snapshot {
  /** Opaque application payload (Shoal sends a descriptor here; bulk data streams separately). */
  readonly data: Uint8Array;
  readonly metadata: SnapshotMetadata;
}

export interface Message {
  readonly type: MessageType;
  readonly to: PeerId;
  readonly from: PeerId;
  readonly term: Term;
  /** Term of the entry at `index` (App), or of the candidate's last entry (Vote/PreVote). */
  readonly logTerm: Term;
  readonly index: LogIndex;
  readonly entries: readonly Entry[];
  readonly commit: LogIndex;
  readonly snapshot: Snapshot | null;
  readonly reject: boolean;
  /** On a rejected AppResp: the follower's hint of where the logs may match. */
  readonly rejectHint: LogIndex;
  /** ReadIndex request context, or a campaign-transfer marker on Vote/PreVote. */
  readonly context: Uint8Array;
}

export const ConfChangeType = {
  AddNode: 0,
  RemoveNode: 1,
  AddLearnerNode: 2,
} as const;
export type ConfChangeType = (typeof ConfChangeType)[keyof typeof ConfChangeType];

export const ConfChangeTransition = {
  /** Single change: applied directly when safe; several changes: joint, left automatically. */
  Auto: 0,
  /** Always enter a joint configuration, leave it automatically. */
  JointImplicit: 1,
  /** Always enter a joint configuration, leave it only with an empty ConfChange. */
  JointExplicit: 2,
} as const;
export type ConfChangeTransition = (typeof ConfChangeTransition)[keyof typeof ConfChangeTransition];

export interface ConfChangeSingle {
  readonly type: ConfChangeType;
  readonly peerId: PeerId;
}

/**
 * A membership change. An empty `changes` list means "leave the current joint
 * configuration".
 */
export interface ConfChange {
  readonly transition: ConfChangeTransition;
  readonly changes: readonly ConfChangeSingle[];
  readonly context: Uint8Array;
}

export const StateRole = {
  Follower: 0,
  Candidate: 1,
  Leader: 2,
  PreCandidate: 3,
} as const;
export type StateRole = (typeof StateRole)[keyof typeof StateRole];

/** Volatile state that is useful to the host (logging, routing) but need not be persisted. */
export interface SoftState {
  readonly lead: PeerId;
  readonly role: StateRole;
}

/** A linearizable read is safe to serve once the local applied index reaches `index`. */
export interface ReadState {
  readonly index: LogIndex;
  readonly requestCtx: Uint8Array;
}

/**
 * Everything the host must do after the node changed. The host must, in this order:
 *  1. persist `snapshot` (if any), then `entries`, then `hardState` (if any) — durably
 *     (fsync) when `mustSync` is true;
 *  2. send `messages`;
 *  3. apply `committedEntries` in order (after installing `snapshot`);
 *  4. call `advance()`.
 */
export interface Ready {
  readonly softState: SoftState | null;
  readonly hardState: HardState | null;
  readonly readStates: readonly ReadState[];
  readonly entries: readonly Entry[];
  readonly snapshot: Snapshot | null;
  readonly committedEntries: readonly Entry[];
  readonly messages: readonly Message[];
  readonly mustSync: boolean;
}

/** Failures of a Storage lookup, as values: they are expected, not exceptional. */
export type StorageError = 'compacted' | 'unavailable';

/**
 * The log storage raft reads from. The host writes to it (append, hard state, snapshot)
 * while handling a Ready; raft only reads. Must return entries it has accepted from a
 * Ready even if not yet fsynced.
 */
export interface Storage {
  initialState(): { hardState: HardState; confState: ConfState };
  /** Entries in [lo, hi), at least one if any exist, and at most `bytesMax` beyond the first. */
  entries(lo: LogIndex, hi: LogIndex, bytesMax: number): readonly Entry[] | StorageError;
  /** Term of entry i, for i in [firstIndex()-1, lastIndex()]. */
  term(i: LogIndex): Term | StorageError;
  lastIndex(): LogIndex;
  /** Index of the first entry that may be available (snapshot index + 1). */
  firstIndex(): LogIndex;
  /** The latest snapshot, or 'temporarily-unavailable' while the host builds one. */
  snapshot(): Snapshot | 'temporarily-unavailable';
}

/** Injected randomness: raft never touches a global random source. */
export interface Rand {
  /** A uniformly distributed integer in [0, n). */
  intn(n: number): number;
}

export interface Logger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

export const ReadOnlyOption = {
  /** ReadIndex: confirm leadership with a heartbeat round per read batch. */
  Safe: 0,
  /** Lease: a heartbeat round per lease period (electionTimeout - 1 ticks); assumes bounded clock drift (see doc.ts). */
  LeaseBased: 1,
} as const;
export type ReadOnlyOption = (typeof ReadOnlyOption)[keyof typeof ReadOnlyOption];
