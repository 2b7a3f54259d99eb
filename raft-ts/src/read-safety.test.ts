// Goal: a linearizable read (ReadIndex, Safe or LeaseBased) is never answered with an index
// older than a write another leader has already committed: the lease must end before any
// follower that promised it could help elect a rival (Raft thesis §6.4.1), a leadership
// transfer voids it, and a leader that is not itself a voter never skips the quorum check.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Config } from './config.js';
import { RawNode } from './raw-node.js';
import { MemoryStorage } from './storage-memory.js';
import type { ConfChange, ConfState, LogIndex, Message, PeerId, Rand, ReadState } from './types.js';
import { ConfChangeTransition, ConfChangeType, EntryType, ReadOnlyOption, StateRole } from './types.js';
import { decodeConfChange } from './conf-change.js';

const E = 10;

/** Always draws `v`: the randomized election timeout is exactly E + v. */
const fixedRand = (v: number): Rand => ({ intn: (n) => Math.min(v, n - 1) });

interface Peer {
  readonly raw: RawNode;
  readonly storage: MemoryStorage;
  readStates: ReadState[];
  applied: LogIndex;
}

class Group {
  readonly peers = new Map<number, Peer>();
  /** Directed links that drop every message, as "from>to". */
  readonly cut = new Set<string>();

  constructor(rands: Record<number, number>, over: Partial<Config> = {}) {
    const voters = Object.keys(rands).map(Number) as PeerId[];
    const cs: ConfState = { voters, learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false };
    for (const id of voters) {
      const storage = new MemoryStorage(cs);
      const raw = new RawNode({
        id, electionTimeoutTicks: E, heartbeatIntervalTicks: 1, storage, rand: fixedRand(rands[id]!),
        messageBytesMax: 1 << 20, inflightMessagesMax: 256, inflightBytesMax: 0, uncommittedBytesMax: 0,
        proposalBytesMax: 0, committedBytesPerReadyMax: 0, checkQuorum: true, preVote: false,
        readOnlyOption: ReadOnlyOption.LeaseBased, ...over,
      });
      this.peers.set(id, { raw, storage, readStates: [], applied: 0 as LogIndex });
    }
  }

  peer(id: number): Peer {
    return this.peers.get(id)!;
  }

  isolate(id: number): void {
    for (const other of this.peers.keys()) {
      if (other === id) continue;
      this.cut.add(`${id}>${other}`);
      this.cut.add(`${other}>${id}`);
    }
  }

  /** Handles Readies (applying conf changes) and delivers messages until quiet. */
  stabilize(): void {
    for (let round = 0; round < 1000; round++) {
      const msgs: Message[] = [];
      for (const p of this.peers.values()) {
        while (p.raw.hasReady()) {
          const rd = p.raw.ready();
          if (rd.snapshot !== null) p.storage.applySnapshot(rd.snapshot);
          p.storage.append(rd.entries);
          if (rd.hardState !== null) p.storage.setHardState(rd.hardState);
          msgs.push(...rd.messages);
          for (const e of rd.committedEntries) {
            if (e.type === EntryType.ConfChange) p.raw.applyConfChange(decodeConfChange(e.data));
            p.applied = e.index;
          }
          p.readStates.push(...rd.readStates);
          p.raw.advance();
        }
      }
      if (msgs.length === 0) return;
      for (const m of msgs) if (!this.cut.has(`${m.from}>${m.to}`)) this.peer(m.to).raw.step(m);
    }
    throw new Error('group never quiesced');
  }

  tickAll(): void {
    for (const p of this.peers.values()) p.raw.tick();
    this.stabilize();
  }

  isLeader(id: number): boolean {
    return this.peer(id).raw.status().softState.role === StateRole.Leader;
  }

  /** Proposes on `id` (a leader) and returns the index the write was acknowledged at. */
  write(id: number): LogIndex {
    assert.ok(this.peer(id).raw.propose(new Uint8Array([42])).ok);
    this.stabilize();
    return this.peer(id).applied;
  }

  /** Issues a read on `id`; returns its ReadState, or undefined if it was not answered. */
  read(id: number, ctx: number): ReadState | undefined {
    const p = this.peer(id);
    const before = p.readStates.length;
    p.raw.readIndex(new Uint8Array([ctx]));
    this.stabilize();
    return p.readStates[before];
  }
}

function assertNotStale(rs: ReadState | undefined, acknowledged: LogIndex, who: string): void {
  if (rs === undefined) return; // not answered: safe (the client retries elsewhere)
  assert.ok(rs.index >= acknowledged,
    `${who} answered a read at index ${rs.index}, but index ${acknowledged} was already acknowledged by another leader`);
}

