/**
 * The bounded cache of recent entries, shared by all groups and evicted first-in,
 * first-out: a group's cached entries are therefore the newest part of its tail, which is
 * what raft reads (to send appends to followers that keep up, and to apply).
 *
 * Each group keeps its cached entries in its own `Map<index, CachedEntry>`; this class only owns
 * the eviction order and the byte count. Every insert is charged
 * `data.length + ENTRY_CACHE_OVERHEAD_BYTES` until it leaves the FIFO, even if the group
 * dropped the entry earlier (truncation, compaction, removal): the charge is then an
 * over-estimate, and the FIFO's length stays bounded by the byte budget.
 *
 * Entries whose record is not yet written (record seq > written seq) are the only copy
 * raft can read back, so they are never evicted; they may push the cache over its budget
 * until the write completes.
 */
import type { Entry } from '@shoal/raft-ts';

/** Per-entry bookkeeping charged on top of the payload (objects, map slot, FIFO slot). */
export const ENTRY_CACHE_OVERHEAD_BYTES = 96;

/**
 * One cache insertion: the value of the group's map and the FIFO slot at once, so an
 * eviction removes exactly what it inserted — never a later insertion of the same index
 * (or of the same Entry object, which a GC rewrite re-stages).
 */
export interface CachedEntry {
  readonly map: Map<number, CachedEntry>;
  readonly entry: Entry;
  readonly recordSeq: number;
  readonly bytes: number;
}

/** Re-pack the FIFO once this many slots were popped (and they are half of it). */
const REPACK_SLOTS_MIN = 1024;

export class EntryCache {
  private fifo: CachedEntry[] = [];
  private head = 0;
  private charged = 0;

  constructor(private readonly bytesMax: number) {}

  get bytes(): number {
    return this.charged;
  }

  insert(map: Map<number, CachedEntry>, entry: Entry, recordSeq: number): void {
    const slot: CachedEntry = { map, entry, recordSeq, bytes: entry.data.length + ENTRY_CACHE_OVERHEAD_BYTES };
    map.set(entry.index, slot);
    this.fifo.push(slot);
    this.charged += slot.bytes;
  }

  /** Evicts the oldest entries until within budget, stopping at the first unwritten one. */
  evict(writtenRecordSeq: number): void {
    while (this.charged > this.bytesMax && this.head < this.fifo.length) {
      const slot = this.fifo[this.head]!;
      if (slot.recordSeq > writtenRecordSeq) break;
      this.head++;
      this.charged -= slot.bytes;
      if (slot.map.get(slot.entry.index) === slot) slot.map.delete(slot.entry.index);
    }
    if (this.head >= REPACK_SLOTS_MIN && this.head * 2 >= this.fifo.length) {
      this.fifo = this.fifo.slice(this.head);
      this.head = 0;
    }
  }
}
