/**
 * Test support: histories produced by simulating a truly linearizable store, and
 * corruptions that make them certainly non-linearizable.
 *
 * Each client runs operations back to back; each operation takes effect at a random
 * instant inside its interval, and the results are computed by applying the operations to
 * a plain map in the order of those instants — so the history is linearizable by
 * construction. Unknown-outcome operations take effect late (up to 20 operation lengths
 * after their start) or never; failed ones never.
 *
 * Keys have a mode so corruptions can be chosen that are illegal for sure: register keys
 * (get/put/delete/cas/put-if-absent, all written values unique), counter keys
 * (get/increment, strictly increasing) and append keys (get/append, unique suffixes).
 */
import { Prng } from '../../sim/prng.js';
import type { HistoryRecord, HistoryResult, HistoryValue } from './history.js';
import { byteLength } from './model.js';

export interface RandomHistoryOptions {
  readonly seed: number;
  readonly ops: number;
  readonly keys: number;
  readonly clients: number;
  /** Probability that an operation's outcome is unknown (it then lands late, or never). */
  readonly unknownRate?: number;
  /** Probability that an operation fails (it then never takes effect). */
  readonly failRate?: number;
  /** Longest operation, in time units; the gap between a client's operations is up to half of it. */
  readonly durationMax?: number;
}

type Mode = 'register' | 'counter' | 'append';
const MODES: readonly Mode[] = ['register', 'counter', 'append'];

export function keyMode(key: string): Mode {
  return MODES[Number(key.slice(1)) % MODES.length] as Mode;
}

interface Planned {
  readonly client: number;
  readonly key: string;
  readonly op: HistoryRecord['op'];
  readonly args: HistoryValue[];
  readonly start: number;
  readonly end: number;
  readonly outcome: 'ok' | 'fail' | 'unknown';
  /** When it takes effect; Infinity for never. */
  readonly at: number;
  result?: HistoryResult;
}

function planOp(prng: Prng, i: number, key: string, lastValue: Map<string, string>): { op: HistoryRecord['op']; args: HistoryValue[] } {
  const roll = prng.float();
  switch (keyMode(key)) {
    case 'counter':
      return roll < 0.4 ? { op: 'get', args: [] } : { op: 'increment', args: prng.chance(0.5) ? [] : [1 + prng.intn(3)] };
    case 'append':
      return roll < 0.4 ? { op: 'get', args: [] } : { op: 'append', args: [`.${i}`] };
    case 'register': {
      const value = `v${i}`;
      if (roll < 0.35) return { op: 'get', args: [] };
      if (roll < 0.6) { lastValue.set(key, value); return { op: 'put', args: [value] }; }
      if (roll < 0.68) return { op: 'delete', args: [] };
      if (roll < 0.85) {
        const expected = prng.chance(0.7) ? lastValue.get(key) ?? null : null;
        return { op: 'cas', args: [expected, prng.chance(0.1) ? null : value] };
      }
      return { op: 'put-if-absent', args: [value] };
    }
  }
}

/** Runs `p` against the map and returns what the client would have seen. */
function apply(store: Map<string, string>, p: Planned, prng: Prng): HistoryResult {
  const cur = store.get(p.key);
  const set = (v: string | null): void => { if (v === null) store.delete(p.key); else store.set(p.key, v); };
  switch (p.op) {
    case 'get': return { status: 'ok', value: cur ?? null };
    case 'put': set(p.args[0] as string); return { status: 'ok' };
    case 'delete': store.delete(p.key); return { status: 'ok', value: cur !== undefined };
    case 'cas': {
      const swapped = (cur ?? null) === p.args[0];
      if (swapped) set(p.args[1] as string | null);
      return swapped || prng.chance(0.5) ? { status: 'ok', value: swapped } : { status: 'ok', value: false, current: cur ?? null };
    }
    case 'put-if-absent':
      if (cur === undefined) set(p.args[0] as string);
      return { status: 'ok', value: cur === undefined };
    case 'increment': {
      const next = BigInt(cur ?? '0') + BigInt(p.args[0] ?? 1);
      set(next.toString());
      return { status: 'ok', value: next.toString() };
    }
    case 'append': {
      const next = (cur ?? '') + (p.args[0] as string);
      set(next);
      return prng.chance(0.7) ? { status: 'ok', value: byteLength(next) } : { status: 'ok' };
    }
  }
}

