/**
 * One simulated replica: a raft-ts `RawNode`, its `MemoryStorage`, its simulated disk and
 * its application state machine, glued together exactly as the API contract asks of a host:
 *
 *  1. persist the Ready's snapshot, then entries, then hard state — and fsync when
 *     `mustSync` (a snapshot is always synced, like a snapshot file);
 *  2. only then send its messages;
 *  3. apply the snapshot, then the committed entries in order (ConfChange entries through
 *     `applyConfChange`), and queue its read states;
 *  4. `advance()`.
 *
 * A crash may strike between writing and fsync (the unsynced tail is lost) or between
 * fsync and sending. Restart rebuilds everything from the durable image of the disk.
 * Every observation is reported to the safety checker as it happens.
 */
import {
  decodeConfChange, EntryType, MessageType, NO_PEER, RawNode, StateRole,
} from '@shoal/raft-ts';
import type {
  ConfChange, ConfState, Entry, HardState, LogIndex, MemoryStorage, Message, PeerId, Ready, Snapshot, Term,
} from '@shoal/raft-ts';
import type { EntryFacts, LogView, SafetyChecker } from './checker.js';
import { entryHash } from './digest.js';
import { KvApp, probeIdOf } from './kv-app.js';
import type { Prng } from './prng.js';
import type { AppPolicy, HostBug, SimRaftOptions } from './scenario.js';
import { SimDisk } from './sim-disk.js';
import type { Trace } from './trace.js';

/**
 * Bound on consecutive Readys after one input; a node that never quiesces is a bug. It is
 * large because committedBytesPerReadyMax may hand out one entry per Ready after a restart.
 */
export const READY_LOOP_MAX = 100_000;
/** Bound on reads waiting at one replica. */
export const NODE_READS_MAX = 256;

export type CrashPoint = 'before-fsync' | 'before-send';

export interface NodeOptions {
  readonly raft: SimRaftOptions;
  readonly app: AppPolicy;
  /** A deliberate host bug, to prove the checker catches what it should (tests only). */
  readonly hostBug: HostBug;
}

/** What a replica needs from the cluster around it. */
export interface NodeHost {
  readonly checker: SafetyChecker;
  readonly trace: Trace;
  now(): number;
  send(from: SimNode, m: Message): void;
  /** Whether to crash at this point of Ready handling (a seeded fault). */
  crashAt(node: SimNode, point: CrashPoint): boolean;
  onCrash(node: SimNode): void;
  onConfApplied(node: SimNode, index: number, cs: ConfState): void;
  onProbeApplied(node: SimNode, probeId: number): void;
}

interface WaitingRead {
  readonly readId: number;
  readonly key: number;
  readonly issuedTick: number;
  /** ReadState.index once known, else -1. */
  readIndex: number;
}

const LOCAL_MESSAGE_TYPES: ReadonlySet<number> = new Set([
  MessageType.Hup, MessageType.Beat, MessageType.Unreachable, MessageType.SnapStatus, MessageType.CheckQuorum,
]);

export class SimNode {
  /** Incremented at every start: status reports for an older incarnation are discarded. */
  epoch = 0;
  up = false;
  /** Removed from the group and shut down for good (ids are never reused). */
  decommissioned = false;
  restartTick = 0;
  downSinceTick = 0;
  readonly disk: SimDisk;

  private raw: RawNode | null = null;
  private storage: MemoryStorage | null = null;
  private app = new KvApp();
  confState: ConfState;
  role: StateRole = StateRole.Follower;
  lead = 0;
  term = 0;
  /** The last hard state written (synced or not). */
  private hardState: HardState = { term: 0 as Term, vote: NO_PEER, commit: 0 as LogIndex };
  private commitSeen = 0;
  private appSnapshotIndex = 0;
  private readonly reads = new Map<number, WaitingRead>();
  snapshotsInstalled = 0;
  appSnapshots = 0;

  constructor(
    readonly id: PeerId,
    bootstrap: ConfState,
    private readonly options: NodeOptions,
    private readonly rand: Prng,
    private readonly host: NodeHost,
  ) {
    this.disk = new SimDisk(bootstrap);
    this.confState = bootstrap;
  }

  get appliedIndex(): number {
    return this.app.appliedIndex;
  }

  get isLeader(): boolean {
    return this.up && this.role === StateRole.Leader;
  }

