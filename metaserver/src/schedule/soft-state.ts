/**
 * What only the metaserver leader knows: the latest node and shard heartbeats, held in
 * memory and never replicated (they change every second and are re-learned within one
 * heartbeat interval after a leader change). Scheduling reads them; apply never does.
 *
 * A new leader starts with `leaderSinceMs` = the time it took over: failure detection
 * counts silence from then, so nodes are not declared down for the old leader's gap.
 */
import type { NodeId, PeerId, ShardId } from '@shoal/common';
import { meta } from '@shoal/proto';
import { compareEpoch, epochFromProto, operatorStateFromProto } from '../state/index.js';
import type { Epoch, OperatorState, TopologyState } from '../state/index.js';

export interface NodeLoad {
  readonly lastHeartbeatMs: number;
  readonly capacityBytes: number;
  readonly usedBytes: number;
  readonly availableBytes: number;
  /** The node sheds load: schedule nothing new onto it. */
  readonly busy: boolean;
  readonly receivingSnapshotCount: number;
  readonly stats: meta.NodeStats;
}

export type ProgressState = 'probe' | 'replicate' | 'snapshot';

export interface PeerProgress {
  readonly matchIndex: number;
  readonly state: ProgressState;
  readonly recentActive: boolean;
}

export interface ReportedOperatorStatus {
  readonly operatorId: number;
  readonly state: OperatorState;
  readonly message: string;
}

export interface ShardLoad {
  readonly lastHeartbeatMs: number;
  readonly epoch: Epoch;
  readonly term: number;
  readonly leaderPeerId: PeerId;
  readonly sizeBytes: number;
  readonly keyCount: number;
  readonly writeKeysPerSec: number;
  readonly commitIndex: number;
  readonly progress: ReadonlyMap<PeerId, PeerProgress>;
  /** The leader's approximate middle key (range tables), if the wiring learns one. */
  readonly approximateMiddleKey?: Uint8Array | undefined;
}

export interface SoftState {
  readonly leaderSinceMs: number;
  readonly nodes: Map<NodeId, NodeLoad>;
  readonly shards: Map<ShardId, ShardLoad>;
}

export function createSoftState(leaderSinceMs: number): SoftState {
  return { leaderSinceMs, nodes: new Map(), shards: new Map() };
}

export function recordNodeHeartbeat(soft: SoftState, req: meta.NodeHeartbeatRequest, nowMs: number): void {
  const st = req.stats ?? meta.NodeStats.create();
  soft.nodes.set(req.nodeId as NodeId, {
    lastHeartbeatMs: nowMs, capacityBytes: st.capacityBytes, usedBytes: st.usedBytes, availableBytes: st.availableBytes,
    busy: st.busy, receivingSnapshotCount: st.receivingSnapshotCount, stats: st,
  });
}

const PROGRESS: Readonly<Record<number, ProgressState>> = {
  [meta.ProgressState.PROBE]: 'probe',
  [meta.ProgressState.REPLICATE]: 'replicate',
  [meta.ProgressState.SNAPSHOT]: 'snapshot',
};

/**
 * Records a shard leader's heartbeat unless it is stale: an epoch behind the stored
 * shard's, or a term behind the last recorded one (a deposed leader still talking).
 * Returns whether it was recorded.
 */
export function recordShardHeartbeat(
  soft: SoftState, state: TopologyState, req: meta.ShardHeartbeatRequest, nowMs: number, approximateMiddleKey?: Uint8Array,
): boolean {
  const d = req.shard;
  if (d === undefined) return false;
  const epoch = epochFromProto(d.epoch);
  const stored = state.shards.get(d.id as ShardId);
  if (stored !== undefined && compareEpoch(epoch, stored.epoch) !== 'equal' && compareEpoch(epoch, stored.epoch) !== 'newer') return false;
  const st = req.stats ?? meta.ShardStats.create();
  const prev = soft.shards.get(d.id as ShardId);
  if (prev !== undefined && st.term < prev.term) return false;
  const progress = new Map<PeerId, PeerProgress>();
  for (const p of req.progress) {
    progress.set(p.peerId as PeerId, { matchIndex: p.matchIndex, state: PROGRESS[p.state] ?? 'probe', recentActive: p.recentActive });
  }
  soft.shards.set(d.id as ShardId, {
    lastHeartbeatMs: nowMs, epoch, term: st.term, leaderPeerId: d.leaderPeerId as PeerId, sizeBytes: st.sizeBytes,
    keyCount: st.keyCount, writeKeysPerSec: st.writeKeysPerSec, commitIndex: st.commitIndex, progress,
    approximateMiddleKey: approximateMiddleKey ?? prev?.approximateMiddleKey,
  });
  return true;
}

/** The operator status a heartbeat carries, decoded; undefined if absent or unknown. */
export function reportedStatus(req: meta.ShardHeartbeatRequest): ReportedOperatorStatus | undefined {
  const s = req.operatorStatus;
  const state = s === undefined ? undefined : operatorStateFromProto(s.state);
  return s === undefined || state === undefined ? undefined : { operatorId: s.operatorId, state, message: s.message };
}

/** Forgets nodes and shards the state no longer has, so the maps stay bounded by the topology. */
export function pruneSoftState(soft: SoftState, state: TopologyState): void {
  for (const id of soft.nodes.keys()) if (!state.nodes.has(id)) soft.nodes.delete(id);
  for (const id of soft.shards.keys()) if (!state.shards.has(id)) soft.shards.delete(id);
}

/** When the node was last heard from, counting the leader's own start as a heartbeat. */
export function lastHeardMs(soft: SoftState, node: NodeId): number {
  return Math.max(soft.nodes.get(node)?.lastHeartbeatMs ?? Number.NEGATIVE_INFINITY, soft.leaderSinceMs);
}
