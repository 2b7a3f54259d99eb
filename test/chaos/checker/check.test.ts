// Goal: the checker accepts hand-made linearizable histories and rejects non-linearizable
// ones (stale read, lost write, a value never written, a CAS that succeeded twice, lost
// increments, ...) with an explanation that names the key and the operation at fault;
// unknown-outcome writes may land late or never; concurrent operations in any order pass.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CheckResult, HistoryRecord, HistoryValue } from './index.js';
import { checkHistory, summaryLine } from './index.js';

type Res = HistoryRecord['result'];
const ok = (value?: HistoryValue, current?: string | null): Res =>
  (current !== undefined ? { status: 'ok', value: value ?? null, current } : value === undefined ? { status: 'ok' } : { status: 'ok', value });
const FAIL: Res = { status: 'fail' };
const UNKNOWN: Res = { status: 'unknown' };

/** One operation on key "k" unless given: [client, op, args, start, end, result, key?]. */
type Row = [number, HistoryRecord['op'], HistoryValue[], number, number | null, Res, string?];
function history(rows: readonly Row[]): HistoryRecord[] {
  return rows.map(([client, op, args, start, end, result, key]) => ({ client, key: key ?? 'k', op, args, start, end, result }));
}

function expectOk(rows: readonly Row[], what: string): void {
  const r = checkHistory(history(rows));
  assert.equal(r.kind, 'linearizable', `${what}: ${summaryLine(r)}`);
}

function expectViolation(rows: readonly Row[], what: string, ...fragments: string[]): string {
  const r: CheckResult = checkHistory(history(rows));
  assert.equal(r.kind, 'not-linearizable', `${what}: ${summaryLine(r)}`);
  const line = summaryLine(r);
  for (const f of fragments) assert.ok(line.includes(f), `${what}: ${JSON.stringify(line)} lacks ${JSON.stringify(f)}`);
  return line;
}

test('sequential register operations; the summary line format', () => {
  const rows: Row[] = [
    [1, 'get', [], 0, 1, ok(null)], [1, 'put', ['a'], 2, 3, ok()], [1, 'get', [], 4, 5, ok('a')],
    [1, 'delete', [], 6, 7, ok(true)], [1, 'delete', [], 8, 9, ok(false)], [1, 'put-if-absent', ['b'], 10, 11, ok(true)],
    [1, 'put-if-absent', ['c'], 12, 13, ok(false)], [1, 'cas', ['b', 'd'], 14, 15, ok(true)],
    [1, 'cas', ['b', 'e'], 16, 17, ok(false, 'd')], [1, 'cas', ['d', null], 18, 19, ok(true)], [1, 'get', [], 20, 21, ok(null)],
  ];
  expectOk(rows, 'sequential');
  assert.equal(summaryLine(checkHistory(history(rows))), 'chaos: 11 ops, linearizable');
});

test('stale read: a read returns a value overwritten before it began', () => {
  const line = expectViolation([
    [1, 'put', ['x'], 0, 10, ok()], [2, 'put', ['y'], 20, 30, ok()], [3, 'get', [], 40, 50, ok('x')],
  ], 'stale read', 'NOT linearizable: key "k": get by client 3 at [40, 50] returned "x"', 'could only hold "y"',
  'the writes of "x": put "x" by client 1 at [0, 10] ok', 'overwritten before the read began by put "y" by client 2 at [20, 30]');
  assert.match(line, /^chaos: 3 ops, NOT linearizable: /);
  assert.equal(line.includes('\n'), false, 'one line');
});

test('lost write: an acknowledged write is not seen by a later read', () => {
  expectViolation([[1, 'put', ['x'], 0, 10, ok()], [2, 'get', [], 20, 30, ok(null)]], 'lost write', 'returned absent', 'could only hold "x"');
  expectViolation([[1, 'put', ['x'], 0, 10, ok()], [1, 'put', ['y'], 11, 20, ok()], [2, 'get', [], 30, 40, ok('x')]],
    'lost second write', 'overwritten before the read began');
});