  /** (Re)starts from the durable image of the disk. */
  start(): void {
    if (this.up || this.decommissioned) throw new Error(`sim-node n${this.id}: start while up/decommissioned`);
    const storage = this.disk.load();
    const hs = storage.initialState().hardState;
    const snap = this.disk.durableSnapshot;
    this.app = new KvApp();
    if (snap !== null) this.app.restore(snap.data);
    this.confState = snap !== null ? snap.metadata.confState : this.disk.bootstrap;
    this.storage = storage;
    this.raw = new RawNode({
      id: this.id,
      ...this.options.raft,
      storage,
      rand: this.rand,
      applied: this.app.appliedIndex as LogIndex,
    });
    this.up = true;
    this.epoch++;
    this.role = StateRole.Follower;
    this.lead = 0;
    this.term = hs.term;
    this.hardState = hs;
    this.commitSeen = hs.commit;
    this.appSnapshotIndex = this.app.appliedIndex;
    this.host.checker.onApplyReset(this.id, this.app.appliedIndex, this.app.digest, false);
    this.host.trace.note(this.host.now(), this.id,
      `start #${this.epoch}: term=${hs.term} vote=${hs.vote} commit=${hs.commit} applied=${this.app.appliedIndex}`
      + ` last=${storage.lastIndex()}`);
    this.handleReadies();
  }

  /** Power loss: volatile state and the disk's unsynced tail are gone. */
  crash(reason: string): void {
    if (!this.up) return;
    const lost = this.disk.crash();
    this.up = false;
    this.raw = null;
    this.storage = null;
    this.role = StateRole.Follower;
    this.downSinceTick = this.host.now();
    for (const r of this.reads.values()) this.host.checker.onReadAbandoned(r.readId);
    this.reads.clear();
    this.host.trace.note(this.host.now(), this.id, `CRASH (${reason}), ${lost} unsynced writes lost`);
    this.host.onCrash(this);
  }

  decommission(): void {
    if (this.up) this.crash('decommissioned: removed from the group');
    this.decommissioned = true;
  }

  // --- inputs (each is followed by handling every resulting Ready) ------------------------

  tick(): void {
    this.node().tick();
    this.handleReadies();
  }

  step(m: Message): void {
    this.node().step(m);
    this.handleReadies();
  }

  propose(data: Uint8Array): boolean {
    const r = this.node().propose(data);
    this.handleReadies();
    return r.ok;
  }

  proposeConfChange(cc: ConfChange): boolean {
    const r = this.node().proposeConfChange(cc);
    this.handleReadies();
    return r.ok;
  }

  campaign(): void {
    this.node().campaign();
    this.handleReadies();
  }

  transferLeader(to: PeerId): void {
    this.node().transferLeader(to);
    this.handleReadies();
  }

  reportUnreachable(id: PeerId): void {
    this.node().reportUnreachable(id);
    this.handleReadies();
  }

  reportSnapshot(id: PeerId, ok: boolean): void {
    this.node().reportSnapshot(id, ok);
    this.handleReadies();
  }

  /** Issues a linearizable read of `key`; false if too many reads are waiting here. */
  issueRead(readId: number, key: number): boolean {
    if (this.reads.size >= NODE_READS_MAX) return false;
    this.host.checker.onReadIssued(readId, key);
    if (this.options.hostBug === 'early-read') {
      // The bug: serve from local state without asking Raft for a read index.
      this.reads.set(readId, { readId, key, issuedTick: this.host.now(), readIndex: this.app.appliedIndex });
      this.serveReads();
      return true;
    }
    this.reads.set(readId, { readId, key, issuedTick: this.host.now(), readIndex: -1 });
    this.node().readIndex(encodeReadCtx(readId));
    this.handleReadies();
    return true;
  }

  /** Gives up on reads older than `ticksMax` (their request or response was lost). */
  expireReads(ticksMax: number): void {
    const now = this.host.now();
    for (const r of this.reads.values()) {
      if (now - r.issuedTick > ticksMax) {
        this.host.checker.onReadAbandoned(r.readId);
        this.reads.delete(r.readId);
      }
    }
  }

  /** Term of a log entry still in storage, if any. */
  termAt(i: number): number | undefined {
    const t = this.storage?.term(i as LogIndex);
    return typeof t === 'number' ? t : undefined;
  }

  lastIndex(): number {
    return this.storage?.lastIndex() ?? 0;
  }

  logView(): LogView {
    const s = this.storage!;
    return {
      firstIndex: s.firstIndex(),
      lastIndex: s.lastIndex(),
      termAt: (i: number) => this.termAt(i),
    };
  }

