/**
 * Segment GC decisions (pure: the Wal stages the rewrites and deletes the files).
 *
 * A segment is needed while it holds a live entry of some group or the newest hard-state,
 * snapshot or compaction record of some group — or while a group's not-yet-durable change
 * superseded such a record there (`GroupState.hold`), or a removed group's records were
 * not yet superseded durably by its RemoveGroup record. Only a prefix of segments is ever
 * deleted (see replay.ts for why that keeps recovery exact), and never the active one.
 *
 * Old segments are often pinned by a few small records: an idle group's hard state, or a
 * short tail. Such groups are rewritten: their metadata (and, when the tail is pinned too
 * and small, the whole tail) is staged again into the active segment, after which the
 * old segment is free. Oldest segments first, within byte budgets.
 */
import { SEG_PENDING } from './entry-index.js';
import type { GroupState } from './group.js';
import { ENTRIES_PREFIX_BYTES, groupStateBytes } from './payload.js';
import { recordBytes } from './record.js';
import type { SegmentFile } from './segment.js';

/** Rewrite a segment's pinning groups only if that copies at most this fraction of it. */
export const REWRITE_COST_RATIO_MAX = 0.5;

export interface RemovedHold {
  readonly segment: number;
  readonly batch: number;
}

export interface RewritePlan {
  readonly group: GroupState;
  /** Copy the live tail too (its first entry pins an old segment), not just the metadata. */
  readonly withEntries: boolean;
  readonly bytes: number;
}

export interface RewriteLimits {
  readonly gcRewriteBytesMax: number;
  readonly gcGroupRewriteBytesMax: number;
}

/** Ids of the segments nobody needs: every segment below the oldest needed one. */
export function deletableSegmentIds(
  groups: Iterable<GroupState>, removedHolds: readonly RemovedHold[], segments: readonly SegmentFile[],
  activeId: number, durableBatch: number,
): number[] {
  let oldest = activeId;
  for (const g of groups) oldest = Math.min(oldest, g.neededSegment(durableBatch));
  for (const h of removedHolds) if (h.batch > durableBatch) oldest = Math.min(oldest, h.segment);
  return segments.filter((s) => s.id < oldest).map((s) => s.id);
}

/** Bytes a rewrite of `g` stages. */
export function rewriteBytes(g: GroupState, withEntries: boolean): number {
  const state = recordBytes(groupStateBytes({ flags: 0, hardState: g.hardState, compactIndex: 0, compactTerm: 0,
    snapshot: g.snapshot }));
  return withEntries && g.log.count > 0 ? state + recordBytes(ENTRIES_PREFIX_BYTES) + g.log.liveBytes : state;
}

/**
 * Chooses groups to rewrite so the oldest segments can be deleted: walks segments from
 * the oldest and stops at the first one whose pinning groups cannot all be rewritten
 * within the limits (a later segment could not be deleted before it anyway).
 */
export function planRewrites(
  groups: Iterable<GroupState>, segments: readonly SegmentFile[], activeId: number, limits: RewriteLimits,
): RewritePlan[] {
  const byNeeded = new Map<number, GroupState[]>();
  for (const g of groups) {
    const n = g.neededSegment(Number.POSITIVE_INFINITY); // what the group itself needs, holds aside
    if (n === SEG_PENDING || n >= activeId) continue;
    let list = byNeeded.get(n);
    if (list === undefined) byNeeded.set(n, (list = []));
    list.push(g);
  }
  const plans: RewritePlan[] = [];
  let budget = limits.gcRewriteBytesMax;
  for (const seg of segments) {
    if (seg.id >= activeId) break;
    const pinning = byNeeded.get(seg.id) ?? [];
    const segPlans: RewritePlan[] = [];
    let cost = 0;
    for (const g of pinning) {
      const withEntries = g.log.firstSegment() <= seg.id;
      if (withEntries && g.log.liveBytes > limits.gcGroupRewriteBytesMax) return plans;
      const bytes = rewriteBytes(g, withEntries);
      cost += bytes;
      segPlans.push({ group: g, withEntries, bytes });
    }
    if (cost > budget || cost > seg.size * REWRITE_COST_RATIO_MAX) return plans;
    budget -= cost;
    for (const p of segPlans) plans.push(p);
  }
  return plans;
}
