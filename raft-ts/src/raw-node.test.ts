// Goal: exercise RawNode's public contract directly: step validation, the Ready/advance protocol, batching, and status/isIdle.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Config } from './config.js';
import { newMessage } from './message.js';
import { RawNode } from './raw-node.js';
import { MemoryStorage } from './storage-memory.js';
import type { ConfState, Message, PeerId, Term } from './types.js';
import { MessageType, NO_PEER, ReadOnlyOption, StateRole } from './types.js';

const voters = (...ids: number[]): ConfState => ({
  voters: ids as PeerId[], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false,
});

function config(id: number, storage: MemoryStorage, over: Partial<Config> = {}): Config {
  return {
    id: id as PeerId, electionTimeoutTicks: 10, heartbeatIntervalTicks: 1, storage, rand: { intn: () => 0 },
    messageBytesMax: 1 << 20, inflightMessagesMax: 64, inflightBytesMax: 0, uncommittedBytesMax: 0,
    proposalBytesMax: 0, committedBytesPerReadyMax: 0, checkQuorum: false, preVote: false,
    readOnlyOption: ReadOnlyOption.Safe, ...over,
  };
}

/** Handles every Ready of `n` until none is left; returns the messages it produced. */
function drain(n: RawNode, s: MemoryStorage): Message[] {
  const out: Message[] = [];
  while (n.hasReady()) {
    const rd = n.ready();
    if (rd.snapshot !== null) s.applySnapshot(rd.snapshot);
    s.append(rd.entries);
    if (rd.hardState !== null) s.setHardState(rd.hardState);
    out.push(...rd.messages);
    n.advance();
  }
  return out;
}

test('a single-voter group elects itself and commits proposals', () => {
  const s = new MemoryStorage(voters(1));
  const n = new RawNode(config(1, s));
  assert.deepEqual(n.campaign(), { ok: true });
  drain(n, s);
  assert.equal(n.status().softState.role, StateRole.Leader);
  assert.deepEqual(n.proposeBatch([new Uint8Array([1]), new Uint8Array([2])]), { ok: true });
  const rd = n.ready();
  assert.equal(rd.entries.length, 2);
  assert.deepEqual(rd.committedEntries.map((e) => e.index), [2, 3]);
  assert.equal(rd.mustSync, true);
  s.append(rd.entries);
  n.advance();
  assert.equal(n.status().applied, 3);
  assert.equal(n.isIdle(), true);
});

test('step rejects local message types and responses from unknown peers', () => {
  const s = new MemoryStorage(voters(1, 2, 3));
  const n = new RawNode(config(1, s));
  const hup = newMessage(MessageType.Hup, 1 as PeerId, 2 as PeerId, 0 as Term);
  const r1 = n.step(hup);
  assert.equal(r1.ok, false);
  assert.equal(!r1.ok && r1.code, 'STEP_LOCAL_MSG');
  const resp = newMessage(MessageType.AppResp, 1 as PeerId, 9 as PeerId, 1 as Term);
  const r2 = n.step(resp);
  assert.equal(!r2.ok && r2.code, 'STEP_PEER_NOT_FOUND');
});

test('proposals without a leader are dropped as values', () => {
  const s = new MemoryStorage(voters(1, 2, 3));
  const n = new RawNode(config(1, s));
  const r = n.propose(new Uint8Array([1]));
  assert.equal(r.ok, false);
  assert.equal(!r.ok && r.code, 'PROPOSAL_DROPPED');
});

test('the Ready protocol is enforced', () => {
  const s = new MemoryStorage(voters(1));
  const n = new RawNode(config(1, s));
  assert.throws(() => n.advance(), /advance\(\) without a Ready/);
  n.campaign();
  n.ready();
  assert.throws(() => n.ready(), /twice without advance/);
});

test('a vote is persisted (mustSync) in the same Ready that sends the response', () => {
  const s = new MemoryStorage(voters(1, 2));
  const n = new RawNode(config(2, s));
  const vote = newMessage(MessageType.Vote, 2 as PeerId, 1 as PeerId, 1 as Term);
  assert.deepEqual(n.step(vote), { ok: true });
  const rd = n.ready();
  assert.equal(rd.mustSync, true);
  assert.deepEqual(rd.hardState, { term: 1, vote: 1, commit: 0 });
  assert.equal(rd.messages[0]?.type, MessageType.VoteResp);
  assert.equal(rd.messages[0]?.reject, false);
  n.advance();
  // A second candidate in the same term is refused.
  const other = newMessage(MessageType.Vote, 2 as PeerId, 3 as PeerId, 1 as Term);
  n.step(other);
  assert.equal(n.ready().messages[0]?.reject, true);
});

test('status reports progress only on the leader; isIdle tracks in-flight work', () => {
  const s1 = new MemoryStorage(voters(1, 2));
  const s2 = new MemoryStorage(voters(1, 2));
  const n1 = new RawNode(config(1, s1));
  const n2 = new RawNode(config(2, s2));
  const deliver = (msgs: Message[]): void => {
    for (const m of msgs) (m.to === 1 ? n1 : n2).step(m);
  };
  n1.campaign();
  for (let k = 0; k < 10; k++) {
    deliver(drain(n1, s1));
    deliver(drain(n2, s2));
  }
  assert.equal(n2.status().progress, null);
  assert.equal(n1.status().progress?.get(2 as PeerId)?.state, 'replicate');
  assert.equal(n1.isIdle(), true);
  n1.propose(new Uint8Array([9]));
  assert.equal(n1.isIdle(), false);
  for (let k = 0; k < 10; k++) {
    deliver(drain(n1, s1));
    deliver(drain(n2, s2));
  }
  assert.equal(n1.isIdle(), true);
  assert.equal(n2.status().softState.lead, 1);
  assert.notEqual(n2.status().softState.lead, NO_PEER);
});

test('restart with applied ahead of the stored commit index advances commit', () => {
  const s = new MemoryStorage(voters(1, 2, 3));
  s.append([1, 2, 3].map((k) => ({ term: 1 as Term, index: k as never, type: 0 as const, data: new Uint8Array(0) })));
  s.setHardState({ term: 1 as Term, vote: 1 as PeerId, commit: 1 as never });
  const n = new RawNode(config(1, s, { applied: 3 as never }));
  const st = n.status();
  assert.equal(st.hardState.commit, 3);
  assert.equal(st.applied, 3);
  assert.equal(n.hasReady(), false, 'nothing is re-delivered');
  assert.throws(() => new RawNode(config(1, s, { applied: 9 as never })), /beyond the stored log/);
});
