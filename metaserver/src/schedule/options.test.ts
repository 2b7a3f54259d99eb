// Goal: the scheduler options parse with their defaults and units (durations, byte sizes), reject unknown keys and out-of-range limits, and the assembled config refuses a down time that does not exceed the suspect time.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isKvError } from '@shoal/common';
import { defaultSchedulerConfig, scheduleOptionsSchema, schedulerConfig } from './options.js';

describe('scheduleOptionsSchema', () => {
  it('has defaults with units resolved', () => {
    const o = scheduleOptionsSchema.parse({});
    assert.equal(o.moveReplicaTimeoutMs, 600_000);
    assert.equal(o.shardSplitSizeBytes, 256 * 2 ** 20);
    assert.equal(o.recoveryOperatorsPerNodeMax, 2);
    assert.equal(o.replicaBalanceEnabled, true);
  });

  it('accepts human units and refuses unknown keys and bad limits', () => {
    const o = scheduleOptionsSchema.parse({ splitTimeoutMs: '90s', shardSplitSizeBytes: '1GiB', balanceOperatorsMax: 8 });
    assert.equal(o.splitTimeoutMs, 90_000);
    assert.equal(o.shardSplitSizeBytes, 2 ** 30);
    assert.equal(scheduleOptionsSchema.safeParse({ nope: 1 }).success, false);
    assert.equal(scheduleOptionsSchema.safeParse({ recoveryOperatorsPerNodeMax: 0 }).success, false);
    assert.equal(scheduleOptionsSchema.safeParse({ replicaBalanceTolerancePercent: 101 }).success, false);
  });
});

describe('schedulerConfig', () => {
  it('joins the section with the failure timings and checks their order', () => {
    const c = schedulerConfig(scheduleOptionsSchema.parse({}), { nodeSuspectAfterMs: 10_000, nodeDownAfterMs: 30_000 });
    assert.equal(c.nodeDownAfterMs, 30_000);
    assert.throws(() => schedulerConfig(scheduleOptionsSchema.parse({}), { nodeSuspectAfterMs: 30_000, nodeDownAfterMs: 30_000 }),
      (e) => isKvError(e, 'CONFIG_INVALID') && e.details?.option === 'nodeDownAfterMs');
    assert.equal(defaultSchedulerConfig({ splitEnabled: false }).splitEnabled, false);
  });
});
