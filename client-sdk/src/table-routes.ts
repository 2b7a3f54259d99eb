/**
 * What the SDK knows about one table: its id and partition scheme (from the metaserver's
 * GetRoutes), its route cache, and the node addresses its replicas live at.
 *
 * Routes are loaded lazily on the first call, reloaded when a lookup finds a hole (after
 * a node reported a split the metaserver had not told us about, or a shard vanished),
 * patched by nodes' EPOCH_NOT_MATCH / KEY_NOT_IN_SHARD descriptors and NOT_LEADER hints,
 * and kept fresh by the route watcher. Concurrent reloads of one table share one
 * GetRoutes call.
 */
import { assertNever, KvError, tableId } from '@shoal/common';
import type { NodeId, TableId } from '@shoal/common';
import { common, meta } from '@shoal/proto';
import { emit } from './hooks.js';
import type { RouteSource } from './hooks.js';
import { TableKeyspace } from './keyspace.js';
import type { PartitionScheme } from './keyspace.js';
import type { MetaClient } from './meta-client.js';
import type { ReadConsistency, ResolvedOptions } from './options.js';
import { RouteCache } from './route-cache.js';
import type { CachedShard } from './route-cache.js';
import { Deadline, raceDeadline } from './timing.js';

/** The table facts the SDK needs, from the metaserver's `TableInfo`. */
export interface TableFacts {
  readonly id: TableId;
  readonly name: string;
  readonly scheme: PartitionScheme;
  /** The table's default read consistency. */
  readonly readPolicy: ReadConsistency;
  /** The table's default bound for stale reads; 0 = any. */
  readonly maxStalenessMs: number;
}

/** Node id → gRPC address, shared by all tables of a client. */
export class NodeDirectory {
  private readonly addresses = new Map<number, string>();

  address(id: NodeId): string | undefined {
    return this.addresses.get(id);
  }

  set(id: number, address: string): void {
    if (address !== '') this.addresses.set(id, address);
  }

  setAll(m: ReadonlyMap<number, string>): void {
    for (const [id, a] of m) this.set(id, a);
  }
}

/** What a table's routes need from the client. */
export interface RoutesEnv {
  readonly meta: MetaClient;
  readonly nodes: NodeDirectory;
  readonly options: ResolvedOptions;
  /** Aborted when the client closes. */
  readonly signal: AbortSignal;
  /** Called once, after the first successful load (the watcher starts watching the table). */
  readonly loaded: (t: TableRoutes) => void;
}

export class TableRoutes {
  private facts: TableFacts | undefined;
  private cache: RouteCache | undefined;
  private keyspace: TableKeyspace | undefined;
  private loading: Promise<void> | undefined;
  /** The metaserver route version the cache reflects at least. */
  routeVersion = 0;

  constructor(readonly name: string, private readonly env: RoutesEnv) {}

  get loaded(): boolean {
    return this.facts !== undefined;
  }

  /** Table facts; only after `ensure`. */
  get info(): TableFacts {
    if (this.facts === undefined) throw new KvError('INTERNAL', `table ${this.name}: routes not loaded`);
    return this.facts;
  }

  get ks(): TableKeyspace {
    if (this.keyspace === undefined) throw new KvError('INTERNAL', `table ${this.name}: routes not loaded`);
    return this.keyspace;
  }

  get routes(): RouteCache {
    if (this.cache === undefined) throw new KvError('INTERNAL', `table ${this.name}: routes not loaded`);
    return this.cache;
  }

  /** Loads the routes if they never were. */
  async ensure(deadline: Deadline, signal: AbortSignal): Promise<void> {
    if (this.facts === undefined) await this.refresh(deadline, signal);
  }

  /**
   * Reloads the routes from the metaserver; joins a reload already running. The reload has
   * its own budget (the client's default timeout); the caller stops waiting at `deadline`.
   */
  refresh(deadline: Deadline, signal: AbortSignal): Promise<void> {
    this.loading ??= this.load().finally(() => {
      this.loading = undefined;
    });
    return raceDeadline(this.loading, deadline, signal,
      () => new KvError('TIMEOUT', `table ${this.name}: routes did not load in time`));
  }

  private async load(): Promise<void> {
    const deadline = new Deadline(this.env.options.timeoutMs);
    const sel = this.facts === undefined ? { name: this.name } : { id: this.facts.id };
    const res = await this.env.meta.getRoutes(sel, deadline, this.env.signal);
    const first = this.facts === undefined;
    if (first) this.adopt(res.table);
    this.applyRoutes(res);
    if (first) this.env.loaded(this);
  }

