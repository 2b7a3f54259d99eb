/**
 * One scheduler turn's apply batch (the ApplyBatch contract in types.ts).
 *
 * apply() runs synchronously: it reads prior state with `getSync` through an overlay of the
 * batch's own writes (and its range deletions), decides the outcome, and records the new
 * stored values in the overlay; large values go to the value log right away. commit() then
 * builds ONE classic-level batch under the engine's write lock: every overlay key, every
 * key a DeleteRange covers (enumerated now — LevelDB has no range tombstones), the applied
 * state of each shard, and the live-byte totals of the value-log files whose references
 * changed, computed against what the DB holds at that moment. Written without sync: the
 * Raft log is the durability source.
 */
import { assert, err, inRange, KvError, ok } from '@shoal/common';
import type { KeyRange } from '@shoal/common';
import { command, common } from '@shoal/proto';
import type { kv } from '@shoal/proto';
import type { ConfState } from '@shoal/raft-ts';
import { applyRawBatch } from '../redis/apply-raw.js';
import type { StoredDataValue } from '../redis/apply-raw.js';
import { applyCommand } from './commands.js';
import type { OpContext } from './commands.js';
import { LiveDelta } from './core.js';
import type { DbBatch, EngineCore, ShardRuntime } from './core.js';
import { ShardKeyspace } from './keyspace.js';
import { appliedStateKey, descriptorKey, encodeAppliedState, encodeReplicaMeta, replicaMetaKey } from './local-keys.js';
import { decodeStoredValue, encodeInline, encodePointerValue, isExpired, VALUE_TYPE_PLAIN } from './stored-value.js';
import type { StoredValue } from './stored-value.js';
import { mapConfState, planSplit, SPLIT_INIT_INDEX, SPLIT_INIT_TERM } from './split.js';
import type { ApplyBatch, ApplyOutcome, ApplyReply, ShardLocalState } from './types.js';

/** What the batch needs from the engine. */
export interface ApplyHost {
  readonly core: EngineCore;
  shard(shardId: number): ShardRuntime | undefined;
  /** The batch is written: move each shard's in-memory applied state, adopt the shards splits created. */
  committed(applied: ReadonlyMap<number, AppliedMark>, created: readonly CreatedShard[]): void;
  /** The batch is done (written or failed): another may begin. */
  closed(): void;
}

export interface AppliedMark {
  readonly index: number;
  readonly term: number;
  readonly confState: ConfState | undefined;
  /** Set by setDescriptor: the shard's new descriptor and keyspace. */
  readonly descriptor: { readonly value: common.ShardDescriptor; readonly ks: ShardKeyspace } | undefined;
}

/** The right half of a split applied in this batch (written with it). */
export interface CreatedShard {
  readonly state: ShardLocalState;
  readonly parent: ShardRuntime;
  readonly ks: ShardKeyspace;
}

interface OverlayEntry {
  readonly key: Uint8Array;
  /** Encoded stored value (data keys) or raw bytes (Redis subkeys), or null for a deletion. */
  raw: Uint8Array | null;
  decoded: StoredValue | undefined;
  /**
   * Whether the key's values are stored values (a data key). False for Redis subkeys and
   * sub-index keys written by a raw batch: never decoded, never counted in the value-log
   * accounting.
   */
  readonly stored: boolean;
}

class DeleteRangeTally {
  count = 0;
  final = false;
}

interface RangeTombstone {
  readonly range: KeyRange;
  readonly stampMs: number;
  readonly ks: ShardKeyspace;
  /** Keys the batch had written before this deletion: counted from the overlay, not the DB. */
  readonly shadowed: ReadonlySet<string>;
  readonly tally: DeleteRangeTally;
}

class DeleteRangeReply {
  readonly op = 'deleteRange';
  constructor(private readonly tally: DeleteRangeTally) {}

  get response(): kv.DeleteRangeResponse {
    assert(this.tally.final, 'DeleteRange reply read before its batch committed');
    return { error: undefined, deletedCount: this.tally.count };
  }
}

/** Map key of a storage key (latin1 keeps one char per byte). */
function keyId(k: Uint8Array): string {
  return Buffer.from(k.buffer, k.byteOffset, k.byteLength).toString('latin1');
}

export class ApplyBatchImpl implements ApplyBatch {
  private state: 'open' | 'committing' | 'done' = 'open';
  private readonly overlay = new Map<string, OverlayEntry>();
  private readonly tombstones: RangeTombstone[] = [];
  private readonly applied = new Map<number, AppliedMark>();
  private readonly created: CreatedShard[] = [];
  private vlogAppended = false;
  private poisoned: unknown;

  constructor(private readonly host: ApplyHost) {}

