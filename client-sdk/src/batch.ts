/**
 * Multi-key operations: keys are grouped by shard, each group is one request (BatchGet in
 * chunks of `batchGetKeysMax`; BatchWrite whole, so each part stays atomic), and groups
 * run concurrently, at most `fanoutConcurrencyMax` at a time.
 *
 * A group whose keys stop sharing a shard (a split learned during its retries) is split
 * again and re-run: the error that revealed the split was retryable, so nothing of the
 * group had been applied.
 */
import { KvError } from '@shoal/common';
import { common, kv } from '@shoal/proto';
import type { ClientCore } from './client-core.js';
import { PartialWriteError } from './errors.js';
import type { WritePart } from './errors.js';
import { execute, REGROUP, RegroupSignal } from './executor.js';
import type { CallContext, RouteChoice } from './executor.js';
import type { ReadSpec } from './request-args.js';
import { checkTtl } from './request-args.js';
import type { TableRoutes } from './table-routes.js';
import type { WriteOp } from './table-types.js';
import { bytesOf } from './values.js';

/** How often one group may be split again before the call gives up (routes changing endlessly). */
const REGROUP_DEPTH_MAX = 16;

/** Runs `fn` over `items`, at most `limit` at a time; resolves when all settled, rejects with the first error. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      try {
        out[i] = await fn(items[i]!);
      } catch (e) {
        failure ??= { error: e };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure !== undefined) throw failure.error;
  return out;
}

/** Indexes of `keys` grouped by the shard holding them now (holes in one group, routed later). */
function groupByShard(t: TableRoutes, keys: readonly Uint8Array[], indexes: readonly number[]): number[][] {
  const groups = new Map<number, number[]>();
  for (const i of indexes) {
    const id = t.routes.locate(t.ks.dataKey(keys[i]!))?.id ?? -1;
    let g = groups.get(id);
    if (g === undefined) groups.set(id, g = []);
    g.push(i);
  }
  return [...groups.values()];
}

/**
 * Reloads routes once if some key falls into a hole of the cache, so the first grouping
 * is by real shards. A failed reload is left to the executor's retries.
 */
async function fillHoles(ctx: CallContext, t: TableRoutes, keys: readonly Uint8Array[]): Promise<void> {
  if (keys.every((k) => t.routes.locate(t.ks.dataKey(k)) !== undefined)) return;
  await t.refresh(ctx.deadline, ctx.signal).catch((e: unknown) => {
    if (!(e instanceof KvError) || !e.retryable) throw e;
  });
}

/** Routes a group: the shard of its first key, if every key is in it; else REGROUP. */
function groupRoute(keys: readonly Uint8Array[], group: readonly number[]): (t: TableRoutes) => RouteChoice {
  return (t) => {
    const s = t.routes.locate(t.ks.dataKey(keys[group[0]!]!));
    if (s === undefined) return undefined;
    return group.every((i) => s.contains(t.ks.dataKey(keys[i]!))) ? s : REGROUP;
  };
}

function chunks(group: readonly number[], size: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < group.length; i += size) out.push(group.slice(i, i + size));
  return out;
}

/** BatchGet of every key; results in the order of `keys`. */
export async function getMany(
  core: ClientCore, ctx: CallContext, t: TableRoutes, keys: readonly Uint8Array[], read: ReadSpec,
): Promise<(kv.GetResult | undefined)[]> {
  const results = new Array<kv.GetResult | undefined>(keys.length);
  const run = async (group: number[], depth: number): Promise<void> => {
    try {
      const { res } = await execute(core, ctx, t, {
        method: kv.KvService.batchGet, write: false, ...read, route: groupRoute(keys, group),
        build: (header) => kv.BatchGetRequest.create({ header, keys: group.map((i) => keys[i]!) }),
      });
      if (res.results.length !== group.length) {
        throw new KvError('INTERNAL', `BatchGet answered ${res.results.length} results for ${group.length} keys`);
      }
      group.forEach((i, j) => (results[i] = res.results[j]));
    } catch (e) {
      if (!(e instanceof RegroupSignal)) throw e;
      await runGroups(groupByShard(t, keys, group), depth + 1);
    }
  };
  const runGroups = async (groups: number[][], depth: number): Promise<void> => {
    if (depth > REGROUP_DEPTH_MAX) throw new KvError('UNAVAILABLE', `getMany on ${t.name}: routes kept changing`);
    const parts = groups.flatMap((g) => chunks(g, core.options.batchGetKeysMax));
    await mapLimit(parts, core.options.fanoutConcurrencyMax, (g) => run(g, depth));
  };
  await fillHoles(ctx, t, keys);
  await runGroups(groupByShard(t, keys, keys.map((_, i) => i)), 0);
  return results;
}

