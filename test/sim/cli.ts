/**
 * `npm run raft:sim -- --seeds N [--seed-start S] [--members 3|5] [--steps K] [--verbose]`
 *
 * Runs N seeds of the deterministic Raft simulation and prints every failure with its
 * trace and replay command. The last line is always `raft-sim: N seeds, V violations`;
 * the line before it counts liveness failures. Exits non-zero if either count is non-zero.
 */
import type { RunStats, SeedResult } from './cluster.js';
import { runSeed } from './cluster.js';
import type { ReplayFlags } from './report.js';
import { formatFailure, isFailure } from './report.js';
import { describeScenario, makeScenario } from './scenario.js';
import { TRACE_EVENTS_MAX } from './trace.js';

interface CliOptions {
  seeds: number;
  seedStart: number;
  members?: 3 | 5;
  steps?: number;
  verbose: boolean;
}

const SEEDS_MAX = 10_000_000;
const STEPS_MAX = 1_000_000;
const USAGE = 'usage: npm run raft:sim -- --seeds N [--seed-start S] [--members 3|5] [--steps K] [--verbose]';

function parseIntFlag(name: string, value: string | undefined, min: number, max: number): number {
  const n = value === undefined ? NaN : Number(value);
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new Error(`--${name} must be an integer in [${min}, ${max}], got ${value ?? '(nothing)'}`);
  }
  return n;
}

export function parseArgs(argv: readonly string[]): CliOptions {
  const o: CliOptions = { seeds: 100, seedStart: 1, verbose: false };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    switch (flag) {
      case '--seeds': o.seeds = parseIntFlag('seeds', argv[++i], 1, SEEDS_MAX); break;
      case '--seed-start': o.seedStart = parseIntFlag('seed-start', argv[++i], 0, Number.MAX_SAFE_INTEGER); break;
      case '--members': {
        const m = parseIntFlag('members', argv[++i], 3, 5);
        if (m !== 3 && m !== 5) throw new Error(`--members must be 3 or 5, got ${m}`);
        o.members = m;
        break;
      }
      case '--steps': o.steps = parseIntFlag('steps', argv[++i], 1, STEPS_MAX); break;
      case '--verbose': o.verbose = true; break;
      case '--help': case '-h': console.log(USAGE); process.exit(0); break;
      default: throw new Error(`unknown argument '${flag}'\n${USAGE}`);
    }
  }
  return o;
}

function addStats(total: RunStats, s: RunStats): void {
  for (const k of Object.keys(total) as (keyof RunStats)[]) total[k] += s[k];
}

function emptyStats(): RunStats {
  return {
    ticks: 0, leaderTerms: 0, committedIndex: 0, messages: 0, messagesDropped: 0, snapshotsInstalled: 0,
    appSnapshots: 0, confChangesApplied: 0, crashes: 0, partitions: 0, proposals: 0, reads: 0,
    readsServed: 0, transfers: 0, healTicks: 0,
  };
}

function printSeedLine(r: SeedResult): void {
  const s = r.stats;
  console.log(`seed ${r.seed}: ${isFailure(r) ? 'FAIL' : 'ok'} ticks=${s.ticks} leaders=${s.leaderTerms}`
    + ` committed=${s.committedIndex} msgs=${s.messages} crashes=${s.crashes} partitions=${s.partitions}`
    + ` snapshots=${s.snapshotsInstalled} confChanges=${s.confChangesApplied} reads=${s.readsServed}/${s.reads}`
    + ` heal=${s.healTicks}t`);
}

function main(): number {
  let o: CliOptions;
  try {
    o = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`raft-sim: ${e instanceof Error ? e.message : String(e)}`);
    return 2;
  }
  const flags: ReplayFlags = { members: o.members, steps: o.steps };
  const total = emptyStats();
  let violations = 0;
  let livenessFailures = 0;
  const started = process.hrtime.bigint();
  for (let k = 0; k < o.seeds; k++) {
    const seed = o.seedStart + k;
    const scenario = makeScenario(seed, { members: o.members, chaosTicks: o.steps });
    if (o.verbose) console.log(`seed ${seed}: scenario ${describeScenario(scenario)}`);
    const r = runSeed(scenario, o.verbose);
    addStats(total, r.stats);
    if (r.violation !== null) violations++;
    if (r.liveness !== null) livenessFailures++;
    if (o.verbose) {
      if (!isFailure(r)) for (const line of r.trace) console.log(`  ${line}`);
      printSeedLine(r);
    }
    if (isFailure(r)) console.log(formatFailure(r, flags, o.verbose ? Infinity : TRACE_EVENTS_MAX));
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  console.log(`raft-sim: ${(seconds * 1000 / o.seeds).toFixed(1)} ms/seed (${(o.seeds / seconds).toFixed(0)} seeds/s),`
    + ` ${total.ticks} ticks, ${total.committedIndex} entries committed, ${total.leaderTerms} leader terms,`
    + ` ${total.messages} messages (${total.messagesDropped} dropped), ${total.crashes} crashes,`
    + ` ${total.partitions} partitions, ${total.snapshotsInstalled} snapshots installed,`
    + ` ${total.confChangesApplied} conf changes, ${total.readsServed}/${total.reads} reads served`);
  console.log(`raft-sim: ${livenessFailures} liveness failures`);
  console.log(`raft-sim: ${o.seeds} seeds, ${violations} violations`);
  return violations > 0 || livenessFailures > 0 ? 1 : 0;
}

process.exitCode = main();
