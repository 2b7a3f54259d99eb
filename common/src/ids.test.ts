// Goal: id constructors accept exactly the valid values, and the brands stay identical to raft-ts's declarations.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { isKvError } from './errors.js';
import { logIndex, nodeId, peerId, shardId, TABLE_ID_MAX, tableId, term } from './ids.js';
import type { LogIndex, PeerId, Term } from './ids.js';

describe('id constructors', () => {
  it('accept non-negative safe integers', () => {
    for (const make of [nodeId, shardId, peerId, term, logIndex]) {
      assert.equal(make(0), 0);
      assert.equal(make(Number.MAX_SAFE_INTEGER), Number.MAX_SAFE_INTEGER);
    }
  });

  it('reject anything else with INVALID_ARGUMENT', () => {
    for (const make of [nodeId, shardId, peerId, term, logIndex]) {
      for (const bad of [-1, 1.5, Number.NaN, Number.MAX_SAFE_INTEGER + 1, Infinity, '3' as unknown as number]) {
        assert.throws(() => make(bad), (e: unknown) => isKvError(e, 'INVALID_ARGUMENT'));
      }
    }
  });

  it('limit table ids to the user range of u32', () => {
    assert.equal(tableId(1), 1);
    assert.equal(tableId(TABLE_ID_MAX), 0xfffffffe);
    for (const bad of [0, 0xffffffff, -1, 2 ** 32, 1.5]) {
      assert.throws(() => tableId(bad), (e: unknown) => isKvError(e, 'INVALID_ARGUMENT'));
    }
  });

  it('keep distinct brands apart at compile time', () => {
    const t: Term = term(1);
    // @ts-expect-error a Term is not a LogIndex
    const i: LogIndex = t;
    // @ts-expect-error a plain number is not a PeerId
    const p: PeerId = 3;
    assert.equal(i, 1);
    assert.equal(p, 3);
  });
});

describe('compatibility with raft-ts', () => {
  it('declares Term, LogIndex and PeerId exactly as raft-ts does', (t) => {
    let raft: string;
    try {
      raft = readFileSync(new URL('../../raft-ts/src/types.ts', import.meta.url), 'utf8');
    } catch {
      t.skip('raft-ts sources not present');
      return;
    }
    const ours = readFileSync(new URL('../src/ids.ts', import.meta.url), 'utf8');
    for (const name of ['Term', 'LogIndex', 'PeerId']) {
      const decl = `export type ${name} = number & { readonly __brand: '${name}' };`;
      assert.ok(raft.includes(decl), `raft-ts: ${decl}`);
      assert.ok(ours.includes(decl), `common: ${decl}`);
    }
  });
});
