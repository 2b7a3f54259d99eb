// Goal: the leader's stuck-shard report keeps the last round's shards (sorted, with table ids,
// bounded), warns only when the set changes and at most once per interval, and clears on
// step-down.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Logger } from '@shoal/common';
import type { TopologyState } from './state/index.js';
import { STUCK_SHARDS_MAX, StuckReport } from './stuck-report.js';

function fakeLog(): { log: Logger; warned: unknown[][] } {
  const warned: unknown[][] = [];
  // Only `warn` is used by StuckReport; anything else would throw, failing the test.
  return { log: { warn: (...a: unknown[]) => warned.push(a) } as unknown as Logger, warned };
}

const state = { shards: new Map([[3, { tableId: 7 }], [5, { tableId: 8 }]]) } as unknown as TopologyState;
const lost = (shardId: number) => ({ shardId, reason: 'quorum lost (1/3 voters alive): force-reduce needed' });

describe('StuckReport', () => {
  it('reports the last round sorted with table ids and warns once per change, rate-limited', () => {
    const { log, warned } = fakeLog();
    const r = new StuckReport(log);
    assert.equal(r.current.length, 0, 'empty before the first round');
    r.update([lost(5), lost(3)], state, 0);
    assert.deepEqual(r.current.map((s) => [s.shardId, s.tableId]), [[3, 7], [5, 8]]);
    assert.equal(warned.length, 1);
    r.update([lost(3), lost(5)], state, 1_000);
    assert.equal(warned.length, 1, 'the same set is not announced again');
    r.update([lost(3)], state, 2_000);
    assert.deepEqual(r.current.map((s) => s.shardId), [3], 'the report follows every round');
    assert.equal(warned.length, 1, 'a change within the interval is muted');
    r.update([lost(3)], state, 40_000);
    assert.equal(warned.length, 2, 'and announced by the first round after it');
    r.update([], state, 80_000);
    assert.equal(warned.length, 3, 'the set becoming empty is announced');
    assert.deepEqual(r.current, []);
  });

  it('keeps at most STUCK_SHARDS_MAX shards and clears on step-down', () => {
    const { log } = fakeLog();
    const r = new StuckReport(log);
    r.update(Array.from({ length: STUCK_SHARDS_MAX + 10 }, (_, i) => lost(i + 1)), state, 0);
    assert.equal(r.current.length, STUCK_SHARDS_MAX);
    assert.equal(r.current[0]!.tableId, 0, 'a shard the state does not know has table 0');
    r.clear();
    assert.deepEqual(r.current, []);
  });
});
