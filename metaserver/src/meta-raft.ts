/**
 * The metaserver's own Raft group (group id 0; peer ids = member ids): a raft-ts RawNode
 * over the storage node's WAL (`<dataDir>/wal`) and its RaftTransport, driving the
 * replicated topology state (`applyEntry`). One serialized *turn* does all the raft work:
 * step queued messages and ticks, hand queued proposals and reads to raft, then for every
 * Ready, in raft-ts's documented order: persist (snapshot file, WAL stage + one flush) →
 * send → apply (snapshot, committed entries; serve reads) → advance.
 *
 * Snapshots: `encodeSnapshot(state)` at the applied index goes to `<dataDir>/meta-snapshot`
 * (written to a temporary file, fsynced, renamed, directory fsynced) before the WAL is told
 * (`stageSnapshot`, which compacts the log). The WAL only keeps the metadata, the file keeps
 * the data; on restart the state is decoded from the file and raft replays the rest.
 *
 * A WAL failure (DISK_FAILURE) is fatal: `onFatal` is called and the member stops working.
 */
import { randomInt } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { KvError } from '@shoal/common';
import type { Logger, NodeId, PeerId as CommonPeerId } from '@shoal/common';
import { RaftTransport, Wal } from '@shoal/node';
import type { IncomingRaftMessage, IncomingSnapshotHeader, WalGroupStorage } from '@shoal/node';
import { decodeConfChange, EntryType, MessageType, RawNode, ReadOnlyOption, StateRole } from '@shoal/raft-ts';
import type { ConfState, Entry, LogIndex, Message, PeerId, Ready, Snapshot, Term } from '@shoal/raft-ts';
import { applyEntry, commands, createTopologyState, decodeSnapshot, encodeCommand, encodeSnapshot } from './state/index.js';
import type { ApplyOutcome, CommandKind, TopologyState } from './state/index.js';

export const META_GROUP_ID = 0;
const SNAPSHOT_FILE = 'meta-snapshot';
const SNAPSHOT_HEADER_BYTES = 16;
const SNAPSHOT_CHUNK_BYTES = 1 << 20;
const WAL_GC_INTERVAL_MS = 10_000;
const PROPOSAL_BYTES_MAX = 4 << 20;

export interface MetaRaftOptions {
  readonly id: number;
  /** Every member: id → gRPC address (this one included). */
  readonly members: ReadonlyMap<number, string>;
  readonly dataDir: string;
  readonly tickIntervalMs: number;
  readonly electionTimeoutTicks: number;
  readonly heartbeatIntervalTicks: number;
  readonly sync: 'always' | 'async';
  readonly snapshotIntervalEntries: number;
  readonly requestTimeoutMs: number;
  readonly logger: Logger;
  readonly onFatal: (e: unknown) => void;
}

interface Waiter<T> {
  settled: boolean;
  readonly resolve: (v: T) => void;
  readonly reject: (e: KvError) => void;
  readonly timer: NodeJS.Timeout;
}

interface QueuedProposal {
  readonly data: Uint8Array;
  readonly waiter: Waiter<ApplyOutcome>;
}

interface TrackedProposal {
  readonly term: number;
  readonly waiter: Waiter<ApplyOutcome>;
}

export class MetaRaft {
  /** The applied topology state (replaced wholesale when a snapshot is installed). */
  state: TopologyState;
  readonly transport: RaftTransport;
  private readonly raw: RawNode;
  private appliedIndex: number;
  private snap: Snapshot;
  private confState: ConfState;
  private lead = 0;
  private role: StateRole = StateRole.Follower;
  private readonly inbox: Message[] = [];
  private ticks = 0;
  private readonly unreachable = new Set<number>();
  private readonly snapshotReports: { to: number; ok: boolean }[] = [];
  private proposalQueue: QueuedProposal[] = [];
  private readonly proposals = new Map<number, TrackedProposal>();
  private readQueue: Waiter<void>[] = [];
  private readSeq = 0;
  private readonly readsInFlight = new Map<number, Waiter<void>[]>();
  private readyReads: { index: number; waiters: Waiter<void>[] }[] = [];
  private scheduled = false;
  private turning = false;
  private dirty = false;
  private stopped = false;
  private failed = false;
  private tickTimer: NodeJS.Timeout | null = null;
  private gcTimer: NodeJS.Timeout | null = null;
  private idle: Promise<void> = Promise.resolve();
  private readonly appliedListeners: (() => void)[] = [];
  private readonly leadershipListeners: ((isLeader: boolean) => void)[] = [];

