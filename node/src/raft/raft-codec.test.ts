// Goal: raft-ts Message ⇄ proto raft.Message conversion is exact in both directions (also through
// the wire encoding), refuses unknown enum numbers, and the size bounds really bound the encoding.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isKvError } from '@shoal/common';
import { raft } from '@shoal/proto';
import { EntryType, MessageType } from '@shoal/raft-ts';
import type { ConfState, Entry, LogIndex, Message, PeerId, Snapshot, Term } from '@shoal/raft-ts';
import {
  envelopeEncodedBytesMax, fromProtoMessage, messageEncodedBytesMax, toProtoMessage,
} from './raft-codec.js';

const id = fc.oneof(fc.constantFrom(0, 1, 2 ** 53 - 1), fc.maxSafeNat());
const bytes = fc.uint8Array({ maxLength: 48 });
/** Plain objects, like raft-ts builds (fast-check may otherwise make null-prototype ones). */
const plain = { noNullPrototype: true } as const;
const peer = id.map((n) => n as PeerId);
const term = id.map((n) => n as Term);
const index = id.map((n) => n as LogIndex);
const peers = fc.array(peer, { maxLength: 5 });

const confState: fc.Arbitrary<ConfState> = fc.record({
  voters: peers, learners: peers, votersOutgoing: peers, learnersNext: peers, autoLeave: fc.boolean(),
}, plain);

const entry: fc.Arbitrary<Entry> = fc.record({
  term, index, type: fc.constantFrom(...Object.values(EntryType)), data: bytes,
}, plain);

const snapshot: fc.Arbitrary<Snapshot> = fc.record({
  data: bytes,
  metadata: fc.record({ confState, index, term }, plain),
}, plain);

const message: fc.Arbitrary<Message> = fc.record({
  type: fc.constantFrom(...Object.values(MessageType)),
  to: peer, from: peer, term, logTerm: term, index,
  entries: fc.array(entry, { maxLength: 4 }),
  commit: index,
  snapshot: fc.option(snapshot, { nil: null }),
  reject: fc.boolean(), rejectHint: index, context: bytes,
}, plain);

function sampleSnap(): Message {
  return {
    type: MessageType.Snap, to: 3 as PeerId, from: 1 as PeerId, term: 9 as Term, logTerm: 0 as Term, index: 0 as LogIndex,
    entries: [], commit: 0 as LogIndex, reject: false, rejectHint: 0 as LogIndex, context: new Uint8Array(0),
    snapshot: {
      data: new TextEncoder().encode('descriptor'),
      metadata: {
        index: 120 as LogIndex, term: 8 as Term,
        confState: { voters: [1, 2, 3] as PeerId[], learners: [4] as PeerId[], votersOutgoing: [1, 2, 5] as PeerId[], learnersNext: [5] as PeerId[], autoLeave: true },
      },
    },
  };
}

describe('raft-codec', () => {
  it('converts a MsgSnap with conf state, and maps null snapshot to absent', () => {
    const m = sampleSnap();
    const p = toProtoMessage(m);
    assert.equal(p.type, raft.MessageType.SNAP);
    assert.deepEqual(p.snapshot?.metadata?.confState?.votersOutgoing, [1, 2, 5]);
    assert.deepStrictEqual(fromProtoMessage(p), m);

    const app: Message = { ...m, type: MessageType.App, snapshot: null, entries: [{ term: 8 as Term, index: 121 as LogIndex, type: EntryType.ConfChange, data: new Uint8Array([1, 2]) }] };
    const pa = toProtoMessage(app);
    assert.equal(pa.snapshot, undefined);
    const wire = raft.Message.decode(raft.Message.encode(pa).finish());
    assert.equal(wire.snapshot, undefined);
    assert.deepStrictEqual(fromProtoMessage(wire), app);
  });

  it('raft → proto → wire → proto → raft is the identity (property)', () => {
    fc.assert(fc.property(message, (m) => {
      assert.deepStrictEqual(fromProtoMessage(toProtoMessage(m)), m);
      const wire = raft.Message.decode(raft.Message.encode(toProtoMessage(m)).finish());
      assert.deepStrictEqual(fromProtoMessage(wire), m);
    }), { numRuns: 500 });
  });

  it('proto → raft → proto preserves the encoding of canonical messages (property)', () => {
    fc.assert(fc.property(message, (m) => {
      const encoded = raft.Message.encode(toProtoMessage(m)).finish();
      const back = toProtoMessage(fromProtoMessage(raft.Message.decode(encoded)));
      assert.deepStrictEqual(raft.Message.encode(back).finish(), encoded);
    }), { numRuns: 300 });
  });

  it('reads a snapshot without metadata (foreign encoder) as zero metadata', () => {
    const p = raft.Message.create({ type: raft.MessageType.SNAP, snapshot: { data: new Uint8Array([7]), metadata: undefined } });
    const m = fromProtoMessage(p);
    assert.deepEqual(m.snapshot?.metadata, { index: 0, term: 0, confState: { voters: [], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false } });
  });

  it('refuses unknown message and entry types with PROTOCOL_ERROR', () => {
    const badType = { ...raft.Message.create(), type: 42 } as unknown as raft.Message;
    assert.throws(() => fromProtoMessage(badType), (e) => isKvError(e, 'PROTOCOL_ERROR'));
    const badEntry = raft.Message.create({ entries: [{ term: 1, index: 1, type: 5 as raft.EntryType, data: new Uint8Array(0) }] });
    assert.throws(() => fromProtoMessage(badEntry), (e) => isKvError(e, 'PROTOCOL_ERROR'));
  });

  it('size bounds are upper bounds of the real encodings (property)', () => {
    fc.assert(fc.property(message, id, (m, shardId) => {
      const encodedMessage = raft.Message.encode(toProtoMessage(m)).finish().length;
      assert.ok(encodedMessage <= messageEncodedBytesMax(m), `${encodedMessage} > ${messageEncodedBytesMax(m)}`);
      const env: raft.RaftEnvelope = { shardId, fromPeer: m.from, toPeer: m.to, shardEpoch: { confVer: 2 ** 53 - 1, version: 2 ** 53 - 1 }, message: toProtoMessage(m) };
      const inBatch = raft.RaftMessageBatch.encode({ clusterId: 0, fromNodeId: 0, toNodeId: 0, seq: 0, messages: [env] }).finish().length;
      assert.ok(inBatch <= envelopeEncodedBytesMax(m), `${inBatch} > ${envelopeEncodedBytesMax(m)}`);
    }), { numRuns: 300 });
  });
});
