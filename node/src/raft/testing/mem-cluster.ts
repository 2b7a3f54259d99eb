/**
 * An in-process cluster of schedulers over an in-memory network, for scheduler tests:
 * real timers (short ticks), MemWal and MemEngine per node, a network that can cut links
 * and take nodes down, and counters of the messages that crossed it.
 */
import { KvError } from '@shoal/common';
import type { Logger } from '@shoal/common';
import { common } from '@shoal/proto';
import type { Message } from '@shoal/raft-ts';
import { confStateOf, epochNewer } from '../descriptor.js';
import type { ShardDescriptor } from '../descriptor.js';
import type { SnapshotHeader, TransportEnvelope, TransportPort } from '../ports.js';
import type { Replica } from '../replica.js';
import { Scheduler } from '../scheduler.js';
import type { SchedulerOptions } from '../scheduler.js';
import { MemEngine } from './mem-engine.js';
import { MemWal } from './mem-wal.js';

export const silentLogger = {
  trace() {}, debug() {}, info() {}, warn() {}, error() {}, fatal() {},
  isLevelEnabled() {
    return false;
  },
  child() {
    return silentLogger;
  },
} as unknown as Logger;

export class MemNetwork {
  readonly nodes = new Map<number, MemNode>();
  readonly cut = new Set<string>();
  readonly down = new Set<number>();
  messages = 0;
  readonly byType = new Map<number, number>();
  private queue = new Map<number, TransportEnvelope[]>();
  private flushing = false;

  isCut(from: number, to: number): boolean {
    return this.down.has(from) || this.down.has(to) || this.cut.has(`${from}>${to}`);
  }

  transport(from: number): TransportPort {
    return {
      send: (to, shardId, fromPeer, toPeer, message) => {
        this.messages++;
        this.byType.set(message.type, (this.byType.get(message.type) ?? 0) + 1);
        if (this.isCut(from, to)) return;
        let q = this.queue.get(to);
        if (q === undefined) this.queue.set(to, q = []);
        q.push({ shardId, fromPeer, toPeer, message: structuredClone(message) as Message });
        this.scheduleFlush(from);
      },
      sendSnapshot: async (to, header: SnapshotHeader, chunks) => {
        const node = this.nodes.get(to);
        if (node === undefined || this.isCut(from, to)) return { ok: false, error: new KvError('UNAVAILABLE', 'unreachable') };
        try {
          await node.scheduler.receiveSnapshot(header, chunks);
          return { ok: true };
        } catch (e) {
          return { ok: false, error: e as KvError };
        }
      },
    };
  }

  private scheduleFlush(_from: number): void {
    if (this.flushing) return;
    this.flushing = true;
    setImmediate(() => {
      this.flushing = false;
      const q = this.queue;
      this.queue = new Map();
      for (const [to, batch] of q) {
        const node = this.nodes.get(to);
        if (node !== undefined && !this.down.has(to)) node.scheduler.onMessages(batch);
      }
    });
  }
}

export class MemNode {
  readonly wal = new MemWal();
  readonly engine = new MemEngine();
  scheduler: Scheduler;
  fatal: unknown = undefined;

  constructor(readonly nodeId: number, readonly net: MemNetwork, readonly over: Partial<SchedulerOptions> = {}) {
    this.scheduler = this.makeScheduler();
    net.nodes.set(nodeId, this);
  }

  makeScheduler(): Scheduler {
    return new Scheduler({
      nodeId: this.nodeId, wal: this.wal, engine: this.engine, transport: this.net.transport(this.nodeId),
      addressOf: (n) => `node-${n}`, logger: silentLogger,
      tickIntervalMs: 10, electionTimeoutTicks: 10, heartbeatIntervalTicks: 2,
      messageBytesMax: 1 << 20, inflightMessagesMax: 64, uncommittedBytesMax: 1 << 26, proposalBytesMax: 1 << 24,
      applyBytesPerTurnMax: 1 << 24, leaseReads: true, hibernate: true, walSync: 'always', inboxMessagesMax: 4096,
      pendingProposalsPerShardMax: 1000, pendingProposalsPerNodeMax: 10_000, pendingReadsPerNodeMax: 10_000,
      snapshotSendsMax: 4, snapshotChunkBytes: 1024, engineRecordsDescriptors: true,
      onFatal: (e) => {
        this.fatal = e;
      },
      ...this.over,
    });
  }

  /** Hosts a replica of `desc` (bootstrap: its replicas are the initial members). */
  host(desc: ShardDescriptor, peerId: number, bootstrap = true): Replica {
    const cs = bootstrap ? confStateOf(desc) : { voters: [], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false };
    this.engine.addShard(desc, cs);
    const storage = this.wal.createGroup(desc.id, cs);
    return this.scheduler.addReplica({ descriptor: desc, peerId, confState: cs, appliedIndex: 0, appliedTerm: 0 }, storage);
  }

  /** Simulates a process restart over the same WAL and engine (and descriptor store, if any). */
  async restart(): Promise<void> {
    await this.scheduler.stop();
    this.scheduler = this.makeScheduler();
    const saved = this.over.descriptorStore?.loadAll() ?? new Map<number, ShardDescriptor>();
    for (const [id, s] of this.engine.shards) {
      const storage = this.wal.group(id);
      if (storage === undefined) continue;
      const stored = saved.get(id);
      const desc = stored !== undefined && epochNewer(stored.epoch, s.descriptor.epoch) ? stored : s.descriptor;
      const peer = desc.replicas.find((r) => r.nodeId === this.nodeId)!.peerId;
      this.scheduler.addReplica({ descriptor: desc, peerId: peer, confState: s.confState, appliedIndex: s.appliedIndex, appliedTerm: s.appliedTerm }, storage);
    }
    this.scheduler.start();
  }
}

/** Peer id of shard `shard`'s replica on node `node` in the standard layout. */
export function peerOf(shard: number, node: number): number {
  return shard * 10 + node;
}

export function descriptor(shard: number, nodes: readonly number[]): ShardDescriptor {
  return common.ShardDescriptor.create({
    id: shard, tableId: 1, epoch: common.Epoch.create({ confVer: 1, version: 1 }),
    replicas: nodes.map((n) => common.Replica.create({ nodeId: n, peerId: peerOf(shard, n) })),
  });
}

/** Polls `cond` every few ms until it holds or `timeoutMs` passes (then throws). */
export async function waitFor(cond: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export function leaderOf(net: MemNetwork, shard: number): { node: MemNode; replica: Replica } | undefined {
  for (const node of net.nodes.values()) {
    if (net.down.has(node.nodeId)) continue;
    const r = node.scheduler.replica(shard);
    if (r !== undefined && r.isLeader) return { node, replica: r };
  }
  return undefined;
}
