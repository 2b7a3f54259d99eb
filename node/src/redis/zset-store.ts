/**
 * Sorted-set storage and ranges: a member is a subkey `version | member` holding its score
 * (float64), plus a sub-index entry `version | orderedScore | member` (empty value), so
 * members iterate in (score, member) order — Redis' skiplist order — and in member order.
 *
 * Ranges as Redis parses them (t_zset.c zslParseRange / zslParseLexRange): score bounds
 * are strtod numbers with an optional '(' (exclusive), where an empty string is 0 and
 * overflow is ±inf; lex bounds are '-', '+', '[x' or '(x'.
 */
import { compareBytes, KeyKind } from '@shoal/common';
import type { CommandEnv } from './command.js';
import {
  decodeScoreOrdered, decodeScoreValue, encodeScoreOrdered, encodeScoreValue, RedisType, scoreIndexSub,
} from './encoding.js';
import type { Meta } from './encoding.js';
import { text } from './numbers.js';

export const Z = RedisType.ZSet;
const EMPTY = new Uint8Array(0);

export interface ZEntry {
  readonly member: Uint8Array;
  readonly score: number;
}

export async function scoreOf(env: CommandEnv, key: Uint8Array, m: Meta, member: Uint8Array): Promise<number | undefined> {
  const v = await env.txn.getSub(key, m, member);
  return v === undefined ? undefined : decodeScoreValue(v);
}

/** Writes a member's score; `old` is its current score if it has one (its index entry moves). */
export function putMember(env: CommandEnv, key: Uint8Array, m: Meta, member: Uint8Array, score: number, old: number | undefined): void {
  if (old !== undefined) env.txn.delSub(key, m.version, scoreIndexSub(old, member), KeyKind.SubIndex);
  env.txn.putSub(key, m.version, member, encodeScoreValue(score));
  env.txn.putSub(key, m.version, scoreIndexSub(score, member), EMPTY, KeyKind.SubIndex);
}

export function delMember(env: CommandEnv, key: Uint8Array, m: Meta, e: ZEntry): void {
  env.txn.delSub(key, m.version, e.member);
  env.txn.delSub(key, m.version, scoreIndexSub(e.score, e.member), KeyKind.SubIndex);
}

// ------------------------------------------------------------------------- score order

export interface ScoreRange {
  readonly min: number;
  readonly max: number;
  readonly minEx: boolean;
  readonly maxEx: boolean;
}

export function inScoreRange(s: number, r: ScoreRange): boolean {
  return (r.minEx ? s > r.min : s >= r.min) && (r.maxEx ? s < r.max : s <= r.max);
}

/** The 8-byte successor bound after every index entry of `score` (undefined: none). */
function afterScore(score: number): Uint8Array | undefined {
  const b = encodeScoreOrdered(score);
  for (let i = 7; i >= 0; i--) {
    if (b[i] !== 0xff) {
      b[i] = b[i]! + 1;
      return b.subarray(0, i + 1);
    }
  }
  return undefined;
}

/** Members in (score, member) order, optionally within a score range; reverse = descending. */
export async function* byScore(
  env: CommandEnv, key: Uint8Array, m: Meta, range?: ScoreRange, reverse = false, limit?: number,
): AsyncIterable<ZEntry> {
  if (range !== undefined && emptyScoreRange(range)) return;
  const from = range === undefined ? undefined : encodeScoreOrdered(range.min);
  const to = range === undefined ? undefined : afterScore(range.max);
  let n = 0;
  for await (const [sub] of env.txn.subs(key, m.version, { kind: KeyKind.SubIndex, from, to, reverse })) {
    const score = decodeScoreOrdered(sub);
    if (range !== undefined && !inScoreRange(score, range)) continue;
    if (limit !== undefined && n >= limit) return;
    n++;
    yield { member: sub.subarray(8), score };
  }
}

/** Members of rank [start, end] (inclusive, already sanitised), ascending or from the top. */
export async function byRank(env: CommandEnv, key: Uint8Array, m: Meta, start: number, end: number, reverse: boolean): Promise<ZEntry[]> {
  const out: ZEntry[] = [];
  let rank = 0;
  for await (const e of byScore(env, key, m, undefined, reverse, end + 1)) {
    if (rank++ >= start) out.push(e);
  }
  return out;
}

/** Redis' rank sanitising (ZRANGE, ZREMRANGEBYRANK): [start, end] or undefined when empty. */
export function rankRange(start: number, end: number, len: number): [number, number] | undefined {
  if (start < 0) start += len;
  if (end < 0) end += len;
  if (start < 0) start = 0;
  if (start > end || start >= len) return undefined;
  if (end >= len) end = len - 1;
  return [start, end];
}

