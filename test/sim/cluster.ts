/**
 * A simulated Raft group and its run loop. One tick of simulated time:
 *
 *   faults (chaos phase only) → restarts due → client and operator traffic → every live
 *   replica ticks → messages due are delivered (in random order, until none are due).
 *
 * Safety is checked at every event by the checker. After `chaosTicks`, the group is healed
 * (links restored, drops and duplicates off, crashed members restarted) and must elect a
 * leader and commit a probe on every member within `healTicksMax`, or the seed counts as a
 * liveness failure.
 */
import { MessageType, StateRole } from '@shoal/raft-ts';
import type { ConfState, Message, PeerId } from '@shoal/raft-ts';
import type { Violation } from './checker.js';
import { SafetyChecker } from './checker.js';
import { encodeProbe } from './kv-app.js';
import type { NemesisTarget } from './nemesis.js';
import { Nemesis } from './nemesis.js';
import { Prng } from './prng.js';
import type { Scenario } from './scenario.js';
import type { InFlight } from './sim-network.js';
import { SimNetwork } from './sim-network.js';
import type { CrashPoint, NodeHost } from './sim-node.js';
import { SimNode } from './sim-node.js';
import { Trace } from './trace.js';
import type { WorkloadTarget } from './workload.js';
import { confStateKey, membersOf } from './membership.js';
import { Workload } from './workload.js';

/** Bound on delivery rounds in one tick (zero-delay messages cascade within a tick). */
const DELIVERY_ROUNDS_MAX = 64;
/** Reads unanswered for this many election timeouts are abandoned (request or response lost). */
const READ_TIMEOUT_ELECTIONS = 4;

export interface RunStats {
  ticks: number;
  leaderTerms: number;
  committedIndex: number;
  messages: number;
  messagesDropped: number;
  snapshotsInstalled: number;
  appSnapshots: number;
  confChangesApplied: number;
  crashes: number;
  partitions: number;
  proposals: number;
  reads: number;
  readsServed: number;
  transfers: number;
  healTicks: number;
}

export interface SeedResult {
  readonly seed: number;
  readonly scenario: Scenario;
  readonly violation: Violation | null;
  /** Why liveness failed after healing, or null. */
  readonly liveness: string | null;
  readonly stats: RunStats;
  /** The event trace, only when the seed failed (or when verbose). */
  readonly trace: string[];
  /** Whether `trace` holds every event of the run (verbose) or only the most recent. */
  readonly traceComplete: boolean;
}

interface Probe {
  readonly id: number;
  readonly tick: number;
}

export class Cluster implements NodeHost {
  readonly checker = new SafetyChecker();
  readonly trace: Trace;
  private tickNow = 0;
  private readonly nodes = new Map<number, SimNode>();
  private readonly network: SimNetwork;
  private readonly nemesis: Nemesis;
  private readonly workload: Workload;
  private readonly nodeRng: Prng;
  private readonly deliveryRng: Prng;
  private nextSpareId: number;
  private latestConfIndex = 0;
  private latestConf: ConfState;
  private readonly confByIndex = new Map<number, string>();
  private chaos = true;
  private healStartTick = 0;
  private probe: Probe | null = null;
  private probeCount = 0;
  private readonly probeAppliedBy = new Map<number, Set<number>>();
  private readonly workloadTarget: WorkloadTarget;
  private readonly nemesisTarget: NemesisTarget;
  private crashes = 0;

