/**
 * The gRPC `Kv` service of a storage node.
 *
 * Reads: route and check (kv-routing.ts), pass the consistency gate (leader ReadIndex or
 * lease, follower ReadIndex, or bounded staleness), then read the engine's local state.
 * Writes: route and check, require leadership, resolve TTLs into absolute expiries with
 * this leader's wall clock (the same stamp goes into the command header, so every replica
 * applies identical expiry decisions), propose one RaftCommand and answer with the
 * engine's apply result. A write whose deadline passes after it was proposed answers
 * UNKNOWN_OUTCOME (it may still apply); before, TIMEOUT.
 *
 * Every outcome is a response with `error` set or absent (errors.ts); gRPC status codes
 * are left to transport failures (e.g. a request above requestBytesMax is refused by gRPC
 * with RESOURCE_EXHAUSTED before it is read).
 */
import type { handleUnaryCall, sendUnaryData, ServerUnaryCall } from '@grpc/grpc-js';
import { KvError } from '@shoal/common';
import type { Logger, Result } from '@shoal/common';
import { command, common, kv } from '@shoal/proto';
import type { NodeMetrics } from './metrics.js';
import type { Scheduler } from '../raft/scheduler.js';
import { asKvError, errorDetail, withShard } from './errors.js';
import { KvRouting } from './kv-routing.js';
import type { KvLimits, Routed, TableLookup } from './kv-routing.js';

export interface EngineGetResult {
  readonly found: boolean;
  readonly value: Uint8Array;
  readonly expireAtUnixMs: number;
}

/** The engine's read side (engine/ Engine). */
export interface EngineReads extends TableLookup {
  get(shardId: number, key: Uint8Array, nowMs: number): EngineGetResult | Promise<EngineGetResult>;
  batchGet(shardId: number, keys: readonly Uint8Array[], nowMs: number): readonly EngineGetResult[] | Promise<readonly EngineGetResult[]>;
  scan(shardId: number, req: { startKey: Uint8Array; endKey: Uint8Array; limit: number; reverse: boolean; keysOnly: boolean }, nowMs: number):
    Promise<{ readonly pairs: readonly kv.KeyValue[]; readonly more: boolean; readonly nextKey: Uint8Array }>;
}

/** What applying a command returns (engine/ ApplyOutcome). */
type ApplyOutcome = Result<{ readonly op: string; readonly response: unknown }, KvError>;

export interface KvServiceOptions {
  readonly scheduler: Scheduler;
  readonly engine: EngineReads;
  readonly limits: KvLimits;
  readonly metrics?: NodeMetrics;
  readonly logger: Logger;
}

type Op = NonNullable<command.RaftCommand['op']>;

export class KvService {
  private readonly routing: KvRouting;
  private readonly scheduler: Scheduler;
  private readonly engine: EngineReads;

  constructor(private readonly o: KvServiceOptions) {
    this.scheduler = o.scheduler;
    this.engine = o.engine;
    this.routing = new KvRouting(o.scheduler, o.engine, o.limits, o.metrics);
  }

  /** Handlers for `server.addService(kv.KvService, ...)`. */
  handlers(): kv.KvServer {
    return {
      get: this.unary('Get', (q, d) => this.get(q, d), (error) => kv.GetResponse.create({ error })),
      batchGet: this.unary('BatchGet', (q, d) => this.batchGet(q, d), (error) => kv.BatchGetResponse.create({ error })),
      put: this.unary('Put', (q, d) => this.put(q, d), (error) => kv.PutResponse.create({ error })),
      delete: this.unary('Delete', (q, d) => this.delete(q, d), (error) => kv.DeleteResponse.create({ error })),
      compareAndSwap: this.unary('CompareAndSwap', (q, d) => this.compareAndSwap(q, d), (error) => kv.CompareAndSwapResponse.create({ error })),
      incr: this.unary('Incr', (q, d) => this.incr(q, d), (error) => kv.IncrResponse.create({ error })),
      batchWrite: this.unary('BatchWrite', (q, d) => this.batchWrite(q, d), (error) => kv.BatchWriteResponse.create({ error })),
      scan: this.unary('Scan', (q, d) => this.scan(q, d), (error) => kv.ScanResponse.create({ error })),
      deleteRange: this.unary('DeleteRange', (q, d) => this.deleteRange(q, d), (error) => kv.DeleteRangeResponse.create({ error })),
      exec: this.unary('Exec', () => Promise.reject(new KvError('NOT_SUPPORTED', 'Exec (Redis data model) is served by a later release')),
        (error) => kv.ExecResponse.create({ error })),
    };
  }

  // ---- reads ------------------------------------------------------------------------------

  async get(req: kv.GetRequest, callDeadlineMs = Infinity): Promise<kv.GetResponse> {
    const rt = this.routing.route(req.header, callDeadlineMs);
    this.routing.checkKey(rt, req.key);
    await this.gate(rt, req.header!);
    const res = await this.engine.get(rt.r.shardId, req.key, Date.now());
    return kv.GetResponse.create({ found: res.found, value: res.value, expireAtUnixMs: res.expireAtUnixMs });
  }

