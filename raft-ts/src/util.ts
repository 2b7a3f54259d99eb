/**
 * Small shared helpers: entry sizes and byte-limited slicing. Sizes count only payload
 * bytes plus a fixed per-entry overhead, which is what the byte limits are meant to bound.
 */
import type { Entry } from './types.js';

/** Per-entry bookkeeping bytes (index, term, type) counted by every byte limit. */
export const ENTRY_OVERHEAD_BYTES = 16;

export function entrySizeBytes(e: Entry): number {
  return e.data.length + ENTRY_OVERHEAD_BYTES;
}

export function payloadBytes(ents: readonly Entry[]): number {
  let n = 0;
  for (let i = 0; i < ents.length; i++) n += ents[i]!.data.length;
  return n;
}

export function entriesSizeBytes(ents: readonly Entry[]): number {
  let n = 0;
  for (let i = 0; i < ents.length; i++) n += entrySizeBytes(ents[i]!);
  return n;
}

/**
 * The longest prefix of `ents` whose size is <= bytesMax, but always at least one entry
 * so progress is possible with a large entry. bytesMax 0 or Infinity means unlimited.
 */
export function entriesLimitBytes<T extends readonly Entry[]>(ents: T, bytesMax: number): T {
  if (ents.length <= 1 || bytesMax <= 0 || bytesMax === Infinity) return ents;
  let size = entrySizeBytes(ents[0]!);
  let n = 1;
  for (; n < ents.length; n++) {
    size += entrySizeBytes(ents[n]!);
    if (size > bytesMax) break;
  }
  return (n === ents.length ? ents : ents.slice(0, n)) as T;
}