  constructor(readonly scenario: Scenario, verbose: boolean) {
    const root = new Prng(scenario.seed, 1);
    this.trace = new Trace(verbose);
    this.network = new SimNetwork(root.fork(1), {
      dropRate: scenario.faults.messageDropRate,
      duplicateRate: scenario.faults.messageDuplicateRate,
      delayTicksMax: scenario.faults.messageDelayTicksMax,
    });
    this.nemesis = new Nemesis(root.fork(2), scenario.faults, this.network);
    this.workload = new Workload(root.fork(3), scenario.workload,
      { votersMin: scenario.votersMin, votersMax: scenario.votersMax });
    this.nodeRng = root.fork(4);
    this.deliveryRng = root.fork(5);
    const voters = Array.from({ length: scenario.members }, (_, i) => (i + 1) as PeerId);
    this.latestConf = { voters, learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false };
    this.nextSpareId = scenario.members + 1;
    this.workloadTarget = {
      upNodes: () => this.upNodes(),
      leader: () => this.leader(),
      spareId: () => (this.nextSpareId <= this.scenario.nodesMax ? this.nextSpareId : null),
      useSpareId: (id: number) => { this.nextSpareId = id + 1; },
      note: (node: number, text: string) => this.note(node, text),
      backlog: () => this.backlog(),
    };
    this.nemesisTarget = {
      upNodes: () => this.upNodes(),
      liveIds: () => [...this.nodes.values()].filter((n) => !n.decommissioned).map((n) => n.id as number),
      note: (node: number, text: string) => this.note(node, text),
    };
  }

  now(): number {
    return this.tickNow;
  }

  /** Runs the whole scenario; never throws (exceptions become violations). */
  run(): SeedResult {
    let liveness: string | null = null;
    try {
      for (const id of this.latestConf.voters) this.startNode(id, this.latestConf);
      for (let i = 0; i < this.scenario.chaosTicks && this.checker.ok; i++) this.step();
      if (this.checker.ok) liveness = this.healAndAwaitProgress();
      if (this.checker.ok && liveness === null) this.crossCheckLogs();
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      this.checker.fail('exception', 0, `${err.name}: ${err.message}\n${err.stack ?? ''}`);
    }
    const violation = this.checker.violations[0] ?? null;
    return {
      seed: this.scenario.seed,
      scenario: this.scenario,
      violation,
      liveness: violation === null ? liveness : null,
      stats: this.stats(),
      trace: violation !== null || liveness !== null || this.trace.keepAll ? this.trace.format() : [],
      traceComplete: this.trace.keepAll || this.trace.eventCount <= this.trace.ringSize,
    };
  }

  // --- the loop --------------------------------------------------------------------------

  private step(): void {
    this.tickNow++;
    this.checker.tick = this.tickNow;
    if (this.chaos) this.nemesis.step(this.nemesisTarget);
    this.restartDueNodes();
    this.workload.step(this.workloadTarget, this.chaos);
    for (const n of this.deliveryRng.shuffle(this.upNodes())) {
      if (n.up) n.tick();
    }
    this.deliverDue();
    const readTimeout = READ_TIMEOUT_ELECTIONS * this.scenario.raft.electionTimeoutTicks;
    for (const n of this.nodes.values()) if (n.up) n.expireReads(readTimeout);
  }

  private deliverDue(): void {
    for (let round = 0; round < DELIVERY_ROUNDS_MAX && this.checker.ok; round++) {
      const due = this.network.takeDue(this.tickNow);
      if (due.length === 0) return;
      for (const f of due) this.deliver(f);
    }
  }

  private deliver(f: InFlight): void {
    const m = f.msg;
    const to = this.nodes.get(m.to);
    const from = this.nodes.get(f.sender);
    const senderSame = from !== undefined && from.up && from.epoch === f.senderEpoch;
    const reason = f.lost ? 'lost' : to === undefined || !to.up ? 'peer down'
      : !this.network.linkUp(f.sender, m.to) ? 'link cut' : null;
    if (reason !== null) {
      this.trace.message(this.tickNow, 'drop', m.to, m, reason);
      if (!senderSame) return;
      if (m.type === MessageType.Snap && !f.duplicate) {
        from.reportSnapshot(m.to, false);
      } else if (!f.lost && this.deliveryRng.chance(this.scenario.faults.unreachableReportRate)) {
        from.reportUnreachable(m.to);
      }
      return;
    }
    this.trace.message(this.tickNow, 'recv', m.to, m, f.sender === m.from ? '' : `via n${f.sender}`);
    to!.step(m);
    if (m.type === MessageType.Snap && !f.duplicate && senderSame && from.up) from.reportSnapshot(m.to, true);
  }

