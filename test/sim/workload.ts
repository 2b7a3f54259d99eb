/**
 * The clients and operators of the simulated group: closed-loop writers proposing puts (to
 * the leader or to followers, which forward), readers issuing linearizable reads, an
 * operator making membership changes (see membership.ts) and leadership transfers, and
 * the occasional forced election.
 */
import { encodePut, KEYS_COUNT } from './kv-app.js';
import type { MembershipLimits } from './membership.js';
import { planConfChange } from './membership.js';
import type { Prng } from './prng.js';
import type { WorkloadRates } from './scenario.js';
import type { SimNode } from './sim-node.js';

/** What the workload needs from the cluster. */
export interface WorkloadTarget {
  upNodes(): SimNode[];
  leader(): SimNode | null;
  /** An id never used before, or null if the id budget is spent. */
  spareId(): number | null;
  /** Marks `id` as used (a change adding it was proposed). */
  useSpareId(id: number): void;
  note(node: number, text: string): void;
  /** How far the longest log runs ahead of the highest applied index (unacknowledged writes). */
  backlog(): number;
}

/** Bound on unacknowledged writes, so a slow configuration is not buried under its backlog. */
export const PROPOSALS_IN_FLIGHT_MAX = 48;

export interface WorkloadStats {
  proposals: number;
  proposalsDropped: number;
  reads: number;
  confChangesProposed: number;
  transfers: number;
  campaigns: number;
}

export class Workload {
  private writeId = 0;
  private readId = 0;
  readonly stats: WorkloadStats = {
    proposals: 0, proposalsDropped: 0, reads: 0, confChangesProposed: 0, transfers: 0, campaigns: 0,
  };

  constructor(private readonly r: Prng, private readonly rates: WorkloadRates, private readonly limits: MembershipLimits) {}

  /**
   * One tick of traffic. While healing (`chaos` false) only readers run: the liveness probe
   * must measure Raft, not a queue of client writes.
   */
  step(t: WorkloadTarget, chaos: boolean): void {
    const r = this.r;
    const operators = chaos;
    // Closed-loop writers: they stop proposing while too many writes are unacknowledged.
    if (chaos && t.backlog() < PROPOSALS_IN_FLIGHT_MAX && r.chance(this.rates.proposeRatePerTick)) {
      const n = r.between(1, this.rates.proposalsPerTickMax);
      for (let i = 0; i < n; i++) this.propose(t);
    }
    if (r.chance(this.rates.readRatePerTick)) this.read(t);
    if (!operators) return;
    if (r.chance(this.rates.confChangeRatePerTick)) this.changeMembership(t);
    if (r.chance(this.rates.transferRatePerTick)) this.transferLeader(t);
    if (r.chance(this.rates.campaignRatePerTick)) this.campaign(t);
  }

  /**
   * Prefers a leader (most clients find one) — any replica that believes it leads, as a
   * client with a stale leader cache would — else any live replica.
   */
  private target(t: WorkloadTarget): SimNode | null {
    const leaders = t.upNodes().filter((n) => n.isLeader);
    if (leaders.length > 0 && this.r.chance(0.7)) return this.r.pick(leaders);
    const up = t.upNodes();
    return up.length === 0 ? null : this.r.pick(up);
  }

  private propose(t: WorkloadTarget): void {
    const n = this.target(t);
    if (n === null) return;
    this.writeId++;
    const data = encodePut(this.r.intn(KEYS_COUNT), this.writeId, this.r.between(6, this.rates.payloadBytesMax));
    this.stats.proposals++;
    if (!n.propose(data)) this.stats.proposalsDropped++;
  }

  private read(t: WorkloadTarget): void {
    const n = this.target(t);
    if (n === null) return;
    this.readId++;
    if (n.issueRead(this.readId, this.r.intn(KEYS_COUNT))) this.stats.reads++;
  }

  private changeMembership(t: WorkloadTarget): void {
    const leader = t.leader();
    if (leader === null) return;
    const spare = this.r.chance(0.5) ? t.spareId() : null;
    const plan = planConfChange(leader.confState, this.r, this.limits, spare);
    if (plan === null) return;
    if (plan.newId !== null) t.useSpareId(plan.newId);
    this.stats.confChangesProposed++;
    const ok = leader.proposeConfChange(plan.cc);
    t.note(leader.id, `propose conf change: ${plan.summary}${ok ? '' : ' (dropped)'}`);
  }

  private transferLeader(t: WorkloadTarget): void {
    const leader = t.leader();
    if (leader === null) return;
    const others = leader.confState.voters.filter((v) => v !== leader.id);
    if (others.length === 0) return;
    const to = this.r.pick(others);
    this.stats.transfers++;
    t.note(leader.id, `transfer leadership to n${to}`);
    leader.transferLeader(to);
  }

  private campaign(t: WorkloadTarget): void {
    const up = t.upNodes().filter((n) => n.confState.voters.includes(n.id));
    if (up.length === 0) return;
    const n = this.r.pick(up);
    this.stats.campaigns++;
    t.note(n.id, 'forced campaign');
    n.campaign();
  }
}
