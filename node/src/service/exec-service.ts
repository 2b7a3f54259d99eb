/**
 * Kv.Exec on a storage node: Redis commands on the shard leader through redis/leader.ts
 * (redis/README "Caller's obligations"). KvService delegates `exec` here and lends what
 * every request shares (routing, latches, proposals).
 *
 * One request is one of four shapes (proto/kv.proto ExecRequest):
 * - `args`: one command (one latch set, one proposal);
 * - `commands`, atomic = false: a pipeline slice for this shard, run in the request's
 *   order as one block (one proposal; see `batch`), one reply or operating error each;
 * - `commands`, atomic = true: MULTI/EXEC — one batch, one proposal, under the latches
 *   of the block's keys and the watched keys; aborted (NIL) when a WATCH stamp is stale;
 * - `watch_keys`: WATCH — one stamp per key (docs/decisions.md "WATCH").
 *
 * The leader must have applied an entry of its own term first, and reads and proposal
 * must fall in one term (else a lost update, see `hostFor`).
 */
import { KvError } from '@shoal/common';
import type { Result } from '@shoal/common';
import { command, common, kv } from '@shoal/proto';
import type { Scheduler } from '../raft/scheduler.js';
import type { Replica } from '../raft/replica.js';
import {
  decodeDataValue, EngineReadView, executeMultiOnLeader, executeOnLeader, KeyCodec, toProtoReply, toRawBatchCommand,
} from '../redis/index.js';
import type {
  LatchManager, LeaderHost, RawWrite, RedisExecutor, ShardInfo, WatchCheck, WatchRevisions,
} from '../redis/index.js';
import { SubkeySweepLoop } from '../redis/sweep-loop.js';
import type { SweepLoopOptions, SweepShard } from '../redis/sweep-loop.js';
import { asKvError, errorDetail } from './errors.js';
import { shardRange } from './kv-routing.js';
import type { KvRouting, Routed } from './kv-routing.js';
import type { EngineReads } from './kv-service.js';

type ApplyOutcome = Result<{ readonly op: string; readonly response: unknown }, KvError>;

/** Commands one Exec may carry (pipeline slice or MULTI block). */
export const EXEC_COMMANDS_MAX = 4096;

/** What KvService lends to Exec. */
export interface ExecServiceHost {
  readonly scheduler: Scheduler;
  readonly engine: EngineReads;
  readonly routing: KvRouting;
  readonly latches: LatchManager;
  readonly executor: RedisExecutor;
  readonly revisions: WatchRevisions;
  gate(rt: Routed, header: kv.RequestHeader): Promise<void>;
  decorate(rt: Routed, e: unknown): KvError;
  proposeCommand(rt: Routed, cmd: command.RaftCommand): Promise<ApplyOutcome>;
  commandHeader(rt: Routed, header: kv.RequestHeader, nowMs: number): command.CommandHeader;
  shardInfo(rt: Routed): ShardInfo;
}

/** How long one background sweep proposal may take before it counts as failed. */
const SWEEP_PROPOSAL_TIMEOUT_MS = 10_000;

export class ExecService {
  constructor(private readonly h: ExecServiceHost) {}

  /**
   * The background sweeper of old collection versions' subkeys (redis/sweep-loop.ts) over
   * the shards this node leads and has applied an entry of its term on. The caller starts
   * and stops it.
   */
  subkeySweeper(options?: SweepLoopOptions, onError?: (shardId: number, e: unknown) => void): SubkeySweepLoop {
    return new SubkeySweepLoop(this.h.latches, () => this.sweepShards(), options, onError);
  }

  private *sweepShards(): Iterable<SweepShard> {
    const h = this.h;
    const rawAccess = h.engine.rawReadAccess?.bind(h.engine);
    if (rawAccess === undefined) return;
    for (const r of h.scheduler.allReplicas()) {
      if (!r.isLeader || r.appliedTerm !== r.term) continue;
      const table = h.engine.table(r.descriptor.tableId);
      if (table === undefined) continue;
      const term = r.term;
      const shard: ShardInfo = { tableId: r.descriptor.tableId, partition: table.partition, range: shardRange(r.descriptor) };
      yield {
        shardId: r.shardId, shard,
        host: {
          now: () => Date.now(),
          openView: () => {
            const a = rawAccess(r.shardId);
            return new EngineReadView(a.access, a.scheme, a.range);
          },
          propose: async (writes, stampMs) => {
            if (r.term !== term || !r.isLeader) throw new KvError('NOT_LEADER', `shard ${r.shardId}: leadership changed during a sweep`);
            const cmd = command.RaftCommand.create({
              header: command.CommandHeader.create({ shardId: r.shardId, epoch: r.descriptor.epoch, proposedAtUnixMs: stampMs, origin: 'redis:sweep' }),
              rawBatch: toRawBatchCommand(writes),
            });
            const bad = h.engine.validateCommand?.(r.shardId, cmd);
            if (bad !== undefined) throw bad;
            const outcome = await h.scheduler.propose(r, command.RaftCommand.encode(cmd).finish(), Date.now() + SWEEP_PROPOSAL_TIMEOUT_MS) as ApplyOutcome;
            if (!outcome.ok) throw asKvError(outcome.error);
          },
        },
      };
    }
  }

