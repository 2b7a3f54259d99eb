/**
 * The in-memory index of one group's live log tail: for every index in
 * (compactIndex, lastIndex] its term (so term lookups never touch the disk), the size of
 * its encoding, and where its record lives (segment, offset, length) once that record has
 * been assigned a place in a segment.
 *
 * Invariants:
 * - the indices are exactly compactIndex+1 .. lastIndex, with no gaps;
 * - segment ids are non-decreasing with the index (appends and rewrites always go to the
 *   newest segment), so the first entry's segment is the oldest one the tail needs;
 * - an entry whose record is staged but not yet placed has segment `SEG_PENDING`.
 *
 * Slots are stored flat in one number array (SLOT_FIELDS numbers each) starting at
 * `head`; compaction advances `head` and the array is re-packed once half of it is dead.
 */
import { AssertionError, assert } from '@shoal/common';

/** Segment id of an entry whose record has not been placed in a segment yet. */
export const SEG_PENDING = Number.POSITIVE_INFINITY;

const TERM = 0;
const SEG = 1;
const OFF = 2;
const LEN = 3;
const REC = 4;
const BYTES = 5;
const SLOT_FIELDS = 6;
/** Re-pack the slot array once this many dead slots precede `head` (and they are half of it). */
const REPACK_SLOTS_MIN = 1024;

export class EntryIndex {
  private slots: number[] = [];
  private head = 0;
  private compactIdx: number;
  private compactTrm: number;
  private encodedBytes = 0;

  constructor(compactIndex: number, compactTerm: number) {
    this.compactIdx = compactIndex;
    this.compactTrm = compactTerm;
  }

  get compactIndex(): number {
    return this.compactIdx;
  }

  get compactTerm(): number {
    return this.compactTrm;
  }

  get count(): number {
    return this.slots.length / SLOT_FIELDS - this.head;
  }

  get lastIndex(): number {
    return this.compactIdx + this.count;
  }

  /** Sum of the encoded sizes of the live entries (what a rewrite of the tail costs). */
  get liveBytes(): number {
    return this.encodedBytes;
  }

  /** Position of `index`'s slot. Hot (every term lookup): the check allocates nothing. */
  private at(index: number): number {
    if (!(index > this.compactIdx && index <= this.lastIndex)) {
      throw new AssertionError(`index ${index} outside (${this.compactIdx}, ${this.lastIndex}]`);
    }
    return (this.head + index - this.compactIdx - 1) * SLOT_FIELDS;
  }

  /** Term of `index` in [compactIndex, lastIndex]. */
  term(index: number): number {
    if (index === this.compactIdx) return this.compactTrm;
    return this.slots[this.at(index) + TERM]!;
  }

  segment(index: number): number {
    return this.slots[this.at(index) + SEG]!;
  }

  offset(index: number): number {
    return this.slots[this.at(index) + OFF]!;
  }

  recordLength(index: number): number {
    return this.slots[this.at(index) + LEN]!;
  }

  recordSeq(index: number): number {
    return this.slots[this.at(index) + REC]!;
  }

  /** Segment of the first live entry, or SEG_PENDING when the tail is empty. */
  firstSegment(): number {
    return this.count === 0 ? SEG_PENDING : this.slots[this.head * SLOT_FIELDS + SEG]!;
  }

  append(index: number, term: number, encodedBytes: number, recordSeq: number): void {
    assert(index === this.lastIndex + 1, () => `append of ${index} after ${this.lastIndex} leaves a gap`);
    this.slots.push(term, SEG_PENDING, 0, 0, recordSeq, encodedBytes);
    this.encodedBytes += encodedBytes;
  }

  /** Places an entry's record, unless a later record has replaced the entry since. */
  place(index: number, recordSeq: number, segment: number, offset: number, length: number): void {
    if (index <= this.compactIdx || index > this.lastIndex) return;
    const at = this.at(index);
    if (this.slots[at + REC] !== recordSeq) return;
    this.slots[at + SEG] = segment;
    this.slots[at + OFF] = offset;
    this.slots[at + LEN] = length;
  }

  /** Drops entries >= index. */
  truncateFrom(index: number): void {
    assert(index > this.compactIdx, () => `truncate at ${index} inside the compacted prefix ${this.compactIdx}`);
    if (index > this.lastIndex) return;
    const at = this.at(index);
    for (let p = at; p < this.slots.length; p += SLOT_FIELDS) this.encodedBytes -= this.slots[p + BYTES]!;
    this.slots.length = at;
  }

  /** Drops entries <= index; `index` may lie beyond the last entry (the log then restarts there). */
  compactTo(index: number, term: number): void {
    assert(index >= this.compactIdx, () => `compaction to ${index} moves back from ${this.compactIdx}`);
    if (index === this.compactIdx) {
      this.compactTrm = term;
      return;
    }
    if (index >= this.lastIndex) {
      this.reset(index, term);
      return;
    }
    const end = this.at(index) + SLOT_FIELDS;
    for (let p = this.head * SLOT_FIELDS; p < end; p += SLOT_FIELDS) this.encodedBytes -= this.slots[p + BYTES]!;
    this.head = end / SLOT_FIELDS;
    this.compactIdx = index;
    this.compactTrm = term;
    if (this.head >= REPACK_SLOTS_MIN && this.head * 2 >= this.slots.length / SLOT_FIELDS) {
      this.slots = this.slots.slice(this.head * SLOT_FIELDS);
      this.head = 0;
    }
  }

  /** Drops every entry; the log restarts after `index`. */
  reset(index: number, term: number): void {
    this.slots = [];
    this.head = 0;
    this.encodedBytes = 0;
    this.compactIdx = index;
    this.compactTrm = term;
  }
}
