// Goal: snapshots stream between two real transports intact and no faster than the node-wide
// rate limit, a corrupted transfer is caught by the receiver's CRC (installer sees CORRUPTION,
// sender gets ok=false), and the receiver refuses more concurrent transfers than its limit.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { crc32c, isKvError, KvError } from '@shoal/common';
import { MessageType } from '@shoal/raft-ts';
import type { LogIndex, Message, PeerId, Term } from '@shoal/raft-ts';
import type { IncomingSnapshotHeader } from './transport-options.js';
import { raftMessage, startNode, waitFor } from './transport-testing.js';
import type { TestNode, TestNodeOptions } from './transport-testing.js';

const MiB = 1024 * 1024;
const started: TestNode[] = [];
after(async () => {
  await Promise.all(started.map((n) => n.stop()));
});

async function pair(senderOpts: TestNodeOptions, receiverOpts: TestNodeOptions): Promise<{ a: TestNode; b: TestNode }> {
  const addresses = new Map<number, string>();
  const a = await startNode(1, addresses, senderOpts);
  const b = await startNode(2, addresses, receiverOpts);
  started.push(a, b);
  return { a, b };
}

function snapMessage(index: number): Message {
  return raftMessage({
    from: 1, to: 2, type: MessageType.Snap, term: 3 as Term,
    snapshot: {
      data: new TextEncoder().encode(`descriptor-${index}`),
      metadata: { index: index as LogIndex, term: 3 as Term, confState: { voters: [1, 2, 3] as PeerId[], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false } },
    },
  });
}

/** `count` chunks of `bytes` bytes with position-dependent content. */
async function* source(count: number, bytes: number, seed = 0): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < count; i++) {
    const c = new Uint8Array(bytes);
    for (let j = 0; j < bytes; j += 997) c[j] = (i * 31 + j + seed) & 0xff;
    yield c;
  }
}

async function crcOf(chunks: AsyncIterable<Uint8Array>): Promise<{ crc: number; bytes: number }> {
  let crc = 0;
  let bytes = 0;
  for await (const c of chunks) {
    crc = crc32c(c, crc);
    bytes += c.length;
  }
  return { crc, bytes };
}

/** An installer that records what it got and whether its iterable threw. */
function recordingInstaller(): { installs: { header: IncomingSnapshotHeader; crc: number; bytes: number; error?: unknown }[];
  onSnapshot: (h: IncomingSnapshotHeader, chunks: AsyncIterable<Uint8Array>) => Promise<void> } {
  const installs: { header: IncomingSnapshotHeader; crc: number; bytes: number; error?: unknown }[] = [];
  return {
    installs,
    async onSnapshot(header, chunks) {
      let crc = 0;
      let bytes = 0;
      try {
        for await (const c of chunks) {
          crc = crc32c(c, crc);
          bytes += c.length;
        }
      } catch (error) {
        installs.push({ header, crc, bytes, error });
        throw error; // the installer aborts
      }
      installs.push({ header, crc, bytes });
    },
  };
}