  private constructor(
    private readonly o: MetaRaftOptions,
    private readonly wal: Wal,
    private readonly storage: WalGroupStorage,
    loaded: { snapshot: Snapshot; state: TopologyState },
  ) {
    this.state = loaded.state;
    this.snap = loaded.snapshot;
    this.appliedIndex = loaded.snapshot.metadata.index;
    this.confState = storage.initialState().confState;
    storage.setSnapshotProvider(() => this.snap);
    this.raw = new RawNode({
      id: o.id as PeerId,
      electionTimeoutTicks: o.electionTimeoutTicks,
      heartbeatIntervalTicks: o.heartbeatIntervalTicks,
      storage,
      rand: { intn: (n) => randomInt(n) },
      applied: this.appliedIndex as LogIndex,
      messageBytesMax: 1 << 20,
      inflightMessagesMax: 256,
      inflightBytesMax: 0,
      uncommittedBytesMax: 64 << 20,
      proposalBytesMax: PROPOSAL_BYTES_MAX,
      committedBytesPerReadyMax: 8 << 20,
      checkQuorum: true,
      preVote: true,
      readOnlyOption: ReadOnlyOption.Safe,
      disableProposalForwarding: true,
    });
    this.transport = new RaftTransport({
      nodeId: o.id,
      clusterId: 0,
      resolve: (id) => o.members.get(id),
      onMessages: (batch) => this.onMessages(batch),
      onSnapshot: (header, chunks) => this.onSnapshot(header, chunks),
      onUnreachable: (id) => {
        this.unreachable.add(id);
        this.schedule();
      },
      snapshotRateBytesPerSec: 64 << 20, snapshotChunkBytes: SNAPSHOT_CHUNK_BYTES,
      reconnectBackoffMs: { initial: 50, max: 1000 },
      grpcMessageBytesMax: 16 << 20,
      sendQueueBytesMax: 64 << 20,
      logger: o.logger.child({ component: 'transport' }),
    });
  }

  /** Opens (or recovers) the member's WAL and snapshot; call `start()` once the gRPC server is up. */
  static async open(o: MetaRaftOptions): Promise<MetaRaft> {
    mkdirSync(o.dataDir, { recursive: true });
    const wal = await Wal.open({
      dir: join(o.dataDir, 'wal'), segmentBytes: 16 << 20, sync: o.sync, syncIntervalMs: 100,
      entryCacheBytesMax: 16 << 20, recordBytesMax: PROPOSAL_BYTES_MAX + (1 << 20), logger: o.logger.child({ component: 'wal' }),
    });
    try {
      const voters = [...o.members.keys()].sort((a, b) => a - b) as PeerId[];
      const bootConf: ConfState = { voters, learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false };
      const storage = wal.group(META_GROUP_ID) ?? wal.createGroup(META_GROUP_ID, bootConf);
      const confState = storage.initialState().confState;
      const loaded = await readSnapshotFile(o.dataDir, confState);
      const walSnap = storage.snapshotMetadata();
      if (loaded.snapshot.metadata.index < walSnap.index) {
        throw new KvError('CORRUPTION', `the WAL was compacted to ${walSnap.index} but the snapshot file is at ${loaded.snapshot.metadata.index}`);
      }
      o.logger.info({ snapshotIndex: loaded.snapshot.metadata.index, lastIndex: storage.lastIndex(), voters: confState.voters }, 'metaserver raft group opened');
      return new MetaRaft(o, wal, storage, loaded);
    } catch (e) {
      await wal.close({ flush: false }).catch(() => undefined);
      throw e;
    }
  }

  start(): void {
    this.tickTimer = setInterval(() => {
      this.ticks++;
      this.schedule();
    }, this.o.tickIntervalMs);
    this.gcTimer = setInterval(() => {
      this.wal.maybeGc().catch((e: unknown) => this.fail(e));
    }, WAL_GC_INTERVAL_MS);
    this.gcTimer.unref();
    this.schedule();
  }

