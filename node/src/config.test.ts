// Goal: the two modes of the node's config — static needs nodeId; dynamic (metaservers set)
// takes the members from a flag, SHOAL_METASERVERS or the file, makes nodeId optional,
// refuses the static layout options by name, and needs a fixed listen port.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '@shoal/common';
import { nodeConfigSchema } from './config.js';

const load = (argv: string[], env: NodeJS.ProcessEnv = {}) => loadConfig(nodeConfigSchema, { argv, env });

function optionOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.details?.option;
  }
  assert.fail('expected a ConfigError');
}

test('metaservers from a flag or SHOAL_METASERVERS, comma-separated; nodeId optional; defaults', () => {
  const a = load(['--data-dir', '/tmp/x', '--listen', '127.0.0.1:7201', '--metaservers', '127.0.0.1:7000,127.0.0.1:7001']);
  assert.deepEqual(a.metaservers, ['127.0.0.1:7000', '127.0.0.1:7001']);
  assert.equal(a.nodeId, undefined);
  assert.equal(a.pool, 'default');
  assert.equal(a.zone, 'default');
  assert.equal(a.capacityBytes, 0);
  const b = load(['--data-dir', '/tmp/x', '--listen', '127.0.0.1:7201'], { SHOAL_METASERVERS: 'm1:7000,m2:7000,m3:7000', SHOAL_CAPACITY_BYTES: '1GiB' });
  assert.deepEqual(b.metaservers, ['m1:7000', 'm2:7000', 'm3:7000']);
  assert.equal(b.capacityBytes, 1024 ** 3);
});

test('static mode needs nodeId; dynamic mode refuses the static layout, naming the option', () => {
  assert.equal(optionOf(() => load(['--data-dir', '/tmp/x'])), 'nodeId');
  const dyn = ['--data-dir', '/tmp/x', '--listen', '127.0.0.1:7201', '--metaservers', 'm1:7000'];
  assert.equal(optionOf(() => load([...dyn, '--nodes', '[{"nodeId":1,"address":"a:1"}]'])), 'nodes');
  assert.equal(optionOf(() => load([...dyn, '--tables', '[{"id":1,"name":"t"}]'])), 'tables');
  assert.equal(optionOf(() => load(['--data-dir', '/tmp/x', '--listen', '127.0.0.1:0', '--metaservers', 'm1:7000'])), 'listen');
  assert.match(optionOf(() => load(['--data-dir', '/tmp/x', '--listen', '127.0.0.1:7201', '--metaservers', 'not-an-address'])) ?? '', /^metaservers/);
});