/** A validated WriteOp in wire form, with its key bytes for routing. */
export interface PreparedOp {
  readonly key: Uint8Array;
  readonly op: kv.WriteOp;
}

/** Validates and encodes batchWrite's ops. */
export function prepareOps(ops: readonly WriteOp[]): PreparedOp[] {
  if (!Array.isArray(ops)) throw new KvError('INVALID_ARGUMENT', 'ops must be an array', { details: { option: 'ops' } });
  return ops.map((w: WriteOp, i) => {
    const key = bytesOf(w.key, `ops[${i}].key`);
    switch (w.type) {
      case 'put':
        return { key, op: kv.WriteOp.create({ type: kv.WriteOpType.PUT, key, value: bytesOf(w.value, `ops[${i}].value`), ttlMs: checkTtl(w.ttlMs, `ops[${i}].ttlMs`) }) };
      case 'delete':
        return { key, op: kv.WriteOp.create({ type: kv.WriteOpType.DELETE, key }) };
      default:
        throw new KvError('INVALID_ARGUMENT', `ops[${i}].type must be 'put' or 'delete'`, { details: { option: `ops[${i}].type` } });
    }
  });
}

/**
 * Applies the ops, one atomic BatchWrite per shard. Returns the parts (all applied), or
 * throws: the error itself for a single part, CROSSSLOT if `atomic` and the ops span
 * shards, PartialWriteError when a multi-part batch was not applied in full.
 */
export async function batchWrite(
  core: ClientCore, ctx: CallContext, t: TableRoutes, ops: readonly PreparedOp[], atomic: boolean,
): Promise<WritePart[]> {
  const keys = ops.map((o) => o.key);
  const parts: WritePart[] = [];
  const crossShard = (n: number): KvError => new KvError('CROSSSLOT',
    `batchWrite on ${t.name}: the ops span ${n} shards; atomic: true requires one (nothing was written)`);
  const run = async (group: number[], depth: number): Promise<void> => {
    try {
      await execute(core, ctx, t, {
        method: kv.KvService.batchWrite, write: true, consistency: common.ReadConsistency.LINEARIZABLE, maxStalenessMs: 0, route: groupRoute(keys, group),
        build: (header) => kv.BatchWriteRequest.create({ header, ops: group.map((i) => ops[i]!.op) }),
      });
      parts.push({ status: 'applied', opIndexes: group });
    } catch (e) {
      if (e instanceof RegroupSignal) {
        const groups = groupByShard(t, keys, group);
        if (atomic && groups.length > 1) throw crossShard(groups.length);
        if (depth >= REGROUP_DEPTH_MAX) {
          parts.push({ status: 'failed', opIndexes: group, error: new KvError('UNAVAILABLE', `batchWrite on ${t.name}: routes kept changing`) });
          return;
        }
        await mapLimit(groups, core.options.fanoutConcurrencyMax, (g) => run(g, depth + 1));
        return;
      }
      const error = e instanceof KvError ? e : new KvError('INTERNAL', String(e), { cause: e });
      parts.push({ status: error.code === 'UNKNOWN_OUTCOME' ? 'unknown' : 'failed', opIndexes: group, error });
    }
  };
  await fillHoles(ctx, t, keys);
  const groups = groupByShard(t, keys, keys.map((_, i) => i));
  if (atomic && groups.length > 1) throw crossShard(groups.length);
  await mapLimit(groups, core.options.fanoutConcurrencyMax, (g) => run(g, 0));
  const bad = parts.filter((p) => p.status !== 'applied');
  if (bad.length === 0) return parts;
  if (parts.length === 1) throw bad[0]!.error!;
  throw new PartialWriteError(`batchWrite on ${t.name}`, parts);
}
