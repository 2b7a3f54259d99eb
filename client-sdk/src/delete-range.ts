/**
 * `Table.deleteRange` on range tables: walks the shards covering `[start, end)` in key
 * order and sends each one DeleteRange — one atomic Raft proposal per shard. The walk
 * follows a storage position like a scan (scan.ts), so a split or merge during it neither
 * skips a part of the range nor deletes one twice.
 *
 * It stops at the first shard that fails: keys of later shards are untouched. A failure
 * after some shard was deleted is a PartialWriteError listing the shards done.
 */
import { compareBytes, KvError } from '@shoal/common';
import { common, kv } from '@shoal/proto';
import type { ClientCore } from './client-core.js';
import { PartialWriteError } from './errors.js';
import type { WritePart } from './errors.js';
import { execute } from './executor.js';
import type { CallContext } from './executor.js';
import type { TableRoutes } from './table-routes.js';
import type { DeleteRangeResult } from './table-types.js';

const EMPTY = new Uint8Array(0);

/** Deletes `[start, end)`; undefined bounds are the table's. */
export async function deleteRange(
  core: ClientCore, ctx: CallContext, t: TableRoutes, start: Uint8Array | undefined, end: Uint8Array | undefined,
): Promise<DeleteRangeResult> {
  const { ks } = t;
  if (ks.scheme !== 'range') {
    throw new KvError('NOT_SUPPORTED', `table ${t.name} is a hash table: its keys have no order to delete a range of`);
  }
  let pos = start === undefined ? ks.start : ks.rangeBound(start);
  const stop = end === undefined ? ks.end : ks.rangeBound(end);
  const parts: WritePart[] = [];
  let deletedCount = 0;
  while (compareBytes(pos, stop) < 0) {
    const from = pos;
    const startKey = compareBytes(from, ks.start) === 0 ? EMPTY : ks.requestKeyAt(from);
    if (startKey.length === 0 && compareBytes(from, ks.start) !== 0) {
      // A boundary that names no user key: a request from the shard start could delete
      // keys before `from` that an earlier part already handled (or that lie before `start`).
      throw new KvError('INTERNAL', `deleteRange on ${t.name}: shard boundary is not a key bound`);
    }
    try {
      const { res, shard } = await execute(core, ctx, t, {
        method: kv.KvService.deleteRange, write: true, consistency: common.ReadConsistency.LINEARIZABLE, maxStalenessMs: 0,
        route: (rt) => rt.routes.locate(from),
        build: (header) => kv.DeleteRangeRequest.create({ header, startKey, endKey: end ?? EMPTY }),
      });
      deletedCount += res.deletedCount;
      parts.push({ status: 'applied', opIndexes: [] });
      pos = shard.end;
    } catch (e) {
      const error = e instanceof KvError ? e : new KvError('INTERNAL', String(e), { cause: e });
      if (parts.length === 0) throw error;
      parts.push({ status: error.code === 'UNKNOWN_OUTCOME' ? 'unknown' : 'failed', opIndexes: [], error });
      throw new PartialWriteError(`deleteRange on ${t.name}`, parts);
    }
  }
  return { deletedCount, atomic: parts.length <= 1, shardCount: parts.length };
}
