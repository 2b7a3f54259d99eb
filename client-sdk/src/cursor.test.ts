// Goal: scan cursors survive the round trip through their string form and refuse anything
// that is not one, naming the option.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatScanCursor, parseScanCursor } from './cursor.js';
import type { ScanCursor } from './cursor.js';

test('round trip, with and without the optional parts', () => {
  const full: ScanCursor = {
    tableId: 9, partition: 'hash', reverse: false, position: Uint8Array.from([0, 0, 0, 9, 0x2f, 0x96, 1, 2]), slot: 0x2f96,
    lastKey: Uint8Array.from([0, 255, 7]), start: undefined, end: undefined,
  };
  assert.deepEqual(parseScanCursor(formatScanCursor(full)), full);
  const range: ScanCursor = {
    tableId: 3, partition: 'range', reverse: true, position: Uint8Array.from([0, 0, 0, 4]), slot: null,
    lastKey: undefined, start: Uint8Array.from([1]), end: Uint8Array.from([9, 9]),
  };
  assert.deepEqual(parseScanCursor(formatScanCursor(range)), range);
  assert.match(formatScanCursor(range), /^[A-Za-z0-9_.-]+$/, 'URL-safe');
});

test('garbage is INVALID_ARGUMENT naming the cursor option', () => {
  for (const bad of ['', 'abc', 'shoal-scan-v1.', 'shoal-scan-v1.!!!', `shoal-scan-v1.${Buffer.from('{"t":1}').toString('base64url')}`,
    `shoal-scan-v1.${Buffer.from('{"t":1,"h":true,"r":false,"p":"$$"}').toString('base64url')}`, 42 as unknown as string]) {
    assert.throws(() => parseScanCursor(bad), (e: unknown) => (e as { code?: string; details?: { option?: string } }).code === 'INVALID_ARGUMENT'
      && (e as { details: { option: string } }).details.option === 'cursor', String(bad));
  }
});
