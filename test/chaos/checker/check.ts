/**
 * Checks a whole history: split it by key (a history of independent registers is
 * linearizable iff each key's sub-history is — P-compositionality, Horn & Kroening),
 * search each key, and report the first violation, or unknown if some key ran out of
 * steps and none is violated.
 *
 * What reaches the search per key: `ok` operations (must take effect between start and
 * end) and `unknown` writes (may take effect after start, or never). `fail` operations
 * certainly did not happen and `unknown` reads change nothing; both are left out.
 */
import { KvError } from '@shoal/common';
import type { KeyedOp } from './explain.js';
import { explainUnwrittenRead, explainViolation, unwrittenRead } from './explain.js';
import type { HistoryRecord } from './history.js';
import { toModelOp } from './history.js';
import type { SearchOp, SearchOutcome } from './search.js';
import { searchLinearization } from './search.js';

/** Default per-key step budget: about a second of search on one core, well under 1 GB of memo. */
export const CHECK_STEPS_MAX_PER_KEY_DEFAULT = 2_000_000;

/** The largest budget accepted: the search numbers states in 26 bits, and memory grows with steps. */
export const CHECK_STEPS_MAX_PER_KEY_LIMIT = 50_000_000;

export interface CheckOptions {
  /** Steps the search may take on one key before that key's answer is `unknown`. */
  readonly stepsMaxPerKey?: number;
}

export interface KeyStats {
  readonly key: string;
  readonly ops: number;
  readonly steps: number;
  readonly outcome: SearchOutcome['kind'];
}

export type CheckResult =
  | { readonly kind: 'linearizable'; readonly opCount: number; readonly keys: readonly KeyStats[] }
  | { readonly kind: 'unknown'; readonly opCount: number; readonly keys: readonly KeyStats[]; readonly exhaustedKeys: readonly string[] }
  | { readonly kind: 'not-linearizable'; readonly opCount: number; readonly keys: readonly KeyStats[]; readonly key: string; readonly explanation: string };

function checkOptions(options: CheckOptions): number {
  const steps = options.stepsMaxPerKey ?? CHECK_STEPS_MAX_PER_KEY_DEFAULT;
  if (!Number.isSafeInteger(steps) || steps < 1 || steps > CHECK_STEPS_MAX_PER_KEY_LIMIT) {
    throw new KvError('INVALID_ARGUMENT', `stepsMaxPerKey must be an integer in [1, ${CHECK_STEPS_MAX_PER_KEY_LIMIT}], got ${steps}`, {
      details: { option: 'stepsMaxPerKey' },
    });
  }
  return steps;
}

/** Groups records by key, keys in sorted order so reports are reproducible. */
export function partitionByKey(records: readonly HistoryRecord[]): Map<string, KeyedOp[]> {
  const byKey = new Map<string, KeyedOp[]>();
  records.forEach((record, i) => {
    const model = record.result.status === 'fail' ? undefined : toModelOp(record, `record ${i}`);
    let ops = byKey.get(record.key);
    if (ops === undefined) byKey.set(record.key, (ops = []));
    ops.push({ record, model });
  });
  return new Map([...byKey.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** The ops of one key that the search must place; `origin[i]` is the KeyedOp of search op i. */
function searchOps(ops: readonly KeyedOp[]): { search: SearchOp[]; origin: KeyedOp[] } {
  const search: SearchOp[] = [];
  const origin: KeyedOp[] = [];
  for (const o of ops) {
    if (o.model === undefined) continue;
    const unknown = o.record.result.status === 'unknown';
    if (unknown && o.model.kind === 'get') continue;
    search.push({ start: o.record.start, end: unknown || o.record.end === null ? Infinity : o.record.end, model: o.model });
    origin.push(o);
  }
  return { search, origin };
}

/** Checks every key of `records`; stops at the first key that is not linearizable. */
export function checkHistory(records: readonly HistoryRecord[], options: CheckOptions = {}): CheckResult {
  const stepsMax = checkOptions(options);
  const opCount = records.length;
  const keys: KeyStats[] = [];
  const exhaustedKeys: string[] = [];
  for (const [key, ops] of partitionByKey(records)) {
    const { search, origin } = searchOps(ops);
    const outcome = searchLinearization(search, stepsMax);
    keys.push({ key, ops: ops.length, steps: outcome.steps, outcome: outcome.kind });
    if (outcome.kind === 'budget') {
      // Proving a violation means exhausting the search, which unknown writes can make
      // too costly; a read of a value nothing wrote needs no search.
      const read = unwrittenRead(ops);
      if (read !== undefined) return { kind: 'not-linearizable', opCount, keys, key, explanation: explainUnwrittenRead(key, read, ops) };
      exhaustedKeys.push(key);
    }
    if (outcome.kind === 'violation') {
      const blocked = origin[outcome.blockedOp];
      if (blocked === undefined) throw new Error(`check: blocked op ${outcome.blockedOp} out of range`);
      return { kind: 'not-linearizable', opCount, keys, key, explanation: explainViolation(key, blocked, outcome, ops) };
    }
  }
  if (exhaustedKeys.length > 0) return { kind: 'unknown', opCount, keys, exhaustedKeys };
  return { kind: 'linearizable', opCount, keys };
}

/** The one line `npm run chaos` and check-history end with. */
export function summaryLine(result: CheckResult): string {
  switch (result.kind) {
    case 'linearizable':
      return `chaos: ${result.opCount} ops, linearizable`;
    case 'unknown':
      return `chaos: ${result.opCount} ops, unknown`;
    case 'not-linearizable':
      return `chaos: ${result.opCount} ops, NOT linearizable: ${result.explanation}`;
    default: {
      const never: never = result;
      throw new Error(`check: unknown result ${JSON.stringify(never)}`);
    }
  }
}
