/**
 * The storage node's shared Raft log: one segmented, append-only WAL for every group on
 * the node. See README.md for the caller's obligations, the record format and the
 * durability guarantees.
 *
 * Stage calls change the in-memory state at once (so raft-ts reads what it just handed
 * out) and encode a record into the current batch; `flush()` makes the batch durable with
 * one write and one fdatasync (group commit, log-writer.ts). Misuse by the caller (a gap
 * in the log, an older snapshot) is a programmer error and asserts.
 */
import { AssertionError, assert, KvError } from '@shoal/common';
import type { ConfState, Entry, HardState, LogIndex, PeerId, SnapshotMetadata, Term } from '@shoal/raft-ts';
import { DecodeError } from './binary.js';
import { EntryCache } from './entry-cache.js';
import { deletableSegmentIds, planRewrites } from './gc.js';
import type { RemovedHold } from './gc.js';
import { GroupState, Pin, PIN_ALL, StagedRecord } from './group.js';
import { WalGroupStorage } from './group-storage.js';
import { LogWriter } from './log-writer.js';
import { resolveWalOptions } from './options.js';
import type { ResolvedWalOptions, WalOptions } from './options.js';
import {
  COMPACT_BYTES, decodeEntries, ENTRIES_PREFIX_BYTES, entryEncodedBytes, groupStateBytes, GroupStateFlag,
  HARD_STATE_BYTES, snapshotBytes, SnapshotFlag, writeCompact, writeEntries, writeGroupState, writeHardState,
  writeSnapshot,
} from './payload.js';
import { parseRecord, recordBytes, RecordType, sealRecord, writeRecordHeader } from './record.js';
import { recoverLog } from './recovery.js';
import { WalIo } from './segment.js';

export interface WalStats {
  segments: number;
  bytes: number;
  fsyncs: number;
  flushes: number;
  groups: number;
  /** Additions to the contract's stats: */
  cacheBytes: number;
  stagedBytes: number;
}

export interface WalGcResult {
  deletedSegments: number;
  rewrittenBytes: number;
}

const ZERO_HARD_STATE: HardState = { term: 0 as Term, vote: 0 as PeerId, commit: 0 as LogIndex };

function copyConfState(cs: ConfState): ConfState {
  return { voters: [...cs.voters], learners: [...cs.learners], votersOutgoing: [...cs.votersOutgoing],
    learnersNext: [...cs.learnersNext], autoLeave: cs.autoLeave };
}

function isU64(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}

export class Wal {
  private readonly groups = new Map<number, { state: GroupState; storage: WalGroupStorage }>();
  private removedHolds: RemovedHold[] = [];
  /** The running maybeGc() call, if any (close() waits for it). */
  private gcRun: Promise<WalGcResult> | undefined;
  /** The last Entries record read back from disk (sequential catch-up reads hit it). */
  private memo: { segment: number; offset: number; entries: readonly Entry[] } | undefined;

  private constructor(
    private readonly opts: ResolvedWalOptions,
    private readonly writer: LogWriter,
    private readonly cache: EntryCache,
  ) {}

  /** Opens (recovering) or creates the WAL in `options.dir`. */
  static async open(options: WalOptions): Promise<Wal> {
    const opts = resolveWalOptions(options);
    const startedMs = performance.now();
    const io = new WalIo(opts.failpoints);
    let recovered;
    try {
      recovered = await recoverLog(opts, io);
    } catch (e) {
      if (e instanceof KvError || e instanceof AssertionError) throw e;
      throw new KvError('DISK_FAILURE', `WAL recovery in ${opts.dir} failed: ${String(e)}`, { cause: e });
    }
    const cache = new EntryCache(opts.entryCacheBytesMax);
    const writer = new LogWriter(opts, io, recovered.segments, recovered.recordSeq, (seq) => cache.evict(seq));
    const wal = new Wal(opts, writer, cache);
    for (const g of recovered.groups.values()) {
      wal.groups.set(g.shardId, { state: g, storage: new WalGroupStorage(g, wal) });
    }
    opts.logger.info({ dir: opts.dir, segments: recovered.segments.length, groups: recovered.groups.size,
      tornBytes: recovered.tornBytes, ms: Math.round(performance.now() - startedMs) }, 'WAL opened');
    return wal;
  }

  /** Shard ids with a live group in the log, ascending. */
  groupIds(): readonly number[] {
    return [...this.groups.keys()].sort((a, b) => a - b);
  }

  group(shardId: number): WalGroupStorage | undefined {
    return this.groups.get(shardId)?.storage;
  }

  private live(shardId: number): GroupState {
    this.writer.checkUsable();
    const g = this.groups.get(shardId);
    if (g === undefined) throw new KvError('SHARD_NOT_FOUND', `group ${shardId} is not in the WAL`);
    return g.state;
  }