  private restartDueNodes(): void {
    for (const n of this.nodes.values()) {
      if (!n.up && !n.decommissioned && n.restartTick <= this.tickNow) n.start();
    }
  }

  // --- NodeHost --------------------------------------------------------------------------

  send(from: SimNode, m: Message): void {
    if (this.trace.keepAll) this.trace.message(this.tickNow, 'send', from.id, m);
    this.network.send(m, from.id, this.tickNow, from.epoch);
  }

  crashAt(_node: SimNode, point: CrashPoint): boolean {
    return this.chaos && this.nemesis.crashAt(point);
  }

  onCrash(node: SimNode): void {
    this.crashes++;
    node.restartTick = this.tickNow + this.nemesis.downTicks();
  }

  onConfApplied(node: SimNode, index: number, cs: ConfState): void {
    const key = confStateKey(cs);
    const seen = this.confByIndex.get(index);
    if (seen === undefined) {
      this.confByIndex.set(index, key);
      this.note(node.id, `conf change applied at ${index}: ${key}`);
    } else if (seen !== key) {
      this.checker.fail('config-agreement', node.id, `n${node.id} applied conf ${key} at ${index}, others ${seen}`);
    }
    if (index <= this.latestConfIndex) return;
    this.latestConfIndex = index;
    this.latestConf = cs;
    const members = new Set(membersOf(cs));
    for (const id of members) {
      if (!this.nodes.has(id)) this.startNode(id as PeerId, null);
    }
    for (const n of this.nodes.values()) {
      if (!members.has(n.id) && !n.decommissioned) {
        this.note(n.id, `decommissioned (not in the configuration committed at ${index})`);
        n.decommission();
      }
    }
  }

  onProbeApplied(node: SimNode, probeId: number): void {
    let set = this.probeAppliedBy.get(probeId);
    if (set === undefined) {
      set = new Set();
      this.probeAppliedBy.set(probeId, set);
    }
    set.add(node.id);
  }

  // --- helpers ---------------------------------------------------------------------------

  private startNode(id: PeerId, bootstrap: ConfState | null): void {
    const empty: ConfState = { voters: [], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false };
    const options = { raft: this.scenario.raft, app: this.scenario.app, hostBug: this.scenario.hostBug };
    const node = new SimNode(id, bootstrap ?? empty, options, this.nodeRng.fork(id), this);
    this.nodes.set(id, node);
    node.start();
  }

  private backlog(): number {
    let last = 0;
    for (const n of this.nodes.values()) if (n.up && n.lastIndex() > last) last = n.lastIndex();
    return last - this.checker.maxAppliedIndex;
  }

  private upNodes(): SimNode[] {
    const out: SimNode[] = [];
    for (const n of this.nodes.values()) if (n.up) out.push(n);
    return out;
  }

  /** The live replica that believes it leads, with the highest term. */
  private leader(): SimNode | null {
    let best: SimNode | null = null;
    for (const n of this.nodes.values()) {
      if (n.isLeader && (best === null || n.term > best.term)) best = n;
    }
    return best;
  }

  private note(node: number, text: string): void {
    this.trace.note(this.tickNow, node, text);
  }

  // --- liveness --------------------------------------------------------------------------

  /** Heals every fault, then waits for a probe committed and applied by every member. */
  private healAndAwaitProgress(): string | null {
    this.chaos = false;
    this.healStartTick = this.tickNow;
    this.network.healAll();
    this.network.faults.dropRate = 0;
    this.network.faults.duplicateRate = 0;
    for (const n of this.nodes.values()) {
      // Respect the minimum downtime (lease safety relies on it), but restart promptly.
      if (!n.up && !n.decommissioned) {
        n.restartTick = Math.max(this.tickNow, n.downSinceTick + this.scenario.faults.downTicksMin);
      }
    }
    this.note(0, 'HEAL: links restored, drops off, crashed members restarting');
    const retryTicks = 3 * this.scenario.raft.electionTimeoutTicks + 2 * this.scenario.faults.messageDelayTicksMax;
    for (let i = 0; i < this.scenario.healTicksMax && this.checker.ok; i++) {
      this.step();
      if (this.livenessMet()) return null;
      const leader = this.leader();
      if (leader !== null && (this.probe === null || this.tickNow - this.probe.tick > retryTicks)) {
        this.probeCount++;
        this.probe = { id: this.probeCount, tick: this.tickNow };
        this.note(leader.id, `liveness probe #${this.probeCount}`);
        leader.propose(encodeProbe(this.probeCount));
      }
    }
    return this.checker.ok ? this.describeStall() : null;
  }

