// Goal: the value log returns exactly what was appended or fails with CORRUPTION — never
// other bytes — across rotation, reopen, torn tails, flipped bits and mismatched pointers,
// and a write error fails it for good with DISK_FAILURE.
import assert from 'node:assert/strict';
import { mkdtempSync, openSync, readdirSync, readSync, rmSync, statSync, truncateSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

function assertBytes(actual: Uint8Array, expected: Uint8Array, message?: string): void {
  assert.ok(Buffer.from(actual).equals(Buffer.from(expected)), message ?? 'bytes differ');
}
import { isKvError } from '@shoal/common';
import { FILE_HEADER_BYTES, RECORD_HEADER_BYTES } from './record.js';
import { ValueLog, vlogFileName } from './value-log.js';

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'shoal-vlog-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const bytes = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);
const code = (c: string) => (e: unknown) => isKvError(e, c as 'CORRUPTION');

function flipByte(path: string, offset: number): void {
  const fd = openSync(path, 'r+');
  const one = Buffer.alloc(1);
  readSync(fd, one, 0, 1, offset);
  one[0] = one[0]! ^ 0x40;
  writeSync(fd, one, 0, 1, offset);
  closeSync(fd);
}

test('append and read back, sync and async, across rotation and reopen', async (t) => {
  const dir = tempDir(t);
  const log = await ValueLog.open({ dir, fileBytes: 8 * 1024 });
  const ptrs = Array.from({ length: 20 }, (_, i) => log.appendSync(Uint8Array.of(i), bytes(1000 + i, i)));
  assert.ok(log.fileIds().length >= 3, 'rotated');
  for (const [i, p] of ptrs.entries()) {
    assertBytes(log.readSync(p, Uint8Array.of(i)), bytes(1000 + i, i));
    assertBytes(await log.read(p), bytes(1000 + i, i));
  }
  await log.syncAll();
  const active = log.activeFileId();
  await log.close();
  const again = await ValueLog.open({ dir, fileBytes: 8 * 1024 });
  t.after(() => again.close());
  assert.equal(again.activeFileId(), active + 1, 'a reopened log appends to a new file');
  for (const [i, p] of ptrs.entries()) assertBytes(again.readSync(p), bytes(1000 + i, i));
});

test('a flipped bit in key, value or header is CORRUPTION; so are wrong keys and stale pointers', async (t) => {
  const dir = tempDir(t);
  const log = await ValueLog.open({ dir, fileBytes: 1 << 20 });
  t.after(() => log.close());
  const a = log.appendSync(Uint8Array.of(1), bytes(500, 1));
  const bb = log.appendSync(Uint8Array.of(2), bytes(500, 2));
  const path = join(dir, vlogFileName(a.fileId));
  assert.throws(() => log.readSync(a, Uint8Array.of(9)), code('CORRUPTION'), 'record of another key');
  assert.throws(() => log.readSync({ ...a, crc: bb.crc }), code('CORRUPTION'), 'pointer made for another record');
  assert.throws(() => log.readSync({ ...a, length: a.length + 1 }), code('CORRUPTION'), 'wrong length');
  assert.throws(() => log.readSync({ ...a, fileId: 999 }), code('CORRUPTION'), 'missing file');
  flipByte(path, a.offset + RECORD_HEADER_BYTES + 1 + 100);
  assert.throws(() => log.readSync(a), code('CORRUPTION'), 'value bit');
  await assert.rejects(log.read(a), code('CORRUPTION'));
  flipByte(path, bb.offset + 5);
  assert.throws(() => log.readSync(bb), code('CORRUPTION'), 'length bit');
});

test('a truncated file reads as CORRUPTION and scans stop at the torn tail', async (t) => {
  const dir = tempDir(t);
  const log = await ValueLog.open({ dir, fileBytes: 1 << 20 });
  const ptrs = [1, 2, 3].map((i) => log.appendSync(Uint8Array.of(i), bytes(300, i)));
  const fileId = ptrs[0]!.fileId;
  await log.close();
  truncateSync(join(dir, vlogFileName(fileId)), ptrs[2]!.offset + 10);
  const again = await ValueLog.open({ dir, fileBytes: 1 << 20 });
  t.after(() => again.close());
  assert.throws(() => again.readSync(ptrs[2]!), code('CORRUPTION'));
  const seen: number[] = [];
  for await (const r of again.scanFile(fileId)) seen.push(r.key[0]!);
  assert.deepEqual(seen, [1, 2]);
});

test('a file with a torn header is removed at open; a bad header refuses to open', async (t) => {
  const dir = tempDir(t);
  const log = await ValueLog.open({ dir, fileBytes: 1 << 20 });
  log.appendSync(Uint8Array.of(1), bytes(10, 1));
  const second = log.activeFileId();
  log.rotate();
  const third = log.activeFileId();
  await log.close();
  truncateSync(join(dir, vlogFileName(third)), 5);
  const again = await ValueLog.open({ dir, fileBytes: 1 << 20 });
  // The torn file is gone; its id is free again and the new active file takes it, empty.
  assert.equal(again.activeFileId(), third);
  assert.equal(again.fileSize(third), FILE_HEADER_BYTES);
  assert.equal(readdirSync(dir).filter((f) => f.endsWith('.vlog')).length, 2);
  await again.close();
  flipByte(join(dir, vlogFileName(second)), 2);
  await assert.rejects(ValueLog.open({ dir, fileBytes: 1 << 20 }), code('CORRUPTION'));
});

test('deleteFile returns the space to the filesystem', async (t) => {
  const dir = tempDir(t);
  const log = await ValueLog.open({ dir, fileBytes: 64 * 1024 });
  t.after(() => log.close());
  const p = log.appendSync(Uint8Array.of(1), bytes(50_000, 1));
  log.rotate();
  assert.ok(statSync(join(dir, vlogFileName(p.fileId))).size > 50_000);
  await log.deleteFile(p.fileId);
  assert.equal(readdirSync(dir).includes(vlogFileName(p.fileId)), false);
  assert.throws(() => log.readSync(p), code('CORRUPTION'));
  assert.equal(log.totalBytes(), FILE_HEADER_BYTES);
});

test('a write error fails the log for good', async (t) => {
  const dir = tempDir(t);
  let fail = false;
  const log = await ValueLog.open({ dir, fileBytes: 1 << 20, failpoints: { writeError: () => fail } });
  t.after(() => log.close());
  const ok = log.appendSync(Uint8Array.of(1), bytes(10, 1));
  fail = true;
  assert.throws(() => log.appendSync(Uint8Array.of(2), bytes(10, 2)), code('DISK_FAILURE'));
  fail = false;
  assert.throws(() => log.appendSync(Uint8Array.of(3), bytes(10, 3)), code('DISK_FAILURE'));
  await assert.rejects(log.syncAll(), code('DISK_FAILURE'));
  assertBytes(log.readSync(ok), bytes(10, 1), 'reads still work');
});
