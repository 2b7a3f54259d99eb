// Goal: registries carry process metrics and labels, and metric helpers enforce Shoal's naming rules.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AssertionError } from './assert.js';
import { counter, createRegistry, gauge, histogram, LATENCY_BUCKETS_SECONDS } from './metrics.js';

describe('createRegistry', () => {
  it('collects prefixed process metrics labelled with the process', async () => {
    const registry = createRegistry('node');
    const text = await registry.metrics();
    assert.match(text, /^shoal_process_cpu_user_seconds_total\{process="node"\} /m);
    assert.match(text, /^shoal_nodejs_heap_size_used_bytes\{process="node"\} /m);
  });

  it('can leave process metrics out', async () => {
    assert.equal((await createRegistry('cli', { defaultMetrics: false }).metrics()).trim(), '');
  });
});

describe('metric helpers', () => {
  it('prefix names and record values with labels', async () => {
    const registry = createRegistry('proxy', { defaultMetrics: false });
    const commands = counter(registry, { name: 'resp_commands_total', help: 'RESP commands', labelNames: ['command'] });
    const clients = gauge(registry, { name: 'resp_clients', help: 'connected clients' });
    const latency = histogram(registry, { name: 'resp_command_seconds', help: 'latency', labelNames: ['command'] });
    commands.inc({ command: 'get' });
    clients.set(4);
    latency.observe({ command: 'get' }, 0.002);
    const text = await registry.metrics();
    assert.match(text, /^shoal_resp_commands_total\{(command="get",process="proxy"|process="proxy",command="get")\} 1$/m);
    assert.match(text, /^shoal_resp_clients\{process="proxy"\} 4$/m);
    assert.match(text, /^shoal_resp_command_seconds_bucket\{le="0.0025",(command="get",process="proxy"|process="proxy",command="get")\} 1$/m);
    assert.equal((text.match(/shoal_resp_command_seconds_bucket/g) ?? []).length, LATENCY_BUCKETS_SECONDS.length + 1);
  });

  it('reject names that break the rules', () => {
    const registry = createRegistry('node', { defaultMetrics: false });
    const bad: (() => unknown)[] = [
      () => counter(registry, { name: 'raft_proposals', help: 'no _total' }),
      () => counter(registry, { name: 'shoal_x_total', help: 'repeats the prefix' }),
      () => counter(registry, { name: 'RaftProposals_total', help: 'not snake_case' }),
      () => gauge(registry, { name: 'queue_total', help: 'gauge ending in _total' }),
      () => histogram(registry, { name: 'fsync_latency', help: 'no unit' }),
      () => histogram(registry, { name: 'fsync_ms', help: 'not a base unit' }),
    ];
    for (const make of bad) assert.throws(make, AssertionError);
  });
});
