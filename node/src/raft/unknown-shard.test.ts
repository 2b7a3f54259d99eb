// Goal: messages for a shard with no replica here (unknown-shard.ts) — a real raft-ts leader whose log starts at the split index sends a snapshot after the answer given on the absent replica's behalf; only a leader's App/heartbeat is answered, never for known or removed peers, within the rate limit; snapshots create the replica through the host, at most UNKNOWN_SHARD_CREATIONS_MAX at once.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isKvError, KvError } from '@shoal/common';
import { common } from '@shoal/proto';
import { MemoryStorage, MessageType, RawNode, ReadOnlyOption } from '@shoal/raft-ts';
import type { Message, PeerId } from '@shoal/raft-ts';
import type { ShardDescriptor } from './descriptor.js';
import { HIBERNATE_CTX } from './hibernation.js';
import type { TransportEnvelope, TransportPort } from './ports.js';
import { encodeSnapshotData } from './snapshots.js';
import { silentLogger } from './testing/mem-cluster.js';
import { UNKNOWN_SHARD_ANSWERS_PER_SEC_MAX, UNKNOWN_SHARD_CREATIONS_MAX, UnknownShards } from './unknown-shard.js';
import type { UnknownShardHost } from './unknown-shard.js';

const VOTERS = { voters: [1, 2, 3] as PeerId[], learners: [] as PeerId[], votersOutgoing: [] as PeerId[], learnersNext: [] as PeerId[], autoLeave: false };

/** A leader of a split's right half: log starting after (5, 5), as engine/split.ts sets it up. */
function splitHalfLeader(): { n: RawNode; s: MemoryStorage } {
  const s = new MemoryStorage();
  s.applySnapshot({ data: encodeSnapshotData(0, descriptor(7)), metadata: { index: 5 as never, term: 5 as never, confState: VOTERS } });
  s.setHardState({ term: 5 as never, vote: 0 as never, commit: 5 as never });
  const n = new RawNode({
    id: 1 as PeerId, electionTimeoutTicks: 10, heartbeatIntervalTicks: 1, storage: s, rand: { intn: () => 0 }, applied: 5 as never,
    messageBytesMax: 1 << 20, inflightMessagesMax: 64, inflightBytesMax: 0, uncommittedBytesMax: 0, proposalBytesMax: 0,
    committedBytesPerReadyMax: 0, checkQuorum: false, preVote: false, readOnlyOption: ReadOnlyOption.Safe,
  });
  n.campaign();
  drain(n, s);
  n.step(msg(MessageType.VoteResp, 2, 1, n.status().hardState.term));
  return { n, s };
}

function drain(n: RawNode, s: MemoryStorage): Message[] {
  const out: Message[] = [];
  while (n.hasReady()) {
    const rd = n.ready();
    s.append(rd.entries);
    if (rd.hardState !== null) s.setHardState(rd.hardState);
    out.push(...rd.messages);
    n.advance();
  }
  return out;
}

function msg(type: MessageType, from: number, to: number, term: number, over: Partial<Message> = {}): Message {
  return {
    type, from: from as PeerId, to: to as PeerId, term: term as never, logTerm: 0 as never, index: 0 as never, entries: [],
    commit: 0 as never, snapshot: null, reject: false, rejectHint: 0 as never, context: new Uint8Array(0), ...over,
  };
}

function descriptor(id: number): ShardDescriptor {
  return common.ShardDescriptor.create({
    id, tableId: 1, epoch: { confVer: 1, version: 2 },
    replicas: [1, 2, 3].map((nodeId) => common.Replica.create({ nodeId, peerId: nodeId, role: common.ReplicaRole.VOTER })),
  });
}

function setup(lookup: UnknownShardHost['lookup'] = () => 'absent') {
  const sent: { toNode: number; shardId: number; fromPeer: number; toPeer: number; m: Message }[] = [];
  const transport: TransportPort = {
    send: (toNode, shardId, fromPeer, toPeer, m) => sent.push({ toNode, shardId, fromPeer, toPeer, m }),
    sendSnapshot: () => Promise.resolve({ ok: true }),
  };
  let now = 1_000_000;
  const u = new UnknownShards({ nodeId: 3, transport, logger: silentLogger, nowMs: () => now });
  const created: { desc: ShardDescriptor; peerId: number }[] = [];
  u.host = { lookup, createForSnapshot: async (desc, peerId) => void created.push({ desc, peerId }) };
  return { u, sent, created, advanceMs: (ms: number) => void (now += ms) };
}

const env = (m: Message, over: Partial<TransportEnvelope> = {}): TransportEnvelope => ({ shardId: 7, fromPeer: m.from, toPeer: m.to, message: m, fromNodeId: 1, ...over });

test('a split half\'s leader sends a snapshot after the answer given for the absent replica', () => {
  const { n, s } = splitHalfLeader();
  const { u, sent } = setup();
  let toPeer3 = drain(n, s).filter((m) => m.to === 3);
  const app = toPeer3.find((m) => m.type === MessageType.App);
  assert.ok(app !== undefined && app.index >= 5, 'the leader probes peer 3 above the split index');
  u.onMessage(env(app));
  assert.equal(sent.length, 1);
  assert.deepEqual([sent[0]!.toNode, sent[0]!.fromPeer, sent[0]!.toPeer], [1, 3, 1], 'answered to the leader\'s node, as peer 3');
  n.step(sent[0]!.m);
  toPeer3 = drain(n, s).filter((m) => m.to === 3);
  const snap = toPeer3.find((m) => m.type === MessageType.Snap);
  assert.ok(snap?.snapshot !== null && snap?.snapshot !== undefined, `a snapshot follows, got ${toPeer3.map((m) => m.type).join(',')}`);
  assert.equal(snap.snapshot.metadata.index, 5);
});

