/**
 * Sending side of snapshots. raft-ts carries only a small descriptor in `Snapshot.data`;
 * the shard's data streams separately on the transport's SendSnapshot RPC.
 *
 * When raft needs a snapshot for a follower it calls the WAL group's snapshot provider,
 * synchronously, inside a turn: `provide` takes an engine snapshot at that moment (the
 * engine's applied index then equals the replica's, since turns are the only writers) and
 * returns its metadata with a token naming it. When the MsgSnap leaves in step 3 of the
 * turn, `send` streams that engine snapshot (chunked; the transport rate-limits) and
 * reports the outcome to raft (`reportSnapshot`) through `onDone`. Engine snapshots whose
 * MsgSnap never left are closed at the end of the turn. At most `sendsMax` snapshots are
 * prepared or streaming at once; beyond that raft is told "temporarily unavailable" and
 * retries later.
 *
 * Snapshot.data = token (u64 BE, meaningful only to the sender) | ShardDescriptor bytes.
 *
 * The engine's chunk stream is a byte stream (engine/snapshot-chunk.ts): the transport may
 * cut it at its message size and the installer re-assembles frames, so it goes through as is.
 */
import type { Logger } from '@shoal/common';
import type { Message, Snapshot } from '@shoal/raft-ts';
import type { ShardDescriptor } from './descriptor.js';
import { decodeDescriptor, encodeDescriptor } from './descriptor.js';
import type { EnginePort, EngineSnapshotPort, TransportPort } from './ports.js';
import type { Replica } from './replica.js';

export interface SnapshotSenderOptions {
  readonly engine: EnginePort;
  readonly transport: TransportPort;
  readonly logger: Logger;
  readonly sendsMax: number;
  readonly chunkBytes: number;
  readonly nodeOf: (r: Replica, peer: number) => number | undefined;
  readonly onDone: (r: Replica, peer: number, ok: boolean) => void;
}

export function encodeSnapshotData(token: number, descriptor: ShardDescriptor): Uint8Array {
  const desc = encodeDescriptor(descriptor);
  const out = new Uint8Array(8 + desc.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(token));
  out.set(desc, 8);
  return out;
}

export function decodeSnapshotData(data: Uint8Array): { token: number; descriptor: ShardDescriptor } {
  if (data.length < 8) return { token: 0, descriptor: decodeDescriptor(new Uint8Array(0)) };
  const token = Number(new DataView(data.buffer, data.byteOffset, data.byteLength).getBigUint64(0));
  return { token, descriptor: decodeDescriptor(data.subarray(8)) };
}

export class SnapshotSender {
  private readonly prepared = new Map<number, EngineSnapshotPort>();
  private sending = 0;
  private seq = 0;
  readonly stats = { sent: 0, failed: 0 };

  constructor(private readonly o: SnapshotSenderOptions) {}

  /** The WAL group's snapshot provider (called by raft inside a turn). */
  provide(r: Replica): Snapshot | 'temporarily-unavailable' {
    if (this.sending + this.prepared.size >= this.o.sendsMax) return 'temporarily-unavailable';
    const es = this.o.engine.openSnapshot(r.shardId);
    if (es.appliedIndex !== r.appliedIndex) {
      // Turns are the only writers, so this would be a bug; do not send a mismatched image.
      this.o.logger.error({ shardId: r.shardId, engine: es.appliedIndex, replica: r.appliedIndex }, 'engine snapshot does not match the applied index');
      void es.close().catch(() => undefined);
      return 'temporarily-unavailable';
    }
    const token = ++this.seq;
    this.prepared.set(token, es);
    // The replica's descriptor and membership as of its applied index: the engine's copy
    // of the descriptor may predate conf changes the engine has no API to record.
    return {
      data: encodeSnapshotData(token, r.descriptor),
      metadata: { index: r.appliedIndex as never, term: r.appliedTerm as never, confState: r.confState },
    };
  }

  /** Streams the engine snapshot a MsgSnap names; reports the outcome through onDone. */
  send(r: Replica, m: Message): void {
    const { token } = decodeSnapshotData(m.snapshot?.data ?? new Uint8Array(0));
    const es = this.prepared.get(token);
    this.prepared.delete(token);
    const node = this.o.nodeOf(r, m.to);
    if (es === undefined || node === undefined) {
      if (es !== undefined) void es.close();
      this.o.onDone(r, m.to, false);
      return;
    }
    this.sending++;
    const log = this.o.logger.child({ shardId: r.shardId, toPeer: m.to, toNode: node, index: es.appliedIndex });
    log.info('sending snapshot');
    const started = Date.now();
    const header = { shardId: r.shardId, fromPeer: r.peerId, toPeer: m.to, message: m };
    this.o.transport.sendSnapshot(node, header, es.chunks(this.o.chunkBytes)).then(
      (res) => {
        if (res.ok) this.stats.sent++;
        else this.stats.failed++;
        log.info({ ok: res.ok, err: res.error, ms: Date.now() - started }, 'snapshot sent');
        return res.ok;
      },
      (e: unknown) => {
        this.stats.failed++;
        log.warn({ err: e }, 'snapshot send failed');
        return false;
      },
    ).then((ok) => {
      this.sending--;
      void es.close().catch(() => undefined);
      this.o.onDone(r, m.to, ok);
    }, () => undefined);
  }

  /**
   * Called once per turn, before its messages are sent. raft may prepare a snapshot in one
   * turn and send its MsgSnap in the next (hasReady() after advance() may already build
   * it), so a snapshot is closed only if it is still unsent one full turn later.
   */
  closeUnsent(): void {
    for (const token of this.staleTokens) {
      const es = this.prepared.get(token);
      if (es === undefined) continue;
      this.prepared.delete(token);
      void es.close().catch(() => undefined);
    }
    this.staleTokens = [...this.prepared.keys()];
  }

  private staleTokens: number[] = [];

  async closeAll(): Promise<void> {
    const all = [...this.prepared.values()];
    this.prepared.clear();
    this.staleTokens = [];
    await Promise.all(all.map((es) => es.close().catch(() => undefined)));
  }
}
