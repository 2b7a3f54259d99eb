/**
 * Epoch ordering (DESIGN.md "Topology model"): confVer counts membership changes, version
 * counts range changes. A descriptor may replace the stored one only if neither counter
 * went backwards and at least one moved forward; a report where one counter is ahead and
 * the other behind comes from a diverged history and is refused like a stale one.
 */
import type { Epoch } from './types.js';

export type EpochOrder = 'older' | 'equal' | 'newer' | 'conflict';

/** How `reported` relates to `stored`. */
export function compareEpoch(reported: Epoch, stored: Epoch): EpochOrder {
  const conf = Math.sign(reported.confVer - stored.confVer);
  const ver = Math.sign(reported.version - stored.version);
  if (conf === 0 && ver === 0) return 'equal';
  if (conf >= 0 && ver >= 0) return 'newer';
  if (conf <= 0 && ver <= 0) return 'older';
  return 'conflict';
}

export function epochEquals(a: Epoch, b: Epoch): boolean {
  return a.confVer === b.confVer && a.version === b.version;
}

export function formatEpoch(e: Epoch): string {
  return `{confVer ${e.confVer}, version ${e.version}}`;
}
