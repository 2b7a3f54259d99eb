// Goal: single commands of different clients share one Kv.Exec per shard and turn, each
// client gets its own reply in its own order, one client's failure never becomes another's,
// UNKNOWN_OUTCOME reaches writes only, limits split queues, and disconnected clients' commands are not sent.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KvError } from '@shoal/common';
import { kv } from '@shoal/proto';
import { CrossClientCoalescer } from './shoal-coalesce.js';
import type { CoalescedCommand, CoalescerExec } from './shoal-coalesce.js';
import { bulk, error, integer, NULL_BULK, simple } from './resp/reply.js';
import type { Reply } from './resp/reply.js';

const T = kv.RedisReplyType;
const args = (...a: string[]): Buffer[] => a.map((x) => Buffer.from(x));
/** The shard of a key is the text before its ':' (keys without one are on shard "0"). */
const shardOf = (k: Uint8Array): string => Buffer.from(k).toString().split(':')[0]!;

/** A tiny GET/SET/INCR store behind a fake RedisExec that records every Kv.Exec. */
class FakeExec implements CoalescerExec {
  readonly data = new Map<string, string>();
  readonly batches: string[][][] = [];
  readonly alone: string[][] = [];
  /** Order in which commands ran, per key. */
  readonly log: string[] = [];
  groupCalls = 0;
  /** Replaces a batch's outcome (reject, or per-command errors) when set. */
  onBatch: ((cmds: string[][]) => (kv.RedisReply | KvError)[] | undefined) | undefined;
  failGroup: KvError | undefined;

  groupByShard(_table: string, keys: readonly Uint8Array[]): Promise<number[][]> {
    this.groupCalls++;
    if (this.failGroup !== undefined) return Promise.reject(this.failGroup);
    const m = new Map<string, number[]>();
    keys.forEach((k, i) => { const s = shardOf(k); m.set(s, [...(m.get(s) ?? []), i]); });
    return Promise.resolve([...m.values()]);
  }

  async execBatch(_table: string, commands: readonly (readonly Uint8Array[])[], o: { keys: readonly Uint8Array[] }): Promise<(kv.RedisReply | KvError)[]> {
    const cmds = commands.map((c) => c.map((a) => Buffer.from(a).toString()));
    assert.equal(new Set(o.keys.map(shardOf)).size, 1, 'one shard per batch');
    this.batches.push(cmds);
    await new Promise((r) => setImmediate(r));
    const forced = this.onBatch?.(cmds);
    return forced ?? cmds.map((c) => this.apply(c));
  }

  apply(c: readonly string[]): kv.RedisReply {
    this.log.push(c.join(' '));
    const [name, key, value] = c;
    if (name === 'set') { this.data.set(key!, value!); return kv.RedisReply.create({ type: T.SIMPLE_STRING, str: Buffer.from('OK') }); }
    if (name === 'incr') {
      const n = Number(this.data.get(key!) ?? '0') + 1;
      this.data.set(key!, String(n));
      return kv.RedisReply.create({ type: T.INTEGER, integer: BigInt(n) });
    }
    const v = this.data.get(key!);
    return v === undefined ? kv.RedisReply.create({ type: T.NIL }) : kv.RedisReply.create({ type: T.BULK_STRING, str: Buffer.from(v) });
  }

  /** The backend's one-command path. */
  async runAlone(c: CoalescedCommand): Promise<Reply> {
    const cmd = c.args.map((a) => a.toString());
    this.alone.push(cmd);
    await new Promise((r) => setImmediate(r));
    if (cmd[2] === 'too-big') return error('ERR value too large');
    const r = this.apply(cmd);
    return r.type === T.INTEGER ? integer(r.integer) : r.type === T.NIL ? NULL_BULK : r.type === T.SIMPLE_STRING ? simple('OK') : bulk(Buffer.from(r.str));
  }
}

function setup(o: { batchCommandsMax?: number; batchBytesMax?: number } = {}): { x: FakeExec; co: CrossClientCoalescer } {
  const x = new FakeExec();
  const co = new CrossClientCoalescer({
    exec: x, batchCommandsMax: o.batchCommandsMax ?? 256, batchBytesMax: o.batchBytesMax ?? 1 << 20, timeoutMs: 1000,
    runAlone: (_t, c) => x.runAlone(c),
  });
  return { x, co };
}

const cmd = (name: string, key: string, value?: string): CoalescedCommand => ({
  args: value === undefined ? args(name, key) : args(name, key, value), keys: [Buffer.from(key)], write: name !== 'get', nullArray: false,
});
const text = (r: Reply): string => {
  switch (r.type) {
    case 'bulk': case 'error': return Buffer.from(r.value).toString();
    case 'simple': return r.value;
    case 'integer': return String(r.value);
    default: return r.type;
  }
};

