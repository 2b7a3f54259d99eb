/**
 * Commands that visit every shard of a table through `RedisExec.execAt`: SCAN (with a
 * resumable cursor), KEYS, RANDOMKEY and DBSIZE.
 *
 * SCAN cursors. A node's SCAN cursor names a key (`x<hex>`, node/src/redis/README "SCAN
 * cursors") and is valid on its shard only; clients want one decimal number (redis-cli
 * parses it as an unsigned 64-bit integer). So the proxy keeps a bounded table: decimal id
 * → (table, storage position of the shard, node cursor). The position is a shard's start
 * as the route cache knew it; after a split it lands in the left half, whose scan
 * continues from the node cursor and then moves on to the right half — keys may repeat,
 * none present throughout is missed. Cursors are per proxy process: a cursor given by one
 * proxy is unknown to another (ERR invalid cursor), as are evicted ones (`scanCursorsMax`).
 */
import { KvError } from '@shoal/common';
import type { RedisExec } from '@shoal/client-sdk';
import { kv } from '@shoal/proto';
import type { ScanOptions, ScanPage } from './backend.js';

interface CursorState {
  readonly table: string;
  readonly at: Uint8Array;
  readonly nodeCursor: string;
}

export class ScanCursors {
  private readonly states = new Map<string, CursorState>();
  private nextId: bigint;

  constructor(private readonly max: number, random: () => number = Math.random) {
    // Ids start at a random point so a restarted proxy does not take old cursors for its own.
    this.nextId = 1n + BigInt(Math.floor(random() * 2 ** 48));
  }

  /** Remembers `state`; the oldest entry goes when the table is full. */
  put(state: CursorState): string {
    if (this.states.size >= this.max) {
      const oldest = this.states.keys().next();
      if (oldest.done !== true) this.states.delete(oldest.value);
    }
    const id = String(this.nextId++);
    this.states.set(id, state);
    return id;
  }

  /** The state of a cursor (consumed: every page returns a new one). */
  take(id: string): CursorState | undefined {
    const s = this.states.get(id);
    if (s !== undefined) this.states.delete(id);
    return s;
  }

  get size(): number {
    return this.states.size;
  }
}

const enc = (s: string): Buffer => Buffer.from(s, 'latin1');

function text(r: kv.RedisReply | undefined): string {
  return r === undefined ? '' : Buffer.from(r.str).toString('latin1');
}

function failIfError(r: kv.RedisReply): void {
  if (r.type === kv.RedisReplyType.ERROR) throw new KvError('INTERNAL', `storage node answered: ${text(r)}`);
}

/** Shards visited by one SCAN call at most: a sparse table must not turn one call into a full walk. */
const SCAN_SHARDS_PER_CALL_MAX = 16;

/** One SCAN step: continues the cursor's shard, moving on to the next shard when one is done. */
export async function scanStep(
  x: RedisExec, cursors: ScanCursors, table: string, cursor: string, o: ScanOptions & { timeoutMs: number },
): Promise<ScanPage> {
  let state: CursorState;
  if (cursor === '0') {
    state = { table, at: await x.tableStart(table, { timeoutMs: o.timeoutMs }), nodeCursor: '0' };
  } else {
    const s = cursors.take(cursor);
    if (s === undefined || s.table !== table) throw new KvError('INVALID_ARGUMENT', 'invalid cursor');
    state = s;
  }
  const keys: Buffer[] = [];
  for (let visited = 0; visited < SCAN_SHARDS_PER_CALL_MAX && keys.length < o.count; visited++) {
    const args = [enc('SCAN'), enc(state.nodeCursor), enc('COUNT'), enc(String(o.count))];
    if (o.match !== undefined) args.push(enc('MATCH'), o.match);
    if (o.type !== undefined) args.push(enc('TYPE'), enc(o.type));
    const { reply, next } = await x.execAt(table, state.at, args, { write: false, timeoutMs: o.timeoutMs });
    failIfError(reply);
    const [c, page] = reply.elements;
    for (const k of page?.elements ?? []) keys.push(Buffer.from(k.str));
    const nodeCursor = text(c);
    if (nodeCursor !== '0') {
      state = { table, at: state.at, nodeCursor };
      continue;
    }
    if (next === null) return { cursor: '0', keys };
    state = { table, at: next, nodeCursor: '0' };
  }
  return { cursor: cursors.put(state), keys };
}

/** Runs a keyless command on every shard, in shard order; the replies in that order. */
export async function everyShard(
  x: RedisExec, table: string, args: readonly Buffer[], o: { timeoutMs: number; respVersion: 2 | 3 },
): Promise<kv.RedisReply[]> {
  const replies: kv.RedisReply[] = [];
  let at: Uint8Array | null = await x.tableStart(table, { timeoutMs: o.timeoutMs });
  while (at !== null) {
    const r: Awaited<ReturnType<RedisExec['execAt']>> = await x.execAt(table, at, args, { write: false, ...o });
    replies.push(r.reply);
    at = r.next;
  }
  return replies;
}

/** DBSIZE of a table: the sum over its shards (each walks its keys on the node). */
export async function dbsizeOf(x: RedisExec, table: string, timeoutMs: number): Promise<number> {
  const replies = await everyShard(x, table, [enc('DBSIZE')], { timeoutMs, respVersion: 2 });
  let n = 0;
  for (const r of replies) {
    failIfError(r);
    n += Number(r.integer);
  }
  return n;
}
