/**
 * The gRPC `Kv` service of a storage node.
 *
 * Reads: route and check (kv-routing.ts), pass the consistency gate (leader ReadIndex or
 * lease, follower ReadIndex, or bounded staleness), then read the engine's local state.
 * Writes: route and check, require leadership, take the keys' latches (shared with Redis
 * commands), resolve TTLs into absolute expiries with this leader's wall clock (the same
 * stamp goes into the command header, so every replica applies identical expiry
 * decisions), propose one RaftCommand and answer with the engine's apply result (latches
 * released after it). A write whose deadline passes after it was proposed answers
 * UNKNOWN_OUTCOME (it may still apply); before, TIMEOUT.
 * Exec: Redis commands on the shard leader, delegated to exec-service.ts.
 *
 * Every outcome is a response with `error` set or absent (errors.ts); gRPC status codes
 * are left to transport failures (e.g. a request above requestBytesMax is refused by gRPC
 * with RESOURCE_EXHAUSTED before it is read).
 */
import type { handleUnaryCall, sendUnaryData, ServerUnaryCall } from '@grpc/grpc-js';
import { KvError } from '@shoal/common';
import type { KeyRange, Logger, PartitionScheme, Result } from '@shoal/common';
import { command, common, kv } from '@shoal/proto';
import type { NodeMetrics, ReadConsistencyName } from './metrics.js';
import type { Scheduler } from '../raft/scheduler.js';
import { KeyCodec, LatchManager, RedisExecutor, WatchRevisions } from '../redis/index.js';
import type { EngineRawAccess, LatchGuard, ShardInfo } from '../redis/index.js';
import type { SubkeySweepLoop } from '../redis/sweep-loop.js';
import { ExecService } from './exec-service.js';
import { asKvError, errorDetail, withShard } from './errors.js';
import { KvRouting, shardRange } from './kv-routing.js';
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
  /** What the Redis executor reads through (engine/ Engine.rawReadAccess); absent: Exec is NOT_SUPPORTED. */
  rawReadAccess?(shardId: number): { readonly access: EngineRawAccess; readonly scheme: PartitionScheme; readonly range: KeyRange };
  /** The engine's pre-proposal checks (engine/ Engine.validateCommand). */
  validateCommand?(shardId: number, cmd: command.RaftCommand): KvError | undefined;
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

/** Label values of kv_reads_served_total per wire consistency (the gate refused any other). */
const CONSISTENCY_NAMES: ReadonlyMap<common.ReadConsistency, ReadConsistencyName> = new Map([
  [common.ReadConsistency.LINEARIZABLE, 'linearizable'],
  [common.ReadConsistency.FOLLOWER, 'follower'],
  [common.ReadConsistency.STALE, 'stale'],
]);

type Op = NonNullable<command.RaftCommand['op']>;

export class KvService {
  private readonly routing: KvRouting;
  private readonly scheduler: Scheduler;
  private readonly engine: EngineReads;
  /**
   * The node's per-key latches (redis/latches.ts): Redis write commands and plain KV writes
   * on a leader hold them from before they read until their proposal is applied here. Writes
   * to one key are serialized by them, so a key's queue is bounded like its shard's pending
   * proposals (pendingProposalsPerShardMax, at most 1000): a hot key still answers
   * SERVER_BUSY rather than queueing without bound.
   */
  readonly latches: LatchManager;
  /** WATCH marks: every keyed write touches its keys under their latches (redis/watch-revisions.ts). */
  readonly revisions = new WatchRevisions();
  private readonly execs: ExecService;
  readonly subkeySweeper: SubkeySweepLoop;

