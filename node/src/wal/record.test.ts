// Goal: every WAL record and payload encoding round-trips, and the checksum catches damage to any byte of a record, including its length field.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { ConfState, Entry, LogIndex, PeerId, Term } from '@shoal/raft-ts';
import { DecodeError, putU32 } from './binary.js';
import {
  confStateBytes, decodeEntries, decodeHardState, ENTRIES_PREFIX_BYTES, entryEncodedBytes, groupStateBytes,
  readGroupState, readSnapshot, snapshotBytes, writeEntries, writeGroupState, writeHardState, writeSnapshot,
} from './payload.js';
import { parseRecord, recordBytes, RecordType, sealRecord, writeRecordHeader } from './record.js';

const u64 = fc.oneof(fc.nat(), fc.constant(Number.MAX_SAFE_INTEGER), fc.integer({ min: 2 ** 32, max: 2 ** 40 }));
const ids = fc.array(u64, { maxLength: 5 }) as fc.Arbitrary<PeerId[]>;
const confArb: fc.Arbitrary<ConfState> = fc.record({
  voters: ids, learners: ids, votersOutgoing: ids, learnersNext: ids, autoLeave: fc.boolean(),
}).map((cs) => ({ ...cs })); // a plain prototype, as decoded objects have

function entriesArb(): fc.Arbitrary<Entry[]> {
  return fc.tuple(fc.integer({ min: 1, max: 2 ** 50 }), fc.array(fc.tuple(u64, fc.uint8Array({ maxLength: 40 }),
    fc.constantFrom<0 | 1>(0, 1)), { minLength: 1, maxLength: 8 }))
    .map(([first, es]) => es.map(([term, data, type], k) => ({
      index: (first + k) as LogIndex, term: term as Term, type, data })));
}

/** Frames a payload written by `write` as a record of `type` for group `groupId`. */
function frame(type: RecordType, groupId: number, payloadBytes: number, write: (b: Buffer, p: number) => number): Buffer {
  const buf = Buffer.alloc(recordBytes(payloadBytes));
  assert.equal(write(buf, writeRecordHeader(buf, 0, type, groupId, payloadBytes)), buf.length);
  sealRecord(buf, 0);
  return buf;
}

test('entries records round-trip and report their group', () => {
  fc.assert(fc.property(entriesArb(), u64, (es, groupId) => {
    const bytes = ENTRIES_PREFIX_BYTES + es.reduce((n, e) => n + entryEncodedBytes(e), 0);
    const buf = frame(RecordType.Entries, groupId, bytes, (b, p) => writeEntries(b, p, es, 0, es.length));
    const r = parseRecord(buf, 0, buf.length);
    assert.ok(r.ok);
    assert.equal(r.type, RecordType.Entries);
    assert.equal(r.groupId, groupId);
    const back = decodeEntries(buf, r.payloadStart, r.end);
    assert.deepEqual(back.map((e) => ({ ...e, data: [...e.data] })), es.map((e) => ({ ...e, data: [...e.data] })));
  }));
});

test('hard state, snapshot and group state payloads round-trip', () => {
  fc.assert(fc.property(u64, u64, u64, confArb, fc.constantFrom(0, 1, 2), (a, b, c, cs, flags) => {
    const hs = { term: a as Term, vote: b as PeerId, commit: c as LogIndex };
    const hsBuf = Buffer.alloc(24);
    writeHardState(hsBuf, 0, hs);
    assert.deepEqual(decodeHardState(hsBuf, 0, 24), hs);

    const meta = { index: a as LogIndex, term: b as Term, confState: cs };
    const snapBuf = Buffer.alloc(snapshotBytes(meta));
    writeSnapshot(snapBuf, 0, flags, meta);
    assert.deepEqual(readSnapshot(snapBuf, 0, snapBuf.length), { flags, meta });
    assert.equal(snapshotBytes(meta), 17 + confStateBytes(cs));

    const state = { flags: flags & 1, hardState: hs, compactIndex: Math.max(a, c), compactTerm: b, snapshot: meta };
    const stBuf = Buffer.alloc(groupStateBytes(state));
    writeGroupState(stBuf, 0, state);
    assert.deepEqual(readGroupState(stBuf, 0, stBuf.length), state);
  }));
});

test('damage to any byte of a record is detected', () => {
  const es = [{ index: 5 as LogIndex, term: 2 as Term, type: 0 as const, data: new Uint8Array([1, 2, 3]) }];
  const bytes = ENTRIES_PREFIX_BYTES + entryEncodedBytes(es[0]!);
  const good = frame(RecordType.Entries, 7, bytes, (b, p) => writeEntries(b, p, es, 0, 1));
  for (let k = 0; k < good.length; k++) {
    for (const bit of [0x01, 0x80]) {
      const bad = Buffer.from(good);
      bad[k]! ^= bit;
      assert.equal(parseRecord(bad, 0, bad.length).ok, false, `byte ${k} bit ${bit}`);
    }
  }
  assert.match((parseRecord(good, 0, good.length - 1) as { reason: string }).reason, /partial record/);
  assert.match((parseRecord(good, 0, 5) as { reason: string }).reason, /partial record header/);
});

test('malformed payloads are DecodeErrors, not wrong values', () => {
  const hsBuf = Buffer.alloc(24);
  putU32(hsBuf, 4, 0x200000); // term's high half: 2^53
  assert.throws(() => decodeHardState(hsBuf, 0, 24), DecodeError);
  assert.throws(() => decodeHardState(hsBuf, 0, 23), DecodeError);
  const es = Buffer.alloc(4 + 21 * 2);
  putU32(es, 0, 2);
  putU32(es, 4 + 8, 5); // first index 5
  putU32(es, 4 + 21 + 8, 7); // second index 7: not consecutive
  assert.throws(() => decodeEntries(es, 0, es.length), /does not follow/);
});