  private adopt(t: meta.TableInfo | undefined): void {
    if (t === undefined) throw new KvError('INTERNAL', `GetRoutes(${this.name}) answered without table info`);
    const kind = t.options?.partition;
    const scheme = kind === meta.PartitionKind.HASH ? 'hash' : kind === meta.PartitionKind.RANGE ? 'range' : undefined;
    if (scheme === undefined) throw new KvError('INTERNAL', `table ${t.name}: unknown partition kind ${String(kind)}`);
    const id = tableId(t.id);
    this.facts = {
      id, name: t.name, scheme,
      readPolicy: toConsistency(t.options?.readPolicy ?? common.ReadConsistency.LINEARIZABLE),
      maxStalenessMs: t.options?.maxStalenessMs ?? 0,
    };
    this.keyspace = new TableKeyspace(id, scheme);
    this.cache = new RouteCache(this.keyspace, this.env.options.random);
  }

  /** Merges a GetRoutes answer. */
  applyRoutes(res: meta.GetRoutesResponse): void {
    this.env.nodes.setAll(res.nodeAddresses);
    for (const r of res.shards) this.applyRoute(r);
    this.routeVersion = Math.max(this.routeVersion, res.routeVersion);
    this.changed('meta');
  }

  /** Merges a WatchRoutes event of this table. */
  applyEvent(ev: meta.RouteEvent): void {
    if (this.cache === undefined) return;
    if (ev.resync) {
      this.refresh(new Deadline(this.env.options.timeoutMs), this.env.signal).catch(() => undefined);
      return;
    }
    this.env.nodes.setAll(ev.nodeAddresses);
    for (const id of ev.removedShardIds) this.cache.remove(id);
    for (const r of ev.updated) this.applyRoute(r);
    this.routeVersion = Math.max(this.routeVersion, ev.routeVersion);
    this.changed('watch');
  }

  /** Merges a descriptor a node sent with EPOCH_NOT_MATCH / KEY_NOT_IN_SHARD. True if it changed the cache. */
  applyDescriptor(d: common.ShardDescriptor): boolean {
    if (this.cache === undefined || d.tableId !== this.info.id) return false;
    const applied = this.routes.apply(d) === 'applied';
    if (applied) this.changed('node');
    return applied;
  }

  /** Follows a NOT_LEADER hint. True if the believed leader changed. */
  learnLeader(shard: CachedShard, hint: { readonly nodeId: number; readonly peerId: number; readonly address: string }): boolean {
    if (hint.nodeId !== 0) this.env.nodes.set(hint.nodeId, hint.address);
    if (hint.peerId === 0 || hint.peerId === shard.leaderPeerId) return false;
    if (!shard.replicas.some((r) => r.peerId === hint.peerId)) return false;
    shard.leaderPeerId = hint.peerId as CachedShard['leaderPeerId'];
    return true;
  }

  private applyRoute(r: meta.ShardRoute): void {
    const d = r.shard;
    if (d === undefined || d.tableId !== this.info.id) return;
    if (r.leaderAddress !== '' && d.leaderPeerId !== 0) {
      const leader = d.replicas.find((x) => x.peerId === d.leaderPeerId);
      if (leader !== undefined) this.env.nodes.set(leader.nodeId, r.leaderAddress);
    }
    this.routes.apply(d);
  }

  private changed(source: RouteSource): void {
    emit(this.env.options.hooks.onRoutesUpdated, {
      table: this.name, tableId: this.info.id, source, routeVersion: this.routeVersion, shardCount: this.routes.size,
    });
  }
}

function toConsistency(c: common.ReadConsistency): ReadConsistency {
  switch (c) {
    case common.ReadConsistency.FOLLOWER: return 'follower';
    case common.ReadConsistency.STALE: return 'stale';
    case common.ReadConsistency.LINEARIZABLE: return 'linearizable';
    default: return 'linearizable';
  }
}

/** The wire enum of a consistency. */
export function consistencyToProto(c: ReadConsistency): common.ReadConsistency {
  switch (c) {
    case 'linearizable': return common.ReadConsistency.LINEARIZABLE;
    case 'follower': return common.ReadConsistency.FOLLOWER;
    case 'stale': return common.ReadConsistency.STALE;
    default: return assertNever(c, 'read consistency');
  }
}