  apply(shardId: number, index: number, term: number, data: Uint8Array): ApplyOutcome {
    assert(this.poisoned === undefined, 'apply() on a batch whose earlier apply() threw');
    const sh = this.advance(shardId, index, term, undefined);
    let cmd: command.RaftCommand;
    try {
      cmd = command.RaftCommand.decode(data);
    } catch (e) {
      this.host.core.opts.logger?.error({ shardId, index, err: String(e) }, 'engine: undecodable command');
      return err(new KvError('CORRUPTION', `command at index ${index} does not decode: ${String(e)}`));
    }
    const header = cmd.header;
    if (header !== undefined && header.shardId !== shardId) {
      return err(new KvError('INVALID_ARGUMENT', `command for shard ${header.shardId} in the log of shard ${shardId}`));
    }
    const desc = this.applied.get(shardId)?.descriptor;
    const current = desc?.value ?? sh.state.descriptor;
    if (header?.epoch !== undefined && header.epoch.version !== (current.epoch?.version ?? 0)) {
      return err(new KvError('EPOCH_NOT_MATCH', 'the shard was split or merged after the command was proposed', {
        details: { shard: current },
      }));
    }
    if (cmd.op?.$case === 'split') return this.applySplit(sh, header, cmd.op.split);
    let outcome: ApplyOutcome;
    try {
      const ctx = this.context(sh, desc?.ks ?? sh.ks, header?.proposedAtUnixMs ?? 0);
      if (cmd.rawBatch !== undefined && cmd.op !== undefined) {
        outcome = err(new KvError('INVALID_ARGUMENT', 'command carries both an operation and a raw batch'));
      } else if (cmd.rawBatch !== undefined) {
        outcome = this.applyRaw(sh, desc?.ks ?? sh.ks, ctx.stampMs, cmd.rawBatch);
      } else {
        outcome = applyCommand(ctx, cmd.op);
      }
    } catch (e) {
      // Local storage failed mid-command: part of it may be in the overlay. The batch must
      // never be written; commit() rejects with this error.
      this.poisoned ??= e;
      throw e;
    }
    if (!outcome.ok && outcome.error.code === 'INCOMPATIBLE_VERSION') {
      this.host.core.opts.logger?.error({ shardId, index }, 'engine: command with an unknown operation skipped');
    }
    return outcome;
  }

  setApplied(shardId: number, index: number, term: number, confState?: ConfState): void {
    this.advance(shardId, index, term, confState);
  }

  /**
   * Records the shard's descriptor (after a membership change) in this batch, with the
   * applied state of the entry just applied. Later commands of the batch see it. An
   * addition to the contract (node-contracts §2); throws INVALID_ARGUMENT if malformed.
   */
  setDescriptor(shardId: number, descriptor: common.ShardDescriptor): void {
    assert(this.state === 'open', () => `setDescriptor on a ${this.state} batch`);
    const sh = this.host.shard(shardId);
    assert(sh !== undefined && !sh.state.tombstone, () => `setDescriptor for shard ${shardId}, which this node does not host`);
    assert(descriptor.id === shardId, () => `descriptor of shard ${descriptor.id} set on shard ${shardId}`);
    const mark = this.applied.get(shardId);
    assert(mark !== undefined, 'setDescriptor() must follow the apply or setApplied of its entry');
    this.applied.set(shardId, { ...mark, descriptor: { value: descriptor, ks: ShardKeyspace.of(descriptor, sh.table) } });
  }

  async commit(): Promise<void> {
    assert(this.state === 'open', () => `commit() on a ${this.state} apply batch`);
    this.state = 'committing';
    try {
      if (this.poisoned !== undefined) throw this.poisoned;
      await this.host.core.exclusive(() => this.write());
    } finally {
      this.state = 'done';
      this.host.closed();
    }
  }

  // ------------------------------------------------------------------------------- apply side

  private advance(shardId: number, index: number, term: number, confState: ConfState | undefined): ShardRuntime {
    assert(this.state === 'open', () => `apply on a ${this.state} batch`);
    const sh = this.host.shard(shardId);
    assert(sh !== undefined && !sh.state.tombstone, () => `apply to shard ${shardId}, which this node does not host`);
    assert(!sh.installing, () => `apply to shard ${shardId} while a snapshot is being installed`);
    const prev = this.applied.get(shardId);
    const last = prev?.index ?? sh.state.appliedIndex;
    assert(Number.isSafeInteger(index) && index > last, () => `shard ${shardId}: applied index ${index} after ${last}`);
    this.applied.set(shardId, { index, term, confState: confState ?? prev?.confState, descriptor: prev?.descriptor });
    return sh;
  }

