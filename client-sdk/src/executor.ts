/**
 * Runs one request against one shard: route, pick a replica, send, and on failure learn
 * from the error and retry until the call's deadline.
 *
 * Retry policy (README "Retries and unknown outcomes"):
 * - A response error is retried only if its code is `retryable` in @shoal/common — the
 *   node promises such a request had no effect. NOT_LEADER follows the hint at once;
 *   EPOCH_NOT_MATCH / KEY_NOT_IN_SHARD patch the route cache with the node's descriptor
 *   (or reload routes) and retry at once; others back off with full jitter (SERVER_BUSY at
 *   least its `retryAfterMs`). At most IMMEDIATE_RETRIES_MAX retries in a row skip the
 *   back-off, so two nodes pointing at each other cannot spin.
 * - A transport failure after the request was handed to gRPC (deadline, lost connection)
 *   leaves the outcome unknown. Reads are retried (on another replica where allowed);
 *   writes fail at once with UNKNOWN_OUTCOME and are never re-sent. A write is only sent
 *   over a connection that is up, so "node unreachable" is known to be "not sent" and is
 *   retried.
 * - Retries never outlive the deadline, and do not give up before it either: a random
 *   back-off is cut short so that one last attempt (LAST_ATTEMPT_BUDGET_MS) fits before
 *   the deadline; only a server's `retryAfterMs` past the deadline, or a deadline too
 *   close for any attempt, ends the call early with TIMEOUT (nothing was applied), with
 *   the last error as `cause`.
 */
import { KvError } from '@shoal/common';
import type { KvErrorCode } from '@shoal/common';
import type { MethodDefinition } from '@grpc/grpc-js';
import { common, kv } from '@shoal/proto';
import type { ChannelPool } from './channel-pool.js';
import { emit } from './hooks.js';
import type { OpName } from './hooks.js';
import type { ResolvedOptions } from './options.js';
import type { CachedShard, ShardReplica } from './route-cache.js';
import { fromDetail, unary } from './rpc.js';
import type { WithError } from './rpc.js';
import type { NodeDirectory, TableRoutes } from './table-routes.js';
import { backoffMs, cancelledError, sleep } from './timing.js';
import type { Deadline } from './timing.js';

/** Retries in a row that may skip the back-off because the error told us where to go. */
const IMMEDIATE_RETRIES_MAX = 3;
/**
 * An attempt is only started with at least this much of the deadline left: one started
 * with a millisecond left cannot be answered in time, and for a write it would turn a
 * clean TIMEOUT (nothing applied) into UNKNOWN_OUTCOME.
 */
const ATTEMPT_BUDGET_MIN_MS = 10;
/**
 * A back-off is shortened to leave the last attempt this much of the deadline. Without it
 * a jittered back-off drawn past the deadline ended the call early — e.g. TIMEOUT after
 * 287 ms of a 1000 ms deadline during an election (test/sdk/faults.test.ts) — when an
 * attempt before the deadline could have succeeded.
 */
const LAST_ATTEMPT_BUDGET_MS = 50;

/** What the executor needs from the client. */
export interface ExecEnv {
  readonly pool: ChannelPool;
  readonly nodes: NodeDirectory;
  readonly options: ResolvedOptions;
}

/** One public call in progress. */
export interface CallContext {
  readonly op: OpName;
  readonly table: string;
  readonly deadline: Deadline;
  /** Aborted when the client gives up waiting for in-flight calls at close(). */
  readonly signal: AbortSignal;
  /** Sent in every request of the call (tracing, duplicate detection). */
  readonly requestId: number;
  /** RPC attempts so far, over all shards of the call. */
  attempts: number;
}

/** A plan's answer to "which shard now?": a shard, undefined (a hole: reload routes), or REGROUP. */
export const REGROUP = Symbol('regroup');
export type RouteChoice = CachedShard | undefined | typeof REGROUP;

