// Checks argument parsing of the admin commands: every bad value is refused before any RPC
// with INVALID_ARGUMENT naming the flag, and good flags become the request the metaserver expects.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KvError } from '@shoal/common';
import { meta } from '@shoal/proto';
import { parseMetaservers, DEFAULT_METASERVERS } from './admin-client.js';
import { buildCreateTable, parseId, parseIdList } from './args.js';

function refuses(fn: () => unknown, option: string): void {
  assert.throws(fn, (e: unknown) => e instanceof KvError && e.code === 'INVALID_ARGUMENT' && e.details?.option === option);
}

test('ids are positive safe integers; lists are distinct', () => {
  assert.equal(parseId('42', 'shardId'), 42);
  for (const bad of ['0', '-1', 'x', '1.5', '', '9007199254740993']) refuses(() => parseId(bad, 'shardId'), 'shardId');
  assert.deepEqual(parseIdList('4, 5,6', '--keep'), [4, 5, 6]);
  refuses(() => parseIdList('4,4', '--keep'), '--keep');
  refuses(() => parseIdList(',', '--keep'), '--keep');
});

test('metaserver lists come from --meta or SHOAL_METASERVERS, defaulting to the local three', () => {
  assert.deepEqual(parseMetaservers(undefined, '--meta'), [...DEFAULT_METASERVERS]);
  assert.deepEqual(parseMetaservers('10.0.0.1:7100, 10.0.0.2:7100', '--meta'), ['10.0.0.1:7100', '10.0.0.2:7100']);
  refuses(() => parseMetaservers('10.0.0.1', 'SHOAL_METASERVERS'), 'SHOAL_METASERVERS');
  refuses(() => parseMetaservers(',', '--meta'), '--meta');
});

test('table create flags build the CreateTableRequest', () => {
  const { req, splitKeys } = buildCreateTable('users', {
    shards: '16', replicas: '3', valueSeparationThreshold: '4KiB', defaultTtl: '1h', ifNotExists: true,
  });
  assert.equal(req.name, 'users');
  assert.equal(req.pool, 'default');
  assert.equal(req.ifNotExists, true);
  assert.equal(req.options?.partition, meta.PartitionKind.HASH);
  assert.equal(req.options?.shardCount, 16);
  assert.equal(req.options?.replicaCount, 3);
  assert.equal(req.options?.valueSeparationThresholdBytes, 4096);
  assert.equal(req.options?.defaultTtlMs, 3_600_000);
  assert.deepEqual(splitKeys, []);
  const range = buildCreateTable('r', { partition: 'range', splitKeys: 'b,m' });
  assert.equal(range.req.options?.partition, meta.PartitionKind.RANGE);
  assert.deepEqual(range.splitKeys.map((k) => new TextDecoder().decode(k)), ['b', 'm']);
  assert.equal(buildCreateTable('d', {}).req.options?.shardCount, 0, 'no --shards: the metaserver default');
});

test('table create refuses bad or mismatched flags, naming each', () => {
  refuses(() => buildCreateTable('t', { partition: 'list' }), '--partition');
  refuses(() => buildCreateTable('t', { shards: '3' }), '--shards');
  refuses(() => buildCreateTable('t', { shards: '0' }), '--shards');
  refuses(() => buildCreateTable('t', { partition: 'range', shards: '4' }), '--shards');
  refuses(() => buildCreateTable('t', { splitKeys: 'a' }), '--split-keys');
  refuses(() => buildCreateTable('t', { partition: 'range', splitKeys: 'm,b' }), '--split-keys');
  refuses(() => buildCreateTable('t', { partition: 'range', splitKeys: 'a,a' }), '--split-keys');
  refuses(() => buildCreateTable('t', { replicas: '8' }), '--replicas');
  refuses(() => buildCreateTable('t', { valueSeparationThreshold: 'big' }), '--value-separation-threshold');
  refuses(() => buildCreateTable('t', { defaultTtl: 'soon' }), '--default-ttl');
  refuses(() => buildCreateTable('', {}), 'name');
});
