/**
 * The chaos workload: N concurrent clients over a small, rotating key set, each running a
 * random mix of get / put / delete / compare-and-swap / put-if-absent / increment and
 * recording every operation (start and end on the run's one monotonic clock, the result
 * ok / fail / unknown) into the history (checker/history-file.ts).
 *
 * Keys: `KEYS_PER_GENERATION` keys per generation; after `rotateOps` operations the
 * workload moves to fresh keys (as Jepsen's independent keys), so unknown outcomes per key
 * stay few and the checker's search stays cheap. Even key slots are registers (unique
 * string values, CAS, put-if-absent), odd ones counters (numeric puts and increments).
 *
 * Classification (the SDK's contract, common/src/errors.ts): a read that fails is `fail`
 * (dropped by the checker); a write failing with UNKNOWN_OUTCOME, or with anything that is
 * not a KvError, is `unknown`; any other KvError means nothing was applied: `fail`.
 */
import { isKvError, Shoal } from '@shoal/client-sdk';
import type { ReadConsistency, Table } from '@shoal/client-sdk';
import { Redis, ReplyError } from 'ioredis';
import type { HistoryOpName, HistoryRecord, HistoryResult, HistoryValue, HistoryWriter } from './checker/index.js';
import { Prng } from '../sim/prng.js';

export const KEYS_PER_GENERATION = 8;
/** Deadline of one client call; the SDK turns a sent write past it into UNKNOWN_OUTCOME. */
export const OP_TIMEOUT_MS = 5000;

/** One client's view of the store: each call returns the `ok` value or throws. */
export interface KvClient {
  get(key: string): Promise<string | null>;
  put(key: string, value: string): Promise<void>;
  delete(key: string): Promise<boolean>;
  cas(key: string, expected: string | null, next: string | null): Promise<{ swapped: boolean; current: string | null }>;
  putIfAbsent(key: string, value: string): Promise<boolean>;
  increment(key: string): Promise<string>;
  /** Whether an error thrown by a write means it certainly did not apply. */
  certainlyNotApplied(e: unknown): boolean;
  readonly supportsCas: boolean;
  close(): Promise<void>;
}

export class SdkClient implements KvClient {
  readonly supportsCas = true;
  private constructor(private readonly db: Shoal, private readonly table: Table) {}

  /** `reads`: the SDK's read consistency (default linearizable; `stale` is for checking the checker). */
  static async connect(metaservers: readonly string[], reads: ReadConsistency = 'linearizable'): Promise<SdkClient> {
    const db = await Shoal.connect({ metaservers, timeoutMs: OP_TIMEOUT_MS, readConsistency: reads });
    return new SdkClient(db, db.table('default'));
  }

  async get(key: string): Promise<string | null> {
    return (await this.table.get(key, { valueEncoding: 'utf8' })) ?? null;
  }

  async put(key: string, value: string): Promise<void> {
    await this.table.put(key, value);
  }

  delete(key: string): Promise<boolean> {
    return this.table.delete(key);
  }

  async cas(key: string, expected: string | null, next: string | null): Promise<{ swapped: boolean; current: string | null }> {
    const r = await this.table.compareAndSwap(key, expected, next, { valueEncoding: 'utf8' });
    return { swapped: r.swapped, current: r.current ?? null };
  }

  async putIfAbsent(key: string, value: string): Promise<boolean> {
    return (await this.table.put(key, value, { ifAbsent: true })).applied;
  }

  async increment(key: string): Promise<string> {
    return String(await this.table.incr(key, 1n));
  }

  certainlyNotApplied(e: unknown): boolean {
    return isKvError(e) && e.code !== 'UNKNOWN_OUTCOME';
  }

  close(): Promise<void> {
    return this.db.close();
  }
}

/**
 * Through `shoal proxy` (RESP). ioredis must never re-send a command on its own (a
 * re-sent write could apply twice), so retries, the offline queue and resending after a
 * reconnect are off. UNKNOWN_OUTCOME reaches RESP as a plain `ERR` reply (KvError.toResp),
 * so every `ERR` reply and every lost connection counts as unknown; the specific prefixes
 * (TRYAGAIN, WRONGTYPE, CROSSSLOT, …) say nothing was applied.
 */
export class RespClient implements KvClient {
  readonly supportsCas = false;
  private constructor(private readonly redis: Redis) {}

  static async connect(address: string): Promise<RespClient> {
    const at = address.lastIndexOf(':');
    const redis = new Redis({
      host: address.slice(0, at), port: Number(address.slice(at + 1)), lazyConnect: true, maxRetriesPerRequest: 0,
      enableOfflineQueue: false, autoResendUnfulfilledCommands: false, commandTimeout: OP_TIMEOUT_MS,
      retryStrategy: (times) => Math.min(times * 100, 1000),
    });
    redis.on('error', () => undefined);
    await redis.connect();
    return new RespClient(redis);
  }

  get(key: string): Promise<string | null> {
    return this.redis.get(key);
  }

  async put(key: string, value: string): Promise<void> {
    await this.redis.set(key, value);
  }

