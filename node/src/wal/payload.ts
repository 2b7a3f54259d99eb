/**
 * Binary payloads of the WAL records (README.md, "Record format"). Every encoder has a
 * size function so a record is written in place into the batch buffer, and every decoder
 * checks bounds and ranges, throwing `DecodeError` on anything malformed.
 */
import type { ConfState, Entry, EntryType, HardState, LogIndex, PeerId, SnapshotMetadata, Term } from '@shoal/raft-ts';
import { ByteReader, DecodeError, putU32, putU64 } from './binary.js';

/** Per entry: term u64 | index u64 | type u8 | data length u32, then the data. */
export const ENTRY_HEADER_BYTES = 21;
/** Entries payload: count u32, then the entries. */
export const ENTRIES_PREFIX_BYTES = 4;
export const HARD_STATE_BYTES = 24;
export const COMPACT_BYTES = 16;
export const SEGMENT_MAGIC = 0x4c415753; // "SWAL" read as little-endian bytes
export const FORMAT_VERSION = 1;
export const SEGMENT_HEADER_PAYLOAD_BYTES = 16;

/** Snapshot record flags. */
export const SnapshotFlag = {
  /** The log is replaced: every entry is dropped and the log restarts after the snapshot. */
  ReplaceLog: 1,
  /** Entries up to the snapshot index are dropped (the snapshot matched the log). */
  CompactLog: 2,
} as const;
/** GroupState record flags. */
export const GroupStateFlag = {
  /** Every entry is dropped; the log restarts after the compaction point. */
  ResetLog: 1,
} as const;

export function entryEncodedBytes(e: Entry): number {
  return ENTRY_HEADER_BYTES + e.data.length;
}

export function writeEntries(buf: Uint8Array, pos: number, ents: readonly Entry[], from: number, to: number): number {
  let p = putU32(buf, pos, to - from);
  for (let i = from; i < to; i++) {
    const e = ents[i]!;
    p = putU64(buf, p, e.term);
    p = putU64(buf, p, e.index);
    buf[p++] = e.type;
    p = putU32(buf, p, e.data.length);
    buf.set(e.data, p);
    p += e.data.length;
  }
  return p;
}

/**
 * Visits the entries of an Entries payload without copying their data, checking that the
 * indices are consecutive. Returns the number of entries.
 */
export function scanEntries(
  buf: Uint8Array, start: number, end: number,
  visit: (index: number, term: number, type: EntryType, dataStart: number, dataLength: number) => void,
): number {
  const r = new ByteReader(buf, start, end);
  const count = r.u32('entry count');
  if (count === 0 || count > r.remaining() / ENTRY_HEADER_BYTES) throw new DecodeError(`invalid entry count ${count}`);
  let prev = -1;
  for (let k = 0; k < count; k++) {
    const term = r.u64('entry term');
    const index = r.u64('entry index');
    if (index === 0 || (prev !== -1 && index !== prev + 1)) {
      throw new DecodeError(`entry index ${index} does not follow ${prev}`);
    }
    const type = r.u8('entry type');
    if (type !== 0 && type !== 1) throw new DecodeError(`invalid entry type ${type}`);
    const length = r.u32('entry data length');
    visit(index, term, type as EntryType, r.skip(length, 'entry data'), length);
    prev = index;
  }
  r.expectEnd('entries');
  return count;
}

/** Decodes entries whose data are views into `buf` (the caller hands over ownership of buf). */
export function decodeEntries(buf: Uint8Array, start: number, end: number): Entry[] {
  const out: Entry[] = [];
  scanEntries(buf, start, end, (index, term, type, dataStart, dataLength) => {
    const data = new Uint8Array(buf.buffer, buf.byteOffset + dataStart, dataLength);
    out.push({ index: index as LogIndex, term: term as Term, type, data });
  });
  return out;
}

export function writeHardState(buf: Uint8Array, pos: number, hs: HardState): number {
  return putU64(buf, putU64(buf, putU64(buf, pos, hs.term), hs.vote), hs.commit);
}

function readHardState(r: ByteReader): HardState {
  return { term: r.u64('hard state term') as Term, vote: r.u64('hard state vote') as PeerId,
    commit: r.u64('hard state commit') as LogIndex };
}

export function decodeHardState(buf: Uint8Array, start: number, end: number): HardState {
  const r = new ByteReader(buf, start, end);
  const hs = readHardState(r);
  r.expectEnd('hard state');
  return hs;
}

const CONF_LISTS = ['voters', 'learners', 'votersOutgoing', 'learnersNext'] as const;

/** autoLeave u8, then voters, learners, votersOutgoing, learnersNext: each count u32 + u64 ids. */
export function confStateBytes(cs: ConfState): number {
  return 1 + 4 * 4 + 8 * (cs.voters.length + cs.learners.length + cs.votersOutgoing.length + cs.learnersNext.length);
}

