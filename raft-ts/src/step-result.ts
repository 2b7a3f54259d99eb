/**
 * Results of proposing and stepping, as values: dropping a proposal or a message from an
 * unknown peer is an expected operating condition, not an exception. `reason` is for
 * humans; callers branch on `code` only.
 */

export type ProposeResult = { ok: true } | { ok: false; code: 'PROPOSAL_DROPPED'; reason: string };

export type StepErrorCode = 'STEP_LOCAL_MSG' | 'STEP_PEER_NOT_FOUND' | 'PROPOSAL_DROPPED';

export type StepResult = { ok: true } | { ok: false; code: StepErrorCode; reason: string };

/** Inside the core: null means success (no allocation on the hot path). */
export interface StepFailure {
  readonly code: 'PROPOSAL_DROPPED';
  readonly reason: string;
}
export type StepOutcome = StepFailure | null;

export const OK: { readonly ok: true } = Object.freeze({ ok: true });

export function dropped(reason: string): StepFailure {
  return { code: 'PROPOSAL_DROPPED', reason };
}
