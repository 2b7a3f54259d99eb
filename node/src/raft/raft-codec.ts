/**
 * Exact conversion between raft-ts `Message` (plain objects, branded ids) and the wire type
 * `raft.Message` of proto/raft.proto, which mirrors it field for field.
 *
 * Invariants:
 * - `fromProtoMessage(toProtoMessage(m))` deep-equals `m` for every valid raft-ts Message;
 *   `toProtoMessage(fromProtoMessage(p))` encodes to the same bytes as `p` when `p` came
 *   from `toProtoMessage` (a snapshot always carries its metadata and conf state there).
 * - raft-ts `snapshot: null` is an absent proto `snapshot`, and back.
 * - Enum numbers are equal on both sides (proto/src/raft-mirror.test.ts); a number raft-ts
 *   does not know (a newer peer, a corrupt sender) is refused with
 *   `KvError('PROTOCOL_ERROR')` instead of reaching raft, so callers drop that input.
 *
 * Decoded `bytes` (entry data, context, snapshot data) are views into the received gRPC
 * buffer: grpc-js allocates a fresh buffer per message and never reuses it, so the views
 * stay valid for as long as raft keeps the entries.
 */
import { KvError } from '@shoal/common';
import { raft } from '@shoal/proto';
import { EntryType, MessageType } from '@shoal/raft-ts';
import type { ConfState, Entry, LogIndex, Message, PeerId, Snapshot, Term } from '@shoal/raft-ts';

const MESSAGE_TYPES: ReadonlySet<number> = new Set(Object.values(MessageType));
const ENTRY_TYPES: ReadonlySet<number> = new Set(Object.values(EntryType));

/** The raft-ts Message as its wire mirror. Numbers are unchanged; brands are erased. */
export function toProtoMessage(m: Message): raft.Message {
  return {
    type: m.type,
    to: m.to,
    from: m.from,
    term: m.term,
    logTerm: m.logTerm,
    index: m.index,
    entries: m.entries.map(toProtoEntry),
    commit: m.commit,
    snapshot: m.snapshot === null ? undefined : toProtoSnapshot(m.snapshot),
    reject: m.reject,
    rejectHint: m.rejectHint,
    context: m.context,
  };
}

/**
 * The wire mirror as a raft-ts Message. Throws `KvError('PROTOCOL_ERROR')` for a message
 * or entry type raft-ts does not define. Ids arrive checked by the proto decoder (safe,
 * non-negative integers), so branding them is a cast.
 */
export function fromProtoMessage(p: raft.Message): Message {
  if (!MESSAGE_TYPES.has(p.type)) {
    throw new KvError('PROTOCOL_ERROR', `raft message type ${p.type} is unknown`);
  }
  return {
    type: p.type,
    to: p.to as PeerId,
    from: p.from as PeerId,
    term: p.term as Term,
    logTerm: p.logTerm as Term,
    index: p.index as LogIndex,
    entries: p.entries.map(fromProtoEntry),
    commit: p.commit as LogIndex,
    snapshot: p.snapshot === undefined ? null : fromProtoSnapshot(p.snapshot),
    reject: p.reject,
    rejectHint: p.rejectHint as LogIndex,
    context: p.context,
  };
}

export function toProtoEntry(e: Entry): raft.Entry {
  return { term: e.term, index: e.index, type: e.type, data: e.data };
}

export function fromProtoEntry(p: raft.Entry): Entry {
  if (!ENTRY_TYPES.has(p.type)) {
    throw new KvError('PROTOCOL_ERROR', `raft entry type ${p.type} is unknown (entry ${p.index})`);
  }
  return { term: p.term as Term, index: p.index as LogIndex, type: p.type, data: p.data };
}

export function toProtoConfState(c: ConfState): raft.ConfState {
  return {
    voters: c.voters,
    learners: c.learners,
    votersOutgoing: c.votersOutgoing,
    learnersNext: c.learnersNext,
    autoLeave: c.autoLeave,
  };
}

