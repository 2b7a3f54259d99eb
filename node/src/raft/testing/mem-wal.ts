/**
 * In-memory WAL for scheduler tests: one raft-ts MemoryStorage per group. Staged records
 * are visible at once (as the real WAL's are); `flush()` only counts.
 */
import type { ConfState, Entry, HardState, LogIndex, Snapshot, SnapshotMetadata, StorageError, Term } from '@shoal/raft-ts';
import { MemoryStorage } from '@shoal/raft-ts';
import type { GroupStoragePort, WalPort } from '../ports.js';

export class MemGroupStorage implements GroupStoragePort {
  readonly mem: MemoryStorage;
  private hs: HardState = { term: 0 as Term, vote: 0 as never, commit: 0 as LogIndex };
  private meta: SnapshotMetadata;
  private provider: (() => Snapshot | 'temporarily-unavailable') | null = null;

  constructor(confState: ConfState) {
    this.mem = new MemoryStorage(confState);
    this.meta = { confState, index: 0 as LogIndex, term: 0 as Term };
  }

  initialState(): { hardState: HardState; confState: ConfState } {
    return { hardState: this.hs, confState: this.meta.confState };
  }
  hardState(): HardState {
    return this.hs;
  }
  snapshotMetadata(): SnapshotMetadata {
    return this.meta;
  }
  setSnapshotProvider(p: () => Snapshot | 'temporarily-unavailable'): void {
    this.provider = p;
  }
  snapshot(): Snapshot | 'temporarily-unavailable' {
    return this.provider === null ? 'temporarily-unavailable' : this.provider();
  }
  entries(lo: LogIndex, hi: LogIndex, bytesMax: number): readonly Entry[] | StorageError {
    return this.mem.entries(lo, hi, bytesMax);
  }
  term(i: LogIndex): Term | StorageError {
    return this.mem.term(i);
  }
  lastIndex(): LogIndex {
    return this.mem.lastIndex();
  }
  firstIndex(): LogIndex {
    return this.mem.firstIndex();
  }

  setHardState(hs: HardState): void {
    this.hs = hs;
    this.mem.setHardState(hs);
  }
  applySnapshotMeta(meta: SnapshotMetadata): void {
    const t = meta.index <= this.mem.lastIndex() && meta.index >= this.mem.firstIndex() - 1 ? this.mem.term(meta.index) : 'unavailable';
    if (t === meta.term) this.mem.compact(meta.index);
    else this.mem.applySnapshot({ data: new Uint8Array(0), metadata: meta });
    this.meta = meta;
  }
}

export class MemWal implements WalPort {
  readonly groups = new Map<number, MemGroupStorage>();
  flushes = 0;
  fsyncs = 0;
  failNextFlush = false;

  groupIds(): readonly number[] {
    return [...this.groups.keys()];
  }
  group(shardId: number): MemGroupStorage | undefined {
    return this.groups.get(shardId);
  }
  createGroup(shardId: number, confState: ConfState): MemGroupStorage {
    const g = new MemGroupStorage(confState);
    this.groups.set(shardId, g);
    return g;
  }
  stageEntries(shardId: number, entries: readonly Entry[]): void {
    this.groups.get(shardId)!.mem.append(entries);
  }
  stageHardState(shardId: number, hs: HardState): void {
    this.groups.get(shardId)!.setHardState(hs);
  }
  stageSnapshot(shardId: number, meta: SnapshotMetadata): void {
    this.groups.get(shardId)!.applySnapshotMeta(meta);
  }
  stageCompact(shardId: number, index: LogIndex): void {
    this.groups.get(shardId)!.mem.compact(index);
  }
  stageRemoveGroup(shardId: number): void {
    this.groups.delete(shardId);
  }
  flush(): Promise<void> {
    this.flushes++;
    this.fsyncs++;
    if (this.failNextFlush) {
      this.failNextFlush = false;
      return Promise.reject(new Error('injected flush failure'));
    }
    return Promise.resolve();
  }
  maybeGc(): Promise<{ deletedSegments: number; rewrittenBytes: number }> {
    return Promise.resolve({ deletedSegments: 0, rewrittenBytes: 0 });
  }
  stats(): { segments: number; bytes: number; fsyncs: number; flushes: number; groups: number } {
    return { segments: 1, bytes: 0, fsyncs: this.fsyncs, flushes: this.flushes, groups: this.groups.size };
  }
}
