// Goal: the seam between engine/ and the transport — an engine snapshot holding a value
// larger than snapshotChunkBytes, streamed over the real transport (which cuts the stream
// at its message size), installs on another engine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LogIndex, Message, PeerId, Term } from '@shoal/raft-ts';
import { MessageType } from '@shoal/raft-ts';
import { Engine } from '../engine/index.js';
import { cmd, CONF, descriptor, openWithShard, put, RANGE_TABLE, shardState, tempDir } from '../engine/fixture.js';
import { startNode } from './transport-testing.js';
import type { IncomingSnapshotHeader } from './transport-options.js';
import { command } from '@shoal/proto';

const CHUNK_BYTES = 64 * 1024;

async function transfer(t: { after(fn: () => void): void }): Promise<Engine> {
  const source = await openWithShard(tempDir(t));
  const big = new Uint8Array(200 * 1024).fill(7);
  const batch = source.beginApply();
  const out = batch.apply(1, 1, 1, command.RaftCommand.encode(cmd(1, put('big', big))).finish());
  assert.ok(out.ok);
  await batch.commit();
  const target = await Engine.open({ dir: tempDir(t), valueLogFileBytes: 256 * 1024, valueLogGcGarbageRatio: 0.5, valueLogGcRateBytesPerSec: 1e12, keyBytesMax: 1024, valueBytesMax: 1 << 20 });
  await target.createShard(shardState(descriptor(1, RANGE_TABLE)), RANGE_TABLE);
  const addresses = new Map<number, string>();
  const install = async (_h: IncomingSnapshotHeader, chunks: AsyncIterable<Uint8Array>): Promise<void> => {
    const inst = target.beginInstall(1);
    try {
      for await (const c of chunks) await inst.write(c);
      await inst.finish({ index: 1, term: 1, confState: CONF, descriptor: descriptor(1, RANGE_TABLE) });
    } catch (e) {
      await inst.abort();
      throw e;
    }
  };
  const n1 = await startNode(1, addresses, { snapshotChunkBytes: CHUNK_BYTES });
  const n2 = await startNode(2, addresses, { snapshotChunkBytes: CHUNK_BYTES, onSnapshot: install });
  t.after(() => void Promise.all([n1.stop(), n2.stop(), source.close(), target.close()]));
  const snap = source.openSnapshot(1);
  const message: Message = {
    type: MessageType.Snap, to: 2 as PeerId, from: 1 as PeerId, term: 1 as Term, logTerm: 0 as Term, index: 0 as LogIndex, entries: [],
    commit: 0 as LogIndex, reject: false, rejectHint: 0 as LogIndex, context: new Uint8Array(0),
    snapshot: { data: new Uint8Array(0), metadata: { index: 1 as LogIndex, term: 1 as Term, confState: CONF } },
  };
  const chunks = snap.chunks(CHUNK_BYTES);
  const res = await n1.transport.sendSnapshot(2, { shardId: 1, fromPeer: 1, toPeer: 2, message }, chunks);
  await snap.close();
  assert.equal(res.ok, true, `transfer failed: ${String(res.error?.code)} ${String(res.error?.message)}`);
  return target;
}

test('an engine snapshot with a value above the transport chunk size installs on the receiver', async (t) => {
  const target = await transfer(t);
  assert.equal(target.get(1, new TextEncoder().encode('big'), Date.now()).value.length, 200 * 1024);
});
