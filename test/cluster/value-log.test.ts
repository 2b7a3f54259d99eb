// Goal: large values live in the value log — GC returns the space of overwritten values to
// the filesystem (measured with file sizes), and a corrupted record reads as CORRUPTION,
// never as wrong data.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, openSync, readdirSync, readFileSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { KvCallError, TestClient } from './client.js';
import { Cluster, waitUntil } from './harness.js';

let cluster: Cluster;
let client: TestClient;

before(async () => {
  cluster = await Cluster.start({
    nodes: 1,
    tables: [{ id: 1, partition: 'hash', valueSeparationThresholdBytes: 1024 }],
    shards: [{ id: 1, tableId: 1, nodes: [1] }],
    options: { valueLogFileBytes: '1MiB', valueLogGcIntervalMs: 300, valueLogGcRateBytesPerSec: '256MiB' },
  });
  client = new TestClient(cluster);
});

after(async () => {
  client?.close();
  await cluster?.destroy();
});

function vlogDir(): string {
  return join(cluster.node(1).dataDir, 'vlog');
}

function vlogBytes(): number {
  return readdirSync(vlogDir()).reduce((sum, f) => sum + statSync(join(vlogDir(), f)).size, 0);
}

function value(tag: string, i: number, bytes: number): Uint8Array {
  const v = new Uint8Array(bytes).fill(tag.charCodeAt(0));
  new TextEncoder().encodeInto(`${tag}:${i}:`, v);
  return v;
}

async function writeRound(tag: string, n: number, bytes: number): Promise<void> {
  for (let i = 0; i < n; i += 20) {
    await Promise.all(Array.from({ length: Math.min(20, n - i) }, (_, j) => client.put(1, `big:${i + j}`, value(tag, i + j, bytes))));
  }
}

test('value-log GC reclaims the space of overwritten values', async (t) => {
  const N = 300;
  const BYTES = 16 * 1024;
  await writeRound('a', N, BYTES);
  const first = vlogBytes();
  const firstFiles = readdirSync(vlogDir());
  assert.ok(first >= N * BYTES, `values went to the value log (${first} bytes)`);
  await writeRound('b', N, BYTES);
  // GC runs concurrently (every 300 ms): what is left must be near the live data, far below
  // the bytes written, and the first round's files must be gone from the filesystem.
  const written = 2 * N * BYTES;
  const left = await waitUntil('GC to return space', 30_000, () => {
    const now = vlogBytes();
    const gone = firstFiles.filter((f) => !readdirSync(vlogDir()).includes(f)).length;
    return now < written * 0.7 && gone >= firstFiles.length - 2 ? now : undefined;
  });
  t.diagnostic(`value log: ${first} bytes after the first round, ${written} written in all, ${left} on disk after GC`);
  for (const i of [0, 150, 299]) {
    const r = await client.get(1, `big:${i}`);
    assert.deepEqual(r.value, value('b', i, BYTES));
  }
  assert.ok(await cluster.metric(1, 'shoal_value_log_gc_reclaimed_bytes_total') > 0);
});

test('a corrupted value-log record reads as CORRUPTION, not as wrong data', async () => {
  const marker = 'corrupt-me-please';
  const v = new Uint8Array(32 * 1024).fill(0x5a);
  new TextEncoder().encodeInto(marker, v);
  await client.put(1, 'victim', v);
  assert.deepEqual((await client.get(1, 'victim')).value, v);
  // Flip one byte of the stored value in whichever file holds it.
  let hit = false;
  for (const f of readdirSync(vlogDir())) {
    const path = join(vlogDir(), f);
    const at = readFileSync(path).indexOf(Buffer.from(marker));
    if (at < 0) continue;
    const fd = openSync(path, 'r+');
    writeSync(fd, Buffer.from([0x00]), 0, 1, at + 1000);
    closeSync(fd);
    hit = true;
  }
  assert.ok(hit, 'found the record');
  await assert.rejects(client.get(1, 'victim'), (e: unknown) => e instanceof KvCallError && e.code === 'CORRUPTION');
  // Other keys still read fine.
  assert.equal((await client.get(1, 'big:1')).found, true);
});