  private context(sh: ShardRuntime, ks: ShardKeyspace, stampMs: number): OpContext {
    const o = this.host.core.opts;
    return {
      stampMs, ks, keyBytesMax: o.keyBytesMax, valueBytesMax: o.valueBytesMax, batchKeysMax: o.batchKeysMax,
      read: (sk) => this.read(sk),
      value: (sk, v) => this.host.core.resolveSync(sk, v),
      put: (sk, value, expireAt) => this.put(sh, sk, value, expireAt),
      del: (sk) => this.overlay.set(keyId(sk), { key: sk, raw: null, decoded: undefined, stored: true }),
      deleteRange: (range) => this.deleteRange(ks, range, stampMs),
    };
  }

  /**
   * A Redis raw batch (redis/apply-raw.ts): data keys keep their type nibble (a large plain
   * string may go to the value log), subkeys are stored as given. The batch is validated
   * whole before anything is written. Bytes are copied: they are views into the command.
   */
  private applyRaw(sh: ShardRuntime, ks: ShardKeyspace, stampMs: number, batch: command.RawBatchCommand): ApplyOutcome {
    const o = this.host.core.opts;
    const r = applyRawBatch({
      scheme: ks.scheme, range: ks.range, keyBytesMax: o.keyBytesMax, valueBytesMax: o.valueBytesMax, writesMax: o.batchKeysMax,
    }, {
      putData: (k, v) => this.putData(sh, k.slice(), v),
      putRaw: (k, v) => this.overlay.set(keyId(k), { key: k.slice(), raw: v.slice(), decoded: undefined, stored: false }),
      del: (k) => this.overlay.set(keyId(k), { key: k.slice(), raw: null, decoded: undefined, stored: ks.userKeyOf(k) !== undefined }),
      deleteRange: (range) => { this.deleteRange(ks, { start: range.start.slice(), end: range.end.slice() }, stampMs); },
    }, batch);
    if (!r.ok) return r;
    return ok({ op: 'rawBatch', response: { writes: r.value.writes } });
  }

  private putData(sh: ShardRuntime, sk: Uint8Array, v: StoredDataValue): void {
    const threshold = sh.table.valueSeparationThresholdBytes;
    let raw: Uint8Array;
    if (v.type === VALUE_TYPE_PLAIN && threshold > 0 && v.body.length >= threshold) {
      raw = encodePointerValue(v.expireAtUnixMs, this.host.core.vlog.appendSync(sk, v.body), v.type);
      this.vlogAppended = true;
    } else {
      raw = encodeInline(v.expireAtUnixMs, v.body, v.type);
    }
    this.overlay.set(keyId(sk), { key: sk, raw, decoded: decodeStoredValue(raw), stored: true });
  }

  private read(sk: Uint8Array): StoredValue | undefined {
    const e = this.overlay.get(keyId(sk));
    if (e !== undefined) return e.stored ? e.decoded : undefined;
    for (const t of this.tombstones) if (inRange(sk, t.range)) return undefined;
    return this.host.core.getStored(sk);
  }

  private put(sh: ShardRuntime, sk: Uint8Array, value: Uint8Array, expireAt: number): void {
    const threshold = sh.table.valueSeparationThresholdBytes;
    let raw: Uint8Array;
    if (threshold > 0 && value.length >= threshold) {
      raw = encodePointerValue(expireAt, this.host.core.vlog.appendSync(sk, value));
      this.vlogAppended = true;
    } else {
      raw = encodeInline(expireAt, value);
    }
    this.overlay.set(keyId(sk), { key: sk, raw, decoded: decodeStoredValue(raw), stored: true });
  }

  private deleteRange(ks: ShardKeyspace, range: KeyRange, stampMs: number): ApplyOutcome {
    const tally = new DeleteRangeTally();
    const shadowed = new Set<string>();
    for (const [id, e] of this.overlay) {
      if (!inRange(e.key, range)) continue;
      shadowed.add(id);
      if (e.decoded !== undefined && !isExpired(e.decoded.expireAtUnixMs, stampMs)) tally.count++;
      e.raw = null;
      e.decoded = undefined;
    }
    this.tombstones.push({ range, stampMs, ks, shadowed, tally });
    const reply: ApplyReply = new DeleteRangeReply(tally);
    return ok(reply);
  }

