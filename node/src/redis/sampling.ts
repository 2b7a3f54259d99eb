/**
 * Random picks for SRANDMEMBER, SPOP, HRANDFIELD, ZRANDMEMBER and RANDOMKEY. Randomness is
 * the leader's (`env.random`); for writes (SPOP) the picks end up in the batch, so replicas
 * never draw. Collections are read whole (O(n)), as Kvrocks does.
 */

/** A uniform integer in [0, n). */
export function randomIndex(random: () => number, n: number): number {
  return Math.min(n - 1, Math.floor(random() * n));
}

/** `count` picks with repetition (RANDMEMBER with a negative count). */
export function pickWithRepeats<T>(items: readonly T[], count: number, random: () => number): T[] {
  const out: T[] = [];
  if (items.length === 0) return out;
  for (let i = 0; i < count; i++) out.push(items[randomIndex(random, items.length)]!);
  return out;
}

/** `count` distinct picks in random order (a partial Fisher–Yates shuffle); all if count ≥ n. */
export function pickDistinct<T>(items: readonly T[], count: number, random: () => number): T[] {
  const a = items.slice();
  const n = Math.min(count, a.length);
  for (let i = 0; i < n; i++) {
    const j = i + randomIndex(random, a.length - i);
    const t = a[i]!;
    a[i] = a[j]!;
    a[j] = t;
  }
  return a.slice(0, n);
}
