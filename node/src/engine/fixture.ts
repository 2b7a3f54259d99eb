/**
 * Shared set-up for the engine's tests (not a test file itself): temporary engines, shards
 * of a range and a hash table, command builders, and whole-shard dumps for comparisons.
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rangeShardBound, toHex } from '@shoal/common';
import type { TableId } from '@shoal/common';
import { command, common, kv } from '@shoal/proto';
import type { ConfState, PeerId } from '@shoal/raft-ts';
import { Engine } from './engine.js';
import type { ApplyOutcome, ApplyReply, EngineOptions, ShardLocalState, TableInfo } from './types.js';

export const RANGE_TABLE: TableInfo = { tableId: 7, partition: 'range', valueSeparationThresholdBytes: 1024, defaultTtlMs: 0 };
export const HASH_TABLE: TableInfo = { tableId: 9, partition: 'hash', valueSeparationThresholdBytes: 1024, defaultTtlMs: 0 };
export const CONF: ConfState = { voters: [1 as PeerId], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false };

const utf8 = new TextEncoder();
export const b = (s: string): Uint8Array => utf8.encode(s);
export const str = (u: Uint8Array): string => new TextDecoder().decode(u);

export function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'shoal-engine-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function engineOptions(dir: string, over: Partial<EngineOptions> = {}): EngineOptions {
  return {
    dir, valueLogFileBytes: 256 * 1024, valueLogGcGarbageRatio: 0.5, valueLogGcRateBytesPerSec: 1e12,
    keyBytesMax: 1024, valueBytesMax: 1 << 20, ...over,
  };
}

/** A descriptor over [start, end) user keys of a range table (empty = table bounds), or a whole hash table. */
export function descriptor(id: number, table: TableInfo, start = '', end = ''): common.ShardDescriptor {
  const bound = (k: string): Uint8Array => (k === '' ? new Uint8Array(0) : rangeShardBound(table.tableId as TableId, b(k)));
  return common.ShardDescriptor.create({
    id, tableId: table.tableId, startKey: bound(start), endKey: bound(end),
    epoch: { confVer: 1, version: 1 },
    replicas: [{ nodeId: 1, peerId: 1, role: common.ReplicaRole.VOTER }],
    partition: table.partition === 'hash' ? common.Partition.HASH : common.Partition.RANGE,
  });
}

export function shardState(desc: common.ShardDescriptor): ShardLocalState {
  return { descriptor: desc, appliedIndex: 0, appliedTerm: 0, confState: CONF, peerId: 1, tombstone: false };
}

export async function openWithShard(
  dir: string, table: TableInfo = RANGE_TABLE, over: Partial<EngineOptions> = {}, id = 1, start = '', end = '',
): Promise<Engine> {
  const e = await Engine.open(engineOptions(dir, over));
  await e.createShard(shardState(descriptor(id, table, start, end)), table);
  return e;
}

export type Op = NonNullable<command.RaftCommand['op']>;

export function cmd(shardId: number, op: Op, stampMs = 1_000): command.RaftCommand {
  return command.RaftCommand.create({
    header: { shardId, epoch: { confVer: 1, version: 1 }, proposedAtUnixMs: stampMs, requestId: 0, origin: '' },
    op,
  });
}

export const put = (key: string | Uint8Array, value: string | Uint8Array, o: Partial<command.PutCommand> = {}): Op => ({
  $case: 'put',
  put: command.PutCommand.create({ key: typeof key === 'string' ? b(key) : key, value: typeof value === 'string' ? b(value) : value, ...o }),
});
export const del = (key: string): Op => ({ $case: 'delete', delete: { key: b(key) } });
export const cas = (key: string, o: Partial<command.CompareAndSwapCommand>): Op => ({
  $case: 'cas', cas: command.CompareAndSwapCommand.create({ key: b(key), ...o }),
});
export const incr = (key: string, delta: bigint, expireAtUnixMs = 0): Op => ({ $case: 'incr', incr: { key: b(key), delta, expireAtUnixMs } });
export const batchWrite = (ops: { put?: [string, string]; del?: string; expireAtUnixMs?: number }[]): Op => ({
  $case: 'batchWrite',
  batchWrite: {
    ops: ops.map((o) => command.WriteOp.create(o.put !== undefined
      ? { type: kv.WriteOpType.PUT, key: b(o.put[0]), value: b(o.put[1]), expireAtUnixMs: o.expireAtUnixMs ?? 0 }
      : { type: kv.WriteOpType.DELETE, key: b(o.del ?? '') })),
  },
});
export const delRange = (start: string, end: string): Op => ({ $case: 'deleteRange', deleteRange: { startKey: b(start), endKey: b(end) } });
export const expireDelete = (keys: Uint8Array[]): Op => ({ $case: 'expireDelete', expireDelete: { keys } });

export function appliedIndex(e: Engine, shardId: number): number {
  return e.shards().find((s) => s.descriptor.id === shardId)?.appliedIndex ?? 0;
}

/** Applies commands as consecutive entries of one batch; outcomes are read after commit. */
export async function applyAll(e: Engine, shardId: number, cmds: readonly command.RaftCommand[], term = 1): Promise<ApplyOutcome[]> {
  const batch = e.beginApply();
  let index = appliedIndex(e, shardId);
  const outcomes = cmds.map((c) => batch.apply(shardId, ++index, term, command.RaftCommand.encode(c).finish()));
  await batch.commit();
  return outcomes;
}

export async function applyOne(e: Engine, shardId: number, op: Op, stampMs = 1_000): Promise<ApplyOutcome> {
  const [o] = await applyAll(e, shardId, [cmd(shardId, op, stampMs)]);
  return o!;
}

type ReplyOf<K extends ApplyReply['op']> = Extract<ApplyReply, { op: K }>['response'];

/** The reply of a successful outcome (fails the test otherwise). */
export function reply<K extends ApplyReply['op']>(o: ApplyOutcome, op: K): ReplyOf<K> {
  if (!o.ok) throw new Error(`expected success, got ${o.error.code}: ${o.error.message}`);
  if (o.value.op !== op) throw new Error(`expected ${op}, got ${o.value.op}`);
  return o.value.response as ReplyOf<K>;
}

export function errorCode(o: ApplyOutcome): string {
  return o.ok ? 'ok' : o.error.code;
}

/** Every key of the shard with value and expiry, expired ones included (nowMs 0 hides nothing). */
export async function dump(e: Engine, shardId: number): Promise<string[]> {
  const out: string[] = [];
  let startKey: Uint8Array = new Uint8Array(0);
  for (;;) {
    const page = await e.scan(shardId, { startKey, endKey: new Uint8Array(0), limit: 1000, reverse: false, keysOnly: false }, 0);
    for (const p of page.pairs) out.push(`${toHex(p.key)}=${toHex(p.value)}@${p.expireAtUnixMs}`);
    if (!page.more) return out;
    startKey = page.nextKey;
  }
}

export function dirBytes(dir: string): number {
  let n = 0;
  for (const name of readdirSync(dir)) {
    const st = statSync(join(dir, name));
    n += st.isDirectory() ? dirBytes(join(dir, name)) : st.size;
  }
  return n;
}
