/**
 * Test support: a model cluster that runs the metaserver's real state machine and
 * scheduler against simulated storage nodes and shard Raft groups, on a fake clock.
 *
 * Each `step()` is one heartbeat interval: live nodes send node heartbeats; every shard
 * group elects a leader among its live voters (if it has a quorum), executes the
 * operator its leader was handed, and sends a shard heartbeat; pending NodeAdmin actions
 * run; then one scheduling round. Every command goes through the wire encoding and
 * `applyEntry`, and the state's invariants are checked after every step.
 *
 * The model's shard groups are the "truth" (what nodes believe); the metaserver only
 * learns it through heartbeats, as in production.
 */
import { assert, compareBytes } from '@shoal/common';
import type { KvErrorCode, NodeId, PeerId, ShardId, TableId } from '@shoal/common';
import { admin, meta } from '@shoal/proto';
import {
  applyEntry, checkInvariants, commands as cmd, decodeSnapshot, encodeCommand, encodeSnapshot, shardToDescriptor,
  sortedShards,
} from '../../state/index.js';
import type { CommandKind, Epoch, ReplicaRecord, TopologyState } from '../../state/index.js';
import { createTopologyState } from '../../state/index.js';
import { planCreateTable } from '../admin.js';
import type { TableExtras } from '../admin.js';
import { onNodeHeartbeat, onShardHeartbeat } from '../heartbeats.js';
import { pendingNodeActions } from '../node-actions.js';
import { defaultSchedulerConfig } from '../options.js';
import type { SchedulerConfig } from '../options.js';
import { schedule } from '../scheduler.js';
import { createSoftState } from '../soft-state.js';
import type { SoftState } from '../soft-state.js';
import type { StuckShard } from '../replica-checker.js';

/** A shard's Raft group as its members see it. */
export interface TrueShard {
  id: ShardId;
  tableId: TableId;
  startKey: Uint8Array;
  endKey: Uint8Array;
  epoch: Epoch;
  replicas: ReplicaRecord[];
  leader: PeerId;
  term: number;
  commit: number;
  /** Match index per peer (voters on live nodes keep up; learners catch up after a snapshot). */
  match: Map<PeerId, number>;
  sizeBytes: number;
  keyCount: number;
  pending?: meta.Operator | undefined;
  done: Set<number>;
  status?: meta.OperatorStatus | undefined;
}

export interface ModelOptions {
  readonly config?: Partial<SchedulerConfig>;
  readonly stepMs?: number;
  /** Steps a learner's snapshot takes before it is caught up. */
  readonly snapshotSteps?: number;
}

export const FAST_FAILURE = { nodeSuspectAfterMs: 3_000, nodeDownAfterMs: 6_000 } as const;

export class ModelCluster {
  state: TopologyState = createTopologyState();
  soft: SoftState;
  nowMs = 1_000_000;
  readonly config: SchedulerConfig;
  readonly alive = new Set<NodeId>();
  readonly truth = new Map<ShardId, TrueShard>();
  readonly refusals = new Map<KvErrorCode, number>();
  /** Approximate middle keys the leaders report (range tables), by shard. */
  readonly middleKeys = new Map<ShardId, Uint8Array>();
  lastStuck: readonly StuckShard[] = [];
  private readonly stepMs: number;
  private readonly snapshotSteps: number;
  private learnerSince = new Map<PeerId, number>();

  constructor(o: ModelOptions = {}) {
    this.config = defaultSchedulerConfig({ ...FAST_FAILURE, operatorRetryBackoffMs: 2_000, ...o.config });
    this.stepMs = o.stepMs ?? 1_000;
    this.snapshotSteps = o.snapshotSteps ?? 2;
    this.soft = createSoftState(this.nowMs);
    this.propose(cmd.bootstrap(7));
  }

  /** Applies a command as the leader would propose it; returns the outcome or undefined if refused. */
  propose(kind: CommandKind): ReturnType<typeof applyEntry> {
    const r = applyEntry(this.state, encodeCommand(kind, this.nowMs));
    if (!r.ok) this.refusals.set(r.error.code, (this.refusals.get(r.error.code) ?? 0) + 1);
    return r;
  }

