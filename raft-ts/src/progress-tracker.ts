/**
 * The leader's bookkeeping for the whole group: the active membership configuration
 * (possibly joint), one Progress per member, and votes during an election.
 *
 * Invariants (checked by conf-changer.ts on every change): every member of the config
 * has a Progress and vice versa; a learner is never a voter in either half; learnersNext
 * only holds outgoing voters; outside a joint config, outgoing and learnersNext are empty
 * and autoLeave is false.
 */
import { Inflights } from './inflights.js';
import { Progress } from './progress.js';
import type { AckedIndexer } from './quorum.js';
import { jointCommittedIndex, jointVoteResult, VoteResult } from './quorum.js';
import type { ConfState, LogIndex, PeerId } from './types.js';

/** Membership. All id lists are sorted ascending so iteration is deterministic. */
export interface TrackerConfig {
  readonly incoming: readonly PeerId[];
  /** Non-empty only while joint: the voters of the configuration being left. */
  readonly outgoing: readonly PeerId[];
  readonly learners: readonly PeerId[];
  /** Voters demoted by the joint change; they become learners when it is left. */
  readonly learnersNext: readonly PeerId[];
  readonly autoLeave: boolean;
}

export const EMPTY_TRACKER_CONFIG: TrackerConfig = {
  incoming: [], outgoing: [], learners: [], learnersNext: [], autoLeave: false,
};

export function isJoint(c: TrackerConfig): boolean {
  return c.outgoing.length > 0;
}

export function trackerConfigToString(c: TrackerConfig): string {
  let s = `voters=(${c.incoming.join(' ')})`;
  if (c.outgoing.length > 0) s += `&&(${c.outgoing.join(' ')})`;
  if (c.learners.length > 0) s += ` learners=(${c.learners.join(' ')})`;
  if (c.learnersNext.length > 0) s += ` learners_next=(${c.learnersNext.join(' ')})`;
  if (c.autoLeave) s += ' autoleave';
  return s;
}

export function confStateOf(c: TrackerConfig): ConfState {
  return {
    voters: c.incoming.slice(), votersOutgoing: c.outgoing.slice(), learners: c.learners.slice(),
    learnersNext: c.learnersNext.slice(), autoLeave: c.autoLeave,
  };
}

export class ProgressTracker {
  config: TrackerConfig = EMPTY_TRACKER_CONFIG;
  progress: Map<PeerId, Progress> = new Map();
  /** Sorted ids of every member (voters of both halves and learners). */
  ids: readonly PeerId[] = [];
  private votes = new Map<PeerId, boolean>();
  readonly inflightMessagesMax: number;
  readonly inflightBytesMax: number;
  private readonly ackedIndex: AckedIndexer;
  private readonly voteOf: (id: number) => boolean | undefined;
  private readonly activeOf: (id: number) => boolean | undefined;

  constructor(inflightMessagesMax: number, inflightBytesMax: number) {
    this.inflightMessagesMax = inflightMessagesMax;
    this.inflightBytesMax = inflightBytesMax;
    // Bound once here so the hot path (committed()) allocates no closures.
    this.ackedIndex = (id) => this.progress.get(id as PeerId)?.match;
    this.voteOf = (id) => this.votes.get(id as PeerId);
    this.activeOf = (id) => this.progress.get(id as PeerId)?.recentActive === true;
  }

  newProgress(next: LogIndex, isLearner: boolean): Progress {
    return new Progress(next, new Inflights(this.inflightMessagesMax, this.inflightBytesMax), isLearner, true);
  }

  /** Installs a configuration and its progress map (as produced by the conf changer). */
  setConfig(config: TrackerConfig, progress: Map<PeerId, Progress>): void {
    this.config = config;
    this.progress = progress;
    this.ids = [...progress.keys()].sort((a, b) => a - b);
  }

  confState(): ConfState {
    return confStateOf(this.config);
  }

  /** Voters of both halves, sorted and deduplicated. */
  voterIds(): PeerId[] {
    const s = new Set<PeerId>([...this.config.incoming, ...this.config.outgoing]);
    return [...s].sort((a, b) => a - b);
  }

  isVoter(id: PeerId): boolean {
    return this.config.incoming.includes(id) || this.config.outgoing.includes(id);
  }

  isSingleton(): boolean {
    return this.config.incoming.length === 1 && this.config.outgoing.length === 0;
  }

  /** The largest index acknowledged by a (joint) quorum; 0 with no voters. */
  committed(): LogIndex {
    const c = jointCommittedIndex(this.config.incoming, this.config.outgoing, this.ackedIndex);
    return (c === Infinity ? 0 : c) as LogIndex;
  }

  /** Whether a quorum was recently active (check-quorum). */
  quorumActive(): boolean {
    return jointVoteResult(this.config.incoming, this.config.outgoing, this.activeOf) === VoteResult.Won;
  }

  /** Vote result for an arbitrary set of acknowledging peers (ReadIndex acks). */
  voteResultOf(acks: ReadonlySet<PeerId>): VoteResult {
    return jointVoteResult(this.config.incoming, this.config.outgoing, (id) => acks.has(id as PeerId) || undefined);
  }

  resetVotes(): void {
    this.votes = new Map();
  }

  /** Records a vote; the first vote of a peer counts, later ones are ignored. */
  recordVote(id: PeerId, granted: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, granted);
  }

  tallyVotes(): { granted: number; rejected: number; result: VoteResult } {
    let granted = 0;
    let rejected = 0;
    for (const id of this.ids) {
      const pr = this.progress.get(id)!;
      if (pr.isLearner) continue;
      const v = this.votes.get(id);
      if (v === true) granted++;
      else if (v === false) rejected++;
    }
    return { granted, rejected, result: jointVoteResult(this.config.incoming, this.config.outgoing, this.voteOf) };
  }
}
