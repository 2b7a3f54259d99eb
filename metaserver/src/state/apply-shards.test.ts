// Goal: shard reports obey the epoch rules — stale or conflicting epochs never overwrite newer metadata, equal epochs only move the leader, newer epochs replace the descriptor — and a reported split (either half first) completes in one step without a route gap.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isKvError } from '@shoal/common';
import type { NodeId, PeerId } from '@shoal/common';
import type { common } from '@shoal/proto';
import * as cmd from './commands.js';
import { checkInvariants, tableTiled } from './invariants.js';
import { hashMiddleKey, slotBoundsOf } from './key-ranges.js';
import {
  clusterOf, createTable, descriptor, electFirstVoters, refusal, report, run, shard,
} from './testing/fixtures.js';
import { garbageOfNode, shardsOfTable } from './topology-state.js';
import type { ReplicaRecord, ShardRecord, TopologyState } from './types.js';

const ZONES = ['z1', 'z2', 'z3', 'z1'];

function setup(): { s: TopologyState; sh: ShardRecord; nodes: NodeId[] } {
  const { state: s, nodes } = clusterOf(ZONES);
  const t = createTable(s, nodes, { name: 'h', partition: 'hash', shardCount: 2 });
  electFirstVoters(s, t);
  return { s, sh: shardsOfTable(s, t)[0]!, nodes };
}

function withLearner(sh: ShardRecord, node: NodeId, peer: number): ReplicaRecord[] {
  return [...sh.replicas, { nodeId: node, peerId: peer as PeerId, role: 'learner' as const }];
}

describe('epoch rules', () => {
  it('a newer confVer replaces the replicas and bumps the route version', () => {
    const { s, sh, nodes } = setup();
    run(s, cmd.allocateIds(3, 1));
    const peer = s.nextIds.peer - 1;
    const before = s.routeVersion;
    const r = report(s, descriptor(sh, { epoch: { confVer: 2, version: 1 }, replicas: withLearner(sh, nodes[3]!, peer) }));
    assert.ok(r.ok);
    assert.equal(shard(s, sh.id).replicas.length, 4);
    assert.equal(shard(s, sh.id).routeVersion, before + 1);
    assert.equal(s.routeVersion, before + 1);
  });

  it('stale heartbeats (older confVer or version, or conflicting) are refused with the current descriptor', () => {
    const { s, sh, nodes } = setup();
    run(s, cmd.allocateIds(3, 1));
    const peer = s.nextIds.peer - 1;
    report(s, descriptor(sh, { epoch: { confVer: 3, version: 2 }, replicas: withLearner(sh, nodes[3]!, peer) }));
    const stored = shard(s, sh.id);
    for (const epoch of [{ confVer: 2, version: 2 }, { confVer: 3, version: 1 }, { confVer: 4, version: 1 }, { confVer: 1, version: 1 }]) {
      const r = report(s, descriptor(sh, { epoch, leaderPeerId: sh.replicas[2]!.peerId }));
      assert.equal(r.ok, false, JSON.stringify(epoch));
      if (!r.ok) {
        assert.ok(isKvError(r.error, 'EPOCH_NOT_MATCH'));
        assert.equal((r.error.details?.shard as common.ShardDescriptor).epoch?.confVer, 3);
      }
      assert.deepEqual(shard(s, sh.id), stored, 'nothing overwritten');
    }
  });

  it('equal epoch: only the leader hint moves; a different membership is a conflict', () => {
    const { s, sh, nodes } = setup();
    const v = s.routeVersion;
    assert.equal(report(s, descriptor(sh)).ok && s.routeVersion === v, true, 'no change, no new version');
    assert.ok(report(s, descriptor(sh, { leaderPeerId: sh.replicas[1]!.peerId })).ok);
    assert.equal(shard(s, sh.id).leaderPeerId, sh.replicas[1]!.peerId);
    assert.equal(s.routeVersion, v + 1);
    assert.equal(report(s, descriptor(sh, { leaderPeerId: 0 })).ok, true, 'unknown leader keeps the hint');
    assert.equal(shard(s, sh.id).leaderPeerId, sh.replicas[1]!.peerId);
    run(s, cmd.allocateIds(3, 1));
    const r = report(s, descriptor(sh, { replicas: withLearner(sh, nodes[3]!, s.nextIds.peer - 1) }));
    assert.ok(!r.ok && isKvError(r.error, 'EPOCH_NOT_MATCH'));
  });

  it('structurally impossible reports are invalid', () => {
    const { s, sh } = setup();
    const two = [sh.replicas[0]!, { ...sh.replicas[1]!, nodeId: sh.replicas[0]!.nodeId }];
    const cases = [
      descriptor(sh, { epoch: { confVer: 2, version: 1 }, replicas: two }),
      descriptor(sh, { epoch: { confVer: 2, version: 1 }, replicas: [{ nodeId: 4 as NodeId, peerId: 9999 as PeerId, role: 'voter' }] }),
      descriptor(sh, { leaderPeerId: 12345 }),
      descriptor(sh, { epoch: { confVer: 2, version: 1 }, replicas: sh.replicas.map((r) => ({ ...r, role: 'learner' as const })) }),
    ];
    for (const d of cases) {
      const r = report(s, d);
      assert.ok(!r.ok && r.error.code === 'INVALID_ARGUMENT');
    }
  });

  it('removed peers become garbage of their nodes; the leader hint survives if still a voter', () => {
    const { s, sh } = setup();
    const gone = sh.replicas[2]!;
    report(s, descriptor(sh, { epoch: { confVer: 2, version: 1 }, replicas: sh.replicas.slice(0, 2), leaderPeerId: 0 }));
    assert.deepEqual(garbageOfNode(s, gone.nodeId), [{ nodeId: gone.nodeId, shardId: sh.id, peerId: gone.peerId }]);
    assert.equal(shard(s, sh.id).leaderPeerId, sh.leaderPeerId);
  });

  it('a newer epoch whose range overlaps a neighbour is refused', () => {
    const { s, sh } = setup();
    const other = shardsOfTable(s, sh.tableId)[1]!;
    const r = report(s, descriptor(sh, { epoch: { confVer: 1, version: 2 }, endKey: other.endKey }));
    assert.ok(!r.ok && isKvError(r.error, 'EPOCH_NOT_MATCH'));
  });
});

