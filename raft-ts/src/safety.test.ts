// Goal: randomized, seeded runs with message loss, reordering, partitions, restarts, compaction and
// membership churn must never break Raft's safety (one leader per term, identical applied entries)
// and must converge once healed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Config } from './config.js';
import { decodeConfChange } from './conf-change.js';
import { RawNode } from './raw-node.js';
import { MemoryStorage } from './storage-memory.js';
import type { ConfChangeSingle, ConfState, LogIndex, Message, PeerId, Rand } from './types.js';
import { ConfChangeTransition, ConfChangeType, EntryType, ReadOnlyOption, StateRole } from './types.js';

/** Park-Miller PRNG: deterministic per seed. */
function prng(seed: number): Rand & { float(): number } {
  let s = seed % 2147483647 || 1;
  const next = (): number => (s = (s * 48271) % 2147483647);
  return { intn: (n) => next() % n, float: () => next() / 2147483647 };
}

const EMPTY: ConfState = { voters: [], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false };
const enc = new TextEncoder();
const dec = new TextDecoder();

interface Peer {
  id: PeerId;
  storage: MemoryStorage;
  node: RawNode;
  cfg: Config;
  applied: LogIndex;
  confState: ConfState;
}

class Cluster {
  readonly peers = new Map<number, Peer>();
  queue: Message[] = [];
  /** Global record of what was applied at each index (term:data) — must agree across peers. */
  readonly appliedAt = new Map<number, string>();
  readonly leaderOfTerm = new Map<number, number>();
  isolated = new Set<number>();
  private nextId: number;

  constructor(readonly rnd: ReturnType<typeof prng>, n: number, readonly preVote: boolean, readonly checkQuorum: boolean) {
    const cs: ConfState = { ...EMPTY, voters: Array.from({ length: n }, (_, k) => (k + 1) as PeerId) };
    for (let k = 1; k <= n; k++) this.addPeer(k, cs);
    this.nextId = n + 1;
  }

  private addPeer(id: number, cs: ConfState): void {
    const storage = new MemoryStorage(cs);
    const cfg: Config = {
      id: id as PeerId, electionTimeoutTicks: 10, heartbeatIntervalTicks: 2, storage, rand: this.rnd,
      messageBytesMax: 64, inflightMessagesMax: 4, inflightBytesMax: 256, uncommittedBytesMax: 1 << 16,
      proposalBytesMax: 1024, committedBytesPerReadyMax: 128, checkQuorum: this.checkQuorum, preVote: this.preVote,
      readOnlyOption: this.checkQuorum ? ReadOnlyOption.LeaseBased : ReadOnlyOption.Safe,
    };
    this.peers.set(id, { id: id as PeerId, storage, node: new RawNode(cfg), cfg, applied: 0 as LogIndex, confState: cs });
  }

  handleReady(p: Peer): void {
    if (!p.node.hasReady()) return;
    const rd = p.node.ready();
    if (rd.softState?.role === StateRole.Leader) {
      const term = p.node.status().hardState.term;
      const prev = this.leaderOfTerm.get(term);
      assert.ok(prev === undefined || prev === p.id, `two leaders in term ${term}: ${prev} and ${p.id}`);
      this.leaderOfTerm.set(term, p.id);
    }
    if (rd.snapshot !== null) {
      p.storage.applySnapshot(rd.snapshot);
      p.applied = rd.snapshot.metadata.index;
      p.confState = rd.snapshot.metadata.confState;
    }
    p.storage.append(rd.entries);
    if (rd.hardState !== null) p.storage.setHardState(rd.hardState);
    for (const m of rd.messages) this.queue.push(m);
    for (const e of rd.committedEntries) {
      assert.equal(e.index, p.applied + 1, `peer ${p.id} applies ${e.index} after ${p.applied}`);
      const v = `${e.term}:${e.type}:${dec.decode(e.data)}`;
      const seen = this.appliedAt.get(e.index);
      assert.ok(seen === undefined || seen === v, `index ${e.index} applied as ${seen} and ${v}`);
      this.appliedAt.set(e.index, v);
      if (e.type === EntryType.ConfChange) p.confState = p.node.applyConfChange(decodeConfChange(e.data));
      p.applied = e.index;
    }
    p.node.advance();
    const snap = p.storage.snapshot();
    if (snap !== 'temporarily-unavailable' && p.applied > snap.metadata.index) {
      p.storage.createSnapshot(p.applied, p.confState, new Uint8Array(0));
    }
  }

  private leader(): Peer | undefined {
    let best: Peer | undefined;
    for (const p of this.peers.values()) {
      const st = p.node.status();
      if (st.softState.role === StateRole.Leader && (best === undefined || st.hardState.term > best.node.status().hardState.term)) best = p;
    }
    return best;
  }