  async batchGet(req: kv.BatchGetRequest, callDeadlineMs = Infinity): Promise<kv.BatchGetResponse> {
    const rt = this.routing.route(req.header, callDeadlineMs);
    this.routing.checkBatch(req.keys.length, 'keys');
    req.keys.forEach((k, i) => this.routing.checkKey(rt, k, `keys[${i}]`));
    await this.gate(rt, req.header!);
    const results = await this.engine.batchGet(rt.r.shardId, req.keys, Date.now());
    return kv.BatchGetResponse.create({
      results: results.map((g) => kv.GetResult.create({ found: g.found, value: g.value, expireAtUnixMs: g.expireAtUnixMs })),
    });
  }

  async scan(req: kv.ScanRequest, callDeadlineMs = Infinity): Promise<kv.ScanResponse> {
    const rt = this.routing.route(req.header, callDeadlineMs);
    this.routing.checkKeySize(req.startKey, 'startKey');
    this.routing.checkKeySize(req.endKey, 'endKey');
    await this.gate(rt, req.header!);
    const page = await this.engine.scan(rt.r.shardId, {
      startKey: req.startKey, endKey: req.endKey, limit: this.routing.scanLimit(req.limit), reverse: req.reverse, keysOnly: req.keysOnly,
    }, Date.now());
    return kv.ScanResponse.create({ pairs: page.pairs, more: page.more, nextKey: page.nextKey });
  }

  private async gate(rt: Routed, header: kv.RequestHeader): Promise<void> {
    try {
      await this.routing.readGate(rt, header);
    } catch (e) {
      throw this.decorate(rt, e);
    }
  }

  // ---- writes -----------------------------------------------------------------------------

  async put(req: kv.PutRequest, callDeadlineMs = Infinity): Promise<kv.PutResponse> {
    const rt = this.routing.route(req.header, callDeadlineMs);
    this.routing.checkKey(rt, req.key);
    this.routing.checkValue(req.value);
    const now = Date.now();
    return this.write(rt, req.header!, now, {
      $case: 'put',
      put: command.PutCommand.create({
        key: req.key, value: req.value, expireAtUnixMs: expireAt(now, req.ttlMs, rt.defaultTtlMs),
        condition: req.condition, returnPrevious: req.returnPrevious,
      }),
    }) as Promise<kv.PutResponse>;
  }

  async delete(req: kv.DeleteRequest, callDeadlineMs = Infinity): Promise<kv.DeleteResponse> {
    const rt = this.routing.route(req.header, callDeadlineMs);
    this.routing.checkKey(rt, req.key);
    return this.write(rt, req.header!, Date.now(), { $case: 'delete', delete: command.DeleteCommand.create({ key: req.key }) }) as Promise<kv.DeleteResponse>;
  }

  async compareAndSwap(req: kv.CompareAndSwapRequest, callDeadlineMs = Infinity): Promise<kv.CompareAndSwapResponse> {
    const rt = this.routing.route(req.header, callDeadlineMs);
    this.routing.checkKey(rt, req.key);
    this.routing.checkValue(req.expectedValue, 'expectedValue');
    this.routing.checkValue(req.newValue, 'newValue');
    const now = Date.now();
    return this.write(rt, req.header!, now, {
      $case: 'cas',
      cas: command.CompareAndSwapCommand.create({
        key: req.key, expectAbsent: req.expectAbsent, expectedValue: req.expectedValue, newValue: req.newValue, delete: req.delete,
        expireAtUnixMs: expireAt(now, req.ttlMs, rt.defaultTtlMs),
      }),
    }) as Promise<kv.CompareAndSwapResponse>;
  }

  async incr(req: kv.IncrRequest, callDeadlineMs = Infinity): Promise<kv.IncrResponse> {
    const rt = this.routing.route(req.header, callDeadlineMs);
    this.routing.checkKey(rt, req.key);
    const now = Date.now();
    return this.write(rt, req.header!, now, {
      $case: 'incr',
      incr: command.IncrCommand.create({ key: req.key, delta: req.delta, expireAtUnixMs: expireAt(now, req.ttlMs, rt.defaultTtlMs) }),
    }) as Promise<kv.IncrResponse>;
  }

  async batchWrite(req: kv.BatchWriteRequest, callDeadlineMs = Infinity): Promise<kv.BatchWriteResponse> {
    const rt = this.routing.route(req.header, callDeadlineMs);
    this.routing.checkBatch(req.ops.length, 'ops');
    const now = Date.now();
    const ops = req.ops.map((op, i) => {
      this.routing.checkKey(rt, op.key, `ops[${i}].key`);
      if (op.type === kv.WriteOpType.PUT) this.routing.checkValue(op.value, `ops[${i}].value`);
      return command.WriteOp.create({
        type: op.type, key: op.key, value: op.value,
        expireAtUnixMs: op.type === kv.WriteOpType.PUT ? expireAt(now, op.ttlMs, rt.defaultTtlMs) : 0,
      });
    });
    return this.write(rt, req.header!, now, { $case: 'batchWrite', batchWrite: command.BatchWriteCommand.create({ ops }) }) as Promise<kv.BatchWriteResponse>;
  }

