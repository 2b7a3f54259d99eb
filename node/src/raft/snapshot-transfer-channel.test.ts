// Goal: the receiver's chunk iterable yields data as it arrives, ends only after a verified
// trailer, throws CORRUPTION after the last chunk on any mismatch, and bounds its buffer.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { crc32c, isKvError, KvError } from '@shoal/common';
import { SnapshotChunkChannel } from './snapshot-transfer-channel.js';

function channel(declaredTotalBytes = 0, bufferBytesMax = 1024): { ch: SnapshotChunkChannel; flow: string[] } {
  const flow: string[] = [];
  const ch = new SnapshotChunkChannel({ bufferBytesMax, declaredTotalBytes, flow: { pause: () => flow.push('pause'), resume: () => flow.push('resume') } });
  return { ch, flow };
}

async function collect(it: AsyncIterable<Uint8Array>): Promise<{ chunks: Uint8Array[]; error: unknown }> {
  const chunks: Uint8Array[] = [];
  try {
    for await (const c of it) chunks.push(c);
    return { chunks, error: undefined };
  } catch (error) {
    return { chunks, error };
  }
}

const a = new Uint8Array([1, 2, 3]);
const b = new Uint8Array([4, 5]);

describe('SnapshotChunkChannel', () => {
  it('yields chunks as they arrive and ends after a matching trailer', async () => {
    const { ch } = channel(5);
    const consumed = collect(ch);
    ch.push(a);
    await new Promise((r) => setImmediate(r));
    ch.push(b);
    ch.finishWithTrailer({ crc32c: crc32c(b, crc32c(a)), chunkCount: 2 });
    const { chunks, error } = await consumed;
    assert.equal(error, undefined);
    assert.deepEqual(chunks, [a, b]);
    assert.deepEqual(await ch.settled(), { ok: true });
  });

  it('throws CORRUPTION after the last chunk when CRC, count or declared size mismatch', async () => {
    for (const [trailer, declared] of [
      [{ crc32c: 1, chunkCount: 2 }, 0],
      [{ crc32c: crc32c(b, crc32c(a)), chunkCount: 3 }, 0],
      [{ crc32c: crc32c(b, crc32c(a)), chunkCount: 2 }, 6],
    ] as const) {
      const { ch } = channel(declared);
      ch.push(a);
      ch.push(b);
      ch.finishWithTrailer(trailer);
      const { chunks, error } = await collect(ch);
      assert.equal(chunks.length, 2, 'every chunk is delivered before the error');
      assert.ok(isKvError(error, 'CORRUPTION'), String(error));
    }
  });

  it('throws the failure of a broken stream, and data after the trailer spoils it', async () => {
    const { ch } = channel();
    ch.push(a);
    ch.fail(new KvError('CANCELLED', 'gone'));
    assert.ok(isKvError((await collect(ch)).error, 'CANCELLED'));

    const late = channel().ch;
    late.finishWithTrailer({ crc32c: 0, chunkCount: 0 });
    late.push(a);
    assert.ok(isKvError((await collect(late)).error, 'PROTOCOL_ERROR'));
  });

  it('pauses the network at bufferBytesMax and resumes below half of it', async () => {
    const { ch, flow } = channel(0, 8);
    const it = ch[Symbol.asyncIterator]();
    for (let i = 0; i < 4; i++) ch.push(new Uint8Array(2));
    assert.deepEqual(flow, ['pause']);
    await it.next(); // 6 buffered
    assert.deepEqual(flow, ['pause']);
    await it.next(); // 4 buffered = half
    assert.deepEqual(flow, ['pause', 'resume']);
  });

  it('after the consumer stops early, keeps verifying without buffering', async () => {
    const { ch } = channel(0, 4);
    const it = ch[Symbol.asyncIterator]();
    ch.push(a);
    await it.next();
    await it.return?.();
    for (let i = 0; i < 100; i++) ch.push(b);
    ch.finishWithTrailer({ crc32c: 0, chunkCount: 101 });
    const outcome = await ch.settled();
    assert.ok(!outcome.ok && outcome.error.code === 'CORRUPTION');
    assert.equal(ch.receivedBytes, 3 + 200);
    assert.ok(!ch.isPaused);
  });
});