  get isLeader(): boolean {
    return this.role === StateRole.Leader;
  }

  get leaderId(): number {
    return this.lead;
  }

  get term(): number {
    return this.raw.status().hardState.term;
  }

  get applied(): number {
    return this.appliedIndex;
  }

  get commit(): number {
    return this.raw.status().hardState.commit;
  }

  get roleName(): string {
    return ['follower', 'candidate', 'leader', 'pre-candidate'][this.role] ?? 'unknown';
  }

  /** Called after every Ready whose apply phase changed the state (entries or a snapshot), in the raft turn. */
  onApplied(fn: () => void): void {
    this.appliedListeners.push(fn);
  }

  /** Called when this member becomes leader (true) or stops being leader (false), after pending waiters were failed. */
  onLeadershipChange(fn: (isLeader: boolean) => void): void {
    this.leadershipListeners.push(fn);
  }

  /** NOT_LEADER with the known leader's address as the hint. */
  notLeader(): KvError {
    const address = this.o.members.get(this.lead) ?? '';
    const details = this.lead === 0 ? {} : { details: { leaderHint: { nodeId: this.lead as NodeId, peerId: this.lead as CommonPeerId, address } } };
    return new KvError('NOT_LEADER', `metaserver member ${this.o.id} is not the leader (leader: ${this.lead === 0 ? 'unknown' : this.lead})`, details);
  }

  /** Proposes a command; resolves with its outcome once applied here, rejects with its refusal or NOT_LEADER / TIMEOUT / UNKNOWN_OUTCOME. */
  propose(kind: CommandKind): Promise<ApplyOutcome> {
    if (this.stopped || this.failed) return Promise.reject(new KvError('UNAVAILABLE', 'metaserver is stopping'));
    if (!this.isLeader) return Promise.reject(this.notLeader());
    const data = encodeCommand(kind, Date.now());
    return new Promise((resolve, reject) => {
      const waiter = this.waiter(resolve, reject, () => new KvError('UNKNOWN_OUTCOME', `proposal not applied within ${this.o.requestTimeoutMs} ms`));
      this.proposalQueue.push({ data, waiter });
      this.schedule();
    });
  }

  /** Linearizable read barrier (ReadIndex, Safe): resolves once this leader applied everything committed before the call. */
  readBarrier(): Promise<void> {
    if (this.stopped || this.failed) return Promise.reject(new KvError('UNAVAILABLE', 'metaserver is stopping'));
    if (!this.isLeader) return Promise.reject(this.notLeader());
    return new Promise((resolve, reject) => {
      this.readQueue.push(this.waiter(resolve, reject, () => new KvError('TIMEOUT', `read barrier not reached within ${this.o.requestTimeoutMs} ms`)));
      this.schedule();
    });
  }

