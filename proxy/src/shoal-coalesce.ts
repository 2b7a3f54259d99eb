/**
 * Coalescing single commands of DIFFERENT client connections into one Kv.Exec per shard
 * (issue #7, per-command gRPC cost; docs/benchmarks.md "Where the time goes").
 *
 * With `redis-benchmark -P 1` every connection has one command in flight and each used to
 * be its own unary gRPC call, whose set-up cost the proxy more CPU than the node spent
 * answering it. Here a plain command (every key on one shard, no fan-out) joins a queue
 * per (table, RESP version, read/write); the queue is flushed on the next event-loop turn
 * (setImmediate), or at once when it holds `batchCommandsMax` commands or
 * `batchBytesMax` argument bytes. A flush groups the queue by shard and sends each group
 * as one non-atomic Kv.Exec (`RedisExec.execBatch`); a group of one runs as before.
 *
 * Why this keeps every client's semantics:
 * - Each connection waits for its command's reply before its next backend call
 *   (backend-lane.ts), so queued commands are concurrent requests of different clients:
 *   any order among them, and running them inside one block on the node (exec-service.ts
 *   `batch`: one latch set, one proposal), is a valid linearization. Each keeps its own
 *   reply; Redis errors (WRONGTYPE, arity…) are that command's reply only.
 * - An operating error that stopped the block (NOT_LEADER, a proposal refused because the
 *   block grew too large, routes moved…) means nothing of it ran: each command is re-run
 *   alone through the ordinary retrying path, so one client's bad command cannot fail
 *   another's.
 * - UNKNOWN_OUTCOME: each WRITE of the block answers it (it may have applied; never
 *   re-sent). Reads and writes queue apart — a GET never waits for another client's Raft
 *   proposal — and a read that nevertheless meets UNKNOWN_OUTCOME is re-run alone.
 * - A command whose client disconnected before the flush is dropped, not sent.
 */
import { KvError } from '@shoal/common';
import type { RedisExec } from '@shoal/client-sdk';
import type { kv } from '@shoal/proto';
import { fromKvReply } from './kv-reply.js';
import { error, kvErrorReply } from './resp/reply.js';
import type { Reply } from './resp/reply.js';

/** What the coalescer needs of the SDK (a fake in unit tests). */
export type CoalescerExec = Pick<RedisExec, 'groupByShard' | 'execBatch'>;

/** One client's single command. */
export interface CoalescedCommand {
  readonly args: readonly Buffer[];
  /** Its keys (non-empty; the caller keeps keyless and fanned-out commands away). */
  readonly keys: readonly Buffer[];
  readonly write: boolean;
  /** LPOP/RPOP with a count: a NIL reply is Redis' null array. */
  readonly nullArray: boolean;
}

export interface CoalescerOptions {
  readonly exec: CoalescerExec;
  /** Most commands in one Kv.Exec, and in one queue before it is flushed. */
  readonly batchCommandsMax: number;
  /** Argument bytes of one queue above which it is flushed at once. */
  readonly batchBytesMax: number;
  /** Deadline of one Kv.Exec, SDK retries included. */
  readonly timeoutMs: number;
  /** Runs one command alone through the ordinary (retrying, splitting) path. */
  readonly runAlone: (table: string, c: CoalescedCommand, resp: 2 | 3) => Promise<Reply>;
}

interface Entry {
  readonly c: CoalescedCommand;
  readonly signal: AbortSignal | undefined;
  readonly resolve: (r: Reply) => void;
  readonly reject: (e: unknown) => void;
}

interface Queue {
  readonly table: string;
  readonly resp: 2 | 3;
  readonly write: boolean;
  entries: Entry[];
  bytes: number;
  timer: NodeJS.Immediate | undefined;
}

/** What happened, for tests and the bench (not exported as metrics yet). */
export interface CoalescerCounters {
  /** Kv.Exec batches sent with two or more commands. */
  batches: number;
  /** Commands sent inside those batches. */
  batchedCommands: number;
  /** Commands run alone (a group of one, a span of shards, a re-run after a stopped batch). */
  alone: number;
}

export class CrossClientCoalescer {
  private readonly queues = new Map<string, Queue>();
  readonly counters: CoalescerCounters = { batches: 0, batchedCommands: 0, alone: 0 };

  constructor(private readonly o: CoalescerOptions) {
    for (const k of ['batchCommandsMax', 'batchBytesMax', 'timeoutMs'] as const) {
      if (!Number.isSafeInteger(o[k]) || o[k] < 1) throw new KvError('CONFIG_INVALID', `${k} must be a positive integer`, { details: { option: k } });
    }
  }