  constructor(private readonly o: KvServiceOptions) {
    this.latches = new LatchManager({ queuePerKeyMax: Math.min(1000, o.scheduler.pendingProposalsPerShardMax) });
    this.scheduler = o.scheduler;
    this.engine = o.engine;
    this.routing = new KvRouting(o.scheduler, o.engine, o.limits, o.metrics);
    this.execs = new ExecService({
      scheduler: this.scheduler, engine: this.engine, routing: this.routing, latches: this.latches, revisions: this.revisions,
      executor: new RedisExecutor({ limits: { keyBytesMax: o.limits.keyBytesMax, stringBytesMax: o.limits.valueBytesMax } }),
      gate: (rt, header) => this.gate(rt, header),
      decorate: (rt, e) => this.decorate(rt, e),
      proposeCommand: (rt, cmd) => this.proposeCommand(rt, cmd),
      commandHeader: (rt, header, nowMs) => this.commandHeader(rt, header, nowMs),
      shardInfo: (rt) => this.shardInfo(rt),
    });
    // Old collection versions' subkeys, deleted in the background on the shards this node
    // leads (bounded per interval, through Raft). Its timer does not hold the process;
    // NodeServer's shutdown stops it before the scheduler.
    this.subkeySweeper = this.execs.subkeySweeper(undefined, (shardId, e) => o.logger.debug({ err: e, shardId }, 'subkey sweep step failed'));
    this.subkeySweeper.start();
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
      exec: this.unary('Exec', (q, d) => this.exec(q, d), (error) => kv.ExecResponse.create({ error })),
    };
  }

  // ---- reads ------------------------------------------------------------------------------

  async get(req: kv.GetRequest, callDeadlineMs = Infinity): Promise<kv.GetResponse> {
    const rt = this.routing.route(req.header, callDeadlineMs);
    this.routing.checkKey(rt, req.key);
    await this.gate(rt, req.header!);
    const res = await this.engine.get(rt.r.shardId, req.key, Date.now());
    this.countServed(rt, req.header!);
    return kv.GetResponse.create({ found: res.found, value: res.value, expireAtUnixMs: res.expireAtUnixMs });
  }

  async batchGet(req: kv.BatchGetRequest, callDeadlineMs = Infinity): Promise<kv.BatchGetResponse> {
    const rt = this.routing.route(req.header, callDeadlineMs);
    this.routing.checkBatch(req.keys.length, 'keys');
    req.keys.forEach((k, i) => this.routing.checkKey(rt, k, `keys[${i}]`));
    await this.gate(rt, req.header!);
    const results = await this.engine.batchGet(rt.r.shardId, req.keys, Date.now());
    this.countServed(rt, req.header!);
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
    this.countServed(rt, req.header!);
    return kv.ScanResponse.create({ pairs: page.pairs, more: page.more, nextKey: page.nextKey });
  }

  /**
   * kv_reads_served_total: one per answered read, labelled with the replica's role at the
   * time, so a test (or an operator) can see that follower and stale reads reach followers
   * and linearizable ones only leaders.
   */
  private countServed(rt: Routed, header: kv.RequestHeader): void {
    const m = this.o.metrics;
    if (m === undefined) return;
    const consistency = CONSISTENCY_NAMES.get(header.consistency);
    if (consistency === undefined) return;
    m.readsServed.inc({ consistency, role: rt.r.isLeader ? 'leader' : 'follower' });
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
    return this.write(rt, req.header!, [req.key], (now) => ({
      $case: 'put',
      put: command.PutCommand.create({
        key: req.key, value: req.value, expireAtUnixMs: expireAt(now, req.ttlMs, rt.defaultTtlMs),
        condition: req.condition, returnPrevious: req.returnPrevious,
      }),
    })) as Promise<kv.PutResponse>;
  }

  async delete(req: kv.DeleteRequest, callDeadlineMs = Infinity): Promise<kv.DeleteResponse> {
    const rt = this.routing.route(req.header, callDeadlineMs);
    this.routing.checkKey(rt, req.key);
    return this.write(rt, req.header!, [req.key], () => ({ $case: 'delete', delete: command.DeleteCommand.create({ key: req.key }) })) as Promise<kv.DeleteResponse>;
  }

  async compareAndSwap(req: kv.CompareAndSwapRequest, callDeadlineMs = Infinity): Promise<kv.CompareAndSwapResponse> {
    const rt = this.routing.route(req.header, callDeadlineMs);
    this.routing.checkKey(rt, req.key);
    this.routing.checkValue(req.expectedValue, 'expectedValue');
    this.routing.checkValue(req.newValue, 'newValue');
    return this.write(rt, req.header!, [req.key], (now) => ({
      $case: 'cas',
      cas: command.CompareAndSwapCommand.create({
        key: req.key, expectAbsent: req.expectAbsent, expectedValue: req.expectedValue, newValue: req.newValue, delete: req.delete,
        expireAtUnixMs: expireAt(now, req.ttlMs, rt.defaultTtlMs),
      }),
    })) as Promise<kv.CompareAndSwapResponse>;
  }

  async incr(req: kv.IncrRequest, callDeadlineMs = Infinity): Promise<kv.IncrResponse> {
    const rt = this.routing.route(req.header, callDeadlineMs);
    this.routing.checkKey(rt, req.key);
    return this.write(rt, req.header!, [req.key], (now) => ({
      $case: 'incr',
      incr: command.IncrCommand.create({ key: req.key, delta: req.delta, expireAtUnixMs: expireAt(now, req.ttlMs, rt.defaultTtlMs) }),
    })) as Promise<kv.IncrResponse>;
  }

  async batchWrite(req: kv.BatchWriteRequest, callDeadlineMs = Infinity): Promise<kv.BatchWriteResponse> {
    const rt = this.routing.route(req.header, callDeadlineMs);
    this.routing.checkBatch(req.ops.length, 'ops');
    req.ops.forEach((op, i) => {
      this.routing.checkKey(rt, op.key, `ops[${i}].key`);
      if (op.type === kv.WriteOpType.PUT) this.routing.checkValue(op.value, `ops[${i}].value`);
    });
    return this.write(rt, req.header!, req.ops.map((op) => op.key), (now) => {
      const ops = req.ops.map((op) => command.WriteOp.create({
        type: op.type, key: op.key, value: op.value,
        expireAtUnixMs: op.type === kv.WriteOpType.PUT ? expireAt(now, op.ttlMs, rt.defaultTtlMs) : 0,
      }));
      return { $case: 'batchWrite', batchWrite: command.BatchWriteCommand.create({ ops }) };
    }) as Promise<kv.BatchWriteResponse>;
  }

  async deleteRange(req: kv.DeleteRangeRequest, callDeadlineMs = Infinity): Promise<kv.DeleteRangeResponse> {
    const rt = this.routing.route(req.header, callDeadlineMs);
    this.routing.checkKeySize(req.startKey, 'startKey');
    this.routing.checkKeySize(req.endKey, 'endKey');
    // A range has no latches: it is a bulk, non-Redis operation (see README "Service hooks").
    return this.write(rt, req.header!, [], () => ({
      $case: 'deleteRange', deleteRange: command.DeleteRangeCommand.create({ startKey: req.startKey, endKey: req.endKey }),
    })) as Promise<kv.DeleteRangeResponse>;
  }

  /**
   * Proposes one command on the leader and returns the engine's response for it. The keys'
   * latches (shared with Redis commands) are held from before the stamp is taken until the
   * command is applied here, so a Redis batch never overwrites a KV write it did not read
   * and stamps never go backwards per key.
   */
  private async write(rt: Routed, header: kv.RequestHeader, keys: readonly Uint8Array[], build: (nowMs: number) => Op): Promise<unknown> {
    this.routing.requireLeader(rt);
    const guard = keys.length === 0 ? undefined : await this.acquireLatches(rt, keys);
    // WATCH marks, before proposing (under the latches; a keyless DeleteRange marks the
    // whole shard before and after, see watch-revisions.ts).
    this.noteWrite(rt, keys);
    try {
      const nowMs = Date.now();
      const op = build(nowMs);
      scheduleSweep(rt, op);
      const outcome = await this.proposeCommand(rt, command.RaftCommand.create({ header: this.commandHeader(rt, header, nowMs), op }));
      if (!outcome.ok) throw this.decorate(rt, outcome.error);
      return outcome.value.response;
    } finally {
      if (keys.length === 0) this.noteWrite(rt, keys);
      guard?.release();
    }
  }

  private noteWrite(rt: Routed, keys: readonly Uint8Array[]): void {
    if (keys.length === 0) this.revisions.touchShard(rt.r.shardId);
    else this.revisions.touch(rt.r.shardId, keys.map((k) => new KeyCodec(this.shardInfo(rt)).dataKey(k)));
  }

  private commandHeader(rt: Routed, header: kv.RequestHeader, nowMs: number): command.CommandHeader {
    return command.CommandHeader.create({
      shardId: rt.r.shardId, epoch: header.epoch, proposedAtUnixMs: nowMs, requestId: header.requestId, origin: header.origin,
    });
  }

  private async proposeCommand(rt: Routed, cmd: command.RaftCommand): Promise<ApplyOutcome> {
    this.o.metrics?.proposals.inc();
    try {
      return await this.scheduler.propose(rt.r, command.RaftCommand.encode(cmd).finish(), rt.deadlineMs) as ApplyOutcome;
    } catch (e) {
      throw this.decorate(rt, e);
    }
  }

  /** The data-key latches of user keys of the routed shard, waiting at most until the request's deadline. */
  private async acquireLatches(rt: Routed, keys: readonly Uint8Array[]): Promise<LatchGuard> {
    const codec = new KeyCodec(this.shardInfo(rt));
    const signal = AbortSignal.timeout(Math.max(0, rt.deadlineMs - Date.now()));
    try {
      return await this.latches.acquire(keys.map((k) => codec.dataKey(k)), signal);
    } catch (e) {
      throw this.decorate(rt, e);
    }
  }

  private shardInfo(rt: Routed): ShardInfo {
    return { tableId: rt.r.descriptor.tableId, partition: rt.partition, range: shardRange(rt.r.descriptor) };
  }

  // ---- Redis commands ---------------------------------------------------------------------

  /** Kv.Exec: Redis commands on the shard leader (exec-service.ts). */
  exec(req: kv.ExecRequest, callDeadlineMs = Infinity): Promise<kv.ExecResponse> {
    return this.execs.exec(req, callDeadlineMs);
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
