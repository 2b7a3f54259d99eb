/**
 * The state machine of a storage node: one classic-level DB holding every hosted shard's
 * data and local state, plus the value log for large values. See README.md for the
 * formats and the caller's obligations; types.ts for the contract.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { assert, decodeStorageKey, KvError, ShardLocalField } from '@shoal/common';
import { common } from '@shoal/proto';
import type { command, kv } from '@shoal/proto';
import { readU32, ValueLog, ValueLogGc } from '../vlog/index.js';
import { ApplyBatchImpl } from './apply-batch.js';
import type { AppliedMark, ApplyHost, CreatedShard } from './apply-batch.js';
import type { KeyRange, PartitionScheme } from '@shoal/common';
import { checkRawBatch } from '../redis/apply-raw.js';
import type { EngineRawAccess } from '../redis/engine-view.js';
import { checkKey } from './commands.js';
import { EngineCore, openDb } from './core.js';
import type { ShardRuntime } from './core.js';
import { EngineGcHost } from './gc-host.js';
import { ShardKeyspace, rangesOverlap } from './keyspace.js';
import {
  appliedStateKey, decodeAppliedState, decodeInstallKey, decodeReplicaMeta, decodeShardLocalKey, decodeTableInfo,
  decodeU64Value, descriptorKey, DURABLE_KEY, encodeAppliedState, encodeReplicaMeta, encodeTableInfo,
  encodeU64Value, INSTALL_SPACE_RANGE, installMarkerKey, replicaMetaKey, SHARD_SPACE_RANGE, stagedRange,
  storageKeyOfStaged, TABLE_SPACE_RANGE, tableIdOfKey, tableKey, VLOG_LIVE_RANGE, vlogLiveKey,
} from './local-keys.js';
import type { ReplicaMeta } from './local-keys.js';
import { resolveEngineOptions } from './options.js';
import { findExpired, getMany, getOne, scanPage } from './reads.js';
import { EngineSnapshotImpl } from './snapshot-export.js';
import { decodeInstallMarker, SnapshotInstallerImpl, stagedIsStored, swapInstalled } from './snapshot-install.js';
import type { InstallHost } from './snapshot-install.js';
import type {
  ApplyBatch, EngineOptions, EngineSnapshot, EngineStats, GetResult, ScanRequest, ScanResult, ShardLocalState,
  SnapshotInstaller, SnapshotMeta, TableInfo,
} from './types.js';
import { validateCommand } from './validate.js';
import { hashMiddleKey, rangeMiddleKey } from './split.js';
import type { ConfState } from '@shoal/raft-ts';

export class Engine {
  private readonly shardsById = new Map<number, ShardRuntime>();
  private readonly tables = new Map<number, TableInfo>();
  private readonly expireCursors = new Map<number, Uint8Array>();
  /** Replicas whose removal a crash interrupted (found by load, finished by recover). */
  private readonly pendingRemovals: ShardRuntime[] = [];
  private readonly gc: ValueLogGc;
  private batchOpen = false;
  private durableWrites = 0;
  private closed = false;
  private readonly gcTotals = { runs: 0, filesRewritten: 0, bytesReclaimed: 0, bytesCopied: 0 };
  private readonly applyHost: ApplyHost;
  private readonly installHost: InstallHost;

  private constructor(private readonly core: EngineCore) {
    this.gc = new ValueLogGc(core.vlog, new EngineGcHost(core), {
      garbageRatio: core.opts.valueLogGcGarbageRatio,
      rateBytesPerSec: core.opts.valueLogGcRateBytesPerSec,
      logger: core.opts.logger,
    });
    this.applyHost = {
      core,
      shard: (id) => this.shardsById.get(id),
      committed: (applied, created) => this.adoptApplied(applied, created),
      closed: () => {
        this.batchOpen = false;
      },
    };
    this.installHost = {
      core,
      otherRanges: (id) => [...this.shardsById.values()]
        .filter((s) => s.state.descriptor.id !== id && !s.state.tombstone).map((s) => s.ks.range),
      installed: (sh, meta, ks) => this.adoptInstalled(sh, meta, ks),
      installerClosed: (sh) => {
        sh.installerOpen = false;
      },
    };
  }

  /** Opens (creating if needed) the DB and value log under opts.dir, then finishes interrupted installs and removals. */
  static async open(options: EngineOptions): Promise<Engine> {
    const opts = resolveEngineOptions(options);
    await mkdir(opts.dir, { recursive: true });
    const db = openDb(join(opts.dir, 'db'));
    await db.open();
    let vlog: ValueLog;
    try {
      vlog = await ValueLog.open({
        dir: join(opts.dir, 'vlog'), fileBytes: opts.valueLogFileBytes, logger: opts.logger,
        failpoints: { writeError: opts.failpoints.vlogWriteError, fsyncError: opts.failpoints.vlogFsyncError },
      });
    } catch (e) {
      await db.close();
      throw e;
    }
    const engine = new Engine(new EngineCore(db, vlog, opts));
    try {
      await engine.load();
      await engine.recover();
    } catch (e) {
      await engine.close();
      throw e;
    }
    return engine;
  }

  // ------------------------------------------------------------------------- replicas, tables

  /** Every replica this node hosts, tombstones included. */
  shards(): readonly ShardLocalState[] {
    return [...this.shardsById.values()].map((s) => s.state);
  }

  table(tableId: number): TableInfo | undefined {
    return this.tables.get(tableId);
  }

  /** A snapshot is being swapped in: reads of the shard get NOT_READY. */
  isInstalling(shardId: number): boolean {
    return this.shardsById.get(shardId)?.installing ?? false;
  }

  /** Persists (synced) a new replica and its table. A tombstone of the same id is replaced. */
  async createShard(state: ShardLocalState, table: TableInfo): Promise<void> {
    const id = state.descriptor.id;
    const existing = this.shardsById.get(id);
    if (existing !== undefined && !existing.state.tombstone) throw new KvError('ALREADY_EXISTS', `shard ${id} already exists`);
    this.checkTable(table);
    const ks = ShardKeyspace.of(state.descriptor, table);
    for (const s of this.shardsById.values()) {
      if (!s.state.tombstone && s.state.descriptor.id !== id && rangesOverlap(s.ks.range, ks.range)) {
        throw new KvError('INVALID_ARGUMENT', `shard ${id} overlaps shard ${s.state.descriptor.id} on this node`);
      }
    }
    await this.core.exclusive(async () => {
      const b = this.core.db.batch();
      b.put(tableKey(table.tableId), encodeTableInfo(table));
      b.put(descriptorKey(id), common.ShardDescriptor.encode(state.descriptor).finish());
      b.put(appliedStateKey(id), encodeAppliedState(state.appliedIndex, state.appliedTerm));
      b.put(replicaMetaKey(id), encodeReplicaMeta({ peerId: state.peerId, tombstone: false, removing: false, confState: state.confState }));
      await this.core.write(b, true);
    });
    this.tables.set(table.tableId, table);
    this.shardsById.set(id, { state: { ...state, tombstone: false }, table, ks, installing: false, installerOpen: false });
  }

  /** Deletes the replica's data range and local state, leaving a tombstone. Idempotent. */
  async removeShard(shardId: number): Promise<void> {
    const sh = this.shardsById.get(shardId);
    if (sh === undefined || sh.state.tombstone) return;
    assert(!sh.installerOpen, () => `removeShard(${shardId}) while a snapshot install is open`);
    sh.state = { ...sh.state, tombstone: true };
    await this.writeMeta(sh, { tombstone: true, removing: true });
    await this.finishRemoval(sh);
  }

  async setTable(table: TableInfo): Promise<void> {
    this.checkTable(table);
    await this.core.exclusive(async () => {
      const b = this.core.db.batch();
      b.put(tableKey(table.tableId), encodeTableInfo(table));
      await this.core.write(b, true);
    });
    this.tables.set(table.tableId, table);
    for (const s of this.shardsById.values()) if (s.table.tableId === table.tableId) s.table = table;
  }

  private checkTable(table: TableInfo): void {
    const t = table.tableId;
    if (!Number.isInteger(t) || t < 1 || t > 0xfffffffe) throw new KvError('INVALID_ARGUMENT', `bad table id ${t}`);
    if (table.partition !== 'hash' && table.partition !== 'range') throw new KvError('INVALID_ARGUMENT', 'bad partition scheme');
    for (const n of [table.valueSeparationThresholdBytes, table.defaultTtlMs]) {
      if (!Number.isSafeInteger(n) || n < 0) throw new KvError('INVALID_ARGUMENT', `table ${t}: bad option value ${n}`);
    }
    const old = this.tables.get(t);
    if (old !== undefined && old.partition !== table.partition) {
      throw new KvError('INVALID_ARGUMENT', `table ${t}: the partition scheme cannot change`);
    }
  }

  /**
   * Where a split of the shard should cut when the caller names no key (split.ts): a hash
   * shard's middle slot boundary (as the metaserver computes it), a range shard's
   * approximate middle user key. CONDITION_FAILED if there is nothing to split on.
   */
  async splitKeyOf(shardId: number): Promise<Uint8Array> {
    const sh = this.readable(shardId);
    const key = sh.ks.scheme === 'hash' ? hashMiddleKey(sh.ks) : await rangeMiddleKey(this.core.db, sh.ks);
    if (key === null) {
      throw new KvError('CONDITION_FAILED', sh.ks.scheme === 'hash'
        ? `shard ${shardId} owns a single slot and cannot split`
        : `shard ${shardId} holds fewer than two keys: no split key to choose`);
    }
    return key;
  }

  /**
   * Forced replica reduction (no quorum): replaces the replica's membership and descriptor,
   * synced. Only the local replica state changes; the caller restarts its raft group.
   */
  async rewriteMembership(shardId: number, confState: ConfState, descriptor: common.ShardDescriptor): Promise<void> {
    const sh = this.shardsById.get(shardId);
    if (sh === undefined || sh.state.tombstone) throw new KvError('SHARD_NOT_FOUND', `shard ${shardId} is not hosted here`);
    assert(descriptor.id === shardId, 'rewriteMembership with another shard\'s descriptor');
    const ks = ShardKeyspace.of(descriptor, sh.table);
    await this.core.exclusive(async () => {
      const b = this.core.db.batch();
      b.put(descriptorKey(shardId), common.ShardDescriptor.encode(descriptor).finish());
      b.put(replicaMetaKey(shardId), encodeReplicaMeta({ peerId: sh.state.peerId, tombstone: false, removing: false, confState }));
      await this.core.write(b, true);
    });
    sh.state = { ...sh.state, confState, descriptor };
    sh.ks = ks;
  }

  // ------------------------------------------------------------------------- writes

  /** Opens the turn's apply batch. At most one at a time; its commit() must resolve first. */
  beginApply(): ApplyBatch {
    assert(!this.closed, 'engine is closed');
    assert(!this.batchOpen, 'beginApply() while another apply batch is open');
    this.core.checkHealthy();
    this.batchOpen = true;
    const pin = this.core.pinAppends();
    const host: ApplyHost = {
      ...this.applyHost,
      closed: () => {
        this.core.unpin(pin);
        this.applyHost.closed();
      },
    };
    return new ApplyBatchImpl(host);
  }

  /** fsync the value log, then a synced DB write: everything applied so far survives power loss. */
  async makeDurable(): Promise<void> {
    await this.core.exclusive(async () => {
      await this.core.vlog.syncAll();
      const b = this.core.db.batch();
      b.put(DURABLE_KEY, encodeU64Value(++this.durableWrites));
      await this.core.write(b, true);
    });
  }

  /**
   * The checks the service runs before proposing: limits and shape (validate.ts), then that
   * the shard is hosted here, every key lies in it, and the epoch's version is current.
   */
  validateCommand(shardId: number, cmd: command.RaftCommand): KvError | undefined {
    const o = this.core.opts;
    const bad = validateCommand(cmd, o);
    if (bad !== undefined) return bad;
    const sh = this.shardsById.get(shardId);
    if (sh === undefined || sh.state.tombstone) return new KvError('SHARD_NOT_FOUND', `shard ${shardId} is not hosted here`);
    if (cmd.header?.shardId !== shardId) return new KvError('INVALID_ARGUMENT', 'header.shard_id differs from the target shard');
    const epoch = sh.state.descriptor.epoch;
    if (cmd.header?.epoch !== undefined && cmd.header.epoch.version !== (epoch?.version ?? 0)) {
      return new KvError('EPOCH_NOT_MATCH', 'stale shard epoch', { details: { shard: sh.state.descriptor } });
    }
    if (cmd.rawBatch !== undefined) {
      const c = checkRawBatch({
        scheme: sh.ks.scheme, range: sh.ks.range, keyBytesMax: o.keyBytesMax, valueBytesMax: o.valueBytesMax, writesMax: o.batchKeysMax,
      }, cmd.rawBatch);
      if (!c.ok) return c.error.code === 'KEY_NOT_IN_SHARD' ? new KvError(c.error.code, c.error.message, { details: { shard: sh.state.descriptor } }) : c.error;
    }
    for (const k of commandKeys(cmd)) {
      const e = checkKey({ ks: sh.ks, keyBytesMax: o.keyBytesMax }, k);
      if (e !== undefined) return e.code === 'KEY_NOT_IN_SHARD' ? new KvError(e.code, e.message, { details: { shard: sh.state.descriptor } }) : e;
    }
    return undefined;
  }

  // ------------------------------------------------------------------------- reads

  get(shardId: number, key: Uint8Array, nowMs: number): GetResult {
    return getOne(this.core, this.readable(shardId), key, nowMs);
  }

  /** One result per key, in order, all from one point in time. */
  async batchGet(shardId: number, keys: readonly Uint8Array[], nowMs: number): Promise<kv.GetResult[]> {
    return getMany(this.core, this.readable(shardId), keys, nowMs);
  }

  /** One page, from one explicit DB snapshot. */
  async scan(shardId: number, req: ScanRequest, nowMs: number): Promise<ScanResult> {
    return scanPage(this.core, this.readable(shardId), req, nowMs);
  }

  /**
   * What the Redis executor reads a shard through (redis/engine-view.ts EngineReadView):
   * the engine's core (DB, value-log resolution, reader registration) with the shard's
   * partition scheme and storage range. Checked like every read (SHARD_NOT_FOUND,
   * NOT_READY); the caller opens a view per command and closes it.
   */
  rawReadAccess(shardId: number): { readonly access: EngineRawAccess; readonly scheme: PartitionScheme; readonly range: KeyRange } {
    const sh = this.readable(shardId);
    return { access: this.core, scheme: sh.ks.scheme, range: sh.ks.range };
  }

  /**
   * Up to `limit` user keys expired at `nowMs`, for the leader's sweeper, which proposes
   * them in an ExpireDelete. Successive calls walk the shard round-robin from a cursor.
   */
  async expiredKeys(shardId: number, nowMs: number, limit: number): Promise<Uint8Array[]> {
    const sh = this.readable(shardId);
    const r = await findExpired(this.core, sh, this.expireCursors.get(shardId), nowMs, limit);
    if (r.cursor === undefined) this.expireCursors.delete(shardId);
    else this.expireCursors.set(shardId, r.cursor);
    return r.keys;
  }

  private readable(shardId: number): ShardRuntime {
    assert(!this.closed, 'engine is closed');
    const sh = this.shardsById.get(shardId);
    if (sh === undefined || sh.state.tombstone) throw new KvError('SHARD_NOT_FOUND', `shard ${shardId} is not hosted here`);
    if (sh.installing) throw new KvError('NOT_READY', `shard ${shardId} is installing a snapshot`);
    return sh;
  }

  // ------------------------------------------------------------------------- snapshots

  openSnapshot(shardId: number): EngineSnapshot {
    return EngineSnapshotImpl.open(this.core, this.readable(shardId));
  }

  beginInstall(shardId: number): SnapshotInstaller {
    assert(!this.closed, 'engine is closed');
    const sh = this.shardsById.get(shardId);
    if (sh === undefined || sh.state.tombstone) throw new KvError('SHARD_NOT_FOUND', `shard ${shardId} is not hosted here`);
    if (sh.installerOpen) throw new KvError('NOT_READY', `shard ${shardId} is already installing a snapshot`);
    sh.installerOpen = true;
    return new SnapshotInstallerImpl(this.installHost, sh);
  }

  // ------------------------------------------------------------------------- value-log GC

  /** One GC pass over the value log (rate-limited); the node calls it periodically. */
  async runValueLogGc(): Promise<{ filesRewritten: number; bytesReclaimed: number }> {
    assert(!this.closed, 'engine is closed');
    const r = await this.gc.run();
    this.gcTotals.runs++;
    this.gcTotals.filesRewritten += r.filesRewritten;
    this.gcTotals.bytesReclaimed += r.bytesReclaimed;
    this.gcTotals.bytesCopied += r.bytesCopied;
    return { filesRewritten: r.filesRewritten, bytesReclaimed: r.bytesReclaimed };
  }

  /** The GC itself, for tests that drive its phases. */
  get valueLogGc(): ValueLogGc {
    return this.gc;
  }

  stats(): EngineStats {
    let tombstones = 0;
    let installing = 0;
    for (const s of this.shardsById.values()) {
      if (s.state.tombstone) tombstones++;
      if (s.installing) installing++;
    }
    let live = 0;
    for (const n of this.core.live.values()) live += n;
    return {
      shards: this.shardsById.size - tombstones, tombstones, installing,
      valueLogFiles: this.core.vlog.fileIds().length, valueLogBytes: this.core.vlog.totalBytes(), valueLogLiveBytes: live,
      gcRuns: this.gcTotals.runs, gcFilesRewritten: this.gcTotals.filesRewritten,
      gcBytesReclaimed: this.gcTotals.bytesReclaimed, gcBytesCopied: this.gcTotals.bytesCopied,
      openReaders: this.core.openReaders, filesAwaitingDelete: this.core.filesAwaitingDelete,
    };
  }

  /** Waits for queued writes, then closes the value log and the DB. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.core.exclusive(async () => undefined).catch(() => undefined);
    await this.core.vlog.close();
    await this.core.db.close();
  }

  // ------------------------------------------------------------------------- internals

  private adoptApplied(applied: ReadonlyMap<number, AppliedMark>, created: readonly CreatedShard[]): void {
    for (const c of created) {
      const id = c.state.descriptor.id;
      this.shardsById.set(id, { state: c.state, table: c.parent.table, ks: c.ks, installing: false, installerOpen: false });
      // The parent's sweep cursor may now point into the right half.
      this.expireCursors.delete(c.parent.state.descriptor.id);
    }
    for (const [id, a] of applied) {
      const sh = this.shardsById.get(id);
      if (sh === undefined) continue;
      sh.state = {
        ...sh.state, appliedIndex: a.index, appliedTerm: a.term, confState: a.confState ?? sh.state.confState,
        descriptor: a.descriptor?.value ?? sh.state.descriptor,
      };
      if (a.descriptor !== undefined) sh.ks = a.descriptor.ks;
    }
  }

  private adoptInstalled(sh: ShardRuntime, meta: SnapshotMeta, ks: ShardKeyspace): void {
    sh.state = {
      ...sh.state, descriptor: meta.descriptor, appliedIndex: meta.index, appliedTerm: meta.term, confState: meta.confState,
    };
    sh.ks = ks;
    sh.installing = false;
    this.expireCursors.delete(sh.state.descriptor.id);
  }

  private async writeMeta(sh: ShardRuntime, flags: Pick<ReplicaMeta, 'tombstone' | 'removing'>): Promise<void> {
    await this.core.exclusive(async () => {
      const b = this.core.db.batch();
      b.put(replicaMetaKey(sh.state.descriptor.id), encodeReplicaMeta({ peerId: sh.state.peerId, confState: sh.state.confState, ...flags }));
      await this.core.write(b, true);
    });
  }

  private async finishRemoval(sh: ShardRuntime): Promise<void> {
    const id = sh.state.descriptor.id;
    await this.core.deleteRangeChunked(sh.ks.range, (k) => sh.ks.userKeyOf(k) !== undefined);
    await this.core.deleteRangeChunked(stagedRange(id), stagedIsStored(sh));
    await this.core.exclusive(async () => {
      const b = this.core.db.batch();
      b.del(appliedStateKey(id));
      b.del(installMarkerKey(id));
      b.put(replicaMetaKey(id), encodeReplicaMeta({ peerId: sh.state.peerId, confState: sh.state.confState, tombstone: true, removing: false }));
      await this.core.write(b, true);
    });
    sh.state = { ...sh.state, appliedIndex: 0, appliedTerm: 0 };
    this.expireCursors.delete(id);
  }

  /** Reads tables, value-log accounting and replicas into memory. */
  private async load(): Promise<void> {
    const db = this.core.db;
    for await (const [k, v] of db.iterator({ gte: TABLE_SPACE_RANGE.start, lt: TABLE_SPACE_RANGE.end })) {
      const t = decodeTableInfo(tableIdOfKey(k), v);
      this.tables.set(t.tableId, t);
    }
    for await (const [k, v] of db.iterator({ gte: VLOG_LIVE_RANGE.start, lt: VLOG_LIVE_RANGE.end })) {
      this.core.live.set(readU32(k, 5), decodeU64Value(v, 'value-log live bytes'));
    }
    const parts = new Map<number, { applied?: Uint8Array; desc?: Uint8Array; meta?: Uint8Array }>();
    for await (const [k, v] of db.iterator({ gte: SHARD_SPACE_RANGE.start, lt: SHARD_SPACE_RANGE.end })) {
      const { shardId, field } = decodeShardLocalKey(k);
      const p = parts.get(shardId) ?? {};
      if (field === ShardLocalField.AppliedState) p.applied = v;
      else if (field === ShardLocalField.Descriptor) p.desc = v;
      else if (field === ShardLocalField.RaftState) p.meta = v;
      parts.set(shardId, p);
    }
    for (const [id, p] of parts) this.shardsById.set(id, this.loadShard(id, p));
  }

  private loadShard(id: number, p: { applied?: Uint8Array; desc?: Uint8Array; meta?: Uint8Array }): ShardRuntime {
    if (p.desc === undefined || p.meta === undefined) throw new KvError('CORRUPTION', `shard ${id}: descriptor or replica state missing`);
    const descriptor = common.ShardDescriptor.decode(p.desc);
    const table = this.tables.get(descriptor.tableId);
    if (table === undefined) throw new KvError('CORRUPTION', `shard ${id}: table ${descriptor.tableId} unknown`);
    const meta = decodeReplicaMeta(p.meta);
    const applied = p.applied === undefined ? { index: 0, term: 0 } : decodeAppliedState(p.applied);
    const state: ShardLocalState = {
      descriptor, appliedIndex: applied.index, appliedTerm: applied.term, confState: meta.confState,
      peerId: meta.peerId, tombstone: meta.tombstone,
    };
    const sh: ShardRuntime = { state, table, ks: ShardKeyspace.of(descriptor, table), installing: false, installerOpen: false };
    if (meta.removing) this.pendingRemovals.push(sh);
    return sh;
  }

  /** Finishes what a crash interrupted: accounting of vanished files, installs, removals. */
  private async recover(): Promise<void> {
    const core = this.core;
    const existing = new Set(core.vlog.fileIds());
    for (const [fileId, n] of [...core.live]) {
      if (existing.has(fileId)) continue;
      if (n !== 0) core.opts.logger?.error({ fileId, liveBytes: n }, 'engine: a value-log file with live values is missing');
      await core.exclusive(async () => {
        const b = core.db.batch();
        b.del(vlogLiveKey(fileId));
        await core.write(b, false);
      });
      core.live.delete(fileId);
    }
    for (const sh of this.pendingRemovals.splice(0)) await this.finishRemoval(sh);
    await this.recoverInstalls();
  }

  private async recoverInstalls(): Promise<void> {
    const markers = new Map<number, SnapshotMeta>();
    const staged = new Set<number>();
    const db = this.core.db;
    for await (const [k, v] of db.iterator({ gte: INSTALL_SPACE_RANGE.start, lt: INSTALL_SPACE_RANGE.end })) {
      const { shardId, marker } = decodeInstallKey(k);
      if (marker) markers.set(shardId, decodeInstallMarker(v));
      else staged.add(shardId);
    }
    for (const [id, meta] of markers) {
      const sh = this.shardsById.get(id);
      if (sh === undefined || sh.state.tombstone) {
        await this.core.exclusive(async () => {
          const b = this.core.db.batch();
          b.del(installMarkerKey(id));
          await this.core.write(b, false);
        });
        continue;
      }
      this.core.opts.logger?.warn({ shardId: id, index: meta.index }, 'engine: resuming an interrupted snapshot install');
      sh.installing = true;
      await swapInstalled(this.installHost, sh, meta);
      staged.delete(id);
    }
    for (const id of staged) await this.core.deleteRangeChunked(stagedRange(id), (k) => this.isStagedStored(k));
  }

  /** Whether a staged entry's value is a stored value: its storage key is a data key of a known table. */
  private isStagedStored(stagedKey: Uint8Array): boolean {
    const key = storageKeyOfStaged(stagedKey);
    const table = key.length >= 4 ? this.tables.get(readU32(key, 0)) : undefined;
    return table !== undefined && decodeStorageKey(key, table.partition).type === 'data';
  }
}

/**
 * Every user key a command names (DeleteRange bounds are positions, not keys). A raw batch
 * names storage keys, checked by checkRawBatch instead.
 */
function commandKeys(cmd: command.RaftCommand): Uint8Array[] {
  if (cmd.rawBatch !== undefined) return [];
  const op = cmd.op;
  switch (op?.$case) {
    case 'put': return [op.put.key];
    case 'delete': return [op.delete.key];
    case 'cas': return [op.cas.key];
    case 'incr': return [op.incr.key];
    case 'batchWrite': return op.batchWrite.ops.map((o) => o.key);
    case 'deleteRange':
    case 'expireDelete':
    case 'split':
    case undefined:
      return [];
    default: {
      const never: never = op;
      return never;
    }
  }
}
