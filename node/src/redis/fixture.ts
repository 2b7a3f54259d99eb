/**
 * Shared set-up for the Redis tests (not a test file itself): a shard over an in-memory
 * view, commands executed and their writes applied the way a replica applies them (encoded
 * into a RaftCommand, decoded, applyRawBatch), and replies read back through the wire
 * conversion a RESP2 or RESP3 client gets.
 */
import { rangeShardBound, tableRange } from '@shoal/common';
import type { TableId } from '@shoal/common';
import { command, kv } from '@shoal/proto';
import { applyRawBatch, rawBatchRaftCommand } from './apply-raw.js';
import type { ShardInfo } from './encoding.js';
import { RedisExecutor } from './executor.js';
import type { RedisExecutorOptions } from './executor.js';
import { MemoryView } from './memory-view.js';
import { toProtoReply } from './reply.js';
import type { Reply } from './reply.js';
import type { RawWrite, ReadView } from './view.js';

export const RANGE_SHARD: ShardInfo = { tableId: 7, partition: 'range', range: tableRange(7 as TableId) };
export const HASH_SHARD: ShardInfo = { tableId: 9, partition: 'hash', range: tableRange(9 as TableId) };

/** A range shard owning user keys [from, to). */
export function rangeShard(from: string, to: string): ShardInfo {
  const t = 7 as TableId;
  return { tableId: 7, partition: 'range', range: { start: rangeShardBound(t, utf8.encode(from)), end: rangeShardBound(t, utf8.encode(to)) } };
}

const utf8 = new TextEncoder();
const utf8d = new TextDecoder();

/** mulberry32: a small seeded PRNG, so random commands replay. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type Arg = string | Uint8Array;
export type Plain = null | number | string | Plain[] | { map: [Plain, Plain][] } | { set: Plain[] } | { double: number } | { bool: boolean };

/** A wire reply as plain data: '+OK' simple, '-ERR …' error, numbers, strings, null, arrays, tagged RESP3 types. */
export function plain(r: kv.RedisReply): Plain {
  const T = kv.RedisReplyType;
  switch (r.type) {
    case T.NIL: return null;
    case T.SIMPLE_STRING: return `+${utf8d.decode(r.str)}`;
    case T.ERROR: return `-${utf8d.decode(r.str)}`;
    case T.INTEGER: return Number(r.integer);
    case T.BULK_STRING: return utf8d.decode(r.str);
    case T.ARRAY: return r.elements.map(plain);
    case T.MAP: {
      const out: [Plain, Plain][] = [];
      for (let i = 0; i < r.elements.length; i += 2) out.push([plain(r.elements[i]!), plain(r.elements[i + 1]!)]);
      return { map: out };
    }
    case T.SET: return { set: r.elements.map(plain) };
    case T.DOUBLE: return { double: r.number };
    case T.BOOLEAN: return { bool: r.boolean };
    default: throw new Error(`unexpected reply type ${r.type}`);
  }
}

export class Harness {
  readonly view = new MemoryView();
  readonly exec: RedisExecutor;
  nowMs = 1_700_000_000_000;
  resp = 2;
  /** The table's default TTL for keys created without an expiry (ExecContext.defaultTtlMs). */
  defaultTtlMs = 0;
  /** Every batch applied so far, in order. */
  readonly batches: RawWrite[][] = [];

  constructor(readonly shard: ShardInfo = RANGE_SHARD, options: RedisExecutorOptions = {}) {
    this.exec = new RedisExecutor({ random: seeded(42), ...options });
  }

  /** Executes and applies; returns the reply and the writes. */
  async raw(...args: Arg[]): Promise<{ reply: Reply; writes: readonly RawWrite[] }> {
    const r = await this.exec.execute(
      { shard: this.shard, nowMs: this.nowMs, respVersion: this.resp, defaultTtlMs: this.defaultTtlMs }, args.map(toArg), this.view,
    );
    this.apply(r.writes);
    return r;
  }

  /** Applies writes as a replica does: through the RaftCommand encoding and applyRawBatch. */
  apply(writes: readonly RawWrite[], view: MemoryView = this.view): void {
    if (writes.length === 0) return;
    if (view === this.view) this.batches.push([...writes]);
    const header = command.CommandHeader.create({ shardId: 1, proposedAtUnixMs: this.nowMs });
    const bytes = command.RaftCommand.encode(rawBatchRaftCommand(header, writes)).finish();
    const decoded = command.RaftCommand.decode(bytes);
    const r = applyRawBatch({ scheme: this.shard.partition, range: this.shard.range }, view, decoded.rawBatch!);
    if (!r.ok) throw r.error;
  }

  /** The reply as a RESP2 (or `resp`) client sees it, in plain form. */
  async v(...args: Arg[]): Promise<Plain> {
    return this.call(args);
  }

  /** As v(), with the arguments as one array (for very long commands). */
  async call(args: readonly Arg[]): Promise<Plain> {
    const r = await this.exec.execute(
      { shard: this.shard, nowMs: this.nowMs, respVersion: this.resp, defaultTtlMs: this.defaultTtlMs }, args.map(toArg), this.view,
    );
    this.apply(r.writes);
    return plain(toProtoReply(r.reply, this.resp));
  }

  /** The same with RESP3 shapes. */
  async v3(...args: Arg[]): Promise<Plain> {
    const before = this.resp;
    this.resp = 3;
    try {
      return await this.v(...args);
    } finally {
      this.resp = before;
    }
  }

  advance(ms: number): void {
    this.nowMs += ms;
  }

  /** Storage entries of the shard (count). */
  get entries(): number {
    return this.view.size;
  }

  asView(): ReadView {
    return this.view;
  }
}

export function toArg(a: Arg): Uint8Array {
  return typeof a === 'string' ? utf8.encode(a) : a;
}

/** Sorts a plain array (for replies in unspecified order). */
export function sorted(p: Plain): Plain {
  if (!Array.isArray(p)) {
    if (p !== null && typeof p === 'object' && 'set' in p) return [...p.set].sort(cmp);
    return p;
  }
  return [...p].sort(cmp);
}

function cmp(a: Plain, b: Plain): number {
  const x = JSON.stringify(a);
  const y = JSON.stringify(b);
  return x < y ? -1 : x > y ? 1 : 0;
}