  private hold(g: GroupState): void {
    g.hold(this.writer.stagingBatch, this.writer.durableBatch);
  }

  /** New group; its log starts after index 0 with this membership. Staged. */
  createGroup(shardId: number, confState: ConfState): WalGroupStorage {
    this.writer.checkUsable();
    if (!isU64(shardId)) {
      throw new KvError('INVALID_ARGUMENT', `shard id must be a non-negative safe integer, got ${shardId}`);
    }
    if (this.groups.has(shardId)) throw new KvError('ALREADY_EXISTS', `group ${shardId} already exists in the WAL`);
    const snapshot: SnapshotMetadata = { index: 0 as LogIndex, term: 0 as Term, confState: copyConfState(confState) };
    const g = new GroupState(shardId, ZERO_HARD_STATE, snapshot, 0, 0);
    const storage = new WalGroupStorage(g, this);
    this.groups.set(shardId, { state: g, storage });
    this.stageGroupState(g, GroupStateFlag.ResetLog);
    return storage;
  }

  /** Appends entries, truncating a conflicting suffix first; entries already compacted are skipped. */
  stageEntries(shardId: number, entries: readonly Entry[]): void {
    const g = this.live(shardId);
    if (entries.length === 0) return;
    const c = g.log.compactIndex;
    const first = entries[0]!.index;
    if (entries[entries.length - 1]!.index <= c) return;
    const skip = first <= c ? c + 1 - first : 0;
    const from = first + skip;
    assert(from <= g.log.lastIndex + 1, () => `group ${shardId}: append at ${from} leaves a gap after ${g.log.lastIndex}`);
    for (let k = skip; k < entries.length; k++) {
      const e = entries[k]!;
      // Per-entry checks without allocating a message closure (hot path).
      if (e.index !== from + k - skip || !isU64(e.term) || (e.type !== 0 && e.type !== 1)) {
        throw new AssertionError(`group ${shardId}: invalid entry ${k} (index ${e.index}, term ${e.term}, type ${e.type})`);
      }
      if (e.term < (k === skip ? g.log.term(from - 1) : entries[k - 1]!.term)) {
        throw new AssertionError(`group ${shardId}: entry ${e.index} has term ${e.term} below its predecessor's`);
      }
      if (recordBytes(ENTRIES_PREFIX_BYTES + entryEncodedBytes(e)) > this.opts.recordBytesMax) {
        throw new KvError('REQUEST_TOO_LARGE', `group ${shardId}: entry ${e.index} of ${e.data.length} bytes exceeds `
          + `recordBytesMax ${this.opts.recordBytesMax}`, { details: { option: 'recordBytesMax' } });
      }
    }
    this.hold(g);
    g.truncateFrom(from);
    this.appendEntries(g, entries, skip);
  }

  /** Encodes entries[from..] as records of at most recordBytesMax and indexes and caches them. */
  private appendEntries(g: GroupState, entries: readonly Entry[], from: number): void {
    let k = from;
    while (k < entries.length) {
      const lo = k;
      let bytes = ENTRIES_PREFIX_BYTES + entryEncodedBytes(entries[k]!);
      for (k++; k < entries.length; k++) {
        const next = bytes + entryEncodedBytes(entries[k]!);
        if (recordBytes(next) > this.opts.recordBytesMax) break;
        bytes = next;
      }
      const hi = k;
      const seq = this.stageRecord(g, RecordType.Entries, bytes, 0, (b, p) => writeEntries(b, p, entries, lo, hi),
        entries[lo]!.index, hi - lo);
      for (let j = lo; j < hi; j++) {
        const e = entries[j]!;
        g.log.append(e.index, e.term, entryEncodedBytes(e), seq);
        this.cache.insert(g.cached, e, seq);
      }
    }
    this.cache.evict(this.writer.writtenRecordSeq);
  }

  stageHardState(shardId: number, hs: HardState): void {
    const g = this.live(shardId);
    assert(isU64(hs.term) && isU64(hs.vote) && isU64(hs.commit), () => `group ${shardId}: invalid hard state`);
    this.hold(g);
    g.hardState = { term: hs.term, vote: hs.vote, commit: hs.commit };
    const copy = g.hardState;
    this.stageRecord(g, RecordType.HardState, HARD_STATE_BYTES, Pin.HardState, (b, p) => writeHardState(b, p, copy));
  }