  async exec(req: kv.ExecRequest, callDeadlineMs = Infinity): Promise<kv.ExecResponse> {
    const h = this.h;
    const rt = h.routing.route(req.header, callDeadlineMs);
    if (h.engine.rawReadAccess === undefined) throw new KvError('NOT_SUPPORTED', 'this engine has no Redis data model');
    const respVersion = req.respVersion === 0 ? 2 : req.respVersion;
    if (respVersion !== 2 && respVersion !== 3) {
      throw new KvError('INVALID_ARGUMENT', `unknown RESP version ${req.respVersion}`, { details: { option: 'respVersion' } });
    }
    const shapes = [req.args.length > 0, req.commands.length > 0, req.watchKeys.length > 0].filter(Boolean).length;
    if (shapes > 1) throw new KvError('INVALID_ARGUMENT', 'an Exec carries one of args, commands or watch_keys', { details: { option: 'commands' } });
    if (req.commands.length > EXEC_COMMANDS_MAX || req.watchKeys.length > EXEC_COMMANDS_MAX) {
      throw new KvError('REQUEST_TOO_LARGE', `more than ${EXEC_COMMANDS_MAX} commands or watch keys in one Exec`, { details: { option: 'commands' } });
    }
    if (req.watches.length > 0 && !req.atomic) throw new KvError('INVALID_ARGUMENT', 'watch stamps need atomic = true', { details: { option: 'watches' } });
    // Every key is checked before anything runs: a routing error means nothing ran.
    const all = req.commands.length > 0 ? req.commands.map((c) => c.args) : req.args.length > 0 ? [req.args] : [];
    for (const args of all) {
      const info = h.executor.describe(args);
      if (info.ok) info.keys.forEach((k, i) => h.routing.checkKey(rt, k, `keys[${i}]`));
    }
    req.watchKeys.forEach((k, i) => h.routing.checkKey(rt, k, `watchKeys[${i}]`));
    h.routing.requireLeader(rt);
    await this.ownTermApplied(rt);
    const host = this.hostFor(rt, req.header!);
    const lr = {
      shard: h.shardInfo(rt), defaultTtlMs: rt.defaultTtlMs, respVersion, signal: AbortSignal.timeout(Math.max(0, rt.deadlineMs - Date.now())),
    };
    try {
      if (req.watchKeys.length > 0) return kv.ExecResponse.create({ watches: await this.watch(rt, host.term, req.watchKeys, lr.signal) });
      if (req.commands.length > 0 && !req.atomic) {
        return await this.batch(rt, host, lr, all);
      }
      const reply = req.atomic
        ? await executeMultiOnLeader(h.executor, h.latches, host, lr, all, this.watchCheck(rt, host.term, req.watches))
        : await executeOnLeader(h.executor, h.latches, host, lr, req.args);
      return kv.ExecResponse.create({ reply: toProtoReply(reply, respVersion) });
    } catch (e) {
      throw h.decorate(rt, e);
    }
  }

  /** WATCH: the keys' revisions and expiries, read under their latches. */
  private async watch(rt: Routed, term: number, keys: readonly Uint8Array[], signal: AbortSignal): Promise<kv.WatchStamp[]> {
    const h = this.h;
    const codec = new KeyCodec(h.shardInfo(rt));
    const guard = await h.latches.acquire(keys.map((k) => codec.dataKey(k)), signal);
    try {
      const view = this.openView(rt);
      const nowMs = Date.now();
      const out: kv.WatchStamp[] = [];
      try {
        for (const key of keys) {
          const dk = codec.dataKey(key);
          const raw = await view.get(dk);
          let expireAt = raw === undefined ? 0 : decodeDataValue(raw).expireAtMs;
          // Already expired = absent: its later sweep changes nothing visible.
          if (expireAt !== 0 && expireAt <= nowMs) expireAt = 0;
          out.push(kv.WatchStamp.create({
            key, shardId: rt.r.shardId, epoch: rt.r.descriptor.epoch?.version ?? 0, term, revision: h.revisions.revision(rt.r.shardId, dk), expireAtUnixMs: expireAt,
          }));
        }
      } finally {
        await view.close();
      }
      if (rt.r.term !== term || !rt.r.isLeader) throw h.routing.notLeader(rt.r);
      return out;
    } finally {
      guard.release();
    }
  }