  /** Stops ticking, fails waiters (UNAVAILABLE), waits for the running turn, closes transport and WAL. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.tickTimer !== null) clearInterval(this.tickTimer);
    if (this.gcTimer !== null) clearInterval(this.gcTimer);
    await this.idle;
    this.failAll(() => new KvError('UNAVAILABLE', 'metaserver is stopping'));
    await this.transport.close();
    await this.wal.close({ flush: !this.failed }).catch((e: unknown) => this.o.logger.warn({ err: e }, 'closing the WAL failed'));
  }

  private waiter<T>(resolve: (v: T) => void, reject: (e: KvError) => void, onTimeout: () => KvError): Waiter<T> {
    const w: Waiter<T> = {
      settled: false,
      resolve: (v) => {
        if (w.settled) return;
        w.settled = true;
        clearTimeout(w.timer);
        resolve(v);
      },
      reject: (e) => {
        if (w.settled) return;
        w.settled = true;
        clearTimeout(w.timer);
        reject(e);
      },
      timer: setTimeout(() => w.reject(onTimeout()), this.o.requestTimeoutMs),
    };
    return w;
  }

  private onMessages(batch: readonly IncomingRaftMessage[]): void {
    for (const m of batch) {
      if (m.shardId !== META_GROUP_ID || m.toPeer !== this.o.id || m.message.type === MessageType.Snap) continue;
      this.inbox.push(m.message);
    }
    this.schedule();
  }

  private async onSnapshot(header: IncomingSnapshotHeader, chunks: AsyncIterable<Uint8Array>): Promise<void> {
    if (header.shardId !== META_GROUP_ID || header.toPeer !== this.o.id || header.message.snapshot === null) {
      throw new KvError('INVALID_ARGUMENT', `unexpected snapshot for group ${header.shardId} peer ${header.toPeer}`);
    }
    const parts: Uint8Array[] = [];
    for await (const c of chunks) parts.push(c);
    const data = Buffer.concat(parts);
    decodeSnapshot(data); // refuse garbage before raft sees it
    this.inbox.push({ ...header.message, snapshot: { metadata: header.message.snapshot.metadata, data } });
    this.schedule();
  }

  private schedule(): void {
    this.dirty = true;
    if (this.scheduled || this.turning || this.stopped || this.failed) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.idle = this.turn();
    });
  }

  private async turn(): Promise<void> {
    if (this.stopped || this.failed || this.turning) return;
    this.turning = true;
    this.dirty = false;
    try {
      this.feed();
      while (this.raw.hasReady() && !this.failed) await this.handleReady(this.raw.ready());
      await this.maybeSnapshot();
    } catch (e) {
      this.fail(e);
    } finally {
      this.turning = false;
    }
    if (this.dirty) this.schedule();
  }

  /** Inputs in order: messages (before ticks, so a stalled leader sees responses first), ticks, reports, proposals, reads. */
  private feed(): void {
    for (const m of this.inbox.splice(0)) this.raw.step(m);
    for (; this.ticks > 0; this.ticks--) this.raw.tick();
    for (const id of this.unreachable) this.raw.reportUnreachable(id as PeerId);
    this.unreachable.clear();
    for (const r of this.snapshotReports.splice(0)) this.raw.reportSnapshot(r.to as PeerId, r.ok);
    const queued = this.proposalQueue;
    this.proposalQueue = [];
    for (const p of queued) {
      if (p.waiter.settled) continue;
      if (!this.isLeader) {
        p.waiter.reject(this.notLeader());
        continue;
      }
      const res = this.raw.propose(p.data);
      if (!res.ok) {
        p.waiter.reject(new KvError('NOT_LEADER', `proposal dropped: ${res.reason}`));
        continue;
      }
      const st = this.raw.status();
      this.proposals.set(st.lastIndex, { term: st.hardState.term, waiter: p.waiter });
    }
    const reads = this.readQueue.filter((w) => !w.settled);
    this.readQueue = [];
    if (reads.length > 0) {
      if (!this.isLeader) {
        const e = this.notLeader();
        for (const w of reads) w.reject(e);
      } else {
        const ctx = ++this.readSeq;
        const bytes = new Uint8Array(8);
        new DataView(bytes.buffer).setBigUint64(0, BigInt(ctx));
        this.readsInFlight.set(ctx, reads);
        this.raw.readIndex(bytes);
      }
    }
  }

  private async handleReady(rd: Ready): Promise<void> {
    if (rd.softState !== null) this.onSoftState(rd.softState.lead, rd.softState.role);
    // 1. Persist.
    if (rd.snapshot !== null) {
      await writeSnapshotFile(this.o.dataDir, rd.snapshot);
      this.wal.stageSnapshot(META_GROUP_ID, rd.snapshot.metadata);
    }
    if (rd.entries.length > 0) this.wal.stageEntries(META_GROUP_ID, rd.entries);
    if (rd.hardState !== null) this.wal.stageHardState(META_GROUP_ID, rd.hardState);
    if (rd.snapshot !== null || rd.entries.length > 0 || rd.hardState !== null) await this.wal.flush();
    // 2. Send.
    for (const m of rd.messages) this.send(m);
    // 3. Apply.
    if (rd.snapshot !== null) this.installSnapshot(rd.snapshot);
    for (const e of rd.committedEntries) this.applyOne(e);
    if (rd.snapshot !== null || rd.committedEntries.length > 0) this.notify(this.appliedListeners, undefined);
    for (const rs of rd.readStates) {
      const ctx = Number(new DataView(rs.requestCtx.buffer, rs.requestCtx.byteOffset, rs.requestCtx.byteLength).getBigUint64(0));
      const waiters = this.readsInFlight.get(ctx);
      if (waiters === undefined) continue;
      this.readsInFlight.delete(ctx);
      this.readyReads.push({ index: rs.index, waiters });
    }
    this.serveReads();
    // 4. Advance.
    this.raw.advance();
  }