test('read of a value never written', () => {
  expectViolation([[1, 'put', ['x'], 0, 10, ok()], [2, 'get', [], 5, 30, ok('zzz')]], 'never written',
    'no operation on this key ever wrote "zzz"', 'overlapping it: put "x" by client 1');
  expectViolation([[1, 'put', ['x'], 0, 10, FAIL], [2, 'get', [], 20, 30, ok('x')]], 'failed write read', 'no operation on this key ever wrote "x"');
});

test('compare-and-swap and put-if-absent: at most one winner', () => {
  const base: Row = [1, 'put', ['a'], 0, 1, ok()];
  expectViolation([base, [2, 'cas', ['a', 'b'], 10, 20, ok(true)], [3, 'cas', ['a', 'c'], 30, 40, ok(true)]],
    'cas twice, sequential', 'cas("a" → "c") by client 3 at [30, 40] swapped', 'could only hold "b"');
  expectViolation([base, [2, 'cas', ['a', 'b'], 10, 40, ok(true)], [3, 'cas', ['a', 'c'], 10, 40, ok(true)]], 'cas twice, concurrent');
  expectOk([base, [2, 'cas', ['a', 'b'], 10, 40, ok(true)], [3, 'cas', ['a', 'c'], 10, 40, ok(false)]], 'one cas wins');
  expectViolation([base, [2, 'cas', ['a', 'b'], 10, 40, ok(true)], [3, 'cas', ['a', 'c'], 10, 40, ok(false, 'a')]],
    'loser claims to have found the expected value', 'did not swap (found "a")');
  expectViolation([[2, 'put-if-absent', ['b'], 10, 40, ok(true)], [3, 'put-if-absent', ['c'], 10, 40, ok(true)]], 'SET NX twice');
  expectOk([[2, 'put-if-absent', ['b'], 10, 40, ok(true)], [3, 'put-if-absent', ['c'], 10, 40, ok(false)], [4, 'get', [], 50, 60, ok('b')]], 'SET NX once');
});

test('increments: lost increments and values out of order are caught', () => {
  expectViolation([[1, 'increment', [], 0, 10, ok('1')], [2, 'increment', [], 20, 30, ok('1')]], 'lost increment',
    'increment by client 2 at [20, 30] returned 1', 'could only hold "1"');
  expectViolation([[1, 'increment', [], 0, 30, ok('1')], [2, 'increment', [], 0, 30, ok('1')]], 'concurrent duplicate');
  expectOk([[1, 'increment', [], 0, 30, ok('2')], [2, 'increment', [], 0, 30, ok('1')], [3, 'get', [], 40, 50, ok('2')]], 'concurrent, any order');
  expectOk([[1, 'increment', ['5'], 0, 1, ok(5)], [2, 'increment', [-7], 2, 3, ok('-2')]], 'deltas');
  expectViolation([[1, 'put', ['abc'], 0, 1, ok()], [2, 'increment', [], 2, 3, ok('1')]], 'incr of a non-integer');
  expectOk([[1, 'put', ['abc'], 0, 1, ok()], [2, 'increment', [], 2, 3, FAIL], [2, 'increment', [], 4, 5, UNKNOWN], [3, 'get', [], 6, 7, ok('abc')]],
    'refused incr leaves the value');
  expectViolation([[1, 'put', ['9223372036854775807'], 0, 1, ok()], [2, 'increment', [], 2, 3, ok('-9223372036854775808')]], 'no wrap-around');
});

test('append: lengths and contents must agree with one order', () => {
  expectOk([[1, 'append', ['ab'], 0, 10, ok(3)], [2, 'append', ['c'], 0, 10, ok(1)], [3, 'get', [], 20, 30, ok('cab')]], 'c then ab');
  expectViolation([[1, 'append', ['ab'], 0, 10, ok(2)], [2, 'append', ['c'], 0, 10, ok(3)], [3, 'get', [], 20, 30, ok('cab')]],
    'lengths say ab first, content says c first');
  expectOk([[1, 'append', ['é'], 0, 1, ok(2)], [1, 'append', ['x'], 2, 3, ok()]], 'byte lengths, no length reported');
});