/** A linearizable history, records in completion order. */
export function randomHistory(o: RandomHistoryOptions): HistoryRecord[] {
  const prng = new Prng(o.seed);
  const durationMax = o.durationMax ?? 100;
  const clock = new Array<number>(o.clients).fill(0);
  const lastValue = new Map<string, string>();
  const planned: Planned[] = [];
  for (let i = 0; i < o.ops; i++) {
    const client = prng.intn(o.clients);
    const key = `k${prng.intn(o.keys)}`;
    const { op, args } = planOp(prng, i, key, lastValue);
    const start = (clock[client] as number) + prng.intn(durationMax / 2 + 1);
    const end = start + 1 + prng.intn(durationMax);
    clock[client] = end;
    const r = prng.float();
    const outcome = r < (o.unknownRate ?? 0) ? 'unknown' : r < (o.unknownRate ?? 0) + (o.failRate ?? 0) ? 'fail' : 'ok';
    const at = outcome === 'fail' ? Infinity
      : outcome === 'unknown' ? (prng.chance(0.5) ? Infinity : start + prng.float() * durationMax * 20)
        : start + prng.float() * (end - start);
    planned.push({ client, key, op, args, start, end, outcome, at });
  }
  const store = new Map<string, string>();
  for (const p of [...planned].sort((a, b) => a.at - b.at)) {
    if (p.at === Infinity) break;
    p.result = apply(store, p, prng);
  }
  return planned.sort((a, b) => a.end - b.end).map((p) => ({
    client: p.client, key: p.key, op: p.op, args: p.args, start: p.start,
    end: p.end, result: p.outcome === 'ok' ? p.result as HistoryResult : { status: p.outcome },
  }));
}

export type Corruption = 'never-written-read' | 'stale-read' | 'lost-increment';
export const CORRUPTIONS: readonly Corruption[] = ['never-written-read', 'stale-read', 'lost-increment'];

const isOk = (r: HistoryRecord): boolean => r.result.status === 'ok';
const endOf = (r: HistoryRecord): number => r.end ?? Infinity;

/**
 * A copy of `records` with one result changed so that no linearization exists, and the
 * index changed; undefined when the history has no place for this corruption.
 */
export function corrupt(records: readonly HistoryRecord[], kind: Corruption, prng: Prng): { records: HistoryRecord[]; index: number } | undefined {
  const candidates: { index: number; result: HistoryResult }[] = [];
  records.forEach((r, i) => {
    if (!isOk(r)) return;
    const same = (x: HistoryRecord): boolean => x.key === r.key && isOk(x);
    if (kind === 'never-written-read' && r.op === 'get') candidates.push({ index: i, result: { status: 'ok', value: `never-written-${i}` } });
    if (kind === 'stale-read' && r.op === 'get' && keyMode(r.key) === 'register') {
      // Some put or delete ended before the read began; a put that ended before it began is stale.
      const later = records.filter((w) => same(w) && (w.op === 'put' || w.op === 'delete') && endOf(w) < r.start);
      const w2 = later[later.length - 1];
      const w1 = w2 && records.find((w) => same(w) && w.op === 'put' && endOf(w) < w2.start);
      if (w1) candidates.push({ index: i, result: { status: 'ok', value: w1.args[0] as string } });
    }
    if (kind === 'lost-increment' && r.op === 'increment') {
      const earlier = records.find((a) => same(a) && a.op === 'increment' && endOf(a) < r.start);
      if (earlier?.result.status === 'ok') candidates.push({ index: i, result: earlier.result });
    }
  });
  if (candidates.length === 0) return undefined;
  const pick = candidates[prng.intn(candidates.length)] as { index: number; result: HistoryResult };
  const out = [...records];
  out[pick.index] = { ...(records[pick.index] as HistoryRecord), result: pick.result };
  return { records: out, index: pick.index };
}
