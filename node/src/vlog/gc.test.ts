// Goal: the GC protocol in isolation — candidates by garbage ratio, live records copied
// and swapped only through the host's compare, files retired only at zero live bytes —
// and the rate limiter's pacing, all against an in-memory host and a fake clock.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

function assertBytes(actual: Uint8Array, expected: Uint8Array, message?: string): void {
  assert.ok(Buffer.from(actual).equals(Buffer.from(expected)), message ?? 'bytes differ');
}
import { toHex } from '@shoal/common';
import { ValueLogGc } from './gc.js';
import type { GcHost, PointerSwap } from './gc.js';
import { TokenBucket } from '../rate-limiter.js';
import { samePointer } from './record.js';
import type { ValuePointer } from './record.js';
import { ValueLog } from './value-log.js';

/** A DB stand-in: key → pointer, with live bytes derived from it. */
class MemoryHost implements GcHost {
  readonly map = new Map<string, ValuePointer>();
  readonly retired: number[] = [];
  floor = Number.POSITIVE_INFINITY;

  liveBytes(fileId: number): number {
    let n = 0;
    for (const p of this.map.values()) if (p.fileId === fileId) n += p.length;
    return n;
  }
  appendFloor(): number {
    return this.floor;
  }
  isCurrent(key: Uint8Array, p: ValuePointer): boolean {
    const cur = this.map.get(toHex(key));
    return cur !== undefined && samePointer(cur, p);
  }
  async swapPointers(swaps: readonly PointerSwap[]): Promise<number> {
    let n = 0;
    for (const s of swaps) {
      if (!this.isCurrent(s.key, s.from)) continue;
      this.map.set(toHex(s.key), s.to);
      n++;
    }
    return n;
  }
  async retireFile(fileId: number): Promise<void> {
    this.retired.push(fileId);
  }
}

test('candidates, copy, swap, retire', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'shoal-vlog-gc-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const log = await ValueLog.open({ dir, fileBytes: 1 << 20 });
  t.after(() => log.close());
  const host = new MemoryHost();
  const value = new Uint8Array(1000).fill(7);
  for (let i = 0; i < 10; i++) host.map.set(toHex(Uint8Array.of(i)), log.appendSync(Uint8Array.of(i), value));
  const first = log.activeFileId();
  log.rotate();
  // Overwrite 8 of 10 keys into the new file: the first file is 80 % garbage.
  for (let i = 0; i < 8; i++) host.map.set(toHex(Uint8Array.of(i)), log.appendSync(Uint8Array.of(i), value));
  const gc = new ValueLogGc(log, host, { garbageRatio: 0.5, rateBytesPerSec: 1e12 });
  assert.deepEqual(gc.candidates().map((c) => c.fileId), [first]);
  host.floor = first;
  assert.deepEqual(gc.candidates(), [], 'files at or above the append floor are never candidates');
  host.floor = Number.POSITIVE_INFINITY;
  const r = await gc.run();
  assert.equal(r.filesRewritten, 1);
  assert.equal(r.bytesCopied, 2 * (1000 + 12 + 1));
  assert.deepEqual(host.retired, [first]);
  for (let i = 0; i < 10; i++) {
    const p = host.map.get(toHex(Uint8Array.of(i)))!;
    assert.notEqual(p.fileId, first);
    assertBytes(log.readSync(p, Uint8Array.of(i)), value);
  }
});

test('a swap whose key moved on is dropped, and the file is kept while it has live bytes', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'shoal-vlog-gc-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const log = await ValueLog.open({ dir, fileBytes: 1 << 20 });
  t.after(() => log.close());
  const host = new MemoryHost();
  const k = Uint8Array.of(1);
  host.map.set(toHex(k), log.appendSync(k, Uint8Array.of(1, 1, 1)));
  const first = log.activeFileId();
  log.rotate();
  const gc = new ValueLogGc(log, host, { garbageRatio: 0.01, rateBytesPerSec: 1e12 });
  const { swaps } = await gc.rewriteFile(first);
  assert.equal(swaps.length, 1);
  const newer = log.appendSync(k, Uint8Array.of(2, 2, 2));
  host.map.set(toHex(k), newer);
  assert.equal(await host.swapPointers(swaps), 0);
  assert.ok(samePointer(host.map.get(toHex(k))!, newer), 'the overwrite stands');
});

test('the rate limiter paces to the configured rate after its burst', async () => {
  let now = 0;
  const slept: number[] = [];
  const limiter = new TokenBucket({
    rateBytesPerSec: 1000, burstBytes: 100, nowMs: () => now,
    sleepMs: async (ms) => {
      slept.push(ms);
      now += ms;
    },
  });
  await limiter.acquire(100); // within the burst
  assert.deepEqual(slept, []);
  await limiter.acquire(1000); // one second of budget
  assert.equal(Math.round(slept.reduce((a, x) => a + x, 0)), 1000);
});