describe('CrossClientCoalescer', () => {
  it('batches concurrent clients per shard; every client sees its own replies in its own order', async () => {
    const { x, co } = setup();
    const clients = 20;
    const rounds = 5;
    await Promise.all(Array.from({ length: clients }, async (_, c) => {
      const shard = c % 2 === 0 ? 'A' : 'B';
      for (let i = 1; i <= rounds; i++) {
        // One command in flight per client, as backend-lane.ts guarantees.
        assert.equal(text(await co.submit('t', cmd('incr', `${shard}:c${c}`), 2)), String(i));
        assert.equal(text(await co.submit('t', cmd('get', `${shard}:c${c}`), 2)), String(i));
      }
    }));
    for (let c = 0; c < clients; c++) {
      const mine = x.log.filter((l) => l.endsWith(`:c${c}`));
      assert.deepEqual(mine, Array.from({ length: rounds }, () => [`incr ${c % 2 === 0 ? 'A' : 'B'}:c${c}`, `get ${c % 2 === 0 ? 'A' : 'B'}:c${c}`]).flat());
    }
    // Reads and writes never share a batch; batches carry many clients.
    for (const b of x.batches) assert.equal(new Set(b.map((c) => c[0] === 'get')).size, 1);
    // Every turn, all clients' commands of one shard and kind went out together.
    assert.ok(co.counters.batches <= 2 * 2 * rounds, `batches ${co.counters.batches}`);
    assert.equal(co.counters.batchedCommands, 2 * clients * rounds);
  });

  it('a batch stopped by an operating error re-runs each command alone: one client\'s failure is only its own', async () => {
    const { x, co } = setup();
    x.onBatch = (cmds) => (cmds.some((c) => c[2] === 'too-big') ? cmds.map(() => new KvError('REQUEST_TOO_LARGE', 'proposal too large')) : undefined);
    const [a, b, c] = await Promise.all([
      co.submit('t', cmd('set', 'A:1', 'too-big'), 2), co.submit('t', cmd('set', 'A:2', 'fine'), 2), co.submit('t', cmd('set', 'A:3', 'ok'), 2),
    ]);
    assert.equal(text(a), 'ERR value too large');
    assert.equal(text(b), 'OK');
    assert.equal(text(c), 'OK');
    assert.equal(x.batches.length, 1);
    assert.equal(x.alone.length, 3);
    assert.equal(x.data.get('A:2'), 'fine');
    // A per-command error in a batch is that command's only; a whole rejected batch re-runs all.
    x.onBatch = (cmds) => cmds.map((cm, i) => (i === 0 ? new KvError('NOT_LEADER', 'moved') : x.apply(cm)));
    const [d, e] = await Promise.all([co.submit('t', cmd('get', 'A:2'), 2), co.submit('t', cmd('get', 'A:3'), 2)]);
    assert.equal(text(d), 'fine');
    assert.equal(text(e), 'ok');
    assert.deepEqual(x.alone.at(-1), ['get', 'A:2']);
  });

  it('UNKNOWN_OUTCOME answers each write of the batch and is never re-sent; reads meeting it run again alone', async () => {
    const { x, co } = setup();
    const unknown = new KvError('UNKNOWN_OUTCOME', 'answer lost');
    x.onBatch = (cmds) => cmds.map(() => unknown);
    const writes = await Promise.all([co.submit('t', cmd('set', 'A:1', 'v'), 2), co.submit('t', cmd('incr', 'A:2'), 2)]);
    for (const w of writes) assert.match(text(w), /may or may not have been applied|answer lost/);
    assert.equal(x.alone.length, 0);
    const reads = await Promise.all([co.submit('t', cmd('get', 'A:1'), 2), co.submit('t', cmd('get', 'A:9'), 2)]);
    assert.deepEqual(reads.map(text), ['null', 'null']);
    assert.equal(x.alone.length, 2);
  });

  it('flushes a queue at once at batchCommandsMax and splits by batchBytesMax', async () => {
    const { x, co } = setup({ batchCommandsMax: 3 });
    const all = Array.from({ length: 7 }, (_, i) => co.submit('t', cmd('set', `A:${i}`, 'v'), 2));
    // Two full queues went out before this turn ended; the seventh waits for setImmediate.
    assert.equal(x.groupCalls, 2);
    await Promise.all(all);
    assert.deepEqual(x.batches.map((b) => b.length), [3, 3]);
    assert.equal(x.alone.length, 1);
    const small = setup({ batchBytesMax: 40 });
    await Promise.all(Array.from({ length: 4 }, (_, i) => small.co.submit('t', cmd('set', `A:${i}`, 'x'.repeat(12)), 2)));
    assert.ok(small.x.batches.length + small.x.alone.length >= 2, 'the byte limit split the queue');
    for (const b of small.x.batches) assert.ok(b.length <= 2);
  });

  it('a client that disconnected before the flush has its command dropped, not sent', async () => {
    const { x, co } = setup();
    const gone = new AbortController();
    const p1 = co.submit('t', cmd('set', 'A:1', 'v'), 2, gone.signal);
    const p2 = co.submit('t', cmd('set', 'A:2', 'v'), 2);
    gone.abort();
    assert.equal(text(await p1), 'ERR client disconnected');
    assert.equal(text(await p2), 'OK');
    assert.equal(x.data.has('A:1'), false);
  });

  it('commands spanning shards, a lone command and routing failures take the one-by-one path', async () => {
    const { x, co } = setup();
    const span: CoalescedCommand = { args: args('mget', 'A:1', 'B:1'), keys: [Buffer.from('A:1'), Buffer.from('B:1')], write: false, nullArray: false };
    await Promise.all([co.submit('t', span, 2), co.submit('t', cmd('get', 'A:1'), 2), co.submit('t', cmd('get', 'B:1'), 2)]);
    assert.equal(x.batches.length, 0);
    assert.equal(x.alone.length, 3);
    x.failGroup = new KvError('UNAVAILABLE', 'no routes');
    await Promise.all([co.submit('t', cmd('set', 'A:1', 'v'), 2), co.submit('t', cmd('set', 'A:2', 'v'), 2)]);
    assert.equal(x.batches.length, 0);
    assert.equal(x.alone.length, 5);
    assert.throws(() => new CrossClientCoalescer({ exec: x, batchCommandsMax: 0, batchBytesMax: 1, timeoutMs: 1, runAlone: () => Promise.resolve(NULL_BULK) }), /batchCommandsMax/);
  });
});
