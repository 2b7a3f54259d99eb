/**
 * The shape of a command implementation and the argument helpers every family uses.
 *
 * A command's `run` reads through `env.txn`, records its writes there, and returns its
 * reply. A Redis error reply is either returned or thrown with `fail()` (ReplyError); a
 * thrown one discards the command's writes, as Redis leaves the data untouched when a
 * command fails. Arguments are parsed before the key is looked up, in Redis' order, so
 * the same request gets the same error Redis gives.
 */
import { KvError } from '@shoal/common';
import { clampToSafe, parseDouble, parseI64, text } from './numbers.js';
import { Err, error } from './reply.js';
import type { Reply } from './reply.js';
import { fail } from './txn.js';
import type { Txn } from './txn.js';

export interface ExecutorLimits {
  /** A user key (and a hash field, set or zset member) may have at most this many bytes. */
  readonly keyBytesMax: number;
  /** A string value (SET, APPEND, SETRANGE results) may have at most this many bytes; Redis' proto-max-bulk-len. */
  readonly stringBytesMax: number;
  /** Bytes of storage keys and values one command may write (the proposal's size). */
  readonly writeBytesMax: number;
  /** Keys KEYS may return from one shard. */
  readonly keysReplyMax: number;
  /** Entries one SCAN page may step over before it returns (expired keys, subkeys, non-matches). */
  readonly scanExaminedMax: number;
}

export const DEFAULT_LIMITS: ExecutorLimits = {
  keyBytesMax: 64 * 1024,
  stringBytesMax: 512 * 1024 * 1024,
  writeBytesMax: 768 * 1024 * 1024,
  keysReplyMax: 1_000_000,
  scanExaminedMax: 100_000,
};

export interface CommandEnv {
  /** The command's name, lower case (as Redis prints it in errors). */
  readonly name: string;
  /** args[0] is the command name as sent. */
  readonly args: readonly Uint8Array[];
  readonly txn: Txn;
  /** Uniform in [0, 1): the leader's randomness (SPOP, SRANDMEMBER…); seeded in tests. */
  readonly random: () => number;
  readonly limits: ExecutorLimits;
  readonly resp3: boolean;
}

/** Which arguments are keys: Redis' (first, last, step), last < 0 counting from the end; or a function for numkeys commands. */
export type KeySpec =
  | { readonly first: number; readonly last: number; readonly step: number }
  | ((args: readonly Uint8Array[]) => number[]);

export interface CommandSpec {
  readonly name: string;
  /** Redis arity: n = exactly n arguments (command name included), -n = at least n. */
  readonly arity: number;
  /** Writes data: runs under latches and may propose a batch. */
  readonly write: boolean;
  readonly keys: KeySpec | null;
  run(env: CommandEnv): Promise<Reply>;
}

export const NO_KEYS = null;

export function keys(first: number, last: number, step = 1): KeySpec {
  return { first, last, step };
}

/** Positions of the key arguments of a call (empty if malformed; the command reports the error). */
export function keyPositions(spec: KeySpec | null, args: readonly Uint8Array[]): number[] {
  if (spec === null) return [];
  if (typeof spec === 'function') return spec(args);
  const last = spec.last < 0 ? args.length + spec.last : spec.last;
  const out: number[] = [];
  for (let i = spec.first; i <= last && i < args.length; i += spec.step) out.push(i);
  return out;
}

// ----------------------------------------------------------------------------- arguments

const ascii = new TextEncoder();

export function lower(arg: Uint8Array): string {
  return text(arg).toLowerCase();
}

export function is(arg: Uint8Array | undefined, word: string): boolean {
  return arg !== undefined && arg.length === word.length && lower(arg) === word;
}

export function bytes(s: string): Uint8Array {
  return ascii.encode(s);
}

export function arg(env: CommandEnv, i: number): Uint8Array {
  const a = env.args[i];
  if (a === undefined) fail(Err.syntax);
  return a;
}

/**
 * A user key argument: within the key size limit and inside this shard. The caller routes
 * keys to their shard; a key outside it (a stale route, a split since) is KEY_NOT_IN_SHARD,
 * retryable after a route refresh.
 */
export function keyArg(env: CommandEnv, i: number): Uint8Array {
  const k = arg(env, i);
  if (k.length > env.limits.keyBytesMax) {
    throw new KvError('KEY_TOO_LARGE', `key of ${k.length} bytes exceeds ${env.limits.keyBytesMax}`, { details: { option: 'key' } });
  }
  if (!env.txn.codec.contains(env.txn.codec.dataKey(k))) throw new KvError('KEY_NOT_IN_SHARD', 'the key lies outside this shard');
  return k;
}

/** A hash field or set/zset member within the size limit. */
export function memberArg(env: CommandEnv, i: number): Uint8Array {
  const m = arg(env, i);
  if (m.length > env.limits.keyBytesMax) {
    throw new KvError('KEY_TOO_LARGE', `field or member of ${m.length} bytes exceeds ${env.limits.keyBytesMax}`, { details: { option: 'member' } });
  }
  return m;
}

export function valueArg(env: CommandEnv, i: number): Uint8Array {
  const v = arg(env, i);
  if (v.length > env.limits.stringBytesMax) fail(Err.stringTooLong);
  return v;
}

/** An int64 argument, or "value is not an integer or out of range". */
export function int64Arg(env: CommandEnv, i: number, error: Reply = Err.notInteger): bigint {
  const v = parseI64(arg(env, i));
  if (v === undefined) fail(error);
  return v;
}

/** An int64 argument as a JS number clamped to ±2^53 (indexes and counts). */
export function intArg(env: CommandEnv, i: number): number {
  return clampToSafe(int64Arg(env, i));
}

/**
 * getPositiveLongFromObjectOrReply: an integer ≥ 0. Redis answers a non-integer with the
 * same message as a negative one ("value is out of range, must be positive" by default).
 */
export function nonNegativeArg(env: CommandEnv, i: number, message: Reply = Err.outOfRangePositive): number {
  const v = int64Arg(env, i, message);
  if (v < 0n) fail(message);
  return clampToSafe(v);
}

/** getRangeLongFromObjectOrReply(-LONG_MAX, LONG_MAX): any int64 except its minimum. */
export function countArg(env: CommandEnv, i: number): bigint {
  const v = int64Arg(env, i);
  if (v === -(1n << 63n)) {
    fail(error('ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807'));
  }
  return v;
}

export function doubleArg(env: CommandEnv, i: number, error: Reply = Err.notFloat): number {
  const v = parseDouble(arg(env, i));
  if (v === undefined) fail(error);
  return v;
}

/** Pairs `args[from..]` as (a, b); "wrong number of arguments" if odd or empty. */
export function pairsFrom(env: CommandEnv, from: number): [number, number][] {
  const n = env.args.length - from;
  if (n <= 0 || n % 2 !== 0) fail(Err.wrongArgs(env.name));
  const out: [number, number][] = [];
  for (let i = from; i < env.args.length; i += 2) out.push([i, i + 1]);
  return out;
}

export function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}