/** Thrown when a multi-key request's keys no longer map to one shard; the caller re-splits them. */
export class RegroupSignal extends Error {
  constructor() {
    super('keys span several shards after a route change');
  }
}

/** How to run one request on one shard. */
export interface ShardPlan<Req, Res extends WithError> {
  readonly method: MethodDefinition<Req, Res>;
  /** Writes go to the leader and are never re-sent once their outcome is unknown. */
  readonly write: boolean;
  /** Reads only; writes use LINEARIZABLE (ignored by nodes). */
  readonly consistency: common.ReadConsistency;
  readonly maxStalenessMs: number;
  /** Picks the shard from the current cache; called again before every attempt. */
  route(t: TableRoutes): RouteChoice;
  /** The request for this attempt. */
  build(header: kv.RequestHeader, shard: CachedShard): Req;
}

/** A successful response and the shard (as cached when sent) that gave it. */
export interface ShardResult<Res> {
  readonly res: Res;
  readonly shard: CachedShard;
}

type Step<Res> =
  | { readonly kind: 'done'; readonly result: ShardResult<Res> }
  | {
    readonly kind: 'retry'; readonly error: KvError; readonly now: boolean; readonly shardId: number; readonly address: string;
    /** A node to prefer not to ask again in this call (it failed in a way another replica may not). */
    readonly avoidNodeId: number | undefined;
  };

/** Runs `plan` until it succeeds, fails for good, or the deadline passes. */
export async function execute<Req, Res extends WithError>(
  env: ExecEnv, ctx: CallContext, t: TableRoutes, plan: ShardPlan<Req, Res>,
): Promise<ShardResult<Res>> {
  const o = env.options;
  let immediate = 0;
  let backoffs = 0;
  let last: KvError | undefined;
  const avoid = new Set<number>();
  for (let retry = 1; ; retry++) {
    if (ctx.signal.aborted) throw cancelledError(ctx.op);
    if (ctx.deadline.remainingMs() < Math.min(ATTEMPT_BUDGET_MIN_MS, ctx.deadline.timeoutMs)) {
      throw last === undefined
        ? new KvError('TIMEOUT', `${ctx.op} on table ${ctx.table}: deadline of ${ctx.deadline.timeoutMs} ms passed before sending`)
        : timedOut(ctx, last);
    }
    const step = await attempt(env, ctx, t, plan, avoid);
    if (step.kind === 'done') return step.result;
    last = step.error;
    if (step.avoidNodeId !== undefined) avoid.add(step.avoidNodeId);
    const now = step.now && immediate < IMMEDIATE_RETRIES_MAX;
    immediate = now ? immediate + 1 : 0;
    const retryAfterMs = step.error.details?.retryAfterMs ?? 0;
    // The server asked for a pause the deadline does not leave room for: no attempt can succeed in time.
    if (retryAfterMs + ATTEMPT_BUDGET_MIN_MS > ctx.deadline.remainingMs()) throw timedOut(ctx, step.error);
    const jitteredMs = now ? 0 : backoffMs(backoffs++, o.backoffBaseMs, o.backoffMaxMs, o.random);
    const delayMs = Math.max(retryAfterMs, Math.min(jitteredMs, Math.max(0, ctx.deadline.remainingMs() - LAST_ATTEMPT_BUDGET_MS)));
    emit(o.hooks.onRetry, { op: ctx.op, table: ctx.table, shardId: step.shardId, address: step.address, code: step.error.code, attempt: retry, delayMs });
    await sleep(delayMs, ctx.signal);
  }
}

