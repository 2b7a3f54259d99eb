// Goal: Shoal.connect validates every option up front and names the bad one; defaults are
// filled in as documented.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KvError } from '@shoal/common';
import { resolveOptions } from './options.js';
import type { ConnectOptions } from './options.js';
import { Shoal } from './shoal.js';

function optionOf(o: unknown): string | undefined {
  try {
    resolveOptions(o as ConnectOptions);
  } catch (e) {
    assert.ok(e instanceof KvError && e.code === 'INVALID_ARGUMENT', String(e));
    return e.details?.option;
  }
  return undefined;
}

test('defaults', () => {
  const o = resolveOptions({ metaservers: ['127.0.0.1:7100', '127.0.0.1:7100', 'meta-2:7100'] });
  assert.deepEqual(o.metaservers, ['127.0.0.1:7100', 'meta-2:7100'], 'duplicates dropped');
  assert.equal(o.timeoutMs, 5000);
  assert.equal(o.watchRoutes, true);
  assert.equal(o.readConsistency, undefined);
  assert.equal(o.closeTimeoutMs, 5000);
});

test('each bad option is named', () => {
  assert.equal(optionOf(undefined), 'options');
  assert.equal(optionOf({ metaservers: [] }), 'metaservers');
  assert.equal(optionOf({ metaservers: ['nohost'] }), 'metaservers[0]');
  assert.equal(optionOf({ metaservers: ['a:1', 'b:99999'] }), 'metaservers[1]');
  const ok = { metaservers: ['a:1'] };
  assert.equal(optionOf({ ...ok, timeoutMs: 0 }), 'timeoutMs');
  assert.equal(optionOf({ ...ok, timeoutMs: 1.5 }), 'timeoutMs');
  assert.equal(optionOf({ ...ok, readConsistency: 'strong' }), 'readConsistency');
  assert.equal(optionOf({ ...ok, maxStalenessMs: -1 }), 'maxStalenessMs');
  assert.equal(optionOf({ ...ok, backoffBaseMs: 100, backoffMaxMs: 10 }), 'backoffMaxMs');
  assert.equal(optionOf({ ...ok, fanoutConcurrencyMax: 0 }), 'fanoutConcurrencyMax');
  assert.equal(optionOf({ ...ok, watchRoutes: 'yes' }), 'watchRoutes');
  assert.equal(optionOf({ ...ok, random: 4 }), 'random');
  assert.equal(optionOf(ok), undefined);
});

test('connect rejects bad options before any I/O', async () => {
  await assert.rejects(Shoal.connect({ metaservers: ['not an address'] }), { code: 'INVALID_ARGUMENT' });
});