  private livenessMet(): boolean {
    const members = membersOf(this.latestConf);
    for (const id of members) {
      const n = this.nodes.get(id);
      if (n === undefined || !n.up) return false;
    }
    for (const set of this.probeAppliedBy.values()) {
      if (members.every((id) => set.has(id))) return true;
    }
    return false;
  }

  private describeStall(): string {
    const leader = this.leader();
    const lines = [
      `no probe committed and applied on every member within ${this.scenario.healTicksMax} ticks after healing`
        + ` (healed at t=${this.healStartTick}, leader: ${leader === null ? 'none' : `n${leader.id} term ${leader.term}`})`,
      `configuration at ${this.latestConfIndex}: ${confStateKey(this.latestConf)}`,
    ];
    for (const n of this.nodes.values()) {
      lines.push(`  n${n.id}: ${n.decommissioned ? 'decommissioned' : n.up ? 'up' : 'down'}`
        + ` role=${roleName(n.role)} term=${n.term} lead=${n.lead} applied=${n.appliedIndex} last=${n.lastIndex()}`
        + ` conf=${confStateKey(n.confState)}`);
    }
    return lines.join('\n');
  }

  /** End of run: every pair of live replicas agrees on the terms of their committed prefixes. */
  private crossCheckLogs(): void {
    const up = this.upNodes();
    for (let a = 0; a < up.length; a++) {
      for (let b = a + 1; b < up.length; b++) {
        const x = up[a]!;
        const y = up[b]!;
        const hi = Math.min(x.appliedIndex, y.appliedIndex);
        for (let i = 1; i <= hi; i++) {
          const tx = x.termAt(i);
          const ty = y.termAt(i);
          if (tx !== undefined && ty !== undefined && tx !== ty) {
            this.checker.fail('log-matching', x.id, `n${x.id} has ${i}@${tx} but n${y.id} has ${i}@${ty}, both applied`);
            return;
          }
        }
      }
    }
  }

  private stats(): RunStats {
    let snapshotsInstalled = 0;
    let appSnapshots = 0;
    for (const n of this.nodes.values()) {
      snapshotsInstalled += n.snapshotsInstalled;
      appSnapshots += n.appSnapshots;
    }
    return {
      ticks: this.tickNow,
      leaderTerms: this.checker.leaderTermCount,
      committedIndex: this.checker.maxAppliedIndex,
      messages: this.network.sent,
      messagesDropped: this.network.dropped,
      snapshotsInstalled,
      appSnapshots,
      confChangesApplied: this.confByIndex.size,
      crashes: this.crashes,
      partitions: this.nemesis.stats.partitions,
      proposals: this.workload.stats.proposals,
      reads: this.workload.stats.reads,
      readsServed: this.checker.readsServed,
      transfers: this.workload.stats.transfers,
      healTicks: this.chaos ? 0 : this.tickNow - this.healStartTick,
    };
  }
}

function roleName(r: StateRole): string {
  switch (r) {
    case StateRole.Follower: return 'follower';
    case StateRole.Candidate: return 'candidate';
    case StateRole.Leader: return 'leader';
    case StateRole.PreCandidate: return 'pre-candidate';
    default: {
      const never: never = r;
      return `role${String(never)}`;
    }
  }
}

/** Runs one seed from scratch: the unit the CLI and the tests repeat. */
export function runSeed(scenario: Scenario, verbose = false): SeedResult {
  return new Cluster(scenario, verbose).run();
}