async function attempt<Req, Res extends WithError>(
  env: ExecEnv, ctx: CallContext, t: TableRoutes, plan: ShardPlan<Req, Res>, avoid: ReadonlySet<number>,
): Promise<Step<Res>> {
  const shard = await locate(ctx, t, plan);
  if (shard instanceof KvError) return retryStep(shard, false, 0, '');
  const leaderBound = plan.write || plan.consistency === common.ReadConsistency.LINEARIZABLE;
  const replica = pickReplica(shard, leaderBound, env.nodes, avoid);
  const address = replica === undefined ? undefined : env.nodes.address(replica.nodeId);
  if (replica === undefined || address === undefined) {
    await refreshQuietly(ctx, t);
    return retryStep(new KvError('UNAVAILABLE', `shard ${shard.id}: no replica with a known address`), false, shard.id, '');
  }
  const client = env.pool.get(address);
  if (plan.write) {
    const notReady = await env.pool.ready(client, ctx.deadline.capped(env.options.connectTimeoutMs), ctx.signal);
    if (notReady !== undefined) return unreachable(ctx, t, shard, notReady, address, replica.nodeId);
  }
  const header = kv.RequestHeader.create({
    tableId: t.info.id, shardId: shard.id, epoch: shard.epoch, consistency: plan.consistency,
    maxStalenessMs: plan.maxStalenessMs, timeoutMs: Math.max(1, Math.ceil(ctx.deadline.remainingMs())), requestId: ctx.requestId,
  });
  ctx.attempts++;
  const out = await unary(client, plan.method, plan.build(header, shard), ctx.deadline, ctx.signal);
  if (out.ok && out.res.error === undefined) return { kind: 'done', result: { res: out.res, shard } };
  if (!out.ok) {
    // First: a write that reached gRPC and failed — even by our own close() — may have run.
    if (plan.write && out.mayHaveExecuted) throw unknownOutcome(ctx, address, out.error);
    if (out.error.code === 'CANCELLED') throw out.error;
    if (!out.error.retryable) throw out.error;
    return unreachable(ctx, t, shard, out.error, address, replica.nodeId);
  }
  return react(ctx, t, shard, fromDetail(out.res.error!), address, replica.nodeId);
}

/** The shard for this attempt, reloading routes once if the cache has a hole there. */
async function locate<Req, Res extends WithError>(
  ctx: CallContext, t: TableRoutes, plan: ShardPlan<Req, Res>,
): Promise<CachedShard | KvError> {
  try {
    await t.ensure(ctx.deadline, ctx.signal);
  } catch (e) {
    if (e instanceof KvError && e.retryable) return e;
    throw e;
  }
  let choice = plan.route(t);
  if (choice === undefined) {
    const failed = await refreshQuietly(ctx, t);
    if (failed !== undefined) return failed;
    choice = plan.route(t);
  }
  if (choice === REGROUP) throw new RegroupSignal();
  return choice ?? new KvError('SHARD_NOT_FOUND', `table ${t.name}: no shard in the routes covers the key`);
}

/**
 * Leader-bound requests go to the believed leader, else round-robin over voters (which
 * redirect); other reads round-robin over all replicas. Replicas that failed earlier in
 * the call are skipped while others remain.
 */
function pickReplica(shard: CachedShard, leaderBound: boolean, nodes: NodeDirectory, avoid: ReadonlySet<number>): ShardReplica | undefined {
  const known = (r: ShardReplica): boolean => nodes.address(r.nodeId) !== undefined;
  const fits = (r: ShardReplica): boolean => known(r) && (!leaderBound || !r.learner);
  if (leaderBound) {
    const leader = shard.leader();
    if (leader !== undefined && known(leader)) return leader;
  }
  return shard.nextReplica((r) => fits(r) && !avoid.has(r.nodeId)) ?? shard.nextReplica(fits);
}

/** A node could not be reached (nothing sent, or a read lost): forget it as leader, look for news. */
function unreachable<Res>(ctx: CallContext, t: TableRoutes, shard: CachedShard, e: KvError, address: string, nodeId: number): Step<Res> {
  if (shard.leader() !== undefined && e.code === 'UNAVAILABLE') shard.leaderPeerId = 0 as CachedShard['leaderPeerId'];
  // In the background: the back-off runs meanwhile, and the reload is shared with other calls.
  t.refresh(ctx.deadline, ctx.signal).catch(() => undefined);
  return retryStep(e, false, shard.id, address, nodeId);
}

