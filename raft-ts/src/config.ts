/**
 * Configuration of one Raft peer, and its validation. Every limit is named with its unit
 * last and validated at construction so a bad option fails fast, naming the option.
 */
import type { LogIndex, Logger, PeerId, Rand, Storage } from './types.js';
import { NO_PEER, ReadOnlyOption } from './types.js';

export interface Config {
  id: PeerId;
  /** Must exceed heartbeatIntervalTicks; the actual timeout is randomized in [e, 2e). */
  electionTimeoutTicks: number;
  heartbeatIntervalTicks: number;
  storage: Storage;
  rand: Rand;
  /** Last applied index on restart (default 0). Entries up to it are not re-delivered. */
  applied?: LogIndex;
  /** Max bytes of entries in one App message (at least one entry is always sent). */
  messageBytesMax: number;
  /** Pipelining window per follower, in messages. */
  inflightMessagesMax: number;
  /** Pipelining window per follower, in bytes (0 = unlimited). */
  inflightBytesMax: number;
  /** The leader rejects proposals beyond this much uncommitted payload (0 = unlimited). */
  uncommittedBytesMax: number;
  /** One proposal's max payload (0 = unlimited). */
  proposalBytesMax: number;
  /** Cap on committedEntries bytes per Ready (0 = unlimited; at least one entry is sent). */
  committedBytesPerReadyMax: number;
  checkQuorum: boolean;
  preVote: boolean;
  /** LeaseBased requires checkQuorum. */
  readOnlyOption: ReadOnlyOption;
  /** Followers drop proposals instead of forwarding them to the leader. */
  disableProposalForwarding?: boolean;
  /** A leader removed from the configuration steps down once the removal is applied. */
  stepDownOnRemoval?: boolean;
  logger?: Logger;
}

/** A configuration error; `option` names the offending Config key. */
export class RaftConfigError extends Error {
  override readonly name = 'RaftConfigError';
  readonly code = 'RAFT_CONFIG_INVALID';
  readonly option: string;
  constructor(option: string, reason: string) {
    super(`invalid raft config option '${option}': ${reason}`);
    this.option = option;
  }
}

function requireInt(c: Config, key: keyof Config, min: number): void {
  const v = c[key];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
    throw new RaftConfigError(key, `must be an integer >= ${min}, got ${String(v)}`);
  }
}

/** Throws RaftConfigError naming the first bad option. */
export function validateConfig(c: Config): void {
  if (c.id === NO_PEER) throw new RaftConfigError('id', 'cannot be 0 (NO_PEER)');
  requireInt(c, 'id', 1);
  requireInt(c, 'heartbeatIntervalTicks', 1);
  requireInt(c, 'electionTimeoutTicks', 1);
  if (c.electionTimeoutTicks <= c.heartbeatIntervalTicks) {
    throw new RaftConfigError('electionTimeoutTicks', 'must be greater than heartbeatIntervalTicks');
  }
  if (typeof c.storage !== 'object' || c.storage === null) throw new RaftConfigError('storage', 'is required');
  if (typeof c.rand !== 'object' || c.rand === null) throw new RaftConfigError('rand', 'is required');
  if (c.applied !== undefined) requireInt(c, 'applied', 0);
  requireInt(c, 'messageBytesMax', 1);
  requireInt(c, 'inflightMessagesMax', 1);
  requireInt(c, 'inflightBytesMax', 0);
  if (c.inflightBytesMax !== 0 && c.inflightBytesMax < c.messageBytesMax) {
    throw new RaftConfigError('inflightBytesMax', 'must be 0 (unlimited) or >= messageBytesMax');
  }
  requireInt(c, 'uncommittedBytesMax', 0);
  requireInt(c, 'proposalBytesMax', 0);
  requireInt(c, 'committedBytesPerReadyMax', 0);
  if (c.readOnlyOption !== ReadOnlyOption.Safe && c.readOnlyOption !== ReadOnlyOption.LeaseBased) {
    throw new RaftConfigError('readOnlyOption', `unknown value ${String(c.readOnlyOption)}`);
  }
  if (c.readOnlyOption === ReadOnlyOption.LeaseBased && !c.checkQuorum) {
    throw new RaftConfigError('readOnlyOption', 'LeaseBased requires checkQuorum = true');
  }
}