  addNode(zone: string, pool = 'default', capacityBytes = 1e12): NodeId {
    const r = this.propose(cmd.registerNode({ address: `node-${this.state.nextIds.node}:7200`, pool, zone, capacityBytes }));
    assert(r.ok && r.value.kind === 'node-registered', 'registration refused');
    this.alive.add(r.value.nodeId);
    return r.value.nodeId;
  }

  kill(node: NodeId): void {
    this.alive.delete(node);
  }

  revive(node: NodeId): void {
    this.alive.add(node);
  }

  /** Creates a table through the admin planner and models its shard groups. */
  createTable(req: Partial<admin.CreateTableRequest>, extras: TableExtras = {}): TableId {
    const plan = planCreateTable(this.state, this.soft, admin.CreateTableRequest.create({ pool: 'default', ...req }),
      { replicaCount: 3, hashShardCount: 4 }, extras);
    assert(plan.ok, () => `createTable plan failed: ${plan.ok ? '' : plan.error.message}`);
    const r = this.propose(plan.value);
    assert(r.ok && r.value.kind === 'table-created', () => `createTable refused: ${r.ok ? r.value.kind : r.error.message}`);
    for (const id of r.value.shardIds) {
      const s = this.state.shards.get(id)!;
      this.truth.set(id, {
        id, tableId: s.tableId, startKey: s.startKey, endKey: s.endKey, epoch: s.epoch, replicas: [...s.replicas],
        leader: 0 as PeerId, term: 0, commit: 10_000, match: new Map(s.replicas.map((x) => [x.peerId, 10_000])), sizeBytes: 1 << 20,
        keyCount: 1000, done: new Set(),
      });
    }
    return r.value.tableId;
  }

  /**
   * A new metaserver leader: soft state is lost and rebuilt from heartbeats; with
   * `fromSnapshot` the new leader also restored its state from a Raft snapshot.
   */
  changeMetaLeader(fromSnapshot = false): void {
    this.soft = createSoftState(this.nowMs);
    if (fromSnapshot) this.state = decodeSnapshot(encodeSnapshot(this.state));
  }

  step(): void {
    this.nowMs += this.stepMs;
    for (const n of [...this.alive].sort((a, b) => a - b)) this.nodeHeartbeat(n);
    for (const t of [...this.truth.values()].sort((a, b) => a.id - b.id)) this.runGroup(t);
    this.runNodeActions();
    const decision = schedule(this.state, this.soft, this.nowMs, this.config);
    this.lastStuck = decision.stuck;
    for (const c of decision.commands) this.propose(c);
    const problems = checkInvariants(this.state);
    assert(problems.length === 0, () => `invariants broken at ${this.nowMs}: ${problems.join('; ')}`);
  }

  /** Steps until nothing is running and a round plans nothing; returns the steps taken. */
  settle(maxSteps = 500): number {
    for (let i = 0; i < maxSteps; i++) {
      this.step();
      if (this.state.operators.size === 0 && this.quiet()) return i + 1;
    }
    throw new Error(`not settled after ${maxSteps} steps: ${this.state.operators.size} operators running`);
  }

  /** Steps until `done()` holds (checked after each step); returns the steps taken. */
  runUntil(done: () => boolean, maxSteps = 500): number {
    for (let i = 0; i < maxSteps; i++) {
      this.step();
      if (done()) return i + 1;
    }
    throw new Error(`condition not reached after ${maxSteps} steps`);
  }

  /** Steps for `ms` of simulated time. */
  runFor(ms: number): void {
    const until = this.nowMs + ms;
    while (this.nowMs < until) this.step();
  }

  /** True if a scheduling round now would plan nothing. */
  quiet(): boolean {
    const d = schedule(this.state, this.soft, this.nowMs, this.config);
    return d.commands.length === 0;
  }

  private nodeHeartbeat(node: NodeId): void {
    const stats = meta.NodeStats.create({ capacityBytes: 1e12, usedBytes: this.usedBytes(node) });
    const d = onNodeHeartbeat(this.state, this.soft, meta.NodeHeartbeatRequest.create({ clusterId: 7, nodeId: node, stats }), this.nowMs);
    for (const p of d.proposals) this.propose(p);
  }

