/**
 * How a failed seed is shown: the seed, the broken property (or the liveness stall), the
 * scenario, the event trace and the exact command that replays it. Shared by the CLI and
 * the node:test suite so both print the same thing.
 */
import type { SeedResult } from './cluster.js';
import { describeScenario } from './scenario.js';

export interface ReplayFlags {
  /** Set only when the run forced them (otherwise the seed decides). */
  readonly members?: 3 | 5;
  readonly steps?: number;
}

export function replayCommand(seed: number, flags: ReplayFlags): string {
  let cmd = `npm run raft:sim -- --seeds 1 --seed-start ${seed}`;
  if (flags.members !== undefined) cmd += ` --members ${flags.members}`;
  if (flags.steps !== undefined) cmd += ` --steps ${flags.steps}`;
  return `${cmd} --verbose`;
}

export function isFailure(r: SeedResult): boolean {
  return r.violation !== null || r.liveness !== null;
}

/** A multi-line report of a failed seed (empty string if it passed). */
export function formatFailure(r: SeedResult, flags: ReplayFlags, traceLinesMax = Infinity): string {
  if (!isFailure(r)) return '';
  const lines: string[] = [];
  if (r.violation !== null) {
    const v = r.violation;
    lines.push(`raft-sim: SEED ${r.seed} VIOLATES ${v.property} at t=${v.tick}${v.node !== 0 ? ` on n${v.node}` : ''}`);
    lines.push(`  ${v.message}`);
  } else {
    lines.push(`raft-sim: SEED ${r.seed} LIVENESS FAILURE`);
    lines.push(`  ${r.liveness ?? ''}`);
  }
  lines.push(`  scenario: ${describeScenario(r.scenario)}`);
  const trace = r.trace.length > traceLinesMax ? r.trace.slice(r.trace.length - traceLinesMax) : r.trace;
  const complete = r.traceComplete && trace.length === r.trace.length;
  lines.push(`  trace (${complete ? 'all' : 'last'} ${trace.length} events${complete ? '' : '; --verbose shows all'}):`);
  for (const t of trace) lines.push(`    ${t}`);
  lines.push(`  replay: ${replayCommand(r.seed, flags)}`);
  return lines.join('\n');
}
