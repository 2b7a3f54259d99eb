// Goal: the history file format round-trips, and a malformed record is refused with a
// KvError naming the line and the field, both when written and when read.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { KvError } from '@shoal/common';
import type { HistoryRecord } from './index.js';
import { formatHistory, HistoryWriter, parseHistory, readHistoryFile } from './index.js';

const SAMPLE: HistoryRecord[] = [
  { client: 1, key: 'k', op: 'put', args: ['a'], start: 0, end: 5, result: { status: 'ok' } },
  { client: 'c2', key: 'k', op: 'get', args: [], start: 1, end: 6, result: { status: 'ok', value: null } },
  { client: 3, key: 'k', op: 'cas', args: [null, 'b'], start: 2, end: 7, result: { status: 'ok', value: false, current: 'a' } },
  { client: 4, key: 'k', op: 'put-if-absent', args: ['c'], start: 3, end: 8, result: { status: 'ok', value: false } },
  { client: 5, key: 'n', op: 'increment', args: [3], start: 4, end: 9, result: { status: 'ok', value: '3' } },
  { client: 6, key: 's', op: 'append', args: ['xy'], start: 5, end: 10, result: { status: 'ok', value: 2 } },
  { client: 7, key: 'k', op: 'delete', args: [], start: 6, end: 11, result: { status: 'fail', error: 'NOT_LEADER' } },
  { client: 8, key: 'k', op: 'put', args: ['d'], start: 7, end: null, result: { status: 'unknown', error: 'timeout' } },
];

function assertInvalid(fn: () => unknown, option: string, messagePart: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof KvError, `expected a KvError, got ${String(e)}`);
    assert.equal(e.code, 'INVALID_ARGUMENT');
    assert.equal(e.details?.option, option);
    assert.ok(e.message.includes(messagePart), `message ${JSON.stringify(e.message)} lacks ${JSON.stringify(messagePart)}`);
    return true;
  });
}

test('format and parse round-trip every op and outcome; blank lines are skipped', () => {
  const text = formatHistory(SAMPLE);
  assert.equal(text.split('\n').length, SAMPLE.length + 1);
  assert.deepEqual(parseHistory(`\n${text}\n\n`), SAMPLE);
});

test('a malformed line is refused with its line number and the field at fault', () => {
  const good = formatHistory(SAMPLE.slice(0, 1)).trim();
  const cases: [string, string, string][] = [
    ['{"client":1', 'record', 'line 2: not valid JSON'],
    ['[1,2]', 'record', 'line 2: record must be a JSON object'],
    [good.replace('"put"', '"upsert"'), 'op', 'must be one of'],
    [good.replace('"start":0', '"start":"0"'), 'start', 'finite number'],
    [good.replace('"end":5', '"end":-1'), 'end', 'before start'],
    [good.replace('"ok"', '"maybe"'), 'result.status', 'ok, fail or unknown'],
    [good.replace('["a"]', '[]'), 'args', 'of put must be'],
    [good.replace('["a"]', '[7]'), 'args[0]', 'must be a string'],
    [good.replace('{"status":"ok"}', '{"status":"ok","value":"x"}'), 'result.value', 'must be absent'],
  ];
  for (const [line, option, part] of cases) assertInvalid(() => parseHistory(`${good}\n${line}\n`, 'h.jsonl'), option, part);
});

test('op-specific ok values are checked: get, cas, put-if-absent, increment, append', () => {
  const base = { client: 1, key: 'k', start: 0, end: 1 } as const;
  const bad: [Omit<HistoryRecord, 'client' | 'key' | 'start' | 'end'>, string][] = [
    [{ op: 'get', args: [], result: { status: 'ok', value: 3 } }, 'result.value'],
    [{ op: 'cas', args: ['a', 'b'], result: { status: 'ok', value: 'yes' } }, 'result.value'],
    [{ op: 'cas', args: ['a', 'b'], result: { status: 'ok', value: true, current: 'c' } }, 'result.current'],
    [{ op: 'put-if-absent', args: ['a'], result: { status: 'ok' } }, 'result.value'],
    [{ op: 'increment', args: [], result: { status: 'ok', value: '1.5' } }, 'result.value'],
    [{ op: 'increment', args: ['9223372036854775808'], result: { status: 'unknown' } }, 'args[0]'],
    [{ op: 'append', args: ['x'], result: { status: 'ok', value: -1 } }, 'result.value'],
    [{ op: 'put', args: ['a'], start: 0, end: null, result: { status: 'ok' } } as never, 'end'],
  ];
  for (const [r, option] of bad) assertInvalid(() => formatHistory([{ ...base, ...r }]), option, 'history record of client 1');
});

test('HistoryWriter writes records in order and readHistoryFile reads them back', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'chaos-history-'));
  try {
    const path = join(dir, 'h.jsonl');
    const w = await HistoryWriter.create(path);
    for (let i = 0; i < 3000; i++) w.record({ ...(SAMPLE[i % SAMPLE.length] as HistoryRecord), client: i });
    assert.throws(() => w.record({ ...(SAMPLE[0] as HistoryRecord), op: 'get' }), KvError, 'a bad record fails at once');
    await w.close();
    assert.equal(w.count, 3000);
    const back = await readHistoryFile(path);
    assert.deepEqual(back.map((r) => r.client), Array.from({ length: 3000 }, (_, i) => i));
    assert.throws(() => w.record(SAMPLE[0] as HistoryRecord), /after close/);
    await writeFile(path, `${(await readFile(path, 'utf8')).slice(0, -20)}`);
    await assert.rejects(readHistoryFile(path), /h\.jsonl line 3000: not valid JSON/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