const LENIENT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** zslParseRange's strtod: '(' for exclusive, leading spaces allowed, "" = 0, no NaN. */
export function parseScoreBound(bytes: Uint8Array): { value: number; exclusive: boolean } | undefined {
  let s = text(bytes);
  const exclusive = s.startsWith('(');
  if (exclusive) s = s.slice(1);
  s = s.replace(/^[ \t\n\v\f\r]+/, '');
  if (s === '') return { value: 0, exclusive };
  const inf = /^([+-]?)inf(inity)?$/i.exec(s);
  if (inf !== null) return { value: inf[1] === '-' ? -Infinity : Infinity, exclusive };
  if (LENIENT.test(s)) return { value: Number(s), exclusive };
  const hex = /^([+-]?)0[xX]([0-9a-fA-F]+)$/.exec(s);
  if (hex !== null) return { value: (hex[1] === '-' ? -1 : 1) * Number(`0x${hex[2]!}`), exclusive };
  return undefined;
}

export function parseScoreRange(min: Uint8Array, max: Uint8Array): ScoreRange | undefined {
  const a = parseScoreBound(min);
  const b = parseScoreBound(max);
  if (a === undefined || b === undefined) return undefined;
  return { min: a.value, minEx: a.exclusive, max: b.value, maxEx: b.exclusive };
}

/** True when no score can be in the range (zslIsInRange's first test). */
export function emptyScoreRange(r: ScoreRange): boolean {
  return r.min > r.max || (r.min === r.max && (r.minEx || r.maxEx));
}

// ------------------------------------------------------------------------- lex order

/** A lex bound: undefined value = '-' (min) or '+' (max). */
export interface LexBound {
  readonly value: Uint8Array | undefined;
  readonly inf: '-' | '+' | undefined;
  readonly exclusive: boolean;
}

export interface LexRange {
  readonly min: LexBound;
  readonly max: LexBound;
}

function parseLexBound(b: Uint8Array): LexBound | undefined {
  const c = b[0];
  if (c === 0x2b && b.length === 1) return { value: undefined, inf: '+', exclusive: false };
  if (c === 0x2d && b.length === 1) return { value: undefined, inf: '-', exclusive: false };
  if (c === 0x28) return { value: b.subarray(1), inf: undefined, exclusive: true };
  if (c === 0x5b) return { value: b.subarray(1), inf: undefined, exclusive: false };
  return undefined;
}

export function parseLexRange(min: Uint8Array, max: Uint8Array): LexRange | undefined {
  const a = parseLexBound(min);
  const b = parseLexBound(max);
  return a === undefined || b === undefined ? undefined : { min: a, max: b };
}

function gteMin(m: Uint8Array, b: LexBound): boolean {
  if (b.inf === '-') return true;
  if (b.inf === '+') return false;
  const c = compareBytes(m, b.value!);
  return b.exclusive ? c > 0 : c >= 0;
}

function lteMax(m: Uint8Array, b: LexBound): boolean {
  if (b.inf === '+') return true;
  if (b.inf === '-') return false;
  const c = compareBytes(m, b.value!);
  return b.exclusive ? c < 0 : c <= 0;
}

export function inLexRange(m: Uint8Array, r: LexRange): boolean {
  return gteMin(m, r.min) && lteMax(m, r.max);
}

/**
 * Members in member (byte) order within a lex range, with their scores. Redis walks its
 * skiplist, so this equals Redis whenever all scores are equal — the only case Redis
 * defines for lex commands.
 */
export async function* byLex(env: CommandEnv, key: Uint8Array, m: Meta, r: LexRange, reverse: boolean): AsyncIterable<ZEntry> {
  if (r.min.inf === '+' || r.max.inf === '-') return;
  const from = r.min.inf === undefined ? r.min.value : undefined;
  let to: Uint8Array | undefined;
  if (r.max.inf === undefined) {
    // Inclusive max: stop before the first member greater than it, i.e. at max ‖ 0x00.
    to = r.max.exclusive ? r.max.value : concatZero(r.max.value!);
  }
  if (from !== undefined && to !== undefined && compareBytes(from, to) >= 0) return;
  for await (const [member, v] of env.txn.subs(key, m.version, { from, to, reverse })) {
    if (inLexRange(member, r)) yield { member, score: decodeScoreValue(v) };
  }
}

function concatZero(b: Uint8Array): Uint8Array {
  const out = new Uint8Array(b.length + 1);
  out.set(b);
  return out;
}
