/**
 * Reply values: what a command answers, independent of the protocol version. The encoder
 * (encoder.ts) writes them as RESP3, or maps them down to RESP2 the way Redis does: maps
 * become flat arrays, sets arrays, doubles and big numbers bulk strings, booleans the
 * integers 1 and 0, verbatim strings plain bulk strings, and a null becomes `$-1` or `*-1`
 * depending on what the null stands for (`NullReply.resp2`).
 *
 * Text fields may be strings (written as UTF-8) or bytes (written as they are), so an
 * error message can echo a client's bytes exactly as Redis does.
 */
import { isKvError } from '@shoal/common';
import type { KvError } from '@shoal/common';

export interface SimpleReply { readonly type: 'simple'; readonly value: string }
/** The whole error line without `-`: prefix and message, e.g. `ERR syntax error`. */
export interface ErrorReply { readonly type: 'error'; readonly value: string | Uint8Array }
export interface IntegerReply { readonly type: 'integer'; readonly value: number | bigint }
export interface BulkReply { readonly type: 'bulk'; readonly value: string | Uint8Array }
/** RESP3 `_`; in RESP2 a null bulk string (`$-1`) or a null array (`*-1`). */
export interface NullReply { readonly type: 'null'; readonly resp2: 'bulk' | 'array' }
export interface ArrayReply { readonly type: 'array'; readonly items: readonly Reply[] }
export interface MapReply { readonly type: 'map'; readonly entries: readonly (readonly [Reply, Reply])[] }
export interface SetReply { readonly type: 'set'; readonly items: readonly Reply[] }
export interface DoubleReply { readonly type: 'double'; readonly value: number }
export interface BooleanReply { readonly type: 'boolean'; readonly value: boolean }
export interface BigNumberReply { readonly type: 'bignum'; readonly value: bigint }
/** RESP3 verbatim string; `format` is three characters (`txt`, `mkd`). */
export interface VerbatimReply { readonly type: 'verbatim'; readonly format: string; readonly value: string | Uint8Array }
/** RESP3 out-of-band push; an array in RESP2 (as Pub/Sub messages are). */
export interface PushReply { readonly type: 'push'; readonly items: readonly Reply[] }

export type Reply =
  | SimpleReply | ErrorReply | IntegerReply | BulkReply | NullReply | ArrayReply | MapReply | SetReply
  | DoubleReply | BooleanReply | BigNumberReply | VerbatimReply | PushReply;

export type ReplyType = Reply['type'];

export const simple = (value: string): SimpleReply => ({ type: 'simple', value });
/** An error reply from its full text, prefix included: `error('WRONGTYPE Operation …')`. */
export const error = (value: string | Uint8Array): ErrorReply => ({ type: 'error', value });
/** An `ERR` error reply: `err('syntax error')` is `-ERR syntax error`. */
export const err = (message: string): ErrorReply => ({ type: 'error', value: `ERR ${message}` });
export const integer = (value: number | bigint): IntegerReply => ({ type: 'integer', value });
export const bulk = (value: string | Uint8Array): BulkReply => ({ type: 'bulk', value });
export const array = (items: readonly Reply[]): ArrayReply => ({ type: 'array', items });
export const set = (items: readonly Reply[]): SetReply => ({ type: 'set', items });
export const double = (value: number): DoubleReply => ({ type: 'double', value });
export const boolean = (value: boolean): BooleanReply => ({ type: 'boolean', value });
export const bigNumber = (value: bigint): BigNumberReply => ({ type: 'bignum', value });
export const push = (items: readonly Reply[]): PushReply => ({ type: 'push', items });
export const verbatim = (value: string | Uint8Array, format = 'txt'): VerbatimReply => ({ type: 'verbatim', format, value });

/** A map from pairs; string keys become bulk strings, as Redis writes map keys. */
export function map(entries: readonly (readonly [string | Reply, Reply])[]): MapReply {
  return { type: 'map', entries: entries.map(([k, v]) => [typeof k === 'string' ? bulk(k) : k, v] as const) };
}

export const NULL_BULK: NullReply = Object.freeze({ type: 'null', resp2: 'bulk' });
export const NULL_ARRAY: NullReply = Object.freeze({ type: 'null', resp2: 'array' });
export const OK: SimpleReply = Object.freeze(simple('OK'));
export const QUEUED: SimpleReply = Object.freeze(simple('QUEUED'));
export const PONG: SimpleReply = Object.freeze(simple('PONG'));
export const EMPTY_ARRAY: ArrayReply = Object.freeze(array([]));
export const ZERO: IntegerReply = Object.freeze(integer(0));
export const ONE: IntegerReply = Object.freeze(integer(1));

/** Redis' shared error replies, with Redis' exact text. */
export const SYNTAX_ERROR: ErrorReply = Object.freeze(err('syntax error'));
export const NOT_INTEGER: ErrorReply = Object.freeze(err('value is not an integer or out of range'));
export const NOAUTH: ErrorReply = Object.freeze(error('NOAUTH Authentication required.'));
export const WRONGPASS: ErrorReply = Object.freeze(error('WRONGPASS invalid username-password pair or user is disabled.'));
export const EXECABORT: ErrorReply = Object.freeze(error('EXECABORT Transaction discarded because of previous errors.'));

/** The error reply of an operating error: its RESP prefix and message (`KvError.toResp`). */
export function kvErrorReply(e: KvError): ErrorReply {
  return error(e.toResp());
}

/** The reply for anything a handler or backend threw: a `KvError`'s own reply, else null. */
export function replyForThrown(e: unknown): ErrorReply | null {
  return isKvError(e) ? kvErrorReply(e) : null;
}

export function isError(r: Reply): r is ErrorReply {
  return r.type === 'error';
}
