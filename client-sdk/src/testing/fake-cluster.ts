/**
 * Test support: a fake Shoal cluster in one process — fake metaserver members and fake
 * storage nodes on 127.0.0.1:0, with tables, shards and leaders the test controls.
 *
 * Two views of the routes, as in a real cluster: what nodes enforce (`shards`, changed at
 * once by split / moveLeader) and what the metaserver serves (`published`, changed by
 * `publish`, which also pushes WatchRoutes events). A split with `publish: false` is a
 * split the metaserver has not heard of yet: only nodes' EPOCH_NOT_MATCH tell the client.
 */
import { compareBytes, rangeShardBound, slotRangeStart, toBytes } from '@shoal/common';
import type { TableId } from '@shoal/common';
import { common, meta } from '@shoal/proto';
import { FakeMeta } from './fake-meta.js';
import type { MetaCluster } from './fake-meta.js';
import { FakeNode, shardRange } from './fake-node.js';
import type { NodeCluster } from './fake-node.js';
import { FakeStore } from './fake-store.js';
import type { Scheme } from './fake-store.js';

/** A table to create. */
export interface TableSpec {
  readonly name: string;
  readonly scheme: Scheme;
  /** Storage-key bounds between shards, ascending (see `keyBound`, `slotBound`). */
  readonly bounds?: readonly Uint8Array[];
  /** Node ids hosting every shard's replicas; default: every node. */
  readonly replicas?: readonly number[];
  /** Node id of every shard's leader; default: the first replica. */
  readonly leader?: number;
  readonly readPolicy?: common.ReadConsistency;
  readonly maxStalenessMs?: number;
}

export class FakeCluster implements NodeCluster, MetaCluster {
  readonly store: FakeStore;
  readonly nodes: FakeNode[] = [];
  readonly metas: FakeMeta[] = [];
  /** Index into `metas` of the leader; -1 = none. */
  leaderIndex = 0;
  routeVersion = 1;
  private readonly tables = new Map<number, meta.TableInfo>();
  private readonly shards = new Map<number, common.ShardDescriptor>();
  private readonly published = new Map<number, common.ShardDescriptor>();
  private nextTableId = 10;
  private nextShardId = 100;
  private nextPeerId = 1000;

  private constructor() {
    this.store = new FakeStore((id) => (this.tables.get(id)?.options?.partition === meta.PartitionKind.HASH ? 'hash' : 'range'));
  }

  static async start(o: { nodes?: number; metas?: number } = {}): Promise<FakeCluster> {
    const c = new FakeCluster();
    for (let i = 1; i <= (o.nodes ?? 3); i++) c.nodes.push(new FakeNode(i, c));
    for (let i = 1; i <= (o.metas ?? 1); i++) c.metas.push(new FakeMeta(i, c));
    await Promise.all([...c.nodes.map((n) => n.start()), ...c.metas.map((m) => m.start())]);
    return c;
  }

  stop(): void {
    for (const n of this.nodes) n.stop();
    for (const m of this.metas) m.stop();
  }

  metaAddresses(): string[] {
    return this.metas.map((m) => m.address);
  }

  node(id: number): FakeNode {
    const n = this.nodes.find((x) => x.id === id);
    if (n === undefined) throw new Error(`no node ${id}`);
    return n;
  }

  // ---- views for nodes and metaservers ---------------------------------------------------

  shard(id: number): common.ShardDescriptor | undefined {
    return this.shards.get(id);
  }

  nodeAddress(nodeId: number): string {
    return this.node(nodeId).address;
  }

  leaderMeta(): FakeMeta | undefined {
    return this.metas[this.leaderIndex];
  }

  members(): readonly FakeMeta[] {
    return this.metas;
  }

  table(sel: { name: string; id: number }): meta.TableInfo | undefined {
    return [...this.tables.values()].find((t) => (sel.name !== '' ? t.name === sel.name : t.id === sel.id));
  }

  routes(tableId: number): meta.GetRoutesResponse {
    const shards = [...this.published.values()].filter((d) => d.tableId === tableId)
      .sort((a, b) => compareBytes(shardRange(a).start, shardRange(b).start));
    return meta.GetRoutesResponse.create({
      table: this.tables.get(tableId), routeVersion: this.routeVersion,
      shards: shards.map((d) => this.route(d)), nodeAddresses: this.addresses(),
    });
  }

  // ---- the test's controls -----------------------------------------------------------------

  /** The id of the table named `name`. */
  tableId(name: string): number {
    const t = this.table({ name, id: 0 });
    if (t === undefined) throw new Error(`no table ${name}`);
    return t.id;
  }

