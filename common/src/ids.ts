/**
 * Branded numeric identifiers (STYLE.md rule 7).
 *
 * Each brand is the string-literal property `__brand`, exactly as raft-ts declares `Term`,
 * `LogIndex` and `PeerId` in raft-ts/src/types.ts, so the types here and there are
 * structurally identical and interchange without a cast or a dependency either way.
 *
 * The constructor functions validate values that cross a trust boundary (wire, disk,
 * config, user input) and throw `KvError('INVALID_ARGUMENT')` naming the id kind. Code
 * that already holds a validated number may cast (`n as Term`) in arithmetic, e.g.
 * `(index + 1) as LogIndex`.
 */
import { KvError } from './errors.js';

export type NodeId = number & { readonly __brand: 'NodeId' };
export type ShardId = number & { readonly __brand: 'ShardId' };
export type PeerId = number & { readonly __brand: 'PeerId' };
export type TableId = number & { readonly __brand: 'TableId' };
export type Term = number & { readonly __brand: 'Term' };
export type LogIndex = number & { readonly __brand: 'LogIndex' };

/**
 * Table ids are u32 on disk (the first 4 bytes of every storage key, see keys.ts).
 * 0 is reserved for node-local internal keys and 0xFFFFFFFF is the end sentinel of the
 * keyspace, so user tables use 1..0xFFFFFFFE.
 */
export const TABLE_ID_MIN = 1;
export const TABLE_ID_MAX = 0xfffffffe;

function checkSafeId(kind: string, n: unknown): number {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
    throw new KvError('INVALID_ARGUMENT', `${kind} must be a non-negative safe integer, got ${String(n)}`);
  }
  return n;
}

export function nodeId(n: number): NodeId {
  return checkSafeId('NodeId', n) as NodeId;
}

export function shardId(n: number): ShardId {
  return checkSafeId('ShardId', n) as ShardId;
}

/** `PeerId` 0 means "nobody" in raft-ts (`NO_PEER`); it is accepted here. */
export function peerId(n: number): PeerId {
  return checkSafeId('PeerId', n) as PeerId;
}

export function term(n: number): Term {
  return checkSafeId('Term', n) as Term;
}

export function logIndex(n: number): LogIndex {
  return checkSafeId('LogIndex', n) as LogIndex;
}

/** A user table id: an integer in [TABLE_ID_MIN, TABLE_ID_MAX]. */
export function tableId(n: number): TableId {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < TABLE_ID_MIN || n > TABLE_ID_MAX) {
    throw new KvError('INVALID_ARGUMENT', `TableId must be an integer in [${TABLE_ID_MIN}, ${TABLE_ID_MAX}], got ${String(n)}`);
  }
  return n as TableId;
}
