/**
 * A scenario is everything a seed decides before the run starts: group size, Raft options,
 * named fault probabilities, workload rates and the application's snapshot policy. Seeds
 * differ in intensity (some calm, some hostile) so that both the common paths and the
 * corner cases get exercised across a batch.
 */
import { ReadOnlyOption } from '@shoal/raft-ts';
import { Prng } from './prng.js';

export interface SimRaftOptions {
  readonly electionTimeoutTicks: number;
  readonly heartbeatIntervalTicks: number;
  readonly messageBytesMax: number;
  readonly inflightMessagesMax: number;
  readonly inflightBytesMax: number;
  readonly uncommittedBytesMax: number;
  readonly proposalBytesMax: number;
  readonly committedBytesPerReadyMax: number;
  readonly checkQuorum: boolean;
  readonly preVote: boolean;
  readonly readOnlyOption: ReadOnlyOption;
  readonly disableProposalForwarding: boolean;
  readonly stepDownOnRemoval: boolean;
}

/** Named fault probabilities; rates are per tick unless the name says otherwise. */
export interface FaultRates {
  readonly messageDropRate: number;
  readonly messageDuplicateRate: number;
  /** Messages take a uniform delay in [0, max]; different delays reorder them. */
  readonly messageDelayTicksMax: number;
  readonly crashRatePerTick: number;
  /** Per Ready that must be synced: crash after writing, before fsync (loses the tail). */
  readonly crashBeforeFsyncRate: number;
  /** Per Ready: crash after persisting, before sending its messages. */
  readonly crashBeforeSendRate: number;
  readonly downTicksMin: number;
  readonly downTicksMax: number;
  readonly partitionRatePerTick: number;
  readonly partitionHealRatePerTick: number;
  /** Per dropped message: tell the sender the peer is unreachable. */
  readonly unreachableReportRate: number;
}

export interface WorkloadRates {
  readonly proposeRatePerTick: number;
  readonly proposalsPerTickMax: number;
  readonly payloadBytesMax: number;
  readonly readRatePerTick: number;
  readonly confChangeRatePerTick: number;
  readonly transferRatePerTick: number;
  readonly campaignRatePerTick: number;
}

export interface AppPolicy {
  /** The application snapshots once it has applied this many entries past its last snapshot. */
  readonly snapshotIntervalEntries: number;
  /** After a snapshot at index i, the log is compacted to i - compactKeepEntries. */
  readonly compactKeepEntries: number;
}

/**
 * A deliberate bug in the simulated host, used only by the harness's own tests to show
 * that the checker catches it: never fsync, or serve reads from local state at once.
 */
export type HostBug = 'none' | 'skip-fsync' | 'early-read';

export interface Scenario {
  readonly seed: number;
  readonly members: 3 | 5;
  /** Hard cap on replica ids ever used (initial members plus joiners); ids are never reused. */
  readonly nodesMax: number;
  readonly votersMin: number;
  readonly votersMax: number;
  readonly chaosTicks: number;
  readonly hostBug: HostBug;
  /** After healing, the group must elect a leader and commit within this many ticks. */
  readonly healTicksMax: number;
  readonly raft: SimRaftOptions;
  readonly faults: FaultRates;
  readonly workload: WorkloadRates;
  readonly app: AppPolicy;
}

export interface ScenarioOverrides {
  readonly members?: 3 | 5;
  readonly chaosTicks?: number;
  readonly hostBug?: HostBug;
}

export const CHAOS_TICKS_DEFAULT = 400;

function makeRaftOptions(r: Prng): SimRaftOptions {
  const electionTimeoutTicks = r.between(6, 14);
  const checkQuorum = r.chance(0.5);
  const messageBytesMax = r.pick([64, 256, 1024, 1 << 20]);
  return {
    electionTimeoutTicks,
    heartbeatIntervalTicks: r.between(1, Math.min(3, electionTimeoutTicks - 1)),
    messageBytesMax,
    inflightMessagesMax: r.pick([1, 2, 8, 256]),
    inflightBytesMax: r.chance(0.5) ? 0 : messageBytesMax * r.between(1, 8),
    uncommittedBytesMax: r.chance(0.6) ? 0 : r.pick([512, 4096]),
    proposalBytesMax: r.chance(0.7) ? 0 : 200,
    committedBytesPerReadyMax: r.chance(0.6) ? 0 : r.pick([64, 512]),
    checkQuorum,
    preVote: r.chance(0.5),
    readOnlyOption: checkQuorum && r.chance(0.5) ? ReadOnlyOption.LeaseBased : ReadOnlyOption.Safe,
    disableProposalForwarding: r.chance(0.15),
    stepDownOnRemoval: r.chance(0.5),
  };
}