  // --- Ready handling --------------------------------------------------------------------

  private node(): RawNode {
    if (this.raw === null) throw new Error(`sim-node n${this.id}: input while down`);
    return this.raw;
  }

  private handleReadies(): void {
    for (let i = 0; i < READY_LOOP_MAX; i++) {
      const raw = this.raw;
      if (raw === null || !raw.hasReady()) {
        this.serveReads();
        return;
      }
      if (!this.handleReady(raw)) return; // crashed
    }
    throw new Error(`sim-node n${this.id}: still has a Ready after ${READY_LOOP_MAX} rounds`);
  }

  /** Returns false if the replica crashed part-way. */
  private handleReady(raw: RawNode): boolean {
    const rd = raw.ready();
    const wasLeaderTerm = this.role === StateRole.Leader ? this.term : -1;
    if (rd.softState !== null) {
      this.role = rd.softState.role;
      this.lead = rd.softState.lead;
    }
    if (rd.hardState !== null) this.term = rd.hardState.term;
    this.checkReadyContract(rd);
    this.persist(rd, wasLeaderTerm);
    if (rd.mustSync || rd.snapshot !== null) {
      if (this.host.crashAt(this, 'before-fsync')) {
        this.crash('after write, before fsync');
        return false;
      }
      this.fsync();
      const hs = this.disk.durableHardState;
      this.host.checker.onVoteSynced(this.id, hs.term, hs.vote);
    }
    this.observeLeadershipAndCommit(rd, wasLeaderTerm);
    if (rd.messages.length > 0 && this.host.crashAt(this, 'before-send')) {
      this.crash('after fsync, before send');
      return false;
    }
    for (const m of rd.messages) this.host.send(this, m);
    if (rd.snapshot !== null) this.installSnapshot(rd.snapshot);
    for (const e of rd.committedEntries) {
      this.applyEntry(raw, e);
      if (this.raw !== raw) return false; // decommissioned while applying
    }
    for (const rs of rd.readStates) this.onReadState(readIdOf(rs.requestCtx), rs.index);
    raw.advance();
    this.maybeSnapshot();
    return true;
  }

  /** Obligations raft-ts has towards its host, checked on every Ready. */
  private checkReadyContract(rd: Ready): void {
    const c = this.host.checker;
    const hs = rd.hardState;
    const votingChanged = hs !== null && (hs.term !== this.hardState.term || hs.vote !== this.hardState.vote);
    if (hs !== null && (hs.term < this.hardState.term || hs.commit < this.hardState.commit)) {
      c.fail('api-contract', this.id, `hard state went back: term ${this.hardState.term} -> ${hs.term},`
        + ` commit ${this.hardState.commit} -> ${hs.commit}`);
    }
    if ((rd.entries.length > 0 || votingChanged) && !rd.mustSync) {
      c.fail('api-contract', this.id,
        `Ready with ${rd.entries.length} entries${votingChanged ? ' and a term/vote change' : ''} has mustSync=false`);
    }
    for (const m of rd.messages) {
      const forwarded = m.type === MessageType.Prop || m.type === MessageType.ReadIndex;
      if ((m.from !== this.id && !forwarded) || m.to === this.id || LOCAL_MESSAGE_TYPES.has(m.type)) {
        c.fail('api-contract', this.id, `Ready message type ${m.type} ${m.from}->${m.to} on n${this.id}`);
      }
    }
    const last = rd.committedEntries[rd.committedEntries.length - 1];
    const commit = hs?.commit ?? this.commitSeen;
    if (last !== undefined && last.index > Math.max(commit, this.commitSeen)) {
      c.fail('api-contract', this.id, `committed entry ${last.index} beyond commit index ${commit}`);
    }
  }

  private persist(rd: Ready, wasLeaderTerm: number): void {
    const storage = this.storage!;
    if (rd.snapshot !== null) {
      storage.applySnapshot(rd.snapshot);
      this.disk.write({ kind: 'install-snapshot', snapshot: rd.snapshot });
    }
    if (rd.entries.length > 0) {
      const first = rd.entries[0]!.index;
      const prevTerm = this.termAt(first - 1) ?? -1;
      const leaderLast = this.role === StateRole.Leader && wasLeaderTerm === this.term ? storage.lastIndex() : null;
      this.host.checker.onAppend(this.id, rd.entries.map(entryFacts), prevTerm, leaderLast);
      storage.append(rd.entries);
      this.disk.write({ kind: 'entries', entries: rd.entries });
    }
    if (rd.hardState !== null) {
      storage.setHardState(rd.hardState);
      this.disk.write({ kind: 'hard-state', hardState: rd.hardState });
      this.hardState = rd.hardState;
    }
  }