test('only a leader\'s App above index 0 and plain heartbeats are answered; never for known peers or without the sender\'s node', () => {
  const { u, sent } = setup((shardId) => (shardId === 8 ? 'known' : 'absent'));
  const hb = msg(MessageType.Heartbeat, 1, 3, 6, { context: new Uint8Array([1, 2]) });
  u.onMessage(env(hb));
  assert.equal(sent.length, 1);
  assert.equal(sent[0]!.m.type, MessageType.HeartbeatResp);
  assert.equal(sent[0]!.m.term, 6);
  assert.equal(sent[0]!.m.context.length, 0, 'never counts towards a ReadIndex quorum');
  const app = msg(MessageType.App, 1, 3, 6, { index: 9 as never, logTerm: 6 as never });
  u.onMessage(env(app));
  assert.deepEqual([sent[1]!.m.type, sent[1]!.m.reject, sent[1]!.m.index, sent[1]!.m.rejectHint, sent[1]!.m.logTerm], [MessageType.AppResp, true, 9, 0, 0]);

  const ignored = [
    env(msg(MessageType.Vote, 1, 3, 6)),
    env(msg(MessageType.PreVote, 1, 3, 6)),
    env(msg(MessageType.AppResp, 1, 3, 6)),
    env(msg(MessageType.App, 1, 3, 6, { index: 0 as never })),
    env(msg(MessageType.Heartbeat, 1, 3, 6, { context: HIBERNATE_CTX })),
    env(msg(MessageType.Heartbeat, 1, 3, 0)),
    env(hb, { shardId: 8 }),
    env(hb, { fromNodeId: undefined }),
    env(hb, { fromNodeId: 3 }),
  ];
  for (const e of ignored) u.onMessage(e);
  assert.equal(sent.length, 2, 'nothing else answered');
  assert.equal(u.stats.ignored, ignored.length);
});

test('answers are rate-limited node-wide', () => {
  const { u, sent, advanceMs } = setup();
  const hb = msg(MessageType.Heartbeat, 1, 3, 6);
  for (let i = 0; i < UNKNOWN_SHARD_ANSWERS_PER_SEC_MAX * 2; i++) u.onMessage(env(hb, { shardId: 100 + i }));
  assert.equal(sent.length, UNKNOWN_SHARD_ANSWERS_PER_SEC_MAX);
  assert.equal(u.stats.rateLimited, UNKNOWN_SHARD_ANSWERS_PER_SEC_MAX);
  advanceMs(100);
  for (let i = 0; i < UNKNOWN_SHARD_ANSWERS_PER_SEC_MAX; i++) u.onMessage(env(hb));
  assert.equal(sent.length, UNKNOWN_SHARD_ANSWERS_PER_SEC_MAX + UNKNOWN_SHARD_ANSWERS_PER_SEC_MAX / 10, 'a tenth of a second refills a tenth');
});

test('snapshots create the replica through the host; bad, known and excess ones are refused', async () => {
  const { u, created } = setup((shardId) => (shardId === 8 ? 'known' : 'absent'));
  const snapMsg = (desc: ShardDescriptor): Message => msg(MessageType.Snap, 1, 3, 6, {
    snapshot: { data: encodeSnapshotData(1, desc), metadata: { index: 40 as never, term: 6 as never, confState: VOTERS } },
  });
  await u.admitSnapshot({ shardId: 7, fromPeer: 1, toPeer: 3, message: snapMsg(descriptor(7)) });
  assert.deepEqual(created.map((c) => [c.desc.id, c.peerId]), [[7, 3]]);

  const codeOf = (p: Promise<unknown>): Promise<string> => p.then(() => 'ok', (e: unknown) => (isKvError(e) ? e.code : String(e)));
  assert.equal(await codeOf(u.admitSnapshot({ shardId: 9, fromPeer: 1, toPeer: 3, message: snapMsg(descriptor(7)) })), 'INVALID_ARGUMENT');
  assert.equal(await codeOf(u.admitSnapshot({ shardId: 8, fromPeer: 1, toPeer: 3, message: snapMsg(descriptor(8)) })), 'SHARD_NOT_FOUND');
  assert.equal(await codeOf(u.admitSnapshot({ shardId: 7, fromPeer: 1, toPeer: 3, message: msg(MessageType.Snap, 1, 3, 6) })), 'SHARD_NOT_FOUND');

  // Creations that hang fill the cap; one more is refused with SERVER_BUSY; a failed one frees its slot.
  const release: ((e?: KvError) => void)[] = [];
  u.host = { lookup: () => 'absent', createForSnapshot: () => new Promise<void>((res, rej) => release.push((e) => (e === undefined ? res() : rej(e)))) };
  const pending = Array.from({ length: UNKNOWN_SHARD_CREATIONS_MAX }, (_, i) => codeOf(u.admitSnapshot({ shardId: 20 + i, fromPeer: 1, toPeer: 3, message: snapMsg(descriptor(20 + i)) })));
  assert.equal(await codeOf(u.admitSnapshot({ shardId: 30, fromPeer: 1, toPeer: 3, message: snapMsg(descriptor(30)) })), 'SERVER_BUSY');
  release[0]!(new KvError('TABLE_NOT_FOUND', 'no table'));
  for (const r of release.slice(1)) r();
  assert.deepEqual(await Promise.all(pending), ['TABLE_NOT_FOUND', ...Array<string>(UNKNOWN_SHARD_CREATIONS_MAX - 1).fill('ok')]);
  assert.equal(u.stats.refused, 1);
});
