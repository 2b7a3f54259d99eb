/**
 * The node's Redis replies (`kv.RedisReply`, proto/kv.proto) as the proxy's `Reply` values.
 * The node already shaped them for the client's RESP version; the proxy's encoder writes
 * them (and maps RESP3 types down for RESP2 clients).
 */
import { kv } from '@shoal/proto';
import {
  array, bigNumber, boolean, bulk, double, error, integer, map, NULL_ARRAY, NULL_BULK, set, simple, verbatim,
} from './resp/reply.js';
import type { Reply } from './resp/reply.js';

/** Deepest reply tree accepted from a node (Redis replies here nest at most 3 levels). */
const REPLY_DEPTH_MAX = 32;

/**
 * A NIL is Redis' null ARRAY (`*-1` in RESP2) when the node says so (`null_array`), or when
 * the caller knows the command's nil is one (`nullArray`: LPOP/RPOP with a count — kept for
 * nodes of an older version that do not set the flag).
 */
export function fromKvReply(r: kv.RedisReply, nullArray = false, depth = 0): Reply {
  if (depth > REPLY_DEPTH_MAX) return error('ERR reply nested too deeply');
  const T = kv.RedisReplyType;
  const items = (): Reply[] => r.elements.map((e) => fromKvReply(e, false, depth + 1));
  switch (r.type) {
    case T.NIL: return nullArray || r.nullArray ? NULL_ARRAY : NULL_BULK;
    case T.SIMPLE_STRING: return simple(Buffer.from(r.str).toString('latin1'));
    case T.ERROR: return error(Buffer.from(r.str));
    case T.INTEGER: return integer(r.integer);
    case T.BULK_STRING: return bulk(Buffer.from(r.str.buffer, r.str.byteOffset, r.str.byteLength));
    case T.ARRAY: return array(items());
    case T.SET: return set(items());
    case T.MAP: {
      const all = items();
      const entries: [Reply, Reply][] = [];
      for (let i = 0; i + 1 < all.length; i += 2) entries.push([all[i]!, all[i + 1]!]);
      return map(entries);
    }
    case T.DOUBLE: return double(r.number);
    case T.BOOLEAN: return boolean(r.boolean);
    case T.BIG_NUMBER: return bigNumber(BigInt(Buffer.from(r.str).toString('latin1')));
    case T.VERBATIM: return verbatim(Buffer.from(r.str));
    default: return error(`ERR unknown reply type ${String(r.type)} from the storage node`);
  }
}
