// Goal: WatchRoutes streams get the route changes of every apply that moved the route version (filtered by table), a resync when the history was trimmed, and a watcher that stops reading is ended with RESOURCE_EXHAUSTED instead of buffering without bound.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import type { ServerWritableStream } from '@grpc/grpc-js';
import { createLogger, KvError } from '@shoal/common';
import type { TableId } from '@shoal/common';
import { meta } from '@shoal/proto';
import { RouteWatchHub } from './route-watch.js';
import type { RouteSource } from './route-watch.js';
import * as cmd from './state/commands.js';
import { clusterOf, createTable, electFirstVoters, run } from './state/testing/fixtures.js';
import type { TopologyState } from './state/index.js';

/** A server stream whose client reads nothing: every written event stays queued. */
class FakeCall extends EventEmitter {
  readonly written: meta.RouteEvent[] = [];
  cancelled = false;
  ended: { code: number; details: string } | undefined;

  constructor(readonly request: meta.WatchRoutesRequest) {
    super();
    this.on('error', (e: { code: number; details: string }) => {
      this.ended = e;
    });
  }

  get writableLength(): number {
    return this.written.length;
  }

  write(ev: meta.RouteEvent): boolean {
    this.written.push(ev);
    return true;
  }

  getPeer(): string {
    return 'fake';
  }
}

interface Setup {
  readonly state: TopologyState;
  readonly hub: RouteWatchHub;
  /** Tables `a` and `b`, two shards each, no leaders yet. */
  readonly a: TableId;
  readonly b: TableId;
  readonly open: (req: Partial<meta.WatchRoutesRequest>) => Promise<FakeCall>;
}

function setup(queueEventsMax = 100): Setup {
  const { state, nodes } = clusterOf(['z1', 'z2', 'z3']);
  const a = createTable(state, nodes, { name: 'a', partition: 'hash', shardCount: 2 });
  const b = createTable(state, nodes, { name: 'b', partition: 'hash', shardCount: 2 });
  const source: RouteSource = { state, readBarrier: () => Promise.resolve() };
  const hub = new RouteWatchHub(source, { streamsMax: 2, queueEventsMax, logger: createLogger({ name: 'test', level: 'silent' }) });
  const open = async (req: Partial<meta.WatchRoutesRequest>): Promise<FakeCall> => {
    const call = new FakeCall(meta.WatchRoutesRequest.create(req));
    await hub.open(call as unknown as ServerWritableStream<meta.WatchRoutesRequest, meta.RouteEvent>);
    return call;
  };
  return { state, hub, a, b, open };
}

describe('WatchRoutes hub', () => {
  it('sends the changes of each apply, for the watched tables only', async () => {
    const { state, hub, a, b, open } = setup();
    const all = await open({});
    const onlyB = await open({ tableIds: [b] });
    electFirstVoters(state, a);
    hub.onApplied();
    assert.deepEqual(all.written.map((e) => e.tableId), [a]);
    assert.ok(all.written[0]!.updated.every((u) => u.leaderAddress !== ''));
    assert.equal(onlyB.written.length, 0);
    hub.onApplied(); // nothing new: nothing sent
    assert.equal(all.written.length, 1);
    run(state, cmd.dropTable('b'));
    hub.onApplied();
    assert.deepEqual(onlyB.written.map((e) => [e.tableId, e.removedShardIds.length]), [[b, 2]]);
  });

  it('replays from from_version, or asks for a resync when the history was trimmed', async () => {
    const { state, a, open } = setup();
    const v0 = state.routeVersion;
    electFirstVoters(state, a);
    const replay = await open({ fromVersion: v0 });
    assert.deepEqual(replay.written.map((e) => e.tableId), [a]);
    state.routeHistoryFloor = state.routeVersion;
    const trimmed = await open({ fromVersion: v0 });
    assert.equal(trimmed.written.length, 1);
    assert.equal(trimmed.written[0]!.resync, true);
  });

  it('ends a watcher that does not read, refuses streams beyond the limit, ends all on leadership loss', async () => {
    const { state, hub, a, b, open } = setup(1);
    const slow = await open({});
    const other = await open({});
    const third = await open({});
    assert.equal(third.ended?.code, status.RESOURCE_EXHAUSTED);
    electFirstVoters(state, a);
    electFirstVoters(state, b);
    hub.onApplied(); // two tables changed: two events queued on each stream, over the limit of 1
    assert.equal(slow.ended?.code, status.RESOURCE_EXHAUSTED);
    assert.equal(other.ended?.code, status.RESOURCE_EXHAUSTED);
    assert.equal(hub.size, 0);
    const again = await open({});
    hub.endAll(new KvError('NOT_LEADER', 'lost leadership'));
    assert.equal(again.ended?.code, status.UNAVAILABLE);
    assert.match(again.ended?.details ?? '', /^NOT_LEADER/);
  });
});
