/**
 * Receiving side of snapshots, in three steps that keep raft and the engine in agreement:
 *
 * 1. `receiveSnapshot` (transport callback) stages the streamed chunks in an engine
 *    installer — invisible to readers — then hands the MsgSnap to the replica's next turn.
 * 2. The turn steps the MsgSnap into raft. If raft declines it (stale, or it already has
 *    the entries), `declineInstall` drops the staged data. If raft takes it, the Ready
 *    carries the snapshot and is held (the replica is 'installing'): `finishInstall` swaps
 *    the data in, durably and atomically for readers, and only then does a later turn
 *    persist the Ready (the WAL records the snapshot), send its acknowledgement and
 *    advance. A crash between the two is repaired on restart (replica-factory.ts).
 * 3. The transport acknowledges to the sender once the replica runs on the snapshot.
 */
import { KvError } from '@shoal/common';
import type { Ready } from '@shoal/raft-ts';
import { MessageType } from '@shoal/raft-ts';
import type { EnginePort, SnapshotHeader } from './ports.js';
import type { Replica } from './replica.js';
import { decodeSnapshotData } from './snapshots.js';

export async function receiveSnapshot(
  r: Replica, engine: EnginePort, header: SnapshotHeader, chunks: AsyncIterable<Uint8Array>, wake: () => void,
): Promise<void> {
  const snap = header.message.snapshot;
  if (header.message.type !== MessageType.Snap || snap === null) throw new KvError('INVALID_ARGUMENT', 'snapshot header carries no MsgSnap');
  if (r.install !== null || r.receivingSnapshot) {
    throw new KvError('SERVER_BUSY', `shard ${r.shardId} is already receiving a snapshot`, { details: { retryAfterMs: 1000 } });
  }
  const { descriptor } = decodeSnapshotData(snap.data);
  r.receivingSnapshot = true;
  try {
    const installer = engine.beginInstall(r.shardId);
    try {
      for await (const chunk of chunks) await installer.write(chunk);
    } catch (e) {
      await installer.abort().catch(() => undefined);
      throw e;
    }
    await new Promise<void>((resolve, reject) => {
      r.install = { installer, message: header.message, descriptor, stepped: false, resolve, reject };
      wake();
    });
  } finally {
    r.receivingSnapshot = false;
  }
}

/** Raft declined the snapshot: drop the staged data; the sender still gets an answer. */
export function declineInstall(r: Replica): void {
  const inst = r.install!;
  r.install = null;
  inst.installer.abort().then(() => inst.resolve(), (e: unknown) => inst.reject(e instanceof KvError ? e : new KvError('INTERNAL', String(e))));
}

/** Raft took the snapshot in `rd`: swap the data in, then `onDone` resumes the held Ready. */
export function finishInstall(r: Replica, rd: Ready, onDone: () => void, onFail: (e: unknown) => void): void {
  const inst = r.install;
  if (inst === null) {
    onFail(new KvError('INTERNAL', `shard ${r.shardId}: raft restored a snapshot that was not installed`));
    return;
  }
  r.phase = 'installing';
  r.heldReady = rd;
  const meta = rd.snapshot!.metadata;
  inst.installer.finish({ index: meta.index, term: meta.term, confState: meta.confState, descriptor: inst.descriptor }).then(onDone, onFail);
}
