/**
 * The leader's view of one follower's log and how it currently replicates to it.
 *
 * States (etcd's tracker): Probe sends one App at a time until the follower's match
 * index is known; Replicate pipelines App messages optimistically within the inflight
 * window; Snapshot waits for a snapshot transfer and sends nothing else.
 *
 * Invariant: match < next. In Replicate, next - 1 is the last index sent.
 */
import { Inflights } from './inflights.js';
import type { LogIndex } from './types.js';
import type { ProgressStateName } from './status.js';

export const ProgressState = { Probe: 0, Replicate: 1, Snapshot: 2 } as const;
export type ProgressState = (typeof ProgressState)[keyof typeof ProgressState];

export function progressStateName(s: ProgressState): ProgressStateName {
  return s === ProgressState.Probe ? 'probe' : s === ProgressState.Replicate ? 'replicate' : 'snapshot';
}

export class Progress {
  match: LogIndex;
  next: LogIndex;
  state: ProgressState = ProgressState.Probe;
  /** While in Snapshot: the index of the snapshot being sent. */
  pendingSnapshot: LogIndex = 0 as LogIndex;
  /** Heard from since the last check-quorum round (leader only). */
  recentActive: boolean;
  /**
   * No App may be sent: in Probe, one probe is outstanding; in Replicate, the inflight
   * window is full. Cleared by an AppResp or a HeartbeatResp.
   */
  msgAppFlowPaused = false;
  /** Highest commit index sent to this follower (in App or Heartbeat). */
  sentCommit: LogIndex = 0 as LogIndex;
  readonly inflights: Inflights;
  isLearner: boolean;

  constructor(next: LogIndex, inflights: Inflights, isLearner: boolean, recentActive: boolean) {
    this.match = 0 as LogIndex;
    this.next = next;
    this.inflights = inflights;
    this.isLearner = isLearner;
    this.recentActive = recentActive;
  }

  private resetState(state: ProgressState): void {
    this.msgAppFlowPaused = false;
    this.pendingSnapshot = 0 as LogIndex;
    this.state = state;
    this.inflights.reset();
  }

  /** After a snapshot, probing resumes right after it (the follower most likely has it). */
  becomeProbe(): void {
    if (this.state === ProgressState.Snapshot) {
      const pending = this.pendingSnapshot;
      this.resetState(ProgressState.Probe);
      this.next = Math.max(this.match + 1, pending + 1) as LogIndex;
    } else {
      this.resetState(ProgressState.Probe);
      this.next = (this.match + 1) as LogIndex;
    }
    this.sentCommit = Math.min(this.sentCommit, this.next - 1) as LogIndex;
  }

  becomeReplicate(): void {
    this.resetState(ProgressState.Replicate);
    this.next = (this.match + 1) as LogIndex;
  }

  becomeSnapshot(snapshotIndex: LogIndex): void {
    this.resetState(ProgressState.Snapshot);
    this.pendingSnapshot = snapshotIndex;
    this.next = (snapshotIndex + 1) as LogIndex;
  }

  /**
   * Records an App carrying `entries` entries (of `bytes` bytes) starting at `next`. In
   * Replicate, next advances optimistically; in Probe, further sends wait for a reply.
   */
  sentEntries(entries: number, bytes: number): void {
    if (this.state === ProgressState.Replicate) {
      if (entries > 0) {
        this.next = (this.next + entries) as LogIndex;
        this.inflights.add(this.next - 1, bytes);
      }
      this.msgAppFlowPaused = this.inflights.full();
    } else if (this.state === ProgressState.Probe) {
      if (entries > 0) this.msgAppFlowPaused = true;
    }
  }

  sentCommitIndex(commit: LogIndex): void {
    this.sentCommit = commit;
  }

  /** Whether sending `commit` could advance the follower's commit index. */
  canBumpCommit(commit: LogIndex): boolean {
    return commit > this.sentCommit && this.sentCommit < this.next - 1;
  }

  /** An AppResp acknowledged up to `n`. Returns whether match advanced. */
  maybeUpdate(n: LogIndex): boolean {
    if (n <= this.match) return false;
    this.match = n;
    if (this.next < n + 1) this.next = (n + 1) as LogIndex;
    this.msgAppFlowPaused = false;
    return true;
  }

  /**
   * An App ending at `rejected` was rejected; `matchHint` is where the logs may match.
   * Returns false if the rejection is stale (refers to an earlier send).
   */
  maybeDecrTo(rejected: LogIndex, matchHint: LogIndex): boolean {
    if (this.state === ProgressState.Replicate) {
      if (rejected <= this.match) return false;
      this.next = (this.match + 1) as LogIndex;
      return true;
    }
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1) as LogIndex;
    this.msgAppFlowPaused = false;
    return true;
  }

  isPaused(): boolean {
    switch (this.state) {
      case ProgressState.Probe: return this.msgAppFlowPaused;
      case ProgressState.Replicate: return this.msgAppFlowPaused;
      case ProgressState.Snapshot: return true;
    }
  }

  toString(): string {
    let s = `State${['Probe', 'Replicate', 'Snapshot'][this.state]} match=${this.match} next=${this.next}`;
    if (this.isLearner) s += ' learner';
    if (this.isPaused()) s += ' paused';
    if (this.pendingSnapshot > 0) s += ` pendingSnap=${this.pendingSnapshot}`;
    if (!this.recentActive) s += ' inactive';
    const n = this.inflights.count();
    if (n > 0) s += ` inflight=${n}`;
    if (this.inflights.full()) s += '[full]';
    return s;
  }
}