describe('split reports', () => {
  function planSplit(s: TopologyState, sh: ShardRecord): { newShard: number; newPeers: readonly number[]; mid: Uint8Array } {
    run(s, cmd.addOperator({ shardId: sh.id, epoch: sh.epoch, cause: 'split', reason: '', timeoutMs: 60_000, spec: { kind: 'split', splitKey: new Uint8Array() } }));
    const op = [...s.operators.values()][0]!;
    const step = op.steps[0]!;
    assert.equal(step.kind, 'split');
    if (step.kind !== 'split') throw new Error('unreachable');
    assert.deepEqual(step.splitKey, hashMiddleKey(sh.tableId, sh), 'hash splits at the middle slot');
    return { newShard: step.newShardId, newPeers: step.newPeerIds, mid: step.splitKey };
  }

  it('the left half reporting first creates the right half from the split step', () => {
    const { s, sh } = setup();
    const { newShard, newPeers, mid } = planSplit(s, sh);
    const v = s.routeVersion;
    assert.ok(report(s, descriptor(sh, { epoch: { confVer: 1, version: 2 }, endKey: mid })).ok);
    const left = shard(s, sh.id);
    const right = shard(s, newShard);
    assert.deepEqual(slotBoundsOf(sh.tableId, left), { lo: 0, hi: 4096 });
    assert.deepEqual(slotBoundsOf(sh.tableId, right), { lo: 4096, hi: 8192 });
    assert.deepEqual(right.replicas.map((r) => r.peerId), newPeers);
    assert.deepEqual(right.replicas.map((r) => r.nodeId), sh.replicas.map((r) => r.nodeId));
    assert.deepEqual(right.epoch, { confVer: 1, version: 2 });
    assert.equal(left.routeVersion, v + 1);
    assert.equal(right.routeVersion, v + 1);
    assert.ok(tableTiled(s, sh.tableId));
    assert.equal(s.operators.size, 0, 'split operator succeeded');
    assert.equal(s.operatorHistory.at(-1)?.state, 'succeeded');
    assert.ok(report(s, descriptor(right, { leaderPeerId: right.replicas[1]!.peerId })).ok, 'the right half reports later');
    assert.deepEqual(checkInvariants(s), []);
  });

  it('the right half reporting first creates the left half', () => {
    const { s, sh } = setup();
    const { newShard, newPeers, mid } = planSplit(s, sh);
    const rightReplicas = sh.replicas.map((r, i) => ({ ...r, peerId: newPeers[i]! as PeerId }));
    const r = report(s, descriptor(sh, {
      id: newShard, startKey: mid, epoch: { confVer: 1, version: 2 }, replicas: rightReplicas, leaderPeerId: newPeers[0]!,
    }));
    assert.ok(r.ok);
    assert.deepEqual(shard(s, sh.id).endKey, mid);
    assert.ok(tableTiled(s, sh.tableId));
    assert.equal(s.operators.size, 0);
    assert.ok(report(s, descriptor(shard(s, sh.id))).ok, 'the left half reports later, same epoch');
  });

  it('an unknown shard id that overlaps known shards is refused; one filling a gap is accepted', () => {
    const { s, sh } = setup();
    run(s, cmd.allocateIds(2, 1));
    const id = s.nextIds.shard - 1;
    assert.equal(refusal(s, cmd.reportShard(descriptor(sh, { id, epoch: { confVer: 1, version: 9 } }))), 'SHARD_NOT_FOUND');
    assert.equal(refusal(s, cmd.reportShard(descriptor(sh, { id: 999 }))), 'INVALID_ARGUMENT', 'never allocated');
  });
});
