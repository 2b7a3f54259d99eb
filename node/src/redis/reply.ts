/**
 * The reply model of the Redis executor: a small tagged union with RESP3's shapes (map,
 * set, double, boolean, null), and its conversion to the wire message `kv.RedisReply` for
 * a client speaking RESP2 or RESP3. Commands build RESP3-shaped replies; `toProtoReply`
 * flattens them for RESP2 exactly as Redis 7 does (map → flat array, set → array, double →
 * bulk string in `%.17g`, boolean → integer 1/0, null array → null).
 *
 * Redis-level errors are replies (`error`, text = the whole line without '-', e.g.
 * "WRONGTYPE Operation against a key holding the wrong kind of value"); operating errors
 * (CORRUPTION, SERVER_BUSY…) are thrown KvErrors and travel in ExecResponse.error.
 */
import { assertNever } from '@shoal/common';
import { kv } from '@shoal/proto';
import { formatDouble } from './numbers.js';

export type Reply =
  | { readonly kind: 'simple'; readonly text: string }
  | { readonly kind: 'error'; readonly text: string }
  | { readonly kind: 'integer'; readonly value: bigint }
  | { readonly kind: 'bulk'; readonly value: Uint8Array }
  /** RESP2 `$-1`, RESP3 `_`. */
  | { readonly kind: 'null' }
  /** RESP2 `*-1` (e.g. LPOP key count on a missing key), RESP3 `_`. */
  | { readonly kind: 'nullArray' }
  | { readonly kind: 'array'; readonly items: readonly Reply[] }
  | { readonly kind: 'map'; readonly entries: readonly (readonly [Reply, Reply])[] }
  | { readonly kind: 'set'; readonly items: readonly Reply[] }
  | { readonly kind: 'double'; readonly value: number }
  | { readonly kind: 'boolean'; readonly value: boolean };

const utf8 = new TextEncoder();

export const OK: Reply = Object.freeze({ kind: 'simple', text: 'OK' });
export const NULL: Reply = Object.freeze({ kind: 'null' });
export const NULL_ARRAY: Reply = Object.freeze({ kind: 'nullArray' });
export const EMPTY_ARRAY: Reply = Object.freeze({ kind: 'array', items: Object.freeze([]) });

export function simple(text: string): Reply {
  return { kind: 'simple', text };
}

export function error(text: string): Reply {
  return { kind: 'error', text };
}

export function int(value: number | bigint): Reply {
  return { kind: 'integer', value: BigInt(value) };
}

export function bulk(value: Uint8Array | string): Reply {
  return { kind: 'bulk', value: typeof value === 'string' ? utf8.encode(value) : value };
}

export function bulkOrNull(value: Uint8Array | undefined): Reply {
  return value === undefined ? NULL : bulk(value);
}

export function array(items: readonly Reply[]): Reply {
  return { kind: 'array', items };
}

export function bulkArray(values: readonly Uint8Array[]): Reply {
  return array(values.map((v) => bulk(v)));
}

export function map(entries: readonly (readonly [Reply, Reply])[]): Reply {
  return { kind: 'map', entries };
}

export function set(items: readonly Reply[]): Reply {
  return { kind: 'set', items };
}

export function double(value: number): Reply {
  return { kind: 'double', value };
}

export function boolean(value: boolean): Reply {
  return { kind: 'boolean', value };
}

/** Redis 7's error lines, exactly (tests and clients match on them). */
export const Err = {
  wrongType: error('WRONGTYPE Operation against a key holding the wrong kind of value'),
  notInteger: error('ERR value is not an integer or out of range'),
  notFloat: error('ERR value is not a valid float'),
  overflow: error('ERR increment or decrement would overflow'),
  nanOrInfinity: error('ERR increment would produce NaN or Infinity'),
  hashNotInteger: error('ERR hash value is not an integer'),
  hashNotFloat: error('ERR hash value is not a float'),
  syntax: error('ERR syntax error'),
  noSuchKey: error('ERR no such key'),
  indexOutOfRange: error('ERR index out of range'),
  outOfRangePositive: error('ERR value is out of range, must be positive'),
  outOfRange: error('ERR value is out of range'),
  offsetOutOfRange: error('ERR offset is out of range'),
  stringTooLong: error('ERR string exceeds maximum allowed size (proto-max-bulk-len)'),
  minMaxNotFloat: error('ERR min or max is not a float'),
  minMaxNotLex: error('ERR min or max not valid string range item'),
  invalidCursor: error('ERR invalid cursor'),
  scoreNaN: error('ERR resulting score is not a number (NaN)'),
  wrongArgs: (name: string): Reply => error(`ERR wrong number of arguments for '${name}' command`),
  invalidExpire: (name: string): Reply => error(`ERR invalid expire time in '${name}' command`),
} as const;

export function isError(r: Reply): boolean {
  return r.kind === 'error';
}

/** The wire form of a reply for a client speaking RESP `respVersion` (2 or 3). */
export function toProtoReply(r: Reply, respVersion: number): kv.RedisReply {
  const T = kv.RedisReplyType;
  const resp3 = respVersion >= 3;
  switch (r.kind) {
    case 'simple': return kv.RedisReply.create({ type: T.SIMPLE_STRING, str: utf8.encode(r.text) });
    case 'error': return kv.RedisReply.create({ type: T.ERROR, str: utf8.encode(r.text) });
    case 'integer': return kv.RedisReply.create({ type: T.INTEGER, integer: r.value });
    case 'bulk': return kv.RedisReply.create({ type: T.BULK_STRING, str: r.value });
    case 'null': return kv.RedisReply.create({ type: T.NIL });
    // The proxy sends `*-1` (RESP2) or `_` (RESP3).
    case 'nullArray': return kv.RedisReply.create({ type: T.NIL, nullArray: true });
    case 'array': return kv.RedisReply.create({ type: T.ARRAY, elements: r.items.map((x) => toProtoReply(x, respVersion)) });
    case 'set':
      return kv.RedisReply.create({ type: resp3 ? T.SET : T.ARRAY, elements: r.items.map((x) => toProtoReply(x, respVersion)) });
    case 'map': {
      const elements: kv.RedisReply[] = [];
      for (const [k, v] of r.entries) elements.push(toProtoReply(k, respVersion), toProtoReply(v, respVersion));
      return kv.RedisReply.create({ type: resp3 ? T.MAP : T.ARRAY, elements });
    }
    case 'double':
      return resp3
        ? kv.RedisReply.create({ type: T.DOUBLE, number: r.value })
        : kv.RedisReply.create({ type: T.BULK_STRING, str: utf8.encode(formatDouble(r.value)) });
    case 'boolean':
      return resp3
        ? kv.RedisReply.create({ type: T.BOOLEAN, boolean: r.value })
        : kv.RedisReply.create({ type: T.INTEGER, integer: r.value ? 1n : 0n });
    default:
      return assertNever(r, 'reply kind');
  }
}
