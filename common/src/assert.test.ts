// Goal: assertions crash with a non-KvError, and tagged results carry exactly one of value or error.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AssertionError, assert as check, assertNever } from './assert.js';
import { KvError, isKvError } from './errors.js';
import { err, ok, unwrap } from './result.js';
import type { Result } from './result.js';

describe('assert', () => {
  it('passes on truthy conditions and throws AssertionError otherwise', () => {
    check(1 + 1 === 2, 'math');
    assert.throws(() => check(false, 'broken invariant'), (e: unknown) => e instanceof AssertionError && !isKvError(e));
    assert.throws(() => check(0, () => 'lazy message'), AssertionError);
  });

  it('builds a lazy message only on failure', () => {
    let built = 0;
    check(true, () => String(++built));
    assert.equal(built, 0);
  });

  it('assertNever throws when reached at run time', () => {
    type Shape = { kind: 'a' } | { kind: 'b' };
    const area = (s: Shape): number => {
      switch (s.kind) {
        case 'a': return 1;
        case 'b': return 2;
        default: return assertNever(s, 'shape');
      }
    };
    assert.equal(area({ kind: 'b' }), 2);
    assert.throws(() => area({ kind: 'c' } as unknown as Shape), AssertionError);
  });
});

describe('Result', () => {
  it('narrows on ok', () => {
    const results: Result<number>[] = [ok(3), err(new KvError('NOT_FOUND', 'no'))];
    const [good, bad] = results;
    assert.ok(good?.ok === true && good.value === 3);
    assert.ok(bad?.ok === false && bad.error.code === 'NOT_FOUND');
    assert.equal(unwrap(ok('v')), 'v');
    assert.throws(() => unwrap(err(new KvError('TIMEOUT', 't'))), (e: unknown) => isKvError(e, 'TIMEOUT'));
  });
});
