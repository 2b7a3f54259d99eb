// Goal: a client's backend work runs one call at a time in command order, neighbouring data commands for one table share a batch, and a failed call answers each of its commands.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KvError } from '@shoal/common';
import type { Backend, CommandArgs } from './backend.js';
import { BackendLane } from './backend-lane.js';
import { MemoryBackend } from './backend-memory.js';
import { bulk, error, replyForThrown } from './resp/reply.js';
import type { Reply } from './resp/reply.js';

interface Pending { table: string; commands: readonly CommandArgs[]; resolve: (r: readonly Reply[]) => void; reject: (e: unknown) => void }

/** A backend whose exec calls stay pending until the test settles them. */
function manualBackend(): { backend: Backend; pending: Pending[] } {
  const pending: Pending[] = [];
  const base = new MemoryBackend();
  const backend: Backend = {
    exec: (table, commands) => new Promise((resolve, reject) => pending.push({ table, commands, resolve, reject })),
    watch: (t, k) => base.watch(t, k),
    transaction: (c, w) => base.transaction(c, w),
    dbsize: (t) => base.dbsize(t),
    flush: (t) => base.flush(t),
    scan: (t, c, o) => base.scan(t, c, o),
    stats: (t) => base.stats(t),
  };
  return { backend, pending };
}

const args = (...a: string[]): Buffer[] => a.map((x) => Buffer.from(x));
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

function lane(backend: Backend, batchMax = 100) {
  const delivered: [string, Reply][] = [];
  let settled = 0;
  const l = new BackendLane<string>(backend, batchMax, {}, {
    deliver: (t, r) => delivered.push([t, r]),
    replyForFailure: (e) => replyForThrown(e) ?? error('ERR internal'),
    settled: () => { settled++; },
  });
  return { l, delivered, settled: () => settled };
}

describe('BackendLane', () => {
  it('batches the commands queued together and keeps one call in flight', async () => {
    const { backend, pending } = manualBackend();
    const { l, delivered } = lane(backend);
    l.exec('t', args('GET', 'a'), 'a');
    l.exec('t', args('GET', 'b'), 'b');
    await tick();
    assert.equal(pending.length, 1);
    assert.equal(pending[0]!.commands.length, 2);
    l.exec('t', args('GET', 'c'), 'c');
    l.exec('other', args('GET', 'd'), 'd');
    await tick();
    assert.equal(pending.length, 1, 'the next batch waits for the first');
    pending[0]!.resolve([bulk('A'), bulk('B')]);
    await tick();
    assert.equal(pending.length, 2);
    assert.deepEqual(pending[1]!.commands.map((c) => c[1]!.toString()), ['c']);
    pending[1]!.resolve([bulk('C')]);
    await tick();
    assert.equal(pending[2]!.table, 'other');
    pending[2]!.resolve([bulk('D')]);
    await tick();
    assert.deepEqual(delivered.map(([t]) => t), ['a', 'b', 'c', 'd']);
  });

  it('respects the batch limit', async () => {
    const { backend, pending } = manualBackend();
    const { l } = lane(backend, 3);
    for (let i = 0; i < 7; i++) l.exec('t', args('GET', String(i)), String(i));
    await tick();
    assert.equal(pending[0]!.commands.length, 3);
    pending[0]!.resolve([bulk(''), bulk(''), bulk('')]);
    await tick();
    assert.equal(pending[1]!.commands.length, 3);
  });

  it('runs calls in order with data commands', async () => {
    const { backend, pending } = manualBackend();
    const { l } = lane(backend);
    const order: string[] = [];
    l.exec('t', args('SET', 'a', '1'), 'set');
    const sized = l.call(async () => { order.push('call'); return 42; });
    await tick();
    assert.deepEqual(order, [], 'the call waits for the exec before it');
    pending[0]!.resolve([bulk('OK')]);
    assert.equal(await sized, 42);
    assert.deepEqual(order, ['call']);
  });

  it('a rejected exec answers every command of the batch with the error', async () => {
    const { backend, pending } = manualBackend();
    const { l, delivered, settled } = lane(backend);
    l.exec('t', args('GET', 'a'), 'a');
    l.exec('t', args('GET', 'b'), 'b');
    await tick();
    pending[0]!.reject(new KvError('UNAVAILABLE', 'no quorum'));
    await tick();
    assert.deepEqual(delivered, [['a', error('CLUSTERDOWN no quorum')], ['b', error('CLUSTERDOWN no quorum')]]);
    assert.equal(settled(), 1);
  });
});
