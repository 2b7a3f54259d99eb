/**
 * Building a replica's RawNode, and reconciling its WAL group with the engine first.
 *
 * raft restarts from the WAL's snapshot point (`applied` = its index) and replays the
 * committed entries after it; Replica.apply skips the engine writes of those the engine
 * already holds but re-applies their conf changes, since raft's membership starts from the
 * WAL snapshot metadata.
 */
import { KvError } from '@shoal/common';
import type { Logger } from '@shoal/common';
import type { ConfState, Logger as RaftLogger, PeerId } from '@shoal/raft-ts';
import { RawNode, ReadOnlyOption } from '@shoal/raft-ts';
import type { ShardDescriptor } from './descriptor.js';
import type { GroupStoragePort, WalPort } from './ports.js';

export interface RaftOptions {
  readonly logger: Logger;
  readonly electionTimeoutTicks: number;
  readonly heartbeatIntervalTicks: number;
  readonly messageBytesMax: number;
  readonly inflightMessagesMax: number;
  readonly uncommittedBytesMax: number;
  readonly proposalBytesMax: number;
  readonly applyBytesPerTurnMax: number;
  readonly leaseReads: boolean;
}

export interface EngineReplicaState {
  readonly descriptor: ShardDescriptor;
  readonly confState: ConfState;
  readonly appliedIndex: number;
  readonly appliedTerm: number;
}

export function newRawNode(o: RaftOptions, peerId: number, storage: GroupStoragePort, shardId: number): RawNode {
  return new RawNode({
    id: peerId as PeerId,
    electionTimeoutTicks: o.electionTimeoutTicks,
    heartbeatIntervalTicks: o.heartbeatIntervalTicks,
    storage,
    rand: { intn: (n) => Math.floor(Math.random() * n) },
    applied: storage.snapshotMetadata().index,
    messageBytesMax: o.messageBytesMax,
    inflightMessagesMax: o.inflightMessagesMax,
    inflightBytesMax: 0,
    uncommittedBytesMax: o.uncommittedBytesMax,
    proposalBytesMax: o.proposalBytesMax,
    committedBytesPerReadyMax: o.applyBytesPerTurnMax,
    checkQuorum: true,
    preVote: true,
    readOnlyOption: o.leaseReads ? ReadOnlyOption.LeaseBased : ReadOnlyOption.Safe,
    disableProposalForwarding: true,
    stepDownOnRemoval: true,
    // Without debug logging raft gets no logger at all: it then builds no log strings.
    logger: o.logger.isLevelEnabled('debug') ? raftLogger(o.logger, shardId) : undefined,
  });
}

/**
 * raft's own lines are per group: with thousands of groups even its warnings (a leader
 * stepping down) would flood the log, so everything goes one level down; role changes are
 * counted in metrics.
 */
function raftLogger(log: Logger, shardId: number): RaftLogger {
  return {
    debug: (msg) => log.trace({ shardId }, msg),
    info: (msg) => log.trace({ shardId }, msg),
    warn: (msg) => log.debug({ shardId }, msg),
    error: (msg) => log.error({ shardId }, msg),
  };
}

/**
 * Makes the WAL group agree with the engine before raft starts over it. The engine may be
 * ahead: a crash hit after a snapshot was installed but before the WAL recorded it (the log
 * lacks the applied entry, or has another term there: reset the log to the engine state),
 * or after entries were applied whose commit index was not yet synced (raise the commit).
 * Returns whether it staged anything (the caller flushes).
 */
export function reconcileWithEngine(wal: WalPort, logger: Logger, shardId: number, state: EngineReplicaState, storage: GroupStoragePort): boolean {
  const applied = state.appliedIndex;
  const first = storage.firstIndex();
  if (applied < first - 1) {
    throw new KvError('CORRUPTION', `shard ${shardId}: engine applied index ${applied} is behind the raft log's first index ${first}; the log was compacted past durable state`);
  }
  if (applied === 0) return false;
  let staged = false;
  const t = storage.term(applied as never);
  if (t !== state.appliedTerm) {
    logger.warn({ shardId, applied, appliedTerm: state.appliedTerm, logTerm: t }, 'engine is ahead of the raft log (snapshot installed before a crash); resetting the log to the engine state');
    wal.stageSnapshot(shardId, { index: applied as never, term: state.appliedTerm as never, confState: state.confState });
    staged = true;
  }
  const hs = storage.hardState();
  if (hs.commit < applied || hs.term < state.appliedTerm) {
    const termAhead = state.appliedTerm > hs.term;
    wal.stageHardState(shardId, {
      term: (termAhead ? state.appliedTerm : hs.term) as never,
      vote: (termAhead ? 0 : hs.vote) as never,
      commit: Math.max(hs.commit, applied) as never,
    });
    staged = true;
  }
  return staged;
}
