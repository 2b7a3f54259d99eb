// Goal: the split checker splits range shards over their threshold at the leader's middle key (or a key the leader picks), doubles hash tables (every shard halves its slot range, finishing an interrupted doubling), honours per-table thresholds, and admin splits work on demand; routes stay tiled throughout.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { equalBytes, rangeShardBound, SLOT_COUNT } from '@shoal/common';
import type { TableId } from '@shoal/common';
import { admin, meta } from '@shoal/proto';
import { shardsOfTable, slotBoundsOf, tableTiled } from '../state/index.js';
import { planSplit } from './admin.js';
import { ModelCluster } from './testing/model-cluster.js';

const MiB = 1 << 20;
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

function model(config = {}): ModelCluster {
  const m = new ModelCluster({ config: { shardSplitSizeBytes: 10 * MiB, ...config } });
  ['z1', 'z2', 'z3'].forEach((z) => m.addNode(z));
  return m;
}

function grow(m: ModelCluster, shardId: number, sizeBytes: number): void {
  m.truth.get(shardId as never)!.sizeBytes = sizeBytes;
}

function widths(m: ModelCluster, t: TableId): number[] {
  return shardsOfTable(m.state, t).map((s) => {
    const b = slotBoundsOf(t, s)!;
    return b.hi - b.lo;
  });
}

describe('range tables', () => {
  it('a shard over the size threshold splits at the reported middle key', () => {
    const m = model();
    const t = m.createTable({ name: 'r', options: meta.TableOptions.create({ partition: meta.PartitionKind.RANGE }) }, { splitKeys: [utf8('k')] });
    m.settle();
    const [left] = shardsOfTable(m.state, t);
    const mid = rangeShardBound(t, utf8('f'));
    m.middleKeys.set(left!.id, mid);
    grow(m, left!.id, 16 * MiB);
    m.settle();
    const shards = shardsOfTable(m.state, t);
    assert.equal(shards.length, 3);
    assert.ok(equalBytes(shards[0]!.endKey, mid));
    assert.deepEqual(shards[0]!.epoch, { confVer: 1, version: 2 });
    assert.ok(tableTiled(m.state, t));
    assert.equal(m.state.operatorHistory.filter((o) => o.kind === 'split' && o.state === 'succeeded').length, 1);
  });

  it('without a middle key the leader picks one; key-count threshold and per-table thresholds count', () => {
    const m = model();
    const t = m.createTable({ name: 'r', options: meta.TableOptions.create({ partition: meta.PartitionKind.RANGE }) });
    m.settle();
    const only = shardsOfTable(m.state, t)[0]!;
    m.truth.get(only.id)!.keyCount = 5_000_000;
    m.settle();
    assert.equal(shardsOfTable(m.state, t).length, 2, 'split once: halves are under 4M keys');
    assert.ok(tableTiled(m.state, t));
  });
});

describe('hash tables', () => {
  it('one shard over the threshold doubles the whole table', () => {
    const m = model();
    const t = m.createTable({ name: 'h', options: meta.TableOptions.create({ partition: meta.PartitionKind.HASH, shardCount: 4 }) });
    m.settle();
    grow(m, shardsOfTable(m.state, t)[2]!.id, 16 * MiB);
    m.settle();
    assert.deepEqual(widths(m, t), Array(8).fill(SLOT_COUNT / 8));
    assert.ok(tableTiled(m.state, t));
    assert.ok(shardsOfTable(m.state, t).every((s) => s.epoch.version === 2));
  });

  it('a doubling limited to one split at a time still completes', () => {
    const m = model({ splitOperatorsMax: 1 });
    const t = m.createTable({ name: 'h', options: meta.TableOptions.create({ partition: meta.PartitionKind.HASH, shardCount: 4 }) });
    m.settle();
    grow(m, shardsOfTable(m.state, t)[0]!.id, 16 * MiB);
    let peak = 0;
    m.runUntil(() => {
      peak = Math.max(peak, [...m.state.operators.values()].filter((o) => o.kind === 'split').length);
      return shardsOfTable(m.state, t).length === 8 && m.state.operators.size === 0;
    });
    assert.equal(peak, 1);
    assert.deepEqual(widths(m, t), Array(8).fill(SLOT_COUNT / 8));
  });

  it('a table threshold overrides the default', () => {
    const m = model();
    const t = m.createTable({ name: 'h', options: meta.TableOptions.create({ partition: meta.PartitionKind.HASH, shardCount: 2 }) }, { splitSizeBytes: 100 * MiB });
    m.settle();
    grow(m, shardsOfTable(m.state, t)[0]!.id, 16 * MiB);
    m.runFor(10_000);
    assert.equal(shardsOfTable(m.state, t).length, 2);
  });
});

describe('on demand', () => {
  it('an admin split halves a hash shard; a second one is refused while it runs', () => {
    const m = model({ splitEnabled: false });
    const t = m.createTable({ name: 'h', options: meta.TableOptions.create({ partition: meta.PartitionKind.HASH, shardCount: 1 }) });
    m.settle();
    const s = shardsOfTable(m.state, t)[0]!;
    const plan = planSplit(m.state, m.config, admin.SplitShardRequest.create({ shardId: s.id }));
    assert.ok(plan.ok);
    assert.ok(m.propose(plan.value).ok);
    const again = planSplit(m.state, m.config, admin.SplitShardRequest.create({ shardId: s.id }));
    assert.ok(!again.ok && again.error.code === 'CONDITION_FAILED');
    m.settle();
    assert.deepEqual(widths(m, t), [SLOT_COUNT / 2, SLOT_COUNT / 2]);
    assert.equal(planSplit(m.state, m.config, admin.SplitShardRequest.create({ shardId: 999 })).ok, false);
  });
});