  private send(m: Message): void {
    if (m.to === this.o.id) return;
    if (m.type !== MessageType.Snap || m.snapshot === null) {
      this.transport.send(m.to, META_GROUP_ID, this.o.id, m.to, m);
      return;
    }
    const data = m.snapshot.data;
    const header = { shardId: META_GROUP_ID, fromPeer: this.o.id, toPeer: m.to, totalBytes: data.length,
      message: { ...m, snapshot: { metadata: m.snapshot.metadata, data: new Uint8Array(0) } } };
    async function* chunks(): AsyncGenerator<Uint8Array> {
      for (let at = 0; at < data.length; at += SNAPSHOT_CHUNK_BYTES) yield data.subarray(at, at + SNAPSHOT_CHUNK_BYTES);
    }
    void this.transport.sendSnapshot(m.to, header, chunks()).then((r) => {
      this.snapshotReports.push({ to: m.to, ok: r.ok });
      this.schedule();
    });
  }

  private installSnapshot(s: Snapshot): void {
    this.state = decodeSnapshot(s.data);
    this.snap = s;
    this.confState = s.metadata.confState;
    this.appliedIndex = s.metadata.index;
    for (const [index, p] of this.proposals) {
      if (index > this.appliedIndex) continue;
      this.proposals.delete(index);
      p.waiter.reject(new KvError('UNKNOWN_OUTCOME', 'a snapshot replaced the log before the proposal was seen applied'));
    }
    this.o.logger.info({ index: s.metadata.index, term: s.metadata.term }, 'installed a snapshot from the leader');
  }

  private applyOne(e: Entry): void {
    const p = this.proposals.get(e.index);
    if (p !== undefined) this.proposals.delete(e.index);
    if (e.type === EntryType.ConfChange) {
      this.confState = this.raw.applyConfChange(decodeConfChange(e.data));
      this.appliedIndex = e.index;
      p?.waiter.reject(new KvError('INTERNAL', 'a conf change took the proposal\'s place'));
      return;
    }
    this.appliedIndex = e.index;
    if (e.data.length === 0) {
      p?.waiter.reject(this.notLeader());
      return;
    }
    const result = applyEntry(this.state, e.data);
    if (p === undefined) return;
    if (p.term !== e.term) p.waiter.reject(new KvError('NOT_LEADER', 'the proposal was replaced by another leader\'s entry'));
    else if (result.ok) p.waiter.resolve(result.value);
    else p.waiter.reject(result.error);
  }

  private serveReads(): void {
    if (this.readyReads.length === 0) return;
    const keep: typeof this.readyReads = [];
    for (const r of this.readyReads) {
      if (r.index <= this.appliedIndex) for (const w of r.waiters) w.resolve();
      else keep.push(r);
    }
    this.readyReads = keep;
  }

  private onSoftState(lead: number, role: StateRole): void {
    const wasLeader = this.isLeader;
    if (lead !== this.lead || role !== this.role) this.o.logger.info({ lead, role, term: this.raw.status().hardState.term }, 'metaserver raft role changed');
    this.lead = lead;
    this.role = role;
    if (wasLeader && !this.isLeader) {
      const e = this.notLeader();
      for (const p of this.proposals.values()) p.waiter.reject(new KvError('UNKNOWN_OUTCOME', `leadership lost: ${e.message}`));
      this.proposals.clear();
      for (const p of this.proposalQueue) p.waiter.reject(e);
      this.proposalQueue = [];
      for (const ws of this.readsInFlight.values()) for (const w of ws) w.reject(e);
      this.readsInFlight.clear();
      for (const r of this.readyReads) for (const w of r.waiters) w.reject(e);
      this.readyReads = [];
    }
    if (wasLeader !== this.isLeader) this.notify(this.leadershipListeners, this.isLeader);
    if (!wasLeader && this.isLeader && this.state.clusterId === 0) {
      // The first leader of a new cluster draws the cluster id; a repeat is refused harmlessly.
      this.propose(commands.bootstrap(randomInt(1, 2 ** 47))).then(
        (out) => this.o.logger.info({ outcome: out }, 'cluster bootstrapped'),
        (err: unknown) => this.o.logger.debug({ err }, 'bootstrap proposal did not apply'),
      );
    }
  }