test('unknown-outcome writes may land late or never; once landed they stay', () => {
  const lost: Row = [1, 'put', ['x'], 0, 10, UNKNOWN];
  expectOk([lost, [2, 'get', [], 20, 30, ok(null)], [2, 'get', [], 1000, 1010, ok('x')]], 'lands late');
  expectOk([lost, [2, 'get', [], 20, 30, ok(null)], [2, 'get', [], 1000, 1010, ok(null)]], 'never lands');
  expectOk([[1, 'put', ['x'], 0, null, UNKNOWN], [2, 'get', [], 5, 6, ok('x')]], 'lands before it would have returned');
  expectViolation([lost, [2, 'get', [], 20, 30, ok('x')], [2, 'get', [], 40, 50, ok(null)]], 'landed then vanished', 'returned absent');
  expectViolation([[2, 'get', [], 0, 5, ok('x')], [1, 'put', ['x'], 10, 20, UNKNOWN]], 'cannot land before its start', 'returned "x"');
  expectOk([[1, 'increment', [], 0, 10, UNKNOWN], [2, 'increment', [], 20, 30, ok('2')]], 'unknown increment landed');
  expectOk([[1, 'increment', [], 0, 10, UNKNOWN], [2, 'increment', [], 20, 30, ok('1')]], 'unknown increment never landed');
  expectOk([[1, 'get', [], 0, 10, UNKNOWN], [2, 'get', [], 20, 30, ok(null)]], 'unknown reads are ignored');
});

test('concurrent writes are accepted in every order the reads reveal, and only in one order', () => {
  const writes: Row[] = [[1, 'put', ['a'], 0, 100, ok()], [2, 'put', ['b'], 0, 100, ok()], [3, 'put', ['c'], 0, 100, ok()]];
  const orders = [['a', 'b', 'c'], ['a', 'c', 'b'], ['b', 'a', 'c'], ['b', 'c', 'a'], ['c', 'a', 'b'], ['c', 'b', 'a']];
  for (const order of orders) {
    const reads = order.map((v, i): Row => [4, 'get', [], 10 + 20 * i, 20 + 20 * i, ok(v)]);
    expectOk([...writes, ...reads], `order ${order.join('')}`);
    // The first value seen again after the others: it was written once, so it cannot return.
    expectViolation([...writes, ...reads, [4, 'get', [], 80, 90, ok(order[0] as string)]], `order ${order.join('')} then back`);
  }
  // Two readers seeing the same pair of writes in opposite orders, one after the other.
  expectViolation([...writes.slice(0, 2), [4, 'get', [], 10, 20, ok('a')], [4, 'get', [], 30, 40, ok('b')],
    [5, 'get', [], 50, 60, ok('a')]], 'opposite orders');
});

test('keys are checked independently and the failing key is named', () => {
  const line = expectViolation([
    [1, 'put', ['x'], 0, 10, ok(), 'a'], [2, 'get', [], 20, 30, ok('x'), 'a'],
    [1, 'put', ['x'], 0, 10, ok(), 'b'], [2, 'get', [], 20, 30, ok(null), 'b'],
  ], 'key b', 'key "b": get by client 2');
  assert.equal(line.includes('key "a"'), false);
  expectOk([[1, 'put', ['x'], 0, 10, ok(), 'a'], [2, 'get', [], 20, 30, ok(null), 'b']], 'other key');
});

test('the explanation names the shortest failing prefix', () => {
  expectViolation([
    [1, 'put', ['x'], 0, 10, ok()], [1, 'get', [], 20, 30, ok('x')], [2, 'put', ['y'], 40, 50, ok()],
    [1, 'get', [], 60, 70, ok('x')], [1, 'get', [], 80, 90, ok('zz')],
  ], 'prefix', 'get by client 1 at [60, 70] returned "x"', 'the 4 ops on this key that started by 70 admit no linearization (with the results they returned); every earlier cut does');
});