function writeConfState(buf: Uint8Array, pos: number, cs: ConfState): number {
  buf[pos] = cs.autoLeave ? 1 : 0;
  let p = pos + 1;
  for (const name of CONF_LISTS) {
    const ids = cs[name];
    p = putU32(buf, p, ids.length);
    for (const id of ids) p = putU64(buf, p, id);
  }
  return p;
}

function readConfState(r: ByteReader): ConfState {
  const flag = r.u8('autoLeave');
  if (flag > 1) throw new DecodeError(`invalid autoLeave ${flag}`);
  const lists: PeerId[][] = [];
  for (const name of CONF_LISTS) {
    const n = r.u32(`${name} count`);
    if (n > r.remaining() / 8) throw new DecodeError(`invalid ${name} count ${n}`);
    const ids: PeerId[] = [];
    for (let k = 0; k < n; k++) ids.push(r.u64(name) as PeerId);
    lists.push(ids);
  }
  return { voters: lists[0]!, learners: lists[1]!, votersOutgoing: lists[2]!, learnersNext: lists[3]!,
    autoLeave: flag === 1 };
}

/** flags u8 | index u64 | term u64 | confState. */
export function snapshotBytes(meta: SnapshotMetadata): number {
  return 1 + 16 + confStateBytes(meta.confState);
}

export function writeSnapshot(buf: Uint8Array, pos: number, flags: number, meta: SnapshotMetadata): number {
  buf[pos] = flags;
  return writeConfState(buf, putU64(buf, putU64(buf, pos + 1, meta.index), meta.term), meta.confState);
}

function readSnapshotMeta(r: ByteReader): SnapshotMetadata {
  const index = r.u64('snapshot index') as LogIndex;
  const term = r.u64('snapshot term') as Term;
  return { index, term, confState: readConfState(r) };
}

export function readSnapshot(buf: Uint8Array, start: number, end: number): { flags: number; meta: SnapshotMetadata } {
  const r = new ByteReader(buf, start, end);
  const flags = r.u8('snapshot flags');
  if ((flags & ~3) !== 0 || flags === 3) throw new DecodeError(`invalid snapshot flags ${flags}`);
  const meta = readSnapshotMeta(r);
  r.expectEnd('snapshot');
  return { flags, meta };
}

export function writeCompact(buf: Uint8Array, pos: number, index: number, term: number): number {
  return putU64(buf, putU64(buf, pos, index), term);
}

export function readCompact(buf: Uint8Array, start: number, end: number): { index: number; term: number } {
  const r = new ByteReader(buf, start, end);
  const out = { index: r.u64('compact index'), term: r.u64('compact term') };
  r.expectEnd('compact');
  return out;
}

export interface GroupStatePayload {
  readonly flags: number;
  readonly hardState: HardState;
  readonly compactIndex: number;
  readonly compactTerm: number;
  readonly snapshot: SnapshotMetadata;
}

/** flags u8 | hard state | compactIndex u64 | compactTerm u64 | snapshot index, term, confState. */
export function groupStateBytes(s: GroupStatePayload): number {
  return 1 + HARD_STATE_BYTES + 16 + 16 + confStateBytes(s.snapshot.confState);
}

export function writeGroupState(buf: Uint8Array, pos: number, s: GroupStatePayload): number {
  buf[pos] = s.flags;
  let p = writeHardState(buf, pos + 1, s.hardState);
  p = putU64(buf, putU64(buf, p, s.compactIndex), s.compactTerm);
  p = putU64(buf, putU64(buf, p, s.snapshot.index), s.snapshot.term);
  return writeConfState(buf, p, s.snapshot.confState);
}

export function readGroupState(buf: Uint8Array, start: number, end: number): GroupStatePayload {
  const r = new ByteReader(buf, start, end);
  const flags = r.u8('group state flags');
  if ((flags & ~GroupStateFlag.ResetLog) !== 0) throw new DecodeError(`invalid group state flags ${flags}`);
  const hardState = readHardState(r);
  const compactIndex = r.u64('compact index');
  const compactTerm = r.u64('compact term');
  const snapshot = readSnapshotMeta(r);
  r.expectEnd('group state');
  if (snapshot.index > compactIndex) {
    throw new DecodeError(`snapshot index ${snapshot.index} beyond compaction point ${compactIndex}`);
  }
  return { flags, hardState, compactIndex, compactTerm, snapshot };
}

export function writeSegmentHeader(buf: Uint8Array, pos: number, segmentId: number): number {
  return putU64(buf, putU32(buf, putU32(buf, pos, SEGMENT_MAGIC), FORMAT_VERSION), segmentId);
}

export function readSegmentHeader(buf: Uint8Array, start: number, end: number): { version: number; segmentId: number } {
  const r = new ByteReader(buf, start, end);
  const magic = r.u32('segment magic');
  if (magic !== SEGMENT_MAGIC) throw new DecodeError(`bad segment magic 0x${magic.toString(16)}`);
  const out = { version: r.u32('format version'), segmentId: r.u64('segment id') };
  r.expectEnd('segment header');
  return out;
}