  usedBytes(node: NodeId): number {
    let used = 0;
    for (const t of this.truth.values()) if (t.replicas.some((r) => r.nodeId === node)) used += t.sizeBytes;
    return used;
  }

  private runGroup(t: TrueShard): void {
    this.elect(t);
    if (t.leader === 0) return;
    t.commit += 10;
    for (const r of t.replicas) this.replicate(t, r);
    if (t.pending !== undefined) this.execute(t, t.pending);
    this.shardHeartbeat(t);
  }

  private nodeOf(t: TrueShard, peer: PeerId): NodeId | undefined {
    return t.replicas.find((r) => r.peerId === peer)?.nodeId;
  }

  /** Keeps a live leader; otherwise the lowest live voter wins if the live voters are a quorum. */
  private elect(t: TrueShard): void {
    const leaderNode = this.nodeOf(t, t.leader);
    const isVoter = t.replicas.some((r) => r.peerId === t.leader && r.role === 'voter');
    if (leaderNode !== undefined && this.alive.has(leaderNode) && isVoter) return;
    const voters = t.replicas.filter((r) => r.role === 'voter');
    const live = voters.filter((r) => this.alive.has(r.nodeId));
    t.leader = live.length * 2 > voters.length ? live[0]!.peerId : (0 as PeerId);
    t.term += 1;
    t.pending = undefined;
  }

  private replicate(t: TrueShard, r: ReplicaRecord): void {
    if (!this.alive.has(r.nodeId)) return;
    if (r.role === 'voter') {
      t.match.set(r.peerId, t.commit);
      return;
    }
    const since = this.learnerSince.get(r.peerId) ?? this.nowMs;
    this.learnerSince.set(r.peerId, since);
    if (this.nowMs - since >= this.snapshotSteps * this.stepMs) t.match.set(r.peerId, t.commit);
  }

  private execute(t: TrueShard, op: meta.Operator): void {
    t.pending = undefined;
    if (t.done.has(op.id)) return;
    t.done.add(op.id);
    const e = op.epoch;
    if (e === undefined || e.confVer !== t.epoch.confVer || e.version !== t.epoch.version) {
      t.status = meta.OperatorStatus.create({ operatorId: op.id, state: meta.OperatorState.FAILED, message: 'epoch mismatch' });
      return;
    }
    applyStep(this, t, op);
    t.status = meta.OperatorStatus.create({ operatorId: op.id, state: meta.OperatorState.SUCCEEDED });
  }

  private shardHeartbeat(t: TrueShard): void {
    const table = this.state.tables.get(t.tableId);
    const shard = shardToDescriptor({ ...t, leaderPeerId: t.leader, routeVersion: 0 }, table?.partition);
    const progress = t.replicas.map((r) => meta.ReplicaProgress.create({
      peerId: r.peerId, matchIndex: t.match.get(r.peerId) ?? 0, recentActive: this.alive.has(r.nodeId),
      state: (t.match.get(r.peerId) ?? 0) + 100 >= t.commit ? meta.ProgressState.REPLICATE : meta.ProgressState.SNAPSHOT,
    }));
    const req = meta.ShardHeartbeatRequest.create({
      clusterId: 7, nodeId: this.nodeOf(t, t.leader)!, shard, progress, operatorStatus: t.status,
      stats: meta.ShardStats.create({ sizeBytes: t.sizeBytes, keyCount: t.keyCount, term: t.term, commitIndex: t.commit }),
    });
    const d = onShardHeartbeat(this.state, this.soft, req, this.nowMs, this.config, this.middleKeys.get(t.id));
    for (const p of d.proposals) this.propose(p);
    if (d.operator === undefined) return;
    // The wiring creates the empty learner replica first; a dead target fails that call.
    if (d.prerequisite !== undefined && !this.alive.has(d.prerequisite.nodeId)) return;
    t.pending = d.operator;
  }