  /** EXEC's comparison of WATCH stamps, made under the latches (see leader.ts WatchCheck). */
  private watchCheck(rt: Routed, term: number, stamps: readonly kv.WatchStamp[]): WatchCheck | undefined {
    if (stamps.length === 0) return undefined;
    const codec = new KeyCodec(this.h.shardInfo(rt));
    const r: Replica = rt.r;
    return {
      keys: stamps.map((s) => s.key),
      unchanged: (_view, stampMs) => stamps.every((s) =>
        s.shardId === r.shardId && s.epoch === (r.descriptor.epoch?.version ?? 0) && s.term === term && r.term === term
        && this.h.revisions.revision(r.shardId, codec.dataKey(s.key)) === s.revision
        && (s.expireAtUnixMs === 0 || s.expireAtUnixMs > stampMs)),
    };
  }

  /**
   * A non-atomic pipeline slice, run as ONE block: the union of its keys' latches, one
   * view, one proposal (`executeMultiOnLeader`). Atomic is stronger than a pipeline needs,
   * and it keeps every command's own semantics (each sees the earlier ones' writes, per-key
   * order is the request's order) while a hot key's N commands cost one Raft round trip
   * instead of N. Commands the executor refuses (unknown, arity) answer their error and
   * are left out of the block; an operating error fails every other command with it
   * (nothing was written, or UNKNOWN_OUTCOME).
   */
  private async batch(rt: Routed, host: LeaderHost, lr: Parameters<typeof executeOnLeader>[3], cmds: readonly (readonly Uint8Array[])[]): Promise<kv.ExecResponse> {
    const h = this.h;
    const respVersion = lr.respVersion ?? 2;
    const replies = new Array<kv.RedisReply>(cmds.length);
    const errors = cmds.map(() => common.ErrorDetail.create());
    const runnable: number[] = [];
    cmds.forEach((args, i) => {
      const info = h.executor.describe(args);
      if (info.ok) runnable.push(i);
      else replies[i] = toProtoReply(info.reply, respVersion);
    });
    const nil = kv.RedisReply.create({ type: kv.RedisReplyType.NIL });
    if (runnable.length > 0) {
      try {
        const block = await executeMultiOnLeader(h.executor, h.latches, host, lr, runnable.map((i) => cmds[i]!));
        const items = block.kind === 'array' ? block.items : runnable.map(() => block);
        runnable.forEach((i, n) => { replies[i] = toProtoReply(items[n]!, respVersion); });
      } catch (e) {
        const d = errorDetail(h.decorate(rt, e));
        for (const i of runnable) {
          replies[i] = nil;
          errors[i] = d;
        }
      }
    }
    return kv.ExecResponse.create({ replies, errors });
  }

  /**
   * The leader side of one request. The reads and the proposal must fall in one term: if
   * this replica lost leadership and won it back in between, a leader of the term in
   * between may have written these keys after our read, and proposing now would overwrite
   * its writes (a lost update).
   */
  private hostFor(rt: Routed, header: kv.RequestHeader): LeaderHost & { readonly term: number } {
    const term = rt.r.term;
    const h = this.h;
    return {
      term,
      now: () => Date.now(),
      openView: () => this.openView(rt),
      propose: (writes, stampMs) => {
        if (rt.r.term !== term) throw h.routing.notLeader(rt.r);
        return this.proposeRaw(rt, header, writes, stampMs);
      },
      readBarrier: () => h.gate(rt, { ...header, consistency: common.ReadConsistency.LINEARIZABLE }),
      noteWrites: (dataKeys) => h.revisions.touch(rt.r.shardId, dataKeys),
    };
  }

  private openView(rt: Routed): EngineReadView {
    const a = this.h.engine.rawReadAccess!(rt.r.shardId);
    return new EngineReadView(a.access, a.scheme, a.range);
  }

  /** Waits (until the deadline) for this leader to apply an entry of its own term; NOT_LEADER if it stops leading. */
  private async ownTermApplied(rt: Routed): Promise<void> {
    const r: Replica = rt.r;
    if (r.appliedTerm !== r.term) {
      await this.h.scheduler.waitUntil(() => !r.isLeader || r.appliedTerm === r.term, rt.deadlineMs,
        () => new KvError('TIMEOUT', `leader of shard ${r.shardId} has not applied an entry of its term yet`));
    }
    this.h.routing.requireLeader(rt);
  }

  private async proposeRaw(rt: Routed, header: kv.RequestHeader, writes: readonly RawWrite[], stampMs: number): Promise<void> {
    const h = this.h;
    h.routing.requireLeader(rt);
    const cmd = command.RaftCommand.create({ header: h.commandHeader(rt, header, stampMs), rawBatch: toRawBatchCommand(writes) });
    const bad = h.engine.validateCommand?.(rt.r.shardId, cmd);
    if (bad !== undefined) throw h.decorate(rt, bad);
    const outcome = await h.proposeCommand(rt, cmd);
    if (!outcome.ok) throw h.decorate(rt, outcome.error);
  }
}
