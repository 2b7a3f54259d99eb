// Goal: a seeded simulation runs the real state machine and scheduler against a model cluster for many steps with random node failures, revivals, new nodes, decommissions, growth-driven splits and metaserver leader changes, and checks the invariants: no shard ever has two replicas on one node, every shard keeps a live majority whenever the failures allow it, and once failures stop every shard is back to full replication on live nodes over distinct zones, tables tiled, replicas balanced. A failure prints the seed that replays it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { NodeId } from '@shoal/common';
import { meta } from '@shoal/proto';
import { shardsOfTable, tableTiled } from '../state/index.js';
import type { TableId } from '@shoal/common';
import { seededRand } from '../state/testing/rand.js';
import type { Rand } from '../state/testing/rand.js';
import { tolerance } from './balancer.js';
import { ModelCluster } from './testing/model-cluster.js';
import type { TrueShard } from './testing/model-cluster.js';

const STEPS = 300;
const ZONES = ['z1', 'z2', 'z3'];

function liveVoters(m: ModelCluster, t: TrueShard, without?: NodeId): number {
  return t.replicas.filter((r) => r.role === 'voter' && r.nodeId !== without && m.alive.has(r.nodeId)).length;
}

function voterCount(t: TrueShard): number {
  return t.replicas.filter((r) => r.role === 'voter').length;
}

/**
 * Nodes whose death leaves every shard a live majority — the failures that "allow" it.
 * Learners count as voters: a promotion already handed to a leader may land after the
 * kill, and no scheduler can take that back.
 */
function safeToKill(m: ModelCluster): NodeId[] {
  const members = (t: TrueShard, without?: NodeId) => t.replicas.filter((r) => r.nodeId !== without && (without === undefined || m.alive.has(r.nodeId))).length;
  return [...m.alive].sort((a, b) => a - b).filter((n) =>
    [...m.truth.values()].every((t) => members(t, n) * 2 > members(t)));
}

function chaos(m: ModelCluster, r: Rand, tables: TableId[]): void {
  const dead = [...m.state.nodes.keys()].filter((n) => !m.alive.has(n) && m.state.nodes.get(n)?.state !== 'removed');
  if (r.chance(0.04)) {
    const victims = safeToKill(m);
    if (victims.length > 0 && dead.length < 2) m.kill(r.pick(victims));
  }
  if (dead.length > 0 && r.chance(0.03)) m.revive(r.pick(dead));
  if (r.chance(0.005)) m.addNode(r.pick(ZONES));
  if (r.chance(0.005)) {
    const t = m.truth.get(r.pick([...m.truth.keys()]));
    if (t !== undefined && tables.includes(t.tableId)) t.sizeBytes = 300 * 2 ** 20;
  }
  if (r.chance(0.01)) m.changeMetaLeader(r.chance(0.5));
  const up = [...m.state.nodes.values()].filter((n) => n.state === 'up' && m.alive.has(n.id));
  if (r.chance(0.004) && up.length > 7) m.propose({ $case: 'decommissionNode', decommissionNode: { nodeId: r.pick(up).id, cancel: false } });
}

function checkStep(m: ModelCluster, majorityPossible: boolean): void {
  for (const t of m.truth.values()) {
    assert.equal(new Set(t.replicas.map((x) => x.nodeId)).size, t.replicas.length, `shard ${t.id}: two replicas on one node`);
    if (majorityPossible) assert.ok(liveVoters(m, t) * 2 > voterCount(t), `shard ${t.id} lost its live majority`);
  }
}

function checkHealed(m: ModelCluster, tables: TableId[]): void {
  for (const s of m.shards()) {
    const live = s.replicas.filter((x) => x.role === 'voter' && m.alive.has(x.nodeId));
    assert.equal(live.length, 3, `shard ${s.id}: ${live.length} live voters`);
    assert.equal(s.replicas.length, 3, `shard ${s.id}: ${s.replicas.length} replicas`);
    assert.equal(new Set(s.replicas.map((x) => m.state.nodes.get(x.nodeId)!.zone)).size, 3, `shard ${s.id}: zones not spread`);
  }
  for (const t of tables) assert.ok(tableTiled(m.state, t), `table ${t} not tiled`);
  const up = [...m.state.nodes.values()].filter((n) => n.state === 'up');
  const counts = up.map((n) => m.shards().filter((s) => s.replicas.some((x) => x.nodeId === n.id)).length);
  const perZone = new Map<string, number[]>();
  up.forEach((n, i) => perZone.set(n.zone, [...(perZone.get(n.zone) ?? []), counts[i]!]));
  // Zone spread fixes each zone's replica total, so balance is judged within each zone.
  for (const [zone, cs] of perZone) {
    const mean = cs.reduce((a, c) => a + c, 0) / cs.length;
    assert.ok(Math.max(...cs) - Math.min(...cs) <= tolerance(mean, m.config.replicaBalanceTolerancePercent) + 1, `zone ${zone} unbalanced: ${cs}`);
  }
}

function simulate(seed: number): void {
  const r = seededRand(seed);
  const m = new ModelCluster({ config: { shardSplitSizeBytes: 256 * 2 ** 20, recoveryOperatorsMax: 8, balanceOperatorsMax: 4 } });
  for (let i = 0; i < 9; i++) m.addNode(ZONES[i % 3]!);
  const tables = [
    m.createTable({ name: 'h', options: meta.TableOptions.create({ partition: meta.PartitionKind.HASH, shardCount: 8 }) }),
    m.createTable({ name: 'r', options: meta.TableOptions.create({ partition: meta.PartitionKind.RANGE }) }, { splitKeys: [new TextEncoder().encode('m')] }),
  ];
  m.settle();
  for (let step = 0; step < STEPS; step++) {
    chaos(m, r, tables);
    m.step();
    checkStep(m, true);
  }
  for (const n of m.state.nodes.keys()) if (m.state.nodes.get(n)?.state !== 'removed') m.revive(n);
  // Balancing is gradual on purpose (one move per source node at a time): allow it time.
  m.settle(4_000);
  checkHealed(m, tables);
  assert.equal(m.refusals.get('INVALID_ARGUMENT') ?? 0, 0, 'no invalid proposal');
  assert.ok(shardsOfTable(m.state, tables[0]!).length >= 8);
}

/** Seeds from SHOAL_SIM_SEEDS ("7", "1,4", "1-200") to replay or widen the search; default 1-5. */
function seeds(): number[] {
  const spec = process.env['SHOAL_SIM_SEEDS'] ?? '1-5';
  return spec.split(',').flatMap((part) => {
    const [lo, hi] = part.split('-').map(Number);
    return Array.from({ length: (hi ?? lo!) - lo! + 1 }, (_, i) => lo! + i);
  });
}

describe('simulation', () => {
  for (const seed of seeds()) {
    it(`seed ${seed}`, () => {
      try {
        simulate(seed);
      } catch (e) {
        throw new Error(`simulation failed; replay with seed ${seed}: ${(e as Error).message}`, { cause: e });
      }
    });
  }
});
