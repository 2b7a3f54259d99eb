// Goal: the public API's types say what the documentation says — checked by the compiler:
// each `expectType<T>()(value)` must match exactly and each `@ts-expect-error` line must fail to
// type-check, or `tsc -b client-sdk` fails. Only the package entry (index.ts) is imported.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isKvError, KvError, PartialWriteError, parseScanCursor, Scanner, Shoal } from './index.js';
import type {
  AtomicBatchWriteResult, BatchWriteResult, CasResult, DeleteRangeResult, KvErrorCode, PutResult, PutResultWithPrevious,
  ScanCursor, ScanEntry, Table, TableDescription, WriteOp,
} from './index.js';

/** True iff A and B are the same type (not merely assignable). */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;

/**
 * `expectType<E>()(value)` compiles only if `value`'s type is exactly E: otherwise the
 * call lacks its second argument (of type never).
 */
function expectType<Expected>(): <Actual>(actual: Actual, ...proof: Equal<Actual, Expected> extends true ? [] : [never]) => void {
  return () => undefined;
}

/** Never run: it exists to be type-checked. */
async function apiTypes(db: Shoal): Promise<void> {
  const t: Table = db.table('users');

  // Reads: bytes by default, strings on request, undefined for a missing key.
  const v = await t.get('k');
  expectType<Uint8Array | undefined>()(v);
  const s = await t.get(new Uint8Array([1]), { valueEncoding: 'utf8', consistency: 'follower' });
  expectType<string | undefined>()(s);
  const many = await t.getMany(['a', new Uint8Array([2])], { valueEncoding: 'utf8' });
  expectType<(string | undefined)[]>()(many);
  await t.get('k', { consistency: 'stale', maxStalenessMs: 100 });
  await t.get('k', { maxStalenessMs: 100 });
  // @ts-expect-error maxStalenessMs belongs to stale reads only
  await t.get('k', { consistency: 'linearizable', maxStalenessMs: 100 });
  // @ts-expect-error not a consistency
  await t.get('k', { consistency: 'eventual' });
  // @ts-expect-error keys are bytes or strings
  await t.get(42);

  // Writes.
  const p = await t.put('k', 'v', { ttlMs: 1000, ifAbsent: true });
  expectType<PutResult>()(p);
  const pp = await t.put('k', new Uint8Array([1]), { returnPrevious: true, valueEncoding: 'utf8' });
  expectType<PutResultWithPrevious<'utf8'>>()(pp);
  expectType<string | undefined>()(pp.previous);
  // @ts-expect-error ifAbsent and ifPresent exclude each other
  await t.put('k', 'v', { ifAbsent: true, ifPresent: true });
  // @ts-expect-error `previous` exists only with returnPrevious: true
  void p.previous;
  // @ts-expect-error values are bytes or strings
  await t.put('k', 5);
  const deleted = await t.delete('k');
  expectType<boolean>()(deleted);
  const cas = await t.compareAndSwap('k', null, 'v');
  expectType<CasResult>()(cas);
  expectType<Uint8Array | undefined>()(cas.current);
  const n = await t.incr('counter', 5);
  expectType<bigint>()(n);
  await t.incr('counter', -5n);
  await t.incr('counter');
  // @ts-expect-error deltas are numbers or bigints
  await t.incr('counter', '5');

  // Batches: the result type says whether the batch was atomic.
  const ops: WriteOp[] = [{ type: 'put', key: 'a', value: '1', ttlMs: 5 }, { type: 'delete', key: 'b' }];
  const bw = await t.batchWrite(ops);
  expectType<BatchWriteResult>()(bw);
  expectType<boolean>()(bw.atomic);
  const atomic = await t.batchWrite(ops, { atomic: true });
  expectType<AtomicBatchWriteResult>()(atomic);
  expectType<true>()(atomic.atomic);
  // @ts-expect-error a put needs a value
  await t.batchWrite([{ type: 'put', key: 'a' }]);
  // @ts-expect-error only put and delete
  await t.batchWrite([{ type: 'incr', key: 'a' }]);

  // Scans: an async iterable of typed entries with a resumable cursor.
  const scanner = t.scan({ start: 'a', end: 'z', keyEncoding: 'utf8', limit: 10 });
  expectType<Scanner<'utf8', 'bytes'>>()(scanner);
  for await (const e of scanner) {
    expectType<ScanEntry<'utf8', 'bytes'>>()(e);
    expectType<string>()(e.key);
    expectType<Uint8Array>()(e.value);
  }
  const cursor = scanner.cursor;
  expectType<string | undefined>()(cursor);
  if (cursor !== undefined) {
    const parsed = parseScanCursor(cursor);
    expectType<ScanCursor>()(parsed);
    expectType<number | null>()(parsed.slot);
    t.scan({ cursor });
  }
  const dr = await t.deleteRange('a', null);
  expectType<DeleteRangeResult>()(dr);
  // @ts-expect-error bounds are explicit: null means unbounded
  await t.deleteRange();
  const d = await t.describe();
  expectType<TableDescription>()(d);
  expectType<'hash' | 'range'>()(d.partition);

  // Errors: KvError with a typed code; PartialWriteError is one.
  try {
    await t.put('k', 'v', { timeoutMs: 100 });
  } catch (e) {
    if (isKvError(e)) expectType<KvErrorCode>()(e.code);
    if (e instanceof PartialWriteError) {
      const k: KvError = e;
      void k;
      expectType<'applied' | 'failed' | 'unknown'>()(e.parts[0]!.status);
    }
  }
  await db.close();
}

/** Never run: connect's options. */
async function connectTypes(): Promise<void> {
  const db = await Shoal.connect({ metaservers: ['127.0.0.1:7100'], timeoutMs: 1000, readConsistency: 'follower' });
  expectType<Shoal>()(db);
  // @ts-expect-error metaservers is required
  await Shoal.connect({});
  // @ts-expect-error the constructor is private: use connect
  new Shoal();
}

test('the public API type-checks (the assertions run in the compiler)', () => {
  assert.equal(typeof apiTypes, 'function');
  assert.equal(typeof connectTypes, 'function');
  assert.ok(new KvError('TIMEOUT', 'x').retryable, 'KvError is re-exported with its behaviour');
});
