/**
 * A read-only view of a peer's state for the host: logging, routing, metrics and deciding
 * whether a group may hibernate.
 */
import type { ConfState, HardState, LogIndex, PeerId, SoftState } from './types.js';

/** How the leader currently replicates to a follower. */
export type ProgressStateName = 'probe' | 'replicate' | 'snapshot';

export interface ProgressStatus {
  readonly match: LogIndex;
  readonly next: LogIndex;
  readonly state: ProgressStateName;
  /** Snapshot index being sent while state is 'snapshot', else 0. */
  readonly pendingSnapshot: LogIndex;
  /** Heard from since the last check-quorum round. */
  readonly recentActive: boolean;
  /** In probe state: a probe is outstanding and the next one waits for a heartbeat response. */
  readonly msgAppFlowPaused: boolean;
  readonly inflightCount: number;
  readonly inflightBytes: number;
  readonly isLearner: boolean;
}

export interface Status {
  readonly id: PeerId;
  readonly hardState: HardState;
  readonly softState: SoftState;
  readonly applied: LogIndex;
  /** Last index in the log (stable or not). */
  readonly lastIndex: LogIndex;
  readonly config: ConfState;
  /** The leader's view of every peer (including itself); null unless this peer leads. */
  readonly progress: ReadonlyMap<PeerId, ProgressStatus> | null;
  /** Target of an ongoing leadership transfer, or NO_PEER. */
  readonly leadTransferee: PeerId;
}