test('a partitioned leader serves no stale lease read once a rival has committed', () => {
  // n2 times out after exactly E ticks without a leader; n3 after 2E - 1.
  const g = new Group({ 1: 0, 2: 0, 3: E - 1 });
  g.peer(1).raw.campaign();
  g.stabilize();
  assert.ok(g.isLeader(1));
  // One full check-quorum round, then one heartbeat the followers acknowledge: the
  // leader's next check-quorum passes on those acks.
  for (let t = 0; t < E + 1; t++) g.tickAll();
  assert.ok(g.read(1, 1) !== undefined, 'a connected leader answers lease reads');
  g.isolate(1);
  // The followers promised n1 only E ticks from their last heartbeat.
  let ticks = 0;
  while (!g.isLeader(2) && ticks < 2 * E) {
    g.tickAll();
    ticks++;
  }
  assert.ok(g.isLeader(2), 'n2 should be elected once its promise to n1 expired');
  const acknowledged = g.write(2);
  assertNotStale(g.read(1, 2), acknowledged, `n1 (leader: ${g.isLeader(1)})`);
});

test('a lease read right after the lease was established is answered at once', () => {
  const g = new Group({ 1: 0, 2: 0, 3: 0 });
  g.peer(1).raw.campaign();
  g.stabilize();
  assert.ok(g.read(1, 1) !== undefined);
  // A second read within the lease needs no heartbeat round: answered without delivery.
  g.peer(1).raw.readIndex(new Uint8Array([2]));
  const rd = g.peer(1).raw.ready();
  assert.equal(rd.readStates.length, 1);
  assert.equal(rd.messages.length, 0);
  g.peer(1).raw.advance();
});

test('a leader that handed over leadership (MsgTimeoutNow) serves no lease read', () => {
  const g = new Group({ 1: 0, 2: 0, 3: 0 });
  g.peer(1).raw.campaign();
  g.stabilize();
  g.write(1);
  assert.ok(g.read(1, 1) !== undefined);
  // n1 hears nothing back from the others (one-way cut), but its TimeoutNow gets through:
  // n2 campaigns with the transfer marker, which overrides n3's promise to n1.
  g.cut.add('2>1');
  g.cut.add('3>1');
  g.peer(1).raw.transferLeader(2 as PeerId);
  g.stabilize();
  assert.ok(g.isLeader(2), 'n2 took over');
  const acknowledged = g.write(2);
  assertNotStale(g.read(1, 2), acknowledged, `n1 (leader: ${g.isLeader(1)})`);
});

test('a follower that promised a lease does not campaign on request within it', () => {
  // n3 is cut off from n1 long enough for its promise to n1 to lapse, not to campaign.
  const g = new Group({ 1: 0, 2: E - 1, 3: E - 1 });
  g.peer(1).raw.campaign();
  g.stabilize();
  g.write(1);
  g.cut.add('1>3');
  g.cut.add('3>1');
  for (let t = 0; t < E; t++) g.tickAll();
  assert.ok(g.isLeader(1));
  assert.ok(g.read(1, 1) !== undefined, 'n1 and n2 are a quorum');
  g.isolate(1);
  g.peer(2).raw.campaign(); // the host asks n2 to campaign while its promise to n1 holds
  g.stabilize();
  if (!g.isLeader(2)) return;
  const acknowledged = g.write(2);
  assertNotStale(g.read(1, 2), acknowledged, `n1 (leader: ${g.isLeader(1)})`);
});

test('a removed leader does not treat the single remaining voter as itself (Safe ReadIndex)', () => {
  const g = new Group({ 1: 0, 2: 0 }, { checkQuorum: false, readOnlyOption: ReadOnlyOption.Safe });
  g.peer(1).raw.campaign();
  g.stabilize();
  assert.ok(g.isLeader(1));
  const cc: ConfChange = {
    transition: ConfChangeTransition.Auto, changes: [{ type: ConfChangeType.RemoveNode, peerId: 1 as PeerId }],
    context: new Uint8Array(0),
  };
  assert.ok(g.peer(1).raw.proposeConfChange(cc).ok);
  g.stabilize();
  assert.deepEqual(g.peer(2).raw.status().config.voters, [2]);
  assert.ok(g.isLeader(1), 'without stepDownOnRemoval the removed leader keeps leading');
  g.isolate(1);
  for (let t = 0; t < 2 * E && !g.isLeader(2); t++) g.tickAll();
  assert.ok(g.isLeader(2));
  const acknowledged = g.write(2);
  assertNotStale(g.read(1, 1), acknowledged, `n1 (leader: ${g.isLeader(1)})`);
});
