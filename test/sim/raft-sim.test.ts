// Goal: run ~300 seeds of the deterministic Raft simulation over 3- and 5-member groups and require zero safety violations and zero liveness failures (a failure prints its seed, trace and replay command), and show that deliberate host bugs are caught.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SeedResult } from './cluster.js';
import { runSeed } from './cluster.js';
import type { ReplayFlags } from './report.js';
import { formatFailure, isFailure } from './report.js';
import type { HostBug } from './scenario.js';
import { makeScenario } from './scenario.js';

const SEEDS_PER_SIZE = 150;

function runBatch(seedStart: number, count: number, flags: ReplayFlags, hostBug: HostBug = 'none'): SeedResult[] {
  const failures: SeedResult[] = [];
  for (let seed = seedStart; seed < seedStart + count; seed++) {
    const r = runSeed(makeScenario(seed, { members: flags.members, chaosTicks: flags.steps, hostBug }));
    if (isFailure(r)) failures.push(r);
  }
  return failures;
}

function summarize(failures: readonly SeedResult[], flags: ReplayFlags): string {
  const lines = failures.map((r) => `seed ${r.seed}: ${r.violation?.property ?? 'liveness'}`);
  // The full report (trace and replay command) of the first failure.
  const first = failures[0];
  if (first !== undefined) console.error(formatFailure(first, flags));
  return `${failures.length} failing seeds:\n  ${lines.join('\n  ')}`;
}

describe('raft simulation', () => {
  for (const members of [3, 5] as const) {
    it(`${SEEDS_PER_SIZE} seeds of a ${members}-member group: no violations, no liveness failures`, () => {
      const flags: ReplayFlags = { members };
      const failures = runBatch(members === 3 ? 1 : 1001, SEEDS_PER_SIZE, flags);
      assert.equal(failures.length, 0, summarize(failures, flags));
    });
  }
});

/** Seeds that found raft-ts bugs, replayed as regressions now that they are fixed. */
const REGRESSION_SEEDS: readonly { seed: number }[] = [
  // Lease reads: a partitioned leader kept serving lease reads after a rival was elected
  // (check-quorum kept it leader up to two election timeouts after its last quorum
  // contact; followers promise only one). Fixed: the lease now runs from the send tick of
  // a heartbeat round a quorum acknowledged.
  // A seed's run depends on raft-ts internals too (how it draws from Rand), so after a
  // raft-ts change a bug may need a new seed: `npm run raft:sim -- --seeds 5000` finds it.
  { seed: 712 },
  { seed: 1411 },
  { seed: 2845 },
];

describe('regression seeds', () => {
  for (const { seed } of REGRESSION_SEEDS) {
    it(`seed ${seed}`, () => {
      const failures = runBatch(seed, 1, {});
      assert.equal(failures.length, 0, summarize(failures, {}));
    });
  }
});

describe('the simulation catches host bugs', () => {
  it('a host that never fsyncs breaks safety after crashes', () => {
    const failures = runBatch(1, 40, {}, 'skip-fsync');
    const safety = failures.filter((r) => r.violation !== null && r.violation.property !== 'exception');
    assert.ok(safety.length > 0, 'no safety violation found with fsync disabled');
  });

  it('a host that serves reads from local state returns stale reads', () => {
    const failures = runBatch(1, 20, {}, 'early-read');
    assert.ok(failures.some((r) => r.violation?.property === 'linearizable-read'), 'no stale read found');
  });
});