  /**
   * A split (split.ts): the left half's descriptor is recorded like a membership change's,
   * the right half is created in this batch from the parent's state. Every check is on
   * replicated state, so every replica decides alike; a refused split changes nothing.
   */
  private applySplit(sh: ShardRuntime, header: command.CommandHeader | undefined, c: command.SplitCommand): ApplyOutcome {
    const shardId = sh.state.descriptor.id;
    const mark = this.applied.get(shardId)!;
    const parent = mark.descriptor?.value ?? sh.state.descriptor;
    const ks = mark.descriptor?.ks ?? sh.ks;
    const confState = mark.confState ?? sh.state.confState;
    const plan = planSplit(parent, ks, confState, header?.epoch, c);
    if (plan instanceof KvError) return err(plan);
    const existing = this.host.shard(c.newShardId);
    if ((existing !== undefined && !existing.state.tombstone) || this.created.some((x) => x.state.descriptor.id === c.newShardId)) {
      // Ids are never reused: a live local shard with the new id is a bug elsewhere. Stop
      // rather than let this replica diverge from the others.
      const e = new KvError('CORRUPTION', `split of shard ${shardId} creates shard ${c.newShardId}, which this node already hosts`);
      this.poisoned ??= e;
      throw e;
    }
    const leftKs = ShardKeyspace.of(plan.left, sh.table);
    const rightKs = ShardKeyspace.of(plan.right, sh.table);
    this.applied.set(shardId, { ...mark, descriptor: { value: plan.left, ks: leftKs } });
    const peerId = plan.peerMap.get(sh.state.peerId);
    if (peerId === undefined) {
      // This replica is not in the descriptor (it is leaving): the right range is not its to keep.
      this.deleteRange(ks, rightKs.range, header?.proposedAtUnixMs ?? 0);
    } else {
      this.created.push({
        parent: sh, ks: rightKs,
        state: {
          descriptor: plan.right, appliedIndex: SPLIT_INIT_INDEX, appliedTerm: SPLIT_INIT_TERM,
          confState: mapConfState(confState, plan.peerMap), peerId, tombstone: false,
        },
      });
    }
    return ok({ op: 'split', response: { left: plan.left, right: plan.right } });
  }

  // ------------------------------------------------------------------------------- commit side

  private async write(): Promise<void> {
    const core = this.host.core;
    if (this.vlogAppended && core.opts.valueLogSyncOnCommit) await core.vlog.syncAll();
    const b = core.db.batch();
    const delta = new LiveDelta();
    for (const e of this.overlay.values()) {
      if (!e.stored) {
        // A Redis subkey: raw bytes, no value-log references.
        if (e.raw !== null) b.put(e.key, e.raw);
        else b.del(e.key);
        continue;
      }
      const prev = core.getStored(e.key);
      delta.sub(prev);
      if (e.raw !== null) {
        b.put(e.key, e.raw);
        delta.add(e.decoded);
      } else if (prev !== undefined) {
        b.del(e.key);
      }
    }
    for (let i = 0; i < this.tombstones.length; i++) await this.enumerateTombstone(i, b, delta);
    for (const [shardId, a] of this.applied) {
      b.put(appliedStateKey(shardId), encodeAppliedState(a.index, a.term));
      const sh = this.host.shard(shardId);
      if (a.confState !== undefined && sh !== undefined) {
        b.put(replicaMetaKey(shardId), encodeReplicaMeta({ peerId: sh.state.peerId, tombstone: false, removing: false, confState: a.confState }));
      }
      if (a.descriptor !== undefined) b.put(descriptorKey(shardId), common.ShardDescriptor.encode(a.descriptor.value).finish());
    }
    for (const c of this.created) {
      const id = c.state.descriptor.id;
      b.put(descriptorKey(id), common.ShardDescriptor.encode(c.state.descriptor).finish());
      b.put(appliedStateKey(id), encodeAppliedState(c.state.appliedIndex, c.state.appliedTerm));
      b.put(replicaMetaKey(id), encodeReplicaMeta({ peerId: c.state.peerId, tombstone: false, removing: false, confState: c.state.confState }));
    }
    delta.writeTo(b, core.live);
    if (b.length === 0) {
      await b.close();
    } else {
      await core.write(b, false);
    }
    delta.applyTo(core.live);
    this.host.committed(this.applied, this.created);
    for (const t of this.tombstones) t.tally.final = true;
  }

  /** Deletes the DB keys of tombstone i that nothing later in the batch rewrote, and counts them. */
  private async enumerateTombstone(i: number, b: DbBatch, delta: LiveDelta): Promise<void> {
    const t = this.tombstones[i]!;
    const it = this.host.core.db.iterator({ gte: t.range.start, lt: t.range.end });
    try {
      for (;;) {
        const entries = await it.nextv(256);
        if (entries.length === 0) break;
        for (const [k, v] of entries) {
          if (this.coveredBefore(k, i)) continue;
          const id = keyId(k);
          const isData = t.ks.userKeyOf(k) !== undefined;
          const stored = isData ? decodeStoredValue(v) : undefined;
          if (stored !== undefined && !t.shadowed.has(id) && !isExpired(stored.expireAtUnixMs, t.stampMs)) t.tally.count++;
          if (this.overlay.has(id)) continue;
          b.del(k);
          delta.sub(stored);
        }
      }
    } finally {
      await it.close();
    }
  }

  private coveredBefore(k: Uint8Array, i: number): boolean {
    for (let j = 0; j < i; j++) if (inRange(k, this.tombstones[j]!.range)) return true;
    return false;
  }
}