  /** Queues one command; resolves with its reply (errors included). Arguments must be owned copies. */
  submit(table: string, c: CoalescedCommand, resp: 2 | 3, signal?: AbortSignal): Promise<Reply> {
    const id = `${resp}${c.write ? 'w' : 'r'}${table}`;
    let q = this.queues.get(id);
    if (q === undefined) {
      q = { table, resp, write: c.write, entries: [], bytes: 0, timer: undefined };
      this.queues.set(id, q);
    }
    const queue = q;
    const reply = new Promise<Reply>((resolve, reject) => { queue.entries.push({ c, signal, resolve, reject }); });
    queue.bytes += argBytes(c.args);
    if (queue.entries.length >= this.o.batchCommandsMax || queue.bytes >= this.o.batchBytesMax) this.flush(id, queue);
    else queue.timer ??= setImmediate(() => this.flush(id, queue));
    return reply;
  }

  private flush(id: string, q: Queue): void {
    if (q.timer !== undefined) clearImmediate(q.timer);
    if (this.queues.get(id) === q) this.queues.delete(id);
    const live = q.entries.filter((e) => {
      if (e.signal?.aborted !== true) return true;
      e.resolve(error('ERR client disconnected'));
      return false;
    });
    if (live.length > 0) void this.send(q, live).catch((e: unknown) => { for (const x of live) x.reject(e); });
  }

  /** Groups one flushed queue by shard and sends each group. */
  private async send(q: Queue, entries: readonly Entry[]): Promise<void> {
    if (entries.length === 1) return this.alone(q, entries);
    const flat = entries.flatMap((e) => e.c.keys);
    let groups: number[][];
    try {
      groups = await this.o.exec.groupByShard(q.table, flat, { timeoutMs: this.o.timeoutMs });
    } catch (e) {
      // Routing failed: each command alone reports (or retries past) it.
      if (e instanceof KvError) return this.alone(q, entries);
      throw e;
    }
    const groupOfKey = new Array<number>(flat.length);
    groups.forEach((g, gi) => { for (const k of g) groupOfKey[k] = gi; });
    const byShard = new Map<number, Entry[]>();
    const spanning: Entry[] = [];
    let at = 0;
    for (const e of entries) {
      const gs = new Set(e.c.keys.map((_, n) => groupOfKey[at + n]!));
      at += e.c.keys.length;
      if (gs.size !== 1) { spanning.push(e); continue; }
      const g = [...gs][0]!;
      let list = byShard.get(g);
      if (list === undefined) byShard.set(g, list = []);
      list.push(e);
    }
    await Promise.all([this.alone(q, spanning), ...[...byShard.values()].flatMap((g) => this.chunks(g).map((ch) => this.batch(q, ch)))]);
  }

  /** One Kv.Exec for commands of one shard; see the file comment for failures. */
  private async batch(q: Queue, chunk: readonly Entry[]): Promise<void> {
    if (chunk.length === 1) return this.alone(q, chunk);
    this.counters.batches++;
    this.counters.batchedCommands += chunk.length;
    let results: (kv.RedisReply | KvError)[];
    try {
      results = await this.o.exec.execBatch(q.table, chunk.map((e) => e.c.args), {
        keys: chunk.flatMap((e) => e.c.keys), write: q.write, respVersion: q.resp, timeoutMs: this.o.timeoutMs,
      });
    } catch (e) {
      if (!(e instanceof KvError)) throw e;
      results = chunk.map(() => e);
    }
    const again: Entry[] = [];
    chunk.forEach((e, i) => {
      const r = results[i]!;
      if (!(r instanceof KvError)) e.resolve(fromKvReply(r, e.c.nullArray));
      else if (r.code === 'UNKNOWN_OUTCOME' && e.c.write) e.resolve(kvErrorReply(r));
      else again.push(e);
    });
    // Different clients' commands: independent, so re-run concurrently.
    await this.alone(q, again);
  }

  private async alone(q: Queue, entries: readonly Entry[]): Promise<void> {
    this.counters.alone += entries.length;
    await Promise.all(entries.map(async (e) => {
      try {
        e.resolve(await this.o.runAlone(q.table, e.c, q.resp));
      } catch (err) {
        e.reject(err);
      }
    }));
  }

  /** Request-sized chunks of one shard's commands. */
  private chunks(entries: readonly Entry[]): Entry[][] {
    const out: Entry[][] = [];
    let cur: Entry[] = [];
    let bytes = 0;
    for (const e of entries) {
      const size = argBytes(e.c.args);
      if (cur.length > 0 && (cur.length >= this.o.batchCommandsMax || bytes + size > this.o.batchBytesMax)) {
        out.push(cur);
        cur = [];
        bytes = 0;
      }
      cur.push(e);
      bytes += size;
    }
    if (cur.length > 0) out.push(cur);
    return out;
  }
}

/** Bytes one command adds to a request (arguments plus a little framing each). */
function argBytes(args: readonly Buffer[]): number {
  return args.reduce((n, a) => n + a.length + 4, 0);
}