  private observeLeadershipAndCommit(rd: Ready, wasLeaderTerm: number): void {
    const c = this.host.checker;
    if (this.role === StateRole.Leader && wasLeaderTerm !== this.term) {
      this.host.trace.note(this.host.now(), this.id, `LEADER of term ${this.term} (last=${this.lastIndex()})`);
      c.onLeader(this.id, this.term, this.logView());
    }
    const hs: HardState | null = rd.hardState;
    if (hs !== null && hs.commit > this.commitSeen) {
      c.onCommit(this.id, this.term, this.commitSeen, hs.commit, (i) => this.termAt(i));
      this.commitSeen = hs.commit;
    }
  }

  private installSnapshot(snap: Snapshot): void {
    const index = snap.metadata.index;
    const dataIndex = KvApp.snapshotIndex(snap.data);
    if (dataIndex !== index) {
      this.host.checker.fail('snapshot-integrity', this.id,
        `snapshot metadata index ${index} but its data was taken at ${dataIndex}`);
      return;
    }
    this.app.restore(snap.data);
    this.confState = snap.metadata.confState;
    this.appSnapshotIndex = index;
    this.snapshotsInstalled++;
    this.host.trace.note(this.host.now(), this.id, `install snapshot ${index}@${snap.metadata.term}`);
    this.host.checker.onApplyReset(this.id, index, this.app.digest, true);
    if (this.commitSeen < index) this.commitSeen = index;
  }

  private applyEntry(raw: RawNode, e: Entry): void {
    const hash = entryHash(e);
    const write = this.app.apply(e, hash);
    this.host.checker.onApply(this.id, { index: e.index, term: e.term, hash }, this.app.digest, write);
    if (e.type === EntryType.ConfChange) {
      this.confState = raw.applyConfChange(decodeConfChange(e.data));
      this.host.onConfApplied(this, e.index, this.confState);
      return;
    }
    const probe = probeIdOf(e);
    if (probe !== null) this.host.onProbeApplied(this, probe);
  }

  private onReadState(readId: number, index: number): void {
    const r = this.reads.get(readId);
    // Unknown: a duplicate response, or a read abandoned after a timeout.
    if (r === undefined || r.readIndex >= 0) return;
    r.readIndex = index;
  }

  private serveReads(): void {
    if (this.reads.size === 0) return;
    for (const r of this.reads.values()) {
      if (r.readIndex < 0 || this.app.appliedIndex < r.readIndex) continue;
      this.reads.delete(r.readId);
      this.host.checker.onReadServed(r.readId, this.id, r.readIndex, this.app.appliedIndex, this.app.get(r.key));
    }
  }

  private fsync(): void {
    if (this.options.hostBug !== 'skip-fsync') this.disk.fsync();
  }

  /** The application snapshots and compacts periodically, so lagging peers need MsgSnap. */
  private maybeSnapshot(): void {
    const applied = this.app.appliedIndex;
    if (applied - this.appSnapshotIndex < this.options.app.snapshotIntervalEntries) return;
    const storage = this.storage!;
    const snap = storage.createSnapshot(applied as LogIndex, this.confState, this.app.encodeSnapshot());
    this.disk.write({ kind: 'save-snapshot', snapshot: snap });
    // The snapshot file is synced; that also makes the hard state (commit >= applied) durable.
    this.fsync();
    this.appSnapshotIndex = applied;
    this.appSnapshots++;
    const compactTo = applied - this.options.app.compactKeepEntries;
    if (compactTo >= storage.firstIndex()) {
      storage.compact(compactTo as LogIndex);
      this.disk.write({ kind: 'compact', index: compactTo as LogIndex });
    }
  }
}

function entryFacts(e: Entry): EntryFacts {
  return { index: e.index, term: e.term, hash: entryHash(e) };
}

function encodeReadCtx(readId: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, readId >>> 0, true);
  return b;
}

function readIdOf(ctx: Uint8Array): number {
  if (ctx.length !== 4) return -1;
  return new DataView(ctx.buffer, ctx.byteOffset, ctx.byteLength).getUint32(0, true);
}
