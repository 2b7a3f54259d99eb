// Goal: the metaserver's options validate with messages naming the bad option, and the scheduler section mounts with its defaults.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { metaserverConfigSchema } from './config.js';

function issuePath(input: Record<string, unknown>): string | undefined {
  const r = metaserverConfigSchema.safeParse({ id: 1, dataDir: '/tmp/m', ...input });
  return r.success ? undefined : r.error.issues.map((i) => i.path.join('.')).join(',');
}

describe('metaserver config', () => {
  it('defaults: heartbeat 1 s, 8 hash shards, scheduler section mounted', () => {
    const c = metaserverConfigSchema.parse({ id: 1, dataDir: '/tmp/m' });
    assert.equal(c.nodeHeartbeatIntervalMs, 1000);
    assert.equal(c.defaultHashShardCount, 8);
    assert.equal(c.schedule.scheduleIntervalMs, 1000);
    assert.equal(c.watchRoutesQueueEventsMax, 1024);
    assert.equal(metaserverConfigSchema.parse({ id: 1, dataDir: '/tmp/m', schedule: { scheduleIntervalMs: '250ms' } }).schedule.scheduleIntervalMs, 250);
  });

  it('names the bad option', () => {
    assert.equal(issuePath({ defaultHashShardCount: 6 }), 'defaultHashShardCount');
    assert.equal(issuePath({ nodeSuspectAfterMs: '5s', nodeDownAfterMs: '5s' }), 'nodeDownAfterMs');
    assert.equal(issuePath({ nodeHeartbeatIntervalMs: '10s' }), 'nodeSuspectAfterMs');
    assert.equal(issuePath({ nodeAdminConcurrencyMax: 0 }), 'nodeAdminConcurrencyMax');
    assert.equal(issuePath({ schedule: { bogus: 1 } }), 'schedule');
  });
});