/** Learns from a node's rejection; non-retryable errors end the call. */
async function react<Res>(
  ctx: CallContext, t: TableRoutes, shard: CachedShard, e: KvError, address: string, nodeId: number,
): Promise<Step<Res>> {
  if (!e.retryable) throw e;
  switch (e.code) {
    case 'NOT_LEADER': {
      const hint = e.details?.leaderHint;
      if (hint !== undefined && t.learnLeader(shard, hint)) return retryStep(e, true, shard.id, address);
      // No usable hint: ask the other voters, and the metaserver.
      shard.leaderPeerId = 0 as CachedShard['leaderPeerId'];
      if (hint !== undefined && hint.peerId !== 0) await refreshQuietly(ctx, t);
      return retryStep(e, false, shard.id, address, nodeId);
    }
    case 'EPOCH_NOT_MATCH':
    case 'KEY_NOT_IN_SHARD': {
      const d = asDescriptor(e.details?.shard);
      const news = d !== undefined && !sameEpochAndRange(d, shard) && t.applyDescriptor(d);
      if (!news) await refreshQuietly(ctx, t);
      return retryStep(e, true, shard.id, address);
    }
    case 'SHARD_NOT_FOUND':
      // The node no longer hosts the shard: membership moved on; the metaserver knows where.
      shard.leaderPeerId = 0 as CachedShard['leaderPeerId'];
      await refreshQuietly(ctx, t);
      return retryStep(e, false, shard.id, address, nodeId);
    default:
      // SERVER_BUSY, NOT_READY, PROPOSAL_DROPPED, TIMEOUT, UNAVAILABLE: back off and retry
      // (reads elsewhere if they may).
      return retryStep(e, false, shard.id, address, nodeId);
  }
}

function retryStep<Res>(error: KvError, now: boolean, shardId: number, address: string, avoidNodeId?: number): Step<Res> {
  return { kind: 'retry', error, now, shardId, address, avoidNodeId };
}

/** Reloads the table's routes; a retryable failure is returned (the caller backs off), others thrown. */
async function refreshQuietly(ctx: CallContext, t: TableRoutes): Promise<KvError | undefined> {
  try {
    await t.refresh(ctx.deadline, ctx.signal);
    return undefined;
  } catch (e) {
    if (e instanceof KvError && (e.retryable || e.code === 'INTERNAL')) return e;
    throw e;
  }
}

/** The descriptor in an error's details, if it looks like one (it came off the wire). */
function asDescriptor(x: unknown): common.ShardDescriptor | undefined {
  if (typeof x !== 'object' || x === null) return undefined;
  const d = x as Partial<common.ShardDescriptor>;
  return typeof d.id === 'number' && typeof d.tableId === 'number' && d.startKey instanceof Uint8Array ? d as common.ShardDescriptor : undefined;
}

function sameEpochAndRange(d: common.ShardDescriptor, s: CachedShard): boolean {
  return d.id === s.id && (d.epoch?.version ?? 0) === s.epoch.version && (d.epoch?.confVer ?? 0) === s.epoch.confVer;
}

function timedOut(ctx: CallContext, last: KvError): KvError {
  return new KvError('TIMEOUT',
    `${ctx.op} on table ${ctx.table} did not succeed within ${ctx.deadline.timeoutMs} ms (last error ${last.code}: ${last.message}); nothing was applied`,
    { cause: last });
}

const WHY_UNKNOWN: Partial<Record<KvErrorCode, string>> = {
  TIMEOUT: 'its deadline passed',
  UNAVAILABLE: 'the connection was lost',
  CANCELLED: 'the client was closed',
};

function unknownOutcome(ctx: CallContext, address: string, cause: KvError): KvError {
  return new KvError('UNKNOWN_OUTCOME',
    `${ctx.op} on table ${ctx.table} was sent to ${address} but ${WHY_UNKNOWN[cause.code] ?? 'failed'} before an answer (${cause.message}); it may or may not have been applied`,
    { cause });
}