  async deleteRange(req: kv.DeleteRangeRequest, callDeadlineMs = Infinity): Promise<kv.DeleteRangeResponse> {
    const rt = this.routing.route(req.header, callDeadlineMs);
    this.routing.checkKeySize(req.startKey, 'startKey');
    this.routing.checkKeySize(req.endKey, 'endKey');
    return this.write(rt, req.header!, Date.now(), {
      $case: 'deleteRange', deleteRange: command.DeleteRangeCommand.create({ startKey: req.startKey, endKey: req.endKey }),
    }) as Promise<kv.DeleteRangeResponse>;
  }

  /** Proposes one command on the leader and returns the engine's response for it. */
  private async write(rt: Routed, header: kv.RequestHeader, nowMs: number, op: Op): Promise<unknown> {
    this.routing.requireLeader(rt);
    const cmd = command.RaftCommand.encode(command.RaftCommand.create({
      header: command.CommandHeader.create({
        shardId: rt.r.shardId, epoch: header.epoch, proposedAtUnixMs: nowMs, requestId: header.requestId, origin: header.origin,
      }),
      op,
    })).finish();
    this.o.metrics?.proposals.inc();
    scheduleSweep(rt, op);
    let outcome: ApplyOutcome;
    try {
      outcome = await this.scheduler.propose(rt.r, cmd, rt.deadlineMs) as ApplyOutcome;
    } catch (e) {
      throw this.decorate(rt, e);
    }
    if (!outcome.ok) throw this.decorate(rt, outcome.error);
    return outcome.value.response;
  }

  /** Adds what the caller needs to retry: the descriptor (epoch/range errors), the group wakes on NOT_LEADER. */
  private decorate(rt: Routed, e: unknown): KvError {
    const ke = asKvError(e);
    if (ke.code === 'EPOCH_NOT_MATCH' || ke.code === 'KEY_NOT_IN_SHARD') return withShard(ke, rt.r.descriptor);
    if (ke.code === 'NOT_LEADER' && ke.details?.leaderHint === undefined) return this.routing.notLeader(rt.r);
    return ke;
  }

  // ---- plumbing ---------------------------------------------------------------------------

  private unary<Req, Res>(
    method: string, fn: (req: Req, callDeadlineMs: number) => Promise<Res>, fail: (error: common.ErrorDetail) => Res,
  ): handleUnaryCall<Req, Res> {
    return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
      const started = performance.now();
      const deadline = call.getDeadline();
      const callDeadlineMs = deadline instanceof Date ? deadline.getTime() : Number.isFinite(deadline) ? deadline : Infinity;
      let p: Promise<Res>;
      try {
        p = fn(call.request, callDeadlineMs);
      } catch (e) {
        p = Promise.reject(e);
      }
      p.then((res) => {
        this.observe(method, 'OK', started);
        callback(null, res);
      }, (e: unknown) => {
        const ke = asKvError(e);
        if (ke.code === 'INTERNAL' || ke.code === 'CORRUPTION' || ke.code === 'DISK_FAILURE') this.o.logger.error({ err: ke, method }, 'kv request failed');
        this.observe(method, ke.code, started);
        callback(null, fail(errorDetail(ke)));
      });
    };
  }

  private observe(method: string, code: string, started: number): void {
    const m = this.o.metrics;
    if (m === undefined) return;
    m.kvRequests.inc({ method, code });
    m.kvRequestSeconds.observe({ method }, (performance.now() - started) / 1000);
  }
}

/** A write with an expiry: the leader's TTL sweeper looks at the shard when it expires. */
function scheduleSweep(rt: Routed, op: Op): void {
  let at = 0;
  switch (op.$case) {
    case 'put': at = op.put.expireAtUnixMs; break;
    case 'cas': at = op.cas.expireAtUnixMs; break;
    case 'incr': at = op.incr.expireAtUnixMs; break;
    case 'batchWrite': for (const w of op.batchWrite.ops) if (w.expireAtUnixMs > 0 && (at === 0 || w.expireAtUnixMs < at)) at = w.expireAtUnixMs; break;
    default: break;
  }
  if (at === 0) return;
  const r = rt.r;
  if (r.ttlExpiryHintMs === 0 || at < r.ttlExpiryHintMs) r.ttlExpiryHintMs = at;
  if (!r.ttlSweepScheduled || r.ttlSweepAtMs > at) r.ttlSweepAtMs = at;
  r.ttlSweepScheduled = true;
}

/**
 * Absolute expiry of a write: `ttlMs` absent → the table's default TTL; 0 → never; else
 * the proposer's clock plus the TTL. 0 means "never expires".
 */
export function expireAt(nowMs: number, ttlMs: number | undefined, defaultTtlMs: number): number {
  const ttl = ttlMs ?? defaultTtlMs;
  return ttl > 0 ? nowMs + ttl : 0;
}