  private runNodeActions(): void {
    for (const a of pendingNodeActions(this.state)) {
      if (!this.alive.has(a.nodeId)) continue;
      if (a.kind === 'destroy-replica') {
        this.propose(cmd.ackDestroyedReplicas(a.nodeId, [{ shardId: a.request.shardId as ShardId, peerId: a.request.peerId as PeerId }]));
      } else if (a.kind === 'force-reduce') {
        const t = this.truth.get(a.request.shardId as ShardId);
        const keep = new Set(a.request.keepPeerIds);
        if (t !== undefined && t.replicas.some((r) => !keep.has(r.peerId))) {
          t.replicas = t.replicas.filter((r) => keep.has(r.peerId)).map((r) => ({ ...r, role: 'voter' as const }));
          t.epoch = { ...t.epoch, confVer: t.epoch.confVer + 1 };
          t.leader = 0 as PeerId;
        }
      }
    }
  }

  /** Shards sorted by id, as the metaserver sees them. */
  shards() {
    return sortedShards(this.state);
  }
}

/** Carries out one leader-executed step on the model group (as raft-ts + the node would). */
function applyStep(model: ModelCluster, t: TrueShard, op: meta.Operator): void {
  const k = op.kind;
  const membership = (replicas: ReplicaRecord[]): void => {
    t.replicas = replicas.sort((a, b) => a.peerId - b.peerId);
    t.epoch = { ...t.epoch, confVer: t.epoch.confVer + 1 };
  };
  switch (k?.$case) {
    case 'addLearner': {
      const r = k.addLearner.replica!;
      membership([...t.replicas, { nodeId: r.nodeId as NodeId, peerId: r.peerId as PeerId, role: 'learner' }]);
      t.match.set(r.peerId as PeerId, 0);
      return;
    }
    case 'promoteLearner':
      return membership(t.replicas.map((r) => (r.peerId === k.promoteLearner.peerId ? { ...r, role: 'voter' as const } : r)));
    case 'removeReplica':
      membership(t.replicas.filter((r) => r.peerId !== k.removeReplica.peerId));
      if (t.leader === k.removeReplica.peerId) t.leader = 0 as PeerId;
      return;
    case 'transferLeader': {
      const to = t.replicas.find((r) => r.peerId === k.transferLeader.toPeerId);
      if (to !== undefined && to.role === 'voter' && model.alive.has(to.nodeId)) {
        t.leader = to.peerId;
        t.term += 1;
      }
      return;
    }
    case 'split': return splitGroup(model, t, k.split);
    case undefined: return;
  }
}

function splitGroup(model: ModelCluster, t: TrueShard, op: meta.SplitOp): void {
  const key = op.splitKey.length > 0 ? op.splitKey.slice() : middleKey(t.startKey, t.endKey);
  const epoch = { ...t.epoch, version: t.epoch.version + 1 };
  const replicas = t.replicas.map((r, i) => ({ ...r, peerId: op.newPeerIds[i]! as PeerId }));
  const leaderNode = t.replicas.find((r) => r.peerId === t.leader)?.nodeId;
  const right: TrueShard = {
    id: op.newShardId as ShardId, tableId: t.tableId, startKey: key, endKey: t.endKey, epoch, replicas,
    leader: replicas.find((r) => r.nodeId === leaderNode)?.peerId ?? (0 as PeerId), term: 1, commit: t.commit,
    match: new Map(replicas.map((r) => [r.peerId, t.commit])), sizeBytes: t.sizeBytes / 2, keyCount: t.keyCount / 2,
    done: new Set(),
  };
  t.endKey = key;
  t.epoch = epoch;
  t.sizeBytes /= 2;
  t.keyCount /= 2;
  model.truth.set(right.id, right);
}

/** A key strictly between a and b (byte order), as a leader's middle key would be. */
export function middleKey(a: Uint8Array, b: Uint8Array): Uint8Array {
  for (let len = Math.max(a.length, b.length) + 1; ; len++) {
    const A = toBig(a, len);
    const mid = (A + toBig(b, len)) / 2n;
    const out = fromBig(mid, len);
    if (mid > A && compareBytes(out, a) > 0 && compareBytes(out, b) < 0) return out;
  }
}

function toBig(x: Uint8Array, len: number): bigint {
  let v = 0n;
  for (let i = 0; i < len; i++) v = (v << 8n) | BigInt(x[i] ?? 0);
  return v;
}

function fromBig(v: bigint, len: number): Uint8Array {
  const out = new Uint8Array(len);
  for (let i = len - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}