  /**
   * Records snapshot metadata; the log now starts after meta.index. If the log holds
   * meta.index with meta.term, later entries are kept (a compaction with new metadata);
   * otherwise the whole log is replaced, as raft-ts's MemoryStorage.applySnapshot does.
   */
  stageSnapshot(shardId: number, meta: SnapshotMetadata): void {
    const g = this.live(shardId);
    assert(isU64(meta.index) && isU64(meta.term) && meta.index >= g.snapshot.index,
      () => `group ${shardId}: snapshot at ${meta.index} is older than ${g.snapshot.index}`);
    const log = g.log;
    let flags = 0;
    if (meta.index < log.compactIndex || (meta.index === log.compactIndex && meta.term === log.compactTerm)) {
      flags = 0; // metadata only: the log already starts later
    } else if (meta.index > log.compactIndex && meta.index <= log.lastIndex && log.term(meta.index) === meta.term) {
      flags = SnapshotFlag.CompactLog;
    } else {
      flags = SnapshotFlag.ReplaceLog;
    }
    this.hold(g);
    if (flags === SnapshotFlag.ReplaceLog) g.resetLog(meta.index, meta.term);
    else if (flags === SnapshotFlag.CompactLog) g.compactTo(meta.index, meta.term);
    const copy: SnapshotMetadata = { index: meta.index, term: meta.term, confState: copyConfState(meta.confState) };
    g.snapshot = copy;
    const pins = Pin.Snapshot | (flags === 0 ? 0 : Pin.Compact);
    this.stageRecord(g, RecordType.Snapshot, snapshotBytes(copy), pins, (b, p) => writeSnapshot(b, p, flags, copy));
  }

  /**
   * Entries <= index are no longer needed (the caller made the engine durable first). The
   * snapshot metadata is unchanged: to also record the membership at `index` (needed if
   * ConfChange entries are compacted away), stage a snapshot at `index` instead.
   */
  stageCompact(shardId: number, index: LogIndex): void {
    const g = this.live(shardId);
    if (index <= g.log.compactIndex) return;
    assert(index <= g.log.lastIndex, () => `group ${shardId}: compact ${index} beyond last index ${g.log.lastIndex}`);
    const term = g.log.term(index);
    this.hold(g);
    g.compactTo(index, term);
    this.stageRecord(g, RecordType.Compact, COMPACT_BYTES, Pin.Compact, (b, p) => writeCompact(b, p, index, term));
  }

  /** Forgets the group; its records become garbage once the removal is durable. No-op if unknown. */
  stageRemoveGroup(shardId: number): void {
    this.writer.checkUsable();
    const entry = this.groups.get(shardId);
    if (entry === undefined) return;
    const g = entry.state;
    const durable = this.writer.durableBatch;
    if (this.removedHolds.length > 0) this.removedHolds = this.removedHolds.filter((h) => h.batch > durable);
    this.removedHolds.push({ segment: g.neededSegment(this.writer.durableBatch), batch: this.writer.stagingBatch });
    this.groups.delete(shardId);
    g.removed = true;
    g.cached.clear();
    this.stageRecord(g, RecordType.RemoveGroup, 0, 0, (_b, p) => p);
  }

  private stageGroupState(g: GroupState, flags: number): void {
    const payload = { flags, hardState: g.hardState, compactIndex: g.log.compactIndex, compactTerm: g.log.compactTerm,
      snapshot: g.snapshot };
    this.stageRecord(g, RecordType.GroupState, groupStateBytes(payload), PIN_ALL,
      (b, p) => writeGroupState(b, p, payload));
  }

  /** Encodes one record into the batch and registers it for placement; returns its seq. */
  private stageRecord(
    g: GroupState, type: RecordType, payloadBytes: number, pins: number,
    write: (buf: Buffer, pos: number) => number, firstIndex = 0, count = 0,
  ): number {
    const total = recordBytes(payloadBytes);
    assert(total <= this.opts.recordBytesMax, () => `record of ${total} bytes exceeds recordBytesMax`);
    const { buffer, position, batchOffset } = this.writer.reserve(total);
    const end = write(buffer, writeRecordHeader(buffer, position, type, g.shardId, payloadBytes));
    assert(end === position + total, () => `record type ${type} encoded ${end - position} of ${total} bytes`);
    sealRecord(buffer, position);
    const seq = this.writer.nextRecordSeq();
    this.writer.addRecord(new StagedRecord(g, seq, pins, firstIndex, count, batchOffset, total));
    if (pins !== 0) g.setPending(pins, seq);
    return seq;
  }

  /**
   * Writes everything staged with one write, then one fdatasync if sync is 'always'
   * (async: resolves after the write). Concurrent calls coalesce into the next batch. On
   * any I/O failure: rejects with DISK_FAILURE and the WAL is failed for good.
   */
  flush(): Promise<void> {
    return this.writer.flush(this.opts.sync === 'always');
  }

  /**
   * Deletes segments no group needs; rewrites live records out of old, mostly-dead segments.
   * May run while turns keep staging and flushing; a call while one runs returns zeros.
   */
  maybeGc(): Promise<WalGcResult> {
    const failure = this.writer.failed;
    if (failure !== undefined) return Promise.reject(failure);
    this.writer.checkUsable();
    if (this.gcRun !== undefined) return Promise.resolve({ deletedSegments: 0, rewrittenBytes: 0 });
    // runGc() issues its flush synchronously: it covers exactly what was staged before this call.
    const run = this.runGc().finally(() => {
      this.gcRun = undefined;
    });
    this.gcRun = run;
    return run;
  }

