/**
 * Quorum math for majority and joint configurations. A joint configuration is a pair
 * (incoming, outgoing); a decision needs a majority of each. An empty majority config
 * agrees to everything, which makes a non-joint config the special case outgoing = [].
 */

export const VoteResult = { Pending: 0, Lost: 1, Won: 2 } as const;
export type VoteResult = (typeof VoteResult)[keyof typeof VoteResult];

/** Returns a peer's acknowledged index, or undefined if unknown. */
export type AckedIndexer = (id: number) => number | undefined;

/** Reused scratch buffer: committedIndex runs on every AppResp, so avoid allocating. */
const scratch: number[] = [];

/**
 * The largest index acknowledged by a majority of `voters` (Infinity for an empty
 * config, so that it never limits a joint config's other half).
 */
export function majorityCommittedIndex(voters: readonly number[], acked: AckedIndexer): number {
  const n = voters.length;
  if (n === 0) return Infinity;
  scratch.length = n;
  for (let i = 0; i < n; i++) scratch[i] = acked(voters[i]!) ?? 0;
  // Insertion sort, descending: n is tiny (typically 3 or 5).
  for (let i = 1; i < n; i++) {
    const v = scratch[i]!;
    let j = i - 1;
    while (j >= 0 && scratch[j]! < v) {
      scratch[j + 1] = scratch[j]!;
      j--;
    }
    scratch[j + 1] = v;
  }
  // The (n/2+1)-th largest value is acknowledged by a majority.
  return scratch[Math.floor(n / 2)]!;
}

/** Vote outcome in a majority config; `votes` maps a voter to its vote if it cast one. */
export function majorityVoteResult(voters: readonly number[], votes: (id: number) => boolean | undefined): VoteResult {
  const n = voters.length;
  if (n === 0) return VoteResult.Won;
  let yes = 0;
  let missing = 0;
  for (let i = 0; i < n; i++) {
    const v = votes(voters[i]!);
    if (v === undefined) missing++;
    else if (v) yes++;
  }
  const q = Math.floor(n / 2) + 1;
  if (yes >= q) return VoteResult.Won;
  if (yes + missing >= q) return VoteResult.Pending;
  return VoteResult.Lost;
}

export function jointCommittedIndex(
  incoming: readonly number[], outgoing: readonly number[], acked: AckedIndexer,
): number {
  const a = majorityCommittedIndex(incoming, acked);
  const b = majorityCommittedIndex(outgoing, acked);
  return a < b ? a : b;
}

export function jointVoteResult(
  incoming: readonly number[], outgoing: readonly number[], votes: (id: number) => boolean | undefined,
): VoteResult {
  const a = majorityVoteResult(incoming, votes);
  const b = majorityVoteResult(outgoing, votes);
  if (a === b) return a; // Won+Won, Lost+Lost, Pending+Pending
  if (a === VoteResult.Lost || b === VoteResult.Lost) return VoteResult.Lost;
  return VoteResult.Pending; // one Won, the other Pending
}
