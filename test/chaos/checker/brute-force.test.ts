// Goal: the checker's verdict agrees with a brute-force enumeration of every order on
// thousands of tiny random histories (all op kinds, ok / fail / unknown, random results,
// so about half are not linearizable) — the pruning rules in search.ts must neither
// reject a linearizable history nor accept a non-linearizable one — and what a violation's
// explanation claims about the shortest failing prefix must hold.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Prng } from '../../sim/prng.js';
import type { HistoryRecord, HistoryResult, HistoryValue } from './index.js';
import { checkHistory, formatHistory, summaryLine, toModelOp } from './index.js';
import type { ModelOp, RegisterState } from './model.js';
import { ILLEGAL, step } from './model.js';

const HISTORIES = 2000;
const VALUES = [null, 'a', 'b', '1', '2', 'ab', 'ba'] as const;

function pick<T>(prng: Prng, xs: readonly T[]): T {
  return xs[prng.intn(xs.length)] as T;
}

function randomRecord(prng: Prng, client: number, kinds: readonly HistoryRecord['op'][]): HistoryRecord {
  const start = prng.intn(10);
  const end = start + prng.intn(6);
  const roll = prng.float();
  const outcome = roll < 0.65 ? 'ok' : roll < 0.9 ? 'unknown' : 'fail';
  const op = pick(prng, kinds);
  const str = (): string => pick(prng, ['a', 'b', '1']);
  const bool = (): boolean => prng.chance(0.5);
  const [args, value]: [HistoryValue[], HistoryValue | undefined] =
    op === 'get' ? [[], pick(prng, VALUES)]
      : op === 'put' ? [[str()], undefined]
        : op === 'delete' ? [[], prng.chance(0.3) ? undefined : bool()]
          : op === 'cas' ? [[pick(prng, [null, 'a', 'b']), pick(prng, [null, 'a', 'b'])], bool()]
            : op === 'put-if-absent' ? [[str()], bool()]
              : op === 'increment' ? [prng.chance(0.5) ? [] : [2], String(1 + prng.intn(4))]
                : [[pick(prng, ['a', 'b'])], prng.chance(0.3) ? undefined : 1 + prng.intn(3)];
  const result: HistoryResult = outcome !== 'ok' ? { status: outcome } : value === undefined ? { status: 'ok' } : { status: 'ok', value };
  return { client, key: 'k', op, args, start, end, result };
}

interface Op { readonly start: number; readonly end: number; readonly model: ModelOp; readonly required: boolean }

/**
 * Tries every order that respects real time; unknown ops may be left out. With `cut`,
 * only ops started by `cut.t` count, and ok ops still running then (ending after it, or
 * at it unless `inclusive`) may be left out too, but keep their results.
 */
function bruteForce(records: readonly HistoryRecord[], cut?: { readonly t: number; readonly inclusive: boolean }): boolean {
  const running = (r: HistoryRecord): boolean => cut !== undefined && r.end !== null && (cut.inclusive ? r.end > cut.t : r.end >= cut.t);
  const ops: Op[] = records.filter((r) => r.result.status !== 'fail' && !(r.result.status === 'unknown' && r.op === 'get'))
    .filter((r) => cut === undefined || r.start <= cut.t)
    .map((r) => {
      const required = r.result.status === 'ok' && !running(r);
      return { start: r.start, end: required ? r.end ?? Infinity : Infinity, model: toModelOp(r), required };
    });
  const placed = ops.map(() => false);
  // Only a memo of dead (placed set, state) pairs: plain enough to trust, fast enough for ~14 ops.
  const dead = new Set<string>();
  const search = (state: RegisterState, remaining: number): boolean => {
    if (remaining === 0) return true;
    const key = `${placed.map(Number).join('')}|${state === undefined ? '-' : JSON.stringify(state)}`;
    if (dead.has(key)) return false;
    const deadline = Math.min(...ops.filter((o, i) => o.required && !placed[i]).map((o) => o.end));
    for (let i = 0; i < ops.length; i++) {
      const o = ops[i] as Op;
      if (placed[i] || o.start > deadline) continue;
      const after = step(state, o.model);
      if (after === ILLEGAL) continue;
      placed[i] = true;
      const found = search(after, remaining - (o.required ? 1 : 0));
      placed[i] = false;
      if (found) return true;
    }
    dead.add(key);
    return false;
  };
  return search(undefined, ops.filter((o) => o.required).length);
}

/**
 * "the N ops on this key that started by T admit no linearization[; every earlier cut
 * does]" must be true (ops still running at the cut are optional, with their results).
 */
function checkPrefixClaim(records: readonly HistoryRecord[], line: string, context: string): boolean {
  const m = / the \d+ ops on this key that started by (\d+) admit no linearization[^;]*(; every earlier cut does)?/.exec(line);
  if (m === null) return false;
  const t = Number(m[1]);
  assert.equal(bruteForce(records, { t, inclusive: true }), false, `cut at ${t} is linearizable: ${context}`);
  if (m[2] !== undefined) assert.equal(bruteForce(records, { t, inclusive: false }), true, `cut before ${t} is not linearizable: ${context}`);
  return true;
}

test('the checker agrees with brute force on tiny random histories', (t) => {
  agree(t, 20240611, ['get', 'get', 'put', 'delete', 'cas', 'put-if-absent', 'increment', 'append']);
});

test('the checker agrees with brute force on tiny get/append histories (the grow-only pruning)', (t) => {
  agree(t, 7, ['get', 'append', 'append']);
});

function agree(t: { diagnostic(message: string): void }, seed: number, kinds: readonly HistoryRecord['op'][]): void {
  const prng = new Prng(seed);
  let linearizable = 0;
  let claims = 0;
  for (let h = 0; h < HISTORIES; h++) {
    const records = Array.from({ length: 2 + prng.intn(6) }, (_, i) => randomRecord(prng, i, kinds));
    const expected = bruteForce(records);
    const got = checkHistory(records);
    const context = `history ${h}:\n${formatHistory(records)}${summaryLine(got)}`;
    assert.equal(got.kind, expected ? 'linearizable' : 'not-linearizable', context);
    // The search-free detection of unwritten reads (used when the budget runs out) must be sound too.
    const starved = checkHistory(records, { stepsMaxPerKey: 1 });
    if (starved.kind === 'not-linearizable') assert.equal(expected, false, `starved ${context}`);
    if (got.kind === 'not-linearizable' && checkPrefixClaim(records, summaryLine(got), context)) claims++;
    if (expected) linearizable++;
  }
  t.diagnostic(`${linearizable} of ${HISTORIES} histories linearizable; ${claims} failing-cut claims confirmed`);
  assert.equal(claims, HISTORIES - linearizable, 'every violation names its cut');
  assert.ok(linearizable > HISTORIES / 10 && linearizable < (HISTORIES * 9) / 10, 'both verdicts are well represented');
}