  /** Creates a table split at `bounds`; returns the shard ids in key order. Published at once. */
  createTable(spec: TableSpec): number[] {
    const id = this.nextTableId++;
    this.tables.set(id, meta.TableInfo.create({
      id, name: spec.name, state: meta.TableState.ACTIVE,
      options: meta.TableOptions.create({
        partition: spec.scheme === 'hash' ? meta.PartitionKind.HASH : meta.PartitionKind.RANGE,
        readPolicy: spec.readPolicy ?? common.ReadConsistency.LINEARIZABLE, maxStalenessMs: spec.maxStalenessMs ?? 0,
      }),
    }));
    const nodes = spec.replicas ?? this.nodes.map((n) => n.id);
    const leader = spec.leader ?? nodes[0]!;
    const cuts = [new Uint8Array(0), ...(spec.bounds ?? []), new Uint8Array(0)];
    const ids: number[] = [];
    for (let i = 0; i + 1 < cuts.length; i++) {
      const replicas = nodes.map((n) => common.Replica.create({ nodeId: n, peerId: this.nextPeerId++ }));
      const d = common.ShardDescriptor.create({
        id: this.nextShardId++, tableId: id, startKey: cuts[i], endKey: cuts[i + 1], epoch: { confVer: 1, version: 1 }, replicas,
        leaderPeerId: replicas.find((r) => r.nodeId === leader)!.peerId,
        partition: spec.scheme === 'hash' ? common.Partition.HASH : common.Partition.RANGE,
      });
      this.shards.set(d.id, d);
      ids.push(d.id);
    }
    this.publish(ids);
    return ids;
  }

  /** Splits a shard at storage key `at`: the left half keeps the id; returns the right half's id. */
  split(shardId: number, at: Uint8Array, o: { publish?: boolean } = {}): number {
    const d = this.shards.get(shardId)!;
    const version = (d.epoch?.version ?? 0) + 1;
    const epoch = { confVer: d.epoch?.confVer ?? 0, version };
    const right = common.ShardDescriptor.create({
      ...d, id: this.nextShardId++, startKey: at, epoch,
      replicas: d.replicas.map((r) => ({ ...r, peerId: this.nextPeerId++ })),
    });
    const leaderNode = d.replicas.find((r) => r.peerId === d.leaderPeerId)?.nodeId;
    const rightLeader = right.replicas.find((r) => r.nodeId === leaderNode)?.peerId ?? 0;
    this.shards.set(d.id, { ...d, endKey: at, epoch });
    this.shards.set(right.id, { ...right, leaderPeerId: rightLeader });
    if (o.publish ?? true) this.publish([d.id, right.id]);
    return right.id;
  }

  /** Merges `right` into its left neighbour `left` (which keeps its id); `right` is gone. */
  merge(left: number, right: number, o: { publish?: boolean } = {}): void {
    const l = this.shards.get(left)!;
    const r = this.shards.get(right)!;
    const version = Math.max(l.epoch?.version ?? 0, r.epoch?.version ?? 0) + 1;
    this.shards.set(left, { ...l, endKey: r.endKey, epoch: { confVer: l.epoch?.confVer ?? 0, version } });
    this.shards.delete(right);
    if (o.publish ?? true) {
      this.published.delete(right);
      this.publish([left], [right]);
    }
  }

  /** Moves a shard's leadership to the replica on `nodeId`. */
  moveLeader(shardId: number, nodeId: number, o: { publish?: boolean } = {}): void {
    const d = this.shards.get(shardId)!;
    const r = d.replicas.find((x) => x.nodeId === nodeId)!;
    this.shards.set(shardId, { ...d, leaderPeerId: r.peerId });
    if (o.publish ?? true) this.publish([shardId]);
  }

  /**
   * Tells the metaserver about these shards: a new route version and a watch event per
   * table (`silent`: no event, as if the watcher's history had been trimmed).
   */
  publish(shardIds: readonly number[], removedShardIds: readonly number[] = [], o: { silent?: boolean } = {}): void {
    this.routeVersion++;
    const byTable = new Map<number, common.ShardDescriptor[]>();
    for (const id of shardIds) {
      const d = this.shards.get(id)!;
      this.published.set(id, d);
      byTable.set(d.tableId, [...(byTable.get(d.tableId) ?? []), d]);
    }
    for (const [tableId, ds] of byTable) {
      if (o.silent === true) continue;
      this.leaderMeta()?.push(meta.RouteEvent.create({
        routeVersion: this.routeVersion, tableId, updated: ds.map((d) => this.route(d)), nodeAddresses: this.addresses(),
        removedShardIds: removedShardIds.filter((id) => !this.shards.has(id)),
      }));
    }
  }

  /** The authoritative shards of a table, in key order. */
  shardsOf(tableId: number): common.ShardDescriptor[] {
    return [...this.shards.values()].filter((d) => d.tableId === tableId)
      .sort((a, b) => compareBytes(shardRange(a).start, shardRange(b).start));
  }

  /** The shard bound before user key `key` of a range table. */
  keyBound(tableId: number, key: Uint8Array | string): Uint8Array {
    return rangeShardBound(tableId as TableId, toBytes(key));
  }

  /** The shard bound before `slot` of a hash table. */
  slotBound(tableId: number, slot: number): Uint8Array {
    return slotRangeStart(tableId as TableId, slot);
  }

  private route(d: common.ShardDescriptor): meta.ShardRoute {
    const leader = d.replicas.find((r) => r.peerId === d.leaderPeerId);
    return meta.ShardRoute.create({ shard: d, leaderAddress: leader === undefined ? '' : this.nodeAddress(leader.nodeId) });
  }

  private addresses(): Map<number, string> {
    return new Map(this.nodes.map((n) => [n.id, n.address]));
  }
}
