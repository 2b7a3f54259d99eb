/**
 * Membership helpers: who belongs to a ConfState, a canonical text form to compare
 * configurations, and the planner of valid membership changes (add learner, promote,
 * demote, remove, joint replacements with each transition kind).
 *
 * Changes are planned against the leader's applied configuration and are always valid
 * there (the same rules as etcd's confchange.Changer); raft-ts's own one-change-at-a-time
 * guard keeps them valid when they finally apply.
 */
import { ConfChangeTransition, ConfChangeType } from '@shoal/raft-ts';
import type { ConfChange, ConfChangeSingle, ConfState, PeerId } from '@shoal/raft-ts';
import type { Prng } from './prng.js';

export interface MembershipLimits {
  readonly votersMin: number;
  readonly votersMax: number;
}

export interface ConfPlan {
  readonly cc: ConfChange;
  readonly summary: string;
  /** A fresh replica id the change adds, if any. */
  readonly newId: number | null;
}

/** Every replica id that belongs to `cs` in any role. */
export function membersOf(cs: ConfState): number[] {
  const ids = new Set<number>([...cs.voters, ...cs.votersOutgoing, ...cs.learners, ...cs.learnersNext]);
  return [...ids].sort((a, b) => a - b);
}

export function confStateKey(cs: ConfState): string {
  const list = (ids: readonly number[]): string => [...ids].sort((a, b) => a - b).join(',');
  return `v[${list(cs.voters)}] o[${list(cs.votersOutgoing)}] l[${list(cs.learners)}]`
    + ` n[${list(cs.learnersNext)}]${cs.autoLeave ? ' auto' : ''}`;
}

const NO_CONTEXT = new Uint8Array(0);

function single(type: ConfChangeType, peerId: number): ConfChangeSingle {
  return { type, peerId: peerId as PeerId };
}

function change(transition: ConfChangeTransition, changes: ConfChangeSingle[], summary: string, newId: number | null = null): ConfPlan {
  return { cc: { transition, changes, context: NO_CONTEXT }, summary, newId };
}

function anyTransition(r: Prng): ConfChangeTransition {
  return r.pick([ConfChangeTransition.Auto, ConfChangeTransition.Auto,
    ConfChangeTransition.JointImplicit, ConfChangeTransition.JointExplicit]);
}

function transitionName(t: ConfChangeTransition): string {
  return t === ConfChangeTransition.Auto ? 'auto' : t === ConfChangeTransition.JointImplicit ? 'joint-implicit' : 'joint-explicit';
}

/**
 * A valid membership change for the applied configuration `cs`, or null if none fits.
 * `spareId` is an id never used before, for a new learner.
 */
export function planConfChange(cs: ConfState, r: Prng, limits: MembershipLimits, spareId: number | null): ConfPlan | null {
  if (cs.votersOutgoing.length > 0) {
    // Joint: only leaving is allowed; raft-ts leaves by itself when autoLeave is set.
    return cs.autoLeave ? null : change(ConfChangeTransition.Auto, [], 'leave joint');
  }
  const voters = cs.voters;
  const learners = cs.learners;
  const options: (() => ConfPlan)[] = [];
  if (spareId !== null) {
    options.push(() => change(ConfChangeTransition.Auto, [single(ConfChangeType.AddLearnerNode, spareId)],
      `add learner n${spareId}`, spareId));
  }
  if (learners.length > 0 && voters.length < limits.votersMax) {
    options.push(() => {
      const t = anyTransition(r);
      const l = r.pick(learners);
      return change(t, [single(ConfChangeType.AddNode, l)], `promote n${l} (${transitionName(t)})`);
    });
  }
  if (learners.length > 0) {
    options.push(() => {
      const l = r.pick(learners);
      return change(ConfChangeTransition.Auto, [single(ConfChangeType.RemoveNode, l)], `remove learner n${l}`);
    });
  }
  if (voters.length > limits.votersMin) {
    options.push(() => {
      const t = anyTransition(r);
      const v = r.pick(voters);
      return change(t, [single(ConfChangeType.RemoveNode, v)], `remove voter n${v} (${transitionName(t)})`);
    });
    options.push(() => {
      const t = anyTransition(r);
      const v = r.pick(voters);
      return change(t, [single(ConfChangeType.AddLearnerNode, v)], `demote voter n${v} (${transitionName(t)})`);
    });
  }
  if (learners.length > 0 && voters.length >= limits.votersMin) {
    options.push(() => {
      // Several voters change at once: always a joint configuration.
      const t = r.pick([ConfChangeTransition.Auto, ConfChangeTransition.JointImplicit, ConfChangeTransition.JointExplicit]);
      const l = r.pick(learners);
      const v = r.pick(voters);
      const demote = r.chance(0.5);
      const out = single(demote ? ConfChangeType.AddLearnerNode : ConfChangeType.RemoveNode, v);
      return change(t, [single(ConfChangeType.AddNode, l), out],
        `replace voter n${v} by n${l}${demote ? ' (demote)' : ''} (${transitionName(t)})`);
    });
  }
  if (options.length === 0) return null;
  return r.pick(options)();
}