describe('snapshot transfer', () => {
  it('streams several MiB intact, no faster than snapshotRateBytesPerSec', async () => {
    const rate = 4 * MiB;
    const chunkBytes = 64 * 1024;
    const inst = recordingInstaller();
    const { a, b } = await pair({ snapshotRateBytesPerSec: rate, snapshotChunkBytes: chunkBytes }, { onSnapshot: inst.onSnapshot });
    const size = 3 * MiB;
    const expected = await crcOf(source(24, size / 24)); // 128 KiB source chunks: re-cut into 64 KiB pieces
    const t0 = performance.now();
    const r = await a.transport.sendSnapshot(2, { shardId: 5, fromPeer: 1, toPeer: 2, message: snapMessage(100), totalBytes: size }, source(24, size / 24));
    const elapsedMs = performance.now() - t0;
    assert.deepEqual(r, { ok: true });
    assert.equal(inst.installs.length, 1);
    const got = inst.installs[0]!;
    assert.equal(got.error, undefined);
    assert.deepEqual({ crc: got.crc, bytes: got.bytes }, expected);
    assert.equal(got.header.shardId, 5);
    assert.equal(got.header.fromNodeId, 1);
    assert.equal(got.header.totalBytes, size);
    assert.equal(got.header.message.snapshot?.metadata.index, 100);
    // Correctness of the limiter, as a loose lower bound: the bucket starts with one chunk.
    const floorMs = ((size - chunkBytes) / rate) * 1000;
    assert.ok(elapsedMs >= floorMs - 50, `took ${elapsedMs.toFixed(0)} ms, limit implies >= ${floorMs.toFixed(0)} ms`);
    assert.equal(a.transport.stats().get(2)!.snapshotBytesSent, size);
    assert.equal(b.transport.stats().get(1)!.snapshotBytesReceived, size);
    assert.equal(a.transport.stats().get(2)!.snapshotsSent, 1);
  });

  it('shares the rate limit across concurrent outgoing snapshots', async () => {
    const rate = 4 * MiB;
    const chunkBytes = 64 * 1024;
    const { a } = await pair({ snapshotRateBytesPerSec: rate, snapshotChunkBytes: chunkBytes }, {});
    const t0 = performance.now();
    const results = await Promise.all([1, 2].map((i) =>
      a.transport.sendSnapshot(2, { shardId: i, fromPeer: 1, toPeer: 2, message: snapMessage(i) }, source(16, chunkBytes, i))));
    const elapsedMs = performance.now() - t0;
    assert.ok(results.every((r) => r.ok), JSON.stringify(results));
    const floorMs = ((2 * MiB - chunkBytes) / rate) * 1000;
    assert.ok(elapsedMs >= floorMs - 50, `took ${elapsedMs.toFixed(0)} ms, node-wide limit implies >= ${floorMs.toFixed(0)} ms`);
  });

  it('detects a corrupted chunk: the installer iterable throws CORRUPTION after the data, the sender gets ok=false', async () => {
    const inst = recordingInstaller();
    const { a, b } = await pair({
      failpoints: {
        snapshotChunk: (data, index) => {
          if (index !== 3) return data;
          const bad = data.slice();
          bad[10] = bad[10]! ^ 0x01;
          return bad;
        },
      },
    }, { onSnapshot: inst.onSnapshot });
    const r = await a.transport.sendSnapshot(2, { shardId: 5, fromPeer: 1, toPeer: 2, message: snapMessage(7) }, source(8, 64 * 1024));
    assert.equal(r.ok, false);
    assert.ok(isKvError(r.error, 'CORRUPTION'), String(r.error));
    assert.equal(inst.installs.length, 1);
    assert.ok(isKvError(inst.installs[0]!.error, 'CORRUPTION'));
    assert.equal(inst.installs[0]!.bytes, 8 * 64 * 1024, 'every chunk was yielded before the error');
    assert.equal(a.transport.stats().get(2)!.snapshotsSendFailed, 1);
    assert.equal(b.transport.stats().get(1)!.snapshotsReceiveFailed, 1);
  });

  it('does not ack success when the installer ignores a corrupt stream', async () => {
    const { a } = await pair({
      failpoints: { snapshotChunk: (data, index) => (index === 0 ? new Uint8Array(data.length) : data) },
    }, {
      // A careless installer that resolves without reading: the transport still verifies.
      onSnapshot: () => Promise.resolve(),
    });
    const r = await a.transport.sendSnapshot(2, { shardId: 5, fromPeer: 1, toPeer: 2, message: snapMessage(7) }, source(4, 1000, 1));
    assert.ok(!r.ok && isKvError(r.error, 'CORRUPTION'), JSON.stringify(r));
  });

  it('refuses transfers beyond snapshotReceiveConcurrencyMax with SERVER_BUSY', async () => {
    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    let installing = 0;
    const { a } = await pair({}, {
      snapshotReceiveConcurrencyMax: 1,
      async onSnapshot(_h, chunks) {
        installing++;
        for await (const _c of chunks) { /* stage */ }
        await released;
      },
    });
    const first = a.transport.sendSnapshot(2, { shardId: 1, fromPeer: 1, toPeer: 2, message: snapMessage(1) }, source(2, 1000));
    await waitFor(() => installing === 1, 'the first install to start');
    const second = await a.transport.sendSnapshot(2, { shardId: 2, fromPeer: 1, toPeer: 2, message: snapMessage(2) }, source(64, 64 * 1024));
    assert.equal(second.ok, false);
    assert.ok(isKvError(second.error, 'SERVER_BUSY'), String(second.error));
    release();
    assert.deepEqual(await first, { ok: true });
    const third = await a.transport.sendSnapshot(2, { shardId: 3, fromPeer: 1, toPeer: 2, message: snapMessage(3) }, source(2, 1000));
    assert.deepEqual(third, { ok: true }, 'the slot is free again');
  });

  it('fails a stalled transfer after snapshotIdleTimeoutMs, even while the source is stuck', async () => {
    const inst = recordingInstaller();
    const { a } = await pair({}, { onSnapshot: inst.onSnapshot, snapshotIdleTimeoutMs: 100 });
    async function* stuck(): AsyncGenerator<Uint8Array> {
      yield new Uint8Array(1000);
      await new Promise(() => {}); // a disk read that never returns
    }
    const r = await a.transport.sendSnapshot(2, { shardId: 5, fromPeer: 1, toPeer: 2, message: snapMessage(7) }, stuck());
    assert.ok(!r.ok && isKvError(r.error, 'TIMEOUT'), JSON.stringify(r));
    assert.ok(isKvError(inst.installs[0]?.error, 'TIMEOUT'));
  });

  it('reports the installer failure code, and close() cancels a transfer in progress', async () => {
    const { a } = await pair({ snapshotRateBytesPerSec: 256 * 1024, snapshotChunkBytes: 16 * 1024 }, {
      async onSnapshot(h, chunks) {
        for await (const _c of chunks) { /* stage */ }
        if (h.shardId === 9) throw new KvError('NO_SPACE', 'disk full');
      },
    });
    const failed = await a.transport.sendSnapshot(2, { shardId: 9, fromPeer: 1, toPeer: 2, message: snapMessage(1) }, source(1, 100));
    assert.ok(!failed.ok && isKvError(failed.error, 'NO_SPACE'), JSON.stringify(failed));

    const slow = a.transport.sendSnapshot(2, { shardId: 1, fromPeer: 1, toPeer: 2, message: snapMessage(1) }, source(64, 16 * 1024));
    await waitFor(() => (a.transport.stats().get(2)?.snapshotBytesSent ?? 0) > 32 * 1024, 'the transfer to be under way');
    const t0 = Date.now();
    await a.transport.close();
    const r = await slow;
    assert.ok(Date.now() - t0 < 1000, 'close() is prompt');
    assert.ok(!r.ok && isKvError(r.error, 'CANCELLED'), JSON.stringify(r));
  });
});