  /** Listeners run inside the raft turn: a throwing one is a bug in the wiring, logged, never fatal to raft. */
  private notify<T>(listeners: readonly ((v: T) => void)[], v: T): void {
    for (const fn of listeners) {
      try {
        fn(v);
      } catch (e) {
        this.o.logger.error({ err: e }, 'a metaserver raft listener threw');
      }
    }
  }

  private async maybeSnapshot(): Promise<void> {
    const index = this.appliedIndex;
    if (index - this.snap.metadata.index < this.o.snapshotIntervalEntries || this.failed) return;
    const term = this.storage.term(index as LogIndex);
    if (typeof term !== 'number') return;
    const snapshot: Snapshot = { data: encodeSnapshot(this.state), metadata: { index: index as LogIndex, term, confState: this.confState } };
    await writeSnapshotFile(this.o.dataDir, snapshot);
    this.snap = snapshot;
    this.wal.stageSnapshot(META_GROUP_ID, snapshot.metadata);
    await this.wal.flush();
    this.o.logger.info({ index, term, bytes: snapshot.data.length }, 'snapshot taken, log compacted');
  }

  private failAll(make: () => KvError): void {
    for (const p of this.proposals.values()) p.waiter.reject(make());
    this.proposals.clear();
    for (const p of this.proposalQueue) p.waiter.reject(make());
    this.proposalQueue = [];
    for (const w of this.readQueue) w.reject(make());
    this.readQueue = [];
    for (const ws of this.readsInFlight.values()) for (const w of ws) w.reject(make());
    this.readsInFlight.clear();
    for (const r of this.readyReads) for (const w of r.waiters) w.reject(make());
    this.readyReads = [];
  }

  private fail(e: unknown): void {
    if (this.failed) return;
    this.failed = true;
    if (this.tickTimer !== null) clearInterval(this.tickTimer);
    this.failAll(() => new KvError('UNAVAILABLE', 'metaserver failed'));
    this.o.onFatal(e);
  }
}

async function readSnapshotFile(dir: string, confState: ConfState): Promise<{ snapshot: Snapshot; state: TopologyState }> {
  let bytes: Buffer;
  try {
    bytes = await readFile(join(dir, SNAPSHOT_FILE));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    const state = createTopologyState();
    return { state, snapshot: { data: encodeSnapshot(state), metadata: { index: 0 as LogIndex, term: 0 as Term, confState } } };
  }
  if (bytes.length < SNAPSHOT_HEADER_BYTES) throw new KvError('CORRUPTION', `${SNAPSHOT_FILE} is truncated`);
  const index = Number(bytes.readBigUInt64LE(0));
  const term = Number(bytes.readBigUInt64LE(8));
  const data = bytes.subarray(SNAPSHOT_HEADER_BYTES);
  return { state: decodeSnapshot(data), snapshot: { data, metadata: { index: index as LogIndex, term: term as Term, confState } } };
}

/** Atomically replaces the snapshot file: temp file, fsync, rename, fsync the directory. */
async function writeSnapshotFile(dir: string, s: Snapshot): Promise<void> {
  const header = Buffer.alloc(SNAPSHOT_HEADER_BYTES);
  header.writeBigUInt64LE(BigInt(s.metadata.index), 0);
  header.writeBigUInt64LE(BigInt(s.metadata.term), 8);
  const tmp = join(dir, `${SNAPSHOT_FILE}.tmp`);
  const f = await open(tmp, 'w');
  try {
    await f.writev([header, s.data]);
    await f.datasync();
  } finally {
    await f.close();
  }
  await rename(tmp, join(dir, SNAPSHOT_FILE));
  const d = await open(dir, 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}
