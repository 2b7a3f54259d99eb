/**
 * Rebuilds every group's state from the records of the surviving segments, in order.
 *
 * GC deletes only a prefix of segments, and only segments holding no live entry and no
 * newest hard-state / snapshot / compaction record of any group. The records that remain
 * therefore hold everything live, but a group's history may start in the middle. Replay
 * keeps two things apart:
 *
 * - the *known start*: the newest compaction point seen (Compact, a compacting or
 *   replacing Snapshot, a GroupState). It only grows, and the newest one survives GC.
 * - the *replayed log*: a contiguous run of entries. Because records are written in index
 *   order (an Entries record truncates everything above its first index), the entries
 *   whose records survive always form a suffix of the true log at every point of the
 *   history, and the replayed log is exactly that suffix. An Entries record that leaves a
 *   gap above it, or starts below it, therefore restarts it at its own first index.
 *
 * At the end every live entry's record survived, so the replayed log must reach down to
 * the known start; `finish()` reports a group where it does not as corruption. Entries
 * records never start at or below the known start (stage calls skip compacted entries).
 */
import type { ConfState, HardState, LogIndex, PeerId, SnapshotMetadata, Term } from '@shoal/raft-ts';
import { DecodeError } from './binary.js';
import { SEG_PENDING } from './entry-index.js';
import { GroupState, PIN_ALL } from './group.js';
import {
  decodeHardState, ENTRY_HEADER_BYTES, GroupStateFlag, readCompact, readGroupState, readSnapshot, scanEntries,
  SnapshotFlag,
} from './payload.js';
import { RecordType } from './record.js';

const ZERO_HARD_STATE: HardState = { term: 0 as Term, vote: 0 as PeerId, commit: 0 as LogIndex };
const EMPTY_CONF: ConfState = { voters: [], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false };
const EMPTY_SNAPSHOT: SnapshotMetadata = { index: 0 as LogIndex, term: 0 as Term, confState: EMPTY_CONF };

/** Where the record being replayed lives. */
export interface RecordLocation {
  readonly segment: number;
  readonly offset: number;
  readonly length: number;
}

export class Replayer {
  readonly groups = new Map<number, GroupState>();
  /** The newest compaction point of each group (see the file comment). */
  private readonly knownStart = new Map<GroupState, { index: number; term: number }>();
  private readonly hasSnapshot = new Set<GroupState>();
  /** Record sequence numbers continue from here once the WAL is open. */
  recordSeq = 0;

  /** Applies one verified record; throws DecodeError on a malformed payload. */
  apply(type: RecordType, groupId: number, buf: Uint8Array, start: number, end: number, loc: RecordLocation): void {
    const seq = ++this.recordSeq;
    switch (type) {
      case RecordType.SegmentHeader:
        throw new DecodeError('segment header record inside a segment');
      case RecordType.Entries:
        this.entries(groupId, buf, start, end, loc, seq);
        return;
      case RecordType.HardState: {
        const g = this.group(groupId);
        g.hardState = decodeHardState(buf, start, end);
        g.hsSegment = loc.segment;
        g.hsRecord = seq;
        return;
      }
      case RecordType.Snapshot:
        this.snapshot(groupId, buf, start, end, loc, seq);
        return;
      case RecordType.Compact: {
        const { index, term } = readCompact(buf, start, end);
        this.compact(this.group(groupId), index, term, false, loc.segment, seq);
        return;
      }
      case RecordType.RemoveGroup: {
        const g = this.groups.get(groupId);
        if (g === undefined) return;
        this.groups.delete(groupId);
        this.knownStart.delete(g);
        this.hasSnapshot.delete(g);
        return;
      }
      case RecordType.GroupState:
        this.groupState(groupId, buf, start, end, loc, seq);
        return;
      default: {
        const never: never = type;
        throw new DecodeError(`unexpected record type ${String(never)}`);
      }
    }
  }