export function fromProtoConfState(p: raft.ConfState | undefined): ConfState {
  if (p === undefined) return { voters: [], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false };
  return {
    voters: p.voters as readonly PeerId[],
    learners: p.learners as readonly PeerId[],
    votersOutgoing: p.votersOutgoing as readonly PeerId[],
    learnersNext: p.learnersNext as readonly PeerId[],
    autoLeave: p.autoLeave,
  };
}

function toProtoSnapshot(s: Snapshot): raft.Snapshot {
  const md = s.metadata;
  return {
    data: s.data,
    metadata: { confState: toProtoConfState(md.confState), index: md.index, term: md.term },
  };
}

/** An absent metadata or conf state (only a foreign encoder omits them) reads as zero. */
function fromProtoSnapshot(p: raft.Snapshot): Snapshot {
  const md = p.metadata;
  return {
    data: p.data,
    metadata: {
      confState: fromProtoConfState(md?.confState),
      index: (md?.index ?? 0) as LogIndex,
      term: (md?.term ?? 0) as Term,
    },
  };
}

// ---------------------------------------------------------------------------------------
// Size bounds. The transport sizes batches and its send queue without encoding twice: these
// are upper bounds on the encoded length (a varint of a safe integer is at most 8 bytes, an
// enum at most 10, a length prefix of a message under 4 GiB at most 5; every field number
// here is below 16, so a tag is 1 byte). raft-codec.test.ts checks `encoded <= bound`.

const SCALAR_FIELD_BYTES_MAX = 1 + 10;
const LENGTH_DELIMITED_OVERHEAD_BYTES_MAX = 1 + 5;
/** type, to, from, term, logTerm, index, commit, reject, rejectHint. */
const MESSAGE_SCALAR_FIELDS = 9;

function entryBytesMax(e: Entry): number {
  return LENGTH_DELIMITED_OVERHEAD_BYTES_MAX + 3 * SCALAR_FIELD_BYTES_MAX
    + LENGTH_DELIMITED_OVERHEAD_BYTES_MAX + e.data.length;
}

function confStateBytesMax(c: ConfState): number {
  const ids = c.voters.length + c.learners.length + c.votersOutgoing.length + c.learnersNext.length;
  return LENGTH_DELIMITED_OVERHEAD_BYTES_MAX + 4 * LENGTH_DELIMITED_OVERHEAD_BYTES_MAX
    + ids * SCALAR_FIELD_BYTES_MAX + SCALAR_FIELD_BYTES_MAX;
}

function snapshotBytesMax(s: Snapshot): number {
  const metadata = LENGTH_DELIMITED_OVERHEAD_BYTES_MAX + 2 * SCALAR_FIELD_BYTES_MAX
    + confStateBytesMax(s.metadata.confState);
  return LENGTH_DELIMITED_OVERHEAD_BYTES_MAX + LENGTH_DELIMITED_OVERHEAD_BYTES_MAX + s.data.length + metadata;
}

/** An upper bound on `raft.Message.encode(toProtoMessage(m)).finish().length`. */
export function messageEncodedBytesMax(m: Message): number {
  let bytes = MESSAGE_SCALAR_FIELDS * SCALAR_FIELD_BYTES_MAX
    + LENGTH_DELIMITED_OVERHEAD_BYTES_MAX + m.context.length;
  for (const e of m.entries) bytes += entryBytesMax(e);
  if (m.snapshot !== null) bytes += snapshotBytesMax(m.snapshot);
  return bytes;
}

/**
 * An upper bound on the bytes one `RaftEnvelope` (shard id, peers, epoch, message) adds to
 * a `RaftMessageBatch`, including its own tag and length prefix.
 */
export function envelopeEncodedBytesMax(m: Message): number {
  const epoch = LENGTH_DELIMITED_OVERHEAD_BYTES_MAX + 2 * SCALAR_FIELD_BYTES_MAX;
  return LENGTH_DELIMITED_OVERHEAD_BYTES_MAX + 3 * SCALAR_FIELD_BYTES_MAX + epoch
    + LENGTH_DELIMITED_OVERHEAD_BYTES_MAX + messageEncodedBytesMax(m);
}

/** An upper bound on a `RaftMessageBatch` without its envelopes (cluster, nodes, seq). */
export const BATCH_HEADER_BYTES_MAX = 4 * SCALAR_FIELD_BYTES_MAX;
