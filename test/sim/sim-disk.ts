/**
 * A replica's simulated disk: a durable image (what survived the last fsync) and an
 * unsynced tail of writes. `fsync` folds the tail into the image; `crash` loses it. A
 * restart rebuilds the replica's `MemoryStorage` from the durable image only, so anything
 * the host wrote but did not sync is gone — exactly the window `Ready.mustSync` guards.
 *
 * Invariant (checked on every fold): the durable log is contiguous and starts right after
 * the durable snapshot's index or below it; the durable commit never exceeds the log.
 */
import type { Entry, HardState, LogIndex, Snapshot, Term } from '@shoal/raft-ts';
import { MemoryStorage, NO_PEER } from '@shoal/raft-ts';
import type { ConfState } from '@shoal/raft-ts';

export type DiskWrite =
  | { readonly kind: 'hard-state'; readonly hardState: HardState }
  | { readonly kind: 'entries'; readonly entries: readonly Entry[] }
  /** A snapshot received from the leader: replaces the whole log. */
  | { readonly kind: 'install-snapshot'; readonly snapshot: Snapshot }
  /** A snapshot the application took: the log is kept (compacted separately). */
  | { readonly kind: 'save-snapshot'; readonly snapshot: Snapshot }
  | { readonly kind: 'compact'; readonly index: LogIndex };

/** Bound on unsynced writes; a host that never syncs is a harness bug. */
export const DISK_PENDING_WRITES_MAX = 100_000;

export class SimDisk {
  private hardState: HardState = { term: 0 as Term, vote: NO_PEER, commit: 0 as LogIndex };
  private snapshot: Snapshot | null = null;
  /** Durable entries; `log[k].index === logStart + k`. */
  private log: Entry[] = [];
  private logStart = 1;
  private readonly pending: DiskWrite[] = [];
  syncs = 0;

  /** `bootstrap` is the membership an initial member starts with (empty for joiners). */
  constructor(readonly bootstrap: ConfState) {}

  write(w: DiskWrite): void {
    if (this.pending.length >= DISK_PENDING_WRITES_MAX) {
      throw new Error(`sim-disk: more than ${DISK_PENDING_WRITES_MAX} unsynced writes`);
    }
    this.pending.push(w);
  }

  get unsyncedWrites(): number {
    return this.pending.length;
  }

  fsync(): void {
    for (const w of this.pending) this.fold(w);
    this.pending.length = 0;
    this.syncs++;
    this.checkInvariants();
  }

  /** Power loss: the unsynced tail is gone. Returns how many writes were lost. */
  crash(): number {
    const lost = this.pending.length;
    this.pending.length = 0;
    return lost;
  }

  get durableHardState(): HardState {
    return this.hardState;
  }

  get durableSnapshot(): Snapshot | null {
    return this.snapshot;
  }

  get durableLastIndex(): number {
    return this.logStart + this.log.length - 1;
  }

  /** A fresh storage holding exactly the durable image (what a restarted replica reads). */
  load(): MemoryStorage {
    this.checkInvariants();
    const storage = new MemoryStorage(this.snapshot === null ? this.bootstrap : undefined);
    if (this.snapshot !== null) storage.applySnapshot(this.snapshot);
    const snapIndex = this.snapshot?.metadata.index ?? 0;
    const tail = this.log.filter((e) => e.index > snapIndex);
    storage.append(tail);
    storage.setHardState(this.hardState);
    return storage;
  }

  private fold(w: DiskWrite): void {
    switch (w.kind) {
      case 'hard-state':
        this.hardState = w.hardState;
        return;
      case 'entries':
        this.foldEntries(w.entries);
        return;
      case 'install-snapshot':
        this.snapshot = w.snapshot;
        this.log = [];
        this.logStart = w.snapshot.metadata.index + 1;
        return;
      case 'save-snapshot':
        if (this.snapshot !== null && w.snapshot.metadata.index <= this.snapshot.metadata.index) return;
        this.snapshot = w.snapshot;
        return;
      case 'compact': {
        const drop = Math.min(this.log.length, Math.max(0, w.index - this.logStart + 1));
        this.log = this.log.slice(drop);
        this.logStart += drop;
        return;
      }
    }
  }

  private foldEntries(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const first = entries[0]!.index;
    const skip = Math.max(0, this.logStart - first);
    if (skip >= entries.length) return;
    const from = first + skip;
    if (from > this.durableLastIndex + 1) {
      throw new Error(`sim-disk: write at ${from} leaves a gap after ${this.durableLastIndex}`);
    }
    this.log.length = from - this.logStart; // truncate the conflicting suffix
    for (let k = skip; k < entries.length; k++) this.log.push(entries[k]!);
  }

  private checkInvariants(): void {
    const snapIndex = this.snapshot?.metadata.index ?? 0;
    if (this.logStart > snapIndex + 1) {
      throw new Error(`sim-disk: durable log starts at ${this.logStart}, after snapshot ${snapIndex} + 1`);
    }
    const last = Math.max(this.durableLastIndex, snapIndex);
    if (this.hardState.commit > last) {
      throw new Error(`sim-disk: durable commit ${this.hardState.commit} beyond durable log end ${last}`);
    }
  }
}
