/**
 * The simulator's only source of randomness: xoshiro128** seeded through splitmix32.
 *
 * Every decision of a simulated run (faults, delays, workload, each replica's election
 * timer) draws from a `Prng` derived from the run's seed, so a seed replays a run exactly.
 * Components take separate streams (`fork`) so that adding a draw in one place does not
 * shift every later decision elsewhere.
 */
import type { Rand } from '@shoal/raft-ts';

const TWO_POW_32 = 0x1_0000_0000;

/** splitmix32: a tiny generator used only to expand a seed into xoshiro state. */
function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

export class Prng implements Rand {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  /** `seed` may be any safe integer; both 32-bit halves feed the state. */
  constructor(seed: number, stream = 0) {
    if (!Number.isSafeInteger(seed)) throw new Error(`prng: seed must be a safe integer, got ${seed}`);
    const lo = seed >>> 0;
    const hi = Math.floor(seed / TWO_POW_32) >>> 0;
    const st = { s: (lo ^ Math.imul(hi, 0x27d4eb2d) ^ Math.imul(stream + 1, 0x165667b1)) | 0 };
    this.s0 = splitmix32(st);
    this.s1 = splitmix32(st);
    this.s2 = splitmix32(st);
    this.s3 = splitmix32(st);
    // xoshiro's state must not be all zero.
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** A uniformly distributed unsigned 32-bit integer. */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** `Rand`: a uniform integer in [0, n), unbiased (rejection sampling). */
  intn(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > TWO_POW_32) {
      throw new Error(`prng: intn(n) needs an integer n in [1, 2^32], got ${n}`);
    }
    const limit = TWO_POW_32 - (TWO_POW_32 % n);
    for (let tries = 0; tries < 64; tries++) {
      const x = this.nextU32();
      if (x < limit) return x % n;
    }
    // Each try fails with probability < 1/2, so 64 failures in a row do not happen.
    throw new Error('prng: rejection sampling did not terminate');
  }

  /** A uniform float in [0, 1). */
  float(): number {
    return this.nextU32() / TWO_POW_32;
  }

  /** True with probability `p` (p <= 0 never, p >= 1 always, without drawing). */
  chance(p: number): boolean {
    if (p <= 0) return false;
    if (p >= 1) return true;
    return this.float() < p;
  }

  /** A uniform integer in [lo, hi] (inclusive). */
  between(lo: number, hi: number): number {
    if (hi < lo) throw new Error(`prng: between(${lo}, ${hi}) is empty`);
    return lo + this.intn(hi - lo + 1);
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('prng: pick from an empty list');
    return items[this.intn(items.length)]!;
  }

  /** Fisher–Yates, in place; returns `items` for chaining. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.intn(i + 1);
      const tmp = items[i]!;
      items[i] = items[j]!;
      items[j] = tmp;
    }
    return items;
  }

  /** An independent stream, determined by this generator's next output and `stream`. */
  fork(stream: number): Prng {
    return new Prng(this.nextU32() * 0x200 + (stream & 0x1ff), stream);
  }
}
