/**
 * Running Redis commands on a shard leader: the caller's side of the executor, in the
 * order that makes it linearizable per key (README "Safety").
 *
 *   read-only command:  readBarrier() → open view → execute → close view → reply
 *   write command:      latches(all keys) → stamp = now() → open view → execute →
 *                       close view → propose(writes, stamp) and wait until APPLIED here
 *                       (or readBarrier() when nothing is written) → release latches → reply
 *
 * The host (the node's service layer) must only call this while the replica leads and
 * has applied an entry of its own term (raft-ts commits one first): then the applied
 * state holds every write acknowledged before, by any leader.
 */
import type { ShardInfo } from './encoding.js';
import { KeyCodec } from './encoding.js';
import type { ClosableView } from './engine-view.js';
import type { RedisExecutor } from './executor.js';
import type { LatchManager } from './latches.js';
import { error, NULL_ARRAY } from './reply.js';
import type { Reply } from './reply.js';
import type { ExecContext, RawWrite, ReadView } from './view.js';

export interface LeaderHost {
  /** The leader's wall clock (Unix ms); read after the latches are held. */
  now(): number;
  /** A point-in-time view of the shard's applied state (e.g. an EngineReadView). */
  openView(): ReadView | ClosableView;
  /**
   * Proposes the writes as ONE RaftCommand { header: { shard, epoch, proposed_at_unix_ms:
   * stampMs }, raw_batch }, and resolves once it is applied on this replica. Rejects with
   * NOT_LEADER / PROPOSAL_DROPPED / EPOCH_NOT_MATCH (nothing written: retryable) or
   * UNKNOWN_OUTCOME (may have been written).
   */
  propose(writes: readonly RawWrite[], stampMs: number): Promise<void>;
  /** The linearizable-read check (lease or ReadIndex, then applied ≥ read index). */
  readBarrier(): Promise<void>;
  /**
   * Called under the latches just before the writes of a command whose keys are these
   * data keys are proposed (WATCH marks, watch-revisions.ts); optional.
   */
  noteWrites?(dataKeys: readonly Uint8Array[]): void;
}

/**
 * WATCH at EXEC: the watched keys are latched with the block's keys, and `unchanged` is
 * asked under those latches (after the stamp is taken) whether every stamp still holds.
 * false → the block does not run and EXEC answers a null array.
 */
export interface WatchCheck {
  readonly keys: readonly Uint8Array[];
  unchanged(view: ReadView, stampMs: number): boolean | Promise<boolean>;
}

export interface LeaderRequest {
  readonly shard: ShardInfo;
  readonly defaultTtlMs?: number;
  readonly respVersion?: number;
  /** Deadline or cancellation of the wait for latches. */
  readonly signal?: AbortSignal;
}

/** One command; the reply to send (Redis errors included). Operating errors reject. */
export async function executeOnLeader(
  executor: RedisExecutor, latches: LatchManager, host: LeaderHost, req: LeaderRequest, args: readonly Uint8Array[],
): Promise<Reply> {
  const info = executor.describe(args);
  if (!info.ok) return info.reply;
  return run(executor, latches, host, req, info.write, info.keys, (ctx, view) => executor.execute(ctx, args, view));
}

/** Whether a command writes, and its keys (as `describe`); undefined for an unknown command. */
export function commandKeys(executor: RedisExecutor, args: readonly Uint8Array[]): { write: boolean; keys: readonly Uint8Array[] } | undefined {
  const info = executor.describe(args);
  return info.ok ? { write: info.write, keys: info.keys } : undefined;
}

/**
 * A MULTI/EXEC block on one shard: one batch, one proposal. A command that is unknown or
 * has the wrong arity aborts the whole block, as Redis does at EXEC after a queueing error.
 */
export async function executeMultiOnLeader(
  executor: RedisExecutor, latches: LatchManager, host: LeaderHost, req: LeaderRequest, commands: readonly (readonly Uint8Array[])[],
  watch?: WatchCheck,
): Promise<Reply> {
  const keys: Uint8Array[] = [...(watch?.keys ?? [])];
  // A watched block latches even when it only reads: the stamps are compared under latches.
  let write = watch !== undefined && watch.keys.length > 0;
  for (const args of commands) {
    const info = executor.describe(args);
    if (!info.ok) return error('EXECABORT Transaction discarded because of previous errors.');
    keys.push(...info.keys);
    write ||= info.write;
  }
  const watchKeys = watch?.keys.length ?? 0;
  return run(executor, latches, host, req, write, keys, async (ctx, view) => {
    if (watch !== undefined && !(await watch.unchanged(view, ctx.nowMs))) return { reply: NULL_ARRAY, writes: [] };
    return executor.executeMulti(ctx, commands, view);
  }, watchKeys);
}

async function run(
  executor: RedisExecutor, latches: LatchManager, host: LeaderHost, req: LeaderRequest, write: boolean,
  keys: readonly Uint8Array[], exec: (ctx: ExecContext, view: ReadView) => Promise<{ reply: Reply; writes: readonly RawWrite[] }>,
  unwrittenKeys = 0,
): Promise<Reply> {
  const ctxOf = (nowMs: number): ExecContext => ({
    shard: req.shard, nowMs, defaultTtlMs: req.defaultTtlMs, respVersion: req.respVersion,
  });
  if (!write) {
    await host.readBarrier();
    const stamp = host.now();
    return (await withView(host, (v) => exec(ctxOf(stamp), v))).reply;
  }
  const codec = new KeyCodec(req.shard);
  const dataKeys = keys.map((k) => codec.dataKey(k));
  const guard = await latches.acquire(dataKeys, req.signal);
  try {
    const stamp = host.now();
    const r = await withView(host, (v) => exec(ctxOf(stamp), v));
    // A write command that changed nothing answered from a read: it needs the read check.
    if (r.writes.length > 0) {
      // The first `unwrittenKeys` keys are only watched (latched, not written).
      host.noteWrites?.(dataKeys.slice(unwrittenKeys));
      await host.propose(r.writes, stamp);
    } else {
      await host.readBarrier();
    }
    return r.reply;
  } finally {
    guard.release();
  }
}

async function withView<T>(host: LeaderHost, fn: (v: ReadView) => Promise<T>): Promise<T> {
  const view = host.openView();
  try {
    return await fn(view);
  } finally {
    if ('close' in view) await view.close();
  }
}