  private async runGc(): Promise<WalGcResult> {
    await this.writer.flush(true); // staged changes durable: their holds are released
    let rewrittenBytes = 0;
    const states = [...this.groups.values()].map((e) => e.state);
    for (const plan of planRewrites(states, this.writer.segmentList(), this.writer.activeSegmentId, this.opts)) {
      this.rewriteGroup(plan.group, plan.withEntries);
      rewrittenBytes += plan.bytes;
    }
    if (rewrittenBytes > 0) await this.writer.flush(true);
    const durable = this.writer.durableBatch;
    this.removedHolds = this.removedHolds.filter((h) => h.batch > durable);
    const ids = deletableSegmentIds([...this.groups.values()].map((e) => e.state), this.removedHolds,
      this.writer.segmentList(), this.writer.activeSegmentId, durable);
    if (this.memo !== undefined && ids.includes(this.memo.segment)) this.memo = undefined;
    await this.writer.deleteSegments(ids);
    if (ids.length > 0 || rewrittenBytes > 0) {
      this.opts.logger.info({ deletedSegments: ids, rewrittenBytes }, 'WAL: segment GC');
    }
    return { deletedSegments: ids.length, rewrittenBytes };
  }

  /** Stages the group's metadata again (and its whole tail), so older segments stop mattering. */
  private rewriteGroup(g: GroupState, withEntries: boolean): void {
    this.hold(g);
    if (!withEntries || g.log.count === 0) {
      this.stageGroupState(g, 0);
      return;
    }
    const storage = this.groups.get(g.shardId)!.storage;
    const tail = storage.entries(storage.firstIndex(), (g.log.lastIndex + 1) as LogIndex, 0);
    assert(Array.isArray(tail), 'the live tail is readable');
    this.stageGroupState(g, GroupStateFlag.ResetLog);
    g.truncateFrom(g.log.compactIndex + 1);
    this.appendEntries(g, tail, 0);
  }

  /** @internal EntryRecordReader: reads and verifies an Entries record of `shardId`. */
  readEntries(shardId: number, segment: number, offset: number, length: number): readonly Entry[] {
    const m = this.memo;
    if (m !== undefined && m.segment === segment && m.offset === offset) return m.entries;
    this.writer.checkUsable();
    const seg = this.writer.segment(segment);
    assert(seg !== undefined, () => `group ${shardId}: entry record in deleted segment ${segment}`);
    let buf: Buffer;
    try {
      buf = seg.readSync(offset, length);
    } catch (e) {
      throw new KvError('DISK_FAILURE', `WAL read of ${seg.name} at ${offset} failed: ${String(e)}`, { cause: e });
    }
    const where = `WAL segment ${seg.name} at offset ${offset}`;
    const r = parseRecord(buf, 0, buf.length);
    if (!r.ok) throw new KvError('CORRUPTION', `${where}: ${r.reason}`);
    if (r.end !== length || r.type !== RecordType.Entries || r.groupId !== shardId) {
      throw new KvError('CORRUPTION', `${where}: expected an entries record of group ${shardId}, found type ${r.type} `
        + `of group ${r.groupId} (${r.end} bytes)`);
    }
    let entries: Entry[];
    try {
      entries = decodeEntries(buf, r.payloadStart, r.end);
    } catch (e) {
      if (e instanceof DecodeError) throw new KvError('CORRUPTION', `${where}: ${e.message}`, { cause: e });
      throw e;
    }
    this.memo = { segment, offset, entries };
    return entries;
  }

  stats(): WalStats {
    const segments = this.writer.segmentList();
    return {
      segments: segments.length,
      bytes: segments.reduce((n, s) => n + s.size, 0),
      fsyncs: this.writer.io.fsyncs,
      flushes: this.writer.flushes,
      groups: this.groups.size,
      cacheBytes: this.cache.bytes,
      stagedBytes: this.writer.stagedBytes,
    };
  }

  /**
   * Closes the WAL. By default everything staged is flushed and fdatasynced first (a
   * failure of that rejects, after the files are closed); `{ flush: false }` drops staged
   * records, as a crash would (tests use it to simulate one).
   */
  async close(options: { flush?: boolean } = {}): Promise<void> {
    if (this.gcRun !== undefined) await this.gcRun.catch(() => undefined);
    await this.writer.close(options.flush ?? true);
  }

  /** The error that failed the WAL (DISK_FAILURE), if any: for health checks. */
  failure(): KvError | undefined {
    return this.writer.failed;
  }
}