  async delete(key: string): Promise<boolean> {
    return (await this.redis.del(key)) === 1;
  }

  cas(): Promise<{ swapped: boolean; current: string | null }> {
    return Promise.reject(new Error('compare-and-swap is not a Redis command'));
  }

  async putIfAbsent(key: string, value: string): Promise<boolean> {
    return (await this.redis.set(key, value, 'NX')) === 'OK';
  }

  async increment(key: string): Promise<string> {
    return String(await this.redis.incr(key));
  }

  certainlyNotApplied(e: unknown): boolean {
    return e instanceof ReplyError && !String((e as Error).message).startsWith('ERR');
  }

  async close(): Promise<void> {
    this.redis.disconnect();
    return Promise.resolve();
  }
}

export interface WorkloadOptions {
  readonly clients: readonly KvClient[];
  readonly history: HistoryWriter;
  readonly seed: number;
  /** The run's monotonic clock, ms. */
  readonly now: () => number;
  /** Operations (all clients together) before moving to fresh keys. */
  readonly rotateOps: number;
  /** The workload stops issuing operations once this resolves. */
  readonly stop: Promise<void>;
}

export interface WorkloadCounts {
  ok: number;
  fail: number;
  unknown: number;
}

/** Runs the workload until `stop`; resolves with the counts and every key written to (or tried). */
export async function runWorkload(o: WorkloadOptions): Promise<{ counts: WorkloadCounts; keys: string[] }> {
  const counts: WorkloadCounts = { ok: 0, fail: 0, unknown: 0 };
  const keys = new Set<string>();
  let stopped = false;
  void o.stop.then(() => {
    stopped = true;
  });
  let issued = 0;
  const keyOf = (slot: number): string => `chaos-g${Math.floor(issued / o.rotateOps)}-k${slot}`;
  await Promise.all(o.clients.map(async (client, id) => {
    const rng = new Prng(o.seed, 1000 + id);
    const seen = new Map<string, string | null>();
    let n = 0;
    while (!stopped) {
      const slot = rng.intn(KEYS_PER_GENERATION);
      const key = keyOf(slot);
      issued++;
      keys.add(key);
      const r = await runOne(client, id, key, slot % 2 === 1, rng, seen, `c${id}-${n++}`, o.now);
      counts[r.result.status]++;
      o.history.record(r);
    }
  }));
  return { counts, keys: [...keys].sort() };
}

type Planned = { op: HistoryOpName; args: HistoryValue[]; run: () => Promise<{ value?: HistoryValue; current?: string | null; seen?: string | null }> };

function plan(c: KvClient, key: string, counter: boolean, rng: Prng, last: string | null, fresh: string): Planned {
  const roll = rng.intn(100);
  if (roll < 35) return { op: 'get', args: [], run: async () => { const v = await c.get(key); return { value: v, seen: v }; } };
  if (counter) {
    if (roll < 80) return { op: 'increment', args: [], run: async () => { const v = await c.increment(key); return { value: v, seen: v }; } };
    if (roll < 92) {
      const v = String(rng.intn(1000));
      return { op: 'put', args: [v], run: async () => { await c.put(key, v); return { seen: v }; } };
    }
    return { op: 'delete', args: [], run: async () => ({ value: await c.delete(key), seen: null }) };
  }
  if (roll < 55) return { op: 'put', args: [fresh], run: async () => { await c.put(key, fresh); return { seen: fresh }; } };
  if (roll < 65) return { op: 'delete', args: [], run: async () => ({ value: await c.delete(key), seen: null }) };
  if (roll < 85 && c.supportsCas) {
    const next = rng.chance(0.1) ? null : fresh;
    return {
      op: 'cas', args: [last, next], run: async () => {
        const r = await c.cas(key, last, next);
        return r.swapped ? { value: true, seen: next } : { value: false, current: r.current, seen: r.current };
      },
    };
  }
  return {
    op: 'put-if-absent', args: [fresh], run: async () => {
      const stored = await c.putIfAbsent(key, fresh);
      return stored ? { value: true, seen: fresh } : { value: false };
    },
  };
}

async function runOne(
  c: KvClient, id: number, key: string, counter: boolean, rng: Prng, seen: Map<string, string | null>, fresh: string, now: () => number,
): Promise<HistoryRecord> {
  const p = plan(c, key, counter, rng, seen.get(key) ?? null, fresh);
  const start = now();
  let result: HistoryResult;
  try {
    const r = await p.run();
    if (r.seen !== undefined) seen.set(key, r.seen);
    result = { status: 'ok', ...(r.value === undefined ? {} : { value: r.value }), ...(r.current === undefined ? {} : { current: r.current }) };
  } catch (e) {
    const error = isKvError(e) ? `${e.code}: ${e.message}` : String(e);
    result = p.op === 'get' || c.certainlyNotApplied(e) ? { status: 'fail', error } : { status: 'unknown', error };
  }
  return { client: id, key, op: p.op, args: p.args, start, end: now(), result };
}