  /** Checks that every group was fully defined; returns a problem per bad group. */
  finish(): string[] {
    const problems: string[] = [];
    for (const g of this.groups.values()) {
      const known = this.knownStart.get(g);
      if (known === undefined) {
        problems.push(`group ${g.shardId}: no record fixes the start of its log`);
      } else if (g.log.compactIndex !== known.index) {
        problems.push(`group ${g.shardId}: entries ${known.index + 1}..${g.log.compactIndex} are missing`);
      } else {
        g.log.compactTo(known.index, known.term); // sets the boundary term
      }
      if (!this.hasSnapshot.has(g)) problems.push(`group ${g.shardId}: no snapshot metadata record`);
      if (g.hsSegment === SEG_PENDING) problems.push(`group ${g.shardId}: no hard state record`);
      if (g.snapshot.index > g.log.compactIndex) {
        problems.push(`group ${g.shardId}: snapshot index ${g.snapshot.index} beyond log start ${g.log.compactIndex}`);
      }
    }
    return problems;
  }

  private group(id: number, logStart = 0): GroupState {
    let g = this.groups.get(id);
    if (g === undefined) {
      g = new GroupState(id, ZERO_HARD_STATE, EMPTY_SNAPSHOT, logStart, 0);
      this.groups.set(id, g);
    }
    return g;
  }

  private entries(groupId: number, buf: Uint8Array, start: number, end: number, loc: RecordLocation, seq: number): void {
    let first = 0;
    const terms: number[] = [];
    const sizes: number[] = [];
    scanEntries(buf, start, end, (index, term, _type, _dataStart, dataLength) => {
      if (terms.length === 0) first = index;
      terms.push(term);
      sizes.push(ENTRY_HEADER_BYTES + dataLength);
    });
    const g = this.group(groupId, first - 1);
    const known = this.knownStart.get(g);
    if (known !== undefined && first <= known.index) {
      throw new DecodeError(`entries from ${first} of group ${groupId} start inside its compacted prefix ${known.index}`);
    }
    if (first > g.log.lastIndex + 1 || first <= g.log.compactIndex) g.resetLog(first - 1, 0);
    g.truncateFrom(first);
    for (let k = 0; k < terms.length; k++) {
      g.log.append(first + k, terms[k]!, sizes[k]!, seq);
      g.log.place(first + k, seq, loc.segment, loc.offset, loc.length);
    }
  }

  /** A new compaction point; it drops replayed entries only if it reaches the replayed log. */
  private compact(g: GroupState, index: number, term: number, replace: boolean, segment: number, seq: number): void {
    const known = this.knownStart.get(g);
    if (known !== undefined && index < known.index) throw new DecodeError(`compaction point ${index} moves back`);
    this.knownStart.set(g, { index, term });
    if (replace) g.resetLog(index, term);
    else if (index >= g.log.compactIndex) g.compactTo(index, term);
    g.compactSegment = segment;
    g.compactRecord = seq;
  }

  private snapshot(groupId: number, buf: Uint8Array, start: number, end: number, loc: RecordLocation, seq: number): void {
    const { flags, meta } = readSnapshot(buf, start, end);
    const g = this.group(groupId);
    if (flags !== 0) this.compact(g, meta.index, meta.term, (flags & SnapshotFlag.ReplaceLog) !== 0, loc.segment, seq);
    g.snapshot = meta;
    this.hasSnapshot.add(g);
    g.snapSegment = loc.segment;
    g.snapRecord = seq;
  }

  private groupState(groupId: number, buf: Uint8Array, start: number, end: number, loc: RecordLocation, seq: number): void {
    const s = readGroupState(buf, start, end);
    const g = this.group(groupId);
    if (s.flags & GroupStateFlag.ResetLog) this.knownStart.delete(g); // a new incarnation may restart lower
    this.compact(g, s.compactIndex, s.compactTerm, (s.flags & GroupStateFlag.ResetLog) !== 0, loc.segment, seq);
    g.hardState = s.hardState;
    g.snapshot = s.snapshot;
    this.hasSnapshot.add(g);
    g.hsRecord = g.snapRecord = seq;
    g.placePins(PIN_ALL, seq, loc.segment);
  }
}