function makeFaultRates(r: Prng, raft: SimRaftOptions): FaultRates {
  const hostile = r.chance(0.3);
  // Lease reads trust that a replica which acknowledged the leader will not vote for a
  // rival within an election timeout. A restarted replica has forgotten that promise, so
  // with leases on it stays down for longer than the lease (see README of the harness).
  const lease = raft.readOnlyOption === ReadOnlyOption.LeaseBased;
  const downTicksMin = lease ? 2 * raft.electionTimeoutTicks + 1 : r.between(1, 5);
  return {
    messageDropRate: r.pick(hostile ? [0.05, 0.2, 0.4] : [0, 0, 0.01, 0.05]),
    messageDuplicateRate: r.pick([0, 0, 0.02, 0.1]),
    messageDelayTicksMax: r.pick([0, 1, 2, 4, hostile ? 10 : 3]),
    crashRatePerTick: r.pick(hostile ? [0.01, 0.03] : [0, 0.002, 0.01]),
    crashBeforeFsyncRate: r.pick([0, 0.002, 0.01]),
    crashBeforeSendRate: r.pick([0, 0.002]),
    downTicksMin,
    downTicksMax: downTicksMin + r.pick([5, 20, 60]),
    partitionRatePerTick: r.pick(hostile ? [0.02, 0.05] : [0, 0.005, 0.02]),
    partitionHealRatePerTick: r.pick([0.02, 0.05, 0.2]),
    unreachableReportRate: r.pick([0, 0.5]),
  };
}

function makeWorkloadRates(r: Prng): WorkloadRates {
  return {
    proposeRatePerTick: r.pick([0.3, 0.7, 1]),
    proposalsPerTickMax: r.pick([1, 3, 8]),
    payloadBytesMax: r.pick([16, 64, 300]),
    readRatePerTick: r.pick([0.1, 0.3, 0.6]),
    confChangeRatePerTick: r.pick([0, 0.01, 0.03, 0.06]),
    transferRatePerTick: r.pick([0, 0.005, 0.02]),
    campaignRatePerTick: r.pick([0, 0.002, 0.01]),
  };
}

/** Derives a scenario from a seed; `overrides` come from the command line. */
export function makeScenario(seed: number, overrides: ScenarioOverrides = {}): Scenario {
  const r = new Prng(seed, 0x5ce);
  const drawnMembers: 3 | 5 = r.chance(0.5) ? 3 : 5;
  const members = overrides.members ?? drawnMembers;
  const raft = makeRaftOptions(r);
  const faults = makeFaultRates(r, raft);
  const workload = makeWorkloadRates(r);
  const snapshotIntervalEntries = r.pick([4, 10, 25, 60]);
  const scenario: Scenario = {
    seed,
    members,
    nodesMax: members + 4,
    votersMin: 3,
    votersMax: members + 2,
    chaosTicks: overrides.chaosTicks ?? CHAOS_TICKS_DEFAULT,
    hostBug: overrides.hostBug ?? 'none',
    // Elections take a few timeouts; catching a replica up by one entry per round trip
    // (messageBytesMax 64, inflight 1) over a compaction interval takes a few hundred ticks.
    healTicksMax: 50 * raft.electionTimeoutTicks + 40 * faults.messageDelayTicksMax + 400,
    raft,
    faults,
    workload,
    app: { snapshotIntervalEntries, compactKeepEntries: r.pick([0, 1, 5, 20]) },
  };
  validateScenario(scenario);
  return scenario;
}

function requireRange(name: string, v: number, lo: number, hi: number): void {
  if (!(v >= lo && v <= hi)) throw new Error(`scenario: ${name} must be in [${lo}, ${hi}], got ${v}`);
}

/** Start-up validation of every limit, naming the bad option. */
export function validateScenario(s: Scenario): void {
  requireRange('members', s.members, 3, 5);
  requireRange('chaosTicks', s.chaosTicks, 0, 1_000_000);
  requireRange('nodesMax', s.nodesMax, s.members, 64);
  requireRange('votersMin', s.votersMin, 1, s.votersMax);
  requireRange('faults.messageDropRate', s.faults.messageDropRate, 0, 0.9);
  requireRange('faults.messageDuplicateRate', s.faults.messageDuplicateRate, 0, 0.9);
  requireRange('faults.messageDelayTicksMax', s.faults.messageDelayTicksMax, 0, 64);
  requireRange('faults.downTicksMin', s.faults.downTicksMin, 1, s.faults.downTicksMax);
  requireRange('workload.proposalsPerTickMax', s.workload.proposalsPerTickMax, 1, 64);
  requireRange('workload.payloadBytesMax', s.workload.payloadBytesMax, 8, 4096);
  requireRange('app.snapshotIntervalEntries', s.app.snapshotIntervalEntries, 1, 100_000);
}

export function describeScenario(s: Scenario): string {
  const r = s.raft;
  const f = s.faults;
  return [
    `members=${s.members} chaosTicks=${s.chaosTicks}`,
    `election=${r.electionTimeoutTicks} heartbeat=${r.heartbeatIntervalTicks} checkQuorum=${r.checkQuorum}`
      + ` preVote=${r.preVote} read=${r.readOnlyOption === ReadOnlyOption.LeaseBased ? 'lease' : 'safe'}`
      + ` msgBytesMax=${r.messageBytesMax} inflight=${r.inflightMessagesMax}/${r.inflightBytesMax}B`
      + ` uncommittedBytesMax=${r.uncommittedBytesMax} noForward=${r.disableProposalForwarding}`
      + ` stepDownOnRemoval=${r.stepDownOnRemoval}`,
    `drop=${f.messageDropRate} dup=${f.messageDuplicateRate} delayMax=${f.messageDelayTicksMax}`
      + ` crash=${f.crashRatePerTick} crashBeforeFsync=${f.crashBeforeFsyncRate} down=[${f.downTicksMin},${f.downTicksMax}]`
      + ` partition=${f.partitionRatePerTick} heal=${f.partitionHealRatePerTick}`,
    `snapshotEvery=${s.app.snapshotIntervalEntries} compactKeep=${s.app.compactKeepEntries}`,
  ].join('\n  ');
}
