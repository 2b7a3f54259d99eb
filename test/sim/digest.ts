/**
 * 32-bit digests shared by the application state machine and the checker: FNV-1a over an
 * entry's bytes, and a chained digest of an applied sequence (digest_i = mix(digest_{i-1},
 * index_i, term_i, content_i)). Two replicas with equal chained digests at index i applied the same entries
 * in the same order, with overwhelming probability for the histories simulated here.
 */
import type { Entry } from '@shoal/raft-ts';

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

export function fnv1a(bytes: Uint8Array, seed = FNV_OFFSET): number {
  let h = seed >>> 0;
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i]!;
    h = Math.imul(h, FNV_PRIME);
  }
  return h >>> 0;
}

/** Folds a 32-bit word into `h` (FNV-1a, four bytes). */
export function mixWord(h: number, word: number): number {
  let x = h >>> 0;
  for (let i = 0; i < 4; i++) {
    x ^= (word >>> (8 * i)) & 0xff;
    x = Math.imul(x, FNV_PRIME);
  }
  return x >>> 0;
}

/** The identity of an entry's content: type and payload (index and term are keyed separately). */
export function entryHash(e: Entry): number {
  return mixWord(fnv1a(e.data), e.type);
}

/** The chained digest after applying the entry (`index`, `term`, content `hash`). */
export function chainDigest(prev: number, index: number, term: number, hash: number): number {
  return mixWord(mixWord(mixWord(prev, index), term), hash);
}

/** The digest of the empty applied sequence (index 0). */
export const DIGEST_EMPTY = FNV_OFFSET;