  /** The leader proposes a random membership change (it may refuse it; that is fine). */
  private changeMembership(): void {
    const l = this.leader();
    if (l === undefined) return;
    const cs = l.node.status().config;
    const r = this.rnd;
    const pick = <T>(xs: readonly T[]): T | undefined => xs[r.intn(Math.max(1, xs.length))];
    let changes: ConfChangeSingle[];
    let transition: ConfChangeTransition = ConfChangeTransition.Auto;
    const op = r.intn(5);
    if (cs.votersOutgoing.length > 0) {
      changes = []; // leave joint (explicit joint configs need this)
    } else if (op === 0 && this.nextId <= 9) {
      const id = this.nextId++;
      this.addPeer(id, EMPTY); // a joiner starts with no membership
      changes = [{ type: ConfChangeType.AddLearnerNode, peerId: id as PeerId }];
    } else if (op === 1 && cs.learners.length > 0) {
      changes = [{ type: ConfChangeType.AddNode, peerId: pick(cs.learners)! }];
    } else if (op === 2 && cs.voters.length > 3) {
      changes = [{ type: ConfChangeType.RemoveNode, peerId: pick(cs.voters)! }];
    } else if (op === 3 && cs.learners.length > 0 && cs.voters.length >= 3) {
      // Swap a voter for a learner through a joint configuration.
      changes = [{ type: ConfChangeType.AddNode, peerId: pick(cs.learners)! }, { type: ConfChangeType.AddLearnerNode, peerId: pick(cs.voters)! }];
      transition = r.intn(2) === 0 ? ConfChangeTransition.JointExplicit : ConfChangeTransition.Auto;
    } else {
      return;
    }
    l.node.proposeConfChange({ transition, changes, context: new Uint8Array(0) });
  }

  /** One random action. */
  step(): void {
    const r = this.rnd;
    const all = [...this.peers.values()];
    const p = all[r.intn(all.length)]!;
    const roll = r.float();
    if (roll < 0.3) {
      p.node.tick();
    } else if (roll < 0.45) {
      p.node.propose(enc.encode(`v${r.intn(1000)}`));
    } else if (roll < 0.8) {
      this.deliverSome(0.1);
    } else if (roll < 0.82) {
      this.isolated = new Set(r.intn(2) === 0 ? [] : [1 + r.intn(this.peers.size)]);
    } else if (roll < 0.83) {
      p.node = new RawNode({ ...p.cfg, applied: p.applied }); // crash + restart (state was persisted)
    } else if (roll < 0.84) {
      this.changeMembership();
    } else if (roll < 0.86) {
      const first = p.storage.firstIndex();
      if (p.applied - 5 >= first) p.storage.compact((p.applied - 5) as LogIndex);
    } else {
      for (const q of this.peers.values()) this.handleReady(q);
    }
  }

  private deliver(m: Message, lost: boolean): void {
    const to = this.peers.get(m.to);
    if (!lost && to !== undefined) to.node.step(m);
    // The transport's obligation: report the outcome of every snapshot it was asked to send.
    if (m.snapshot !== null) this.peers.get(m.from)?.node.reportSnapshot(m.to, !lost && to !== undefined);
  }

  private deliverSome(dropRate: number): void {
    const r = this.rnd;
    const n = Math.min(this.queue.length, 1 + r.intn(8));
    for (let k = 0; k < n; k++) {
      const m = this.queue.splice(r.intn(this.queue.length), 1)[0]!; // random order: reordering
      this.deliver(m, r.float() < dropRate || this.isolated.has(m.from) || this.isolated.has(m.to));
    }
  }

  /**
   * Heal and run fault-free until every member of the leader's configuration has applied
   * the whole log. Peers outside it are stopped, as a host would shut removed replicas down.
   */
  converge(): void {
    this.isolated = new Set();
    for (let round = 0; round < 5000; round++) {
      const leader = this.leader();
      const cs = leader?.node.status().config;
      const members = cs === undefined ? [...this.peers.keys()]
        : [...new Set([...cs.voters, ...cs.votersOutgoing, ...cs.learners, ...cs.learnersNext])];
      for (const id of members) this.handleReady(this.peers.get(id)!);
      const q = this.queue;
      this.queue = [];
      for (const m of q) this.deliver(m, !members.includes(m.to) || !members.includes(m.from));
      if (round % 3 === 0) for (const id of members) this.peers.get(id)!.node.tick();
      if (leader === undefined || round < 100) continue;
      if (round % 50 === 0) {
        leader.node.propose(enc.encode('final'));
        if (cs!.votersOutgoing.length > 0) leader.node.proposeConfChange({ transition: 0, changes: [], context: new Uint8Array(0) });
      }
      const last = leader.node.status().lastIndex;
      if (cs!.votersOutgoing.length === 0 && members.every((id) => this.peers.get(id)!.applied === last)) return;
    }
    assert.fail(`did not converge: applied=${[...this.peers.values()].map((p) => `${p.id}:${p.applied}`).join(',')}`);
  }
}

/** More seeds for a deeper run: SAFETY_SEEDS=500 node --test raft-ts/dist/safety.test.js */
const SEEDS = Number(process.env['SAFETY_SEEDS'] ?? 12);

for (const [preVote, checkQuorum] of [[false, false], [true, false], [false, true], [true, true]] as const) {
  test(`randomized safety (preVote=${preVote}, checkQuorum=${checkQuorum})`, (t) => {
    let confChanges = 0;
    for (let seed = 1; seed <= SEEDS; seed++) {
      const c = new Cluster(prng(seed * 7919 + (preVote ? 1 : 0) + (checkQuorum ? 2 : 0)), 3 + (seed % 3), preVote, checkQuorum);
      try {
        for (let k = 0; k < 4000; k++) c.step();
        c.converge();
      } catch (e) {
        throw new Error(`seed ${seed} failed (replay with this seed): ${String(e)}`, { cause: e });
      }
      assert.ok(c.appliedAt.size > 0, `seed ${seed}: nothing was ever applied`);
      for (const v of c.appliedAt.values()) if (v.split(':')[1] === String(EntryType.ConfChange)) confChanges++;
    }
    assert.ok(confChanges >= 12, `membership churn too rare to mean anything: ${confChanges} conf changes`);
    t.diagnostic(`${SEEDS} seeds, ${confChanges} conf changes applied`);
  });
}
