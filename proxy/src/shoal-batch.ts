/**
 * Coalescing a client's pipelined commands per shard (issue #7, throughput).
 *
 * Per-command gRPC overhead dominated the proxy's cost, so consecutive "plain" commands —
 * every key on one shard, no fan-out — travel as one non-atomic Kv.Exec per shard
 * (`RedisExec.execBatch`), at most `batchCommandsMax` commands and about `batchBytesMax`
 * argument bytes each. Order: a key lives on one shard, and one shard's chunks go out one
 * after the other, each keeping per-key order on the node (exec-service.ts), so a
 * client's commands on one key take effect in its order; shards proceed concurrently.
 *
 * A command the node did not run (an operating error such as NOT_LEADER or SERVER_BUSY,
 * or a whole chunk refused because routes moved) is re-run alone through the SDK's
 * retrying path, in order; one with UNKNOWN_OUTCOME answers its error (it may have
 * applied, so it is never re-sent).
 */
import { KvError } from '@shoal/common';
import type { RedisExec } from '@shoal/client-sdk';
import type { kv } from '@shoal/proto';
import { fromKvReply } from './kv-reply.js';
import { kvErrorReply } from './resp/reply.js';
import type { Reply } from './resp/reply.js';

/** One plain command of a segment: its index in the caller's list, args and keys. */
export interface PlainCommand {
  readonly index: number;
  readonly args: readonly Buffer[];
  readonly keys: readonly Buffer[];
  readonly write: boolean;
  /** LPOP/RPOP with a count: a NIL reply is Redis' null array. */
  readonly nullArray: boolean;
}

export interface BatchLimits {
  readonly batchCommandsMax: number;
  readonly batchBytesMax: number;
  readonly timeoutMs: number;
}

/**
 * Runs plain commands, grouped by shard (each group in the caller's order), and stores
 * each reply at `replies[index]`. `runAlone(c)` runs one command through the ordinary
 * (retrying) path.
 */
export async function runBatched(
  x: RedisExec, table: string, byShard: readonly (readonly PlainCommand[])[], resp: 2 | 3, limits: BatchLimits,
  replies: Reply[], runAlone: (c: PlainCommand) => Promise<Reply>,
): Promise<void> {
  await Promise.all(byShard.map(async (g) => {
    for (const chunk of chunks(g, limits)) {
      await runChunk(x, table, chunk, resp, limits, replies, runAlone);
    }
  }));
}

async function runChunk(
  x: RedisExec, table: string, chunk: readonly PlainCommand[], resp: 2 | 3, limits: BatchLimits,
  replies: Reply[], runAlone: (c: PlainCommand) => Promise<Reply>,
): Promise<void> {
  if (chunk.length === 1) {
    replies[chunk[0]!.index] = await runAlone(chunk[0]!);
    return;
  }
  let results: (kv.RedisReply | KvError)[];
  try {
    results = await x.execBatch(table, chunk.map((c) => c.args), {
      keys: chunk.flatMap((c) => c.keys), write: chunk.some((c) => c.write), respVersion: resp, timeoutMs: limits.timeoutMs,
    });
  } catch (e) {
    if (!(e instanceof KvError)) throw e;
    // UNKNOWN_OUTCOME: some may have applied; never re-send. Anything else: nothing ran.
    if (e.code === 'UNKNOWN_OUTCOME') {
      for (const c of chunk) replies[c.index] = kvErrorReply(e);
      return;
    }
    results = chunk.map(() => e);
  }
  for (let i = 0; i < chunk.length; i++) {
    const c = chunk[i]!;
    const r = results[i]!;
    if (!(r instanceof KvError)) replies[c.index] = fromKvReply(r, c.nullArray);
    else if (r.code === 'UNKNOWN_OUTCOME') replies[c.index] = kvErrorReply(r);
    // In order: a later command on the same key was stopped too, so re-running the
    // stopped ones one by one keeps per-key order.
    else replies[c.index] = await runAlone(c);
  }
}

/** Splits one shard's commands into request-sized chunks, keeping their order. */
function chunks(cmds: readonly PlainCommand[], limits: BatchLimits): PlainCommand[][] {
  const out: PlainCommand[][] = [];
  let cur: PlainCommand[] = [];
  let bytes = 0;
  for (const c of cmds) {
    const size = c.args.reduce((n, a) => n + a.length + 4, 0);
    if (cur.length > 0 && (cur.length >= limits.batchCommandsMax || bytes + size > limits.batchBytesMax)) {
      out.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(c);
    bytes += size;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}
