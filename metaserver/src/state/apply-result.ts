/**
 * The result of applying a command: what it did (`ApplyOutcome`, for the proposer's
 * reply) or why it was refused. A refused command changes nothing; the same command on
 * the same state is refused the same way on every member, so refusals carry no clock or
 * environment in them.
 */
import { err, KvError } from '@shoal/common';
import type { Err, KvErrorCode, NodeId, Result, ShardId, TableId } from '@shoal/common';
import type { NodeState, OperatorId, OperatorState } from './types.js';

export type ApplyOutcome =
  | { readonly kind: 'unchanged' }
  | { readonly kind: 'bootstrapped'; readonly clusterId: number }
  | { readonly kind: 'pool-created'; readonly pool: string }
  | { readonly kind: 'zone-created'; readonly pool: string; readonly zone: string }
  | { readonly kind: 'node-registered'; readonly nodeId: NodeId }
  | { readonly kind: 'node-state-changed'; readonly nodeId: NodeId; readonly state: NodeState }
  | { readonly kind: 'table-created'; readonly tableId: TableId; readonly shardIds: readonly ShardId[] }
  | { readonly kind: 'table-exists'; readonly tableId: TableId }
  | { readonly kind: 'table-dropped'; readonly tableId: TableId }
  | { readonly kind: 'table-removed'; readonly tableId: TableId }
  | { readonly kind: 'shards-updated'; readonly shardIds: readonly ShardId[] }
  | { readonly kind: 'operator-added'; readonly operatorId: OperatorId }
  | { readonly kind: 'operator-finished'; readonly operatorId: OperatorId; readonly state: OperatorState }
  | { readonly kind: 'ids-allocated'; readonly firstId: number; readonly count: number }
  | { readonly kind: 'garbage-acked'; readonly count: number };

export type ApplyResult = Result<ApplyOutcome>;

export const UNCHANGED: ApplyOutcome = Object.freeze({ kind: 'unchanged' });

export function refuse(code: KvErrorCode, message: string, option?: string): Err<KvError> {
  return err(new KvError(code, message, option === undefined ? {} : { details: { option } }));
}

export function invalid(message: string, option?: string): Err<KvError> {
  return refuse('INVALID_ARGUMENT', message, option);
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const NAME_LENGTH_MAX = 128;

/** Pool, zone and table names: 1..128 of [A-Za-z0-9._-], starting with a letter or digit. */
export function checkName(name: string, option: string): Err<KvError> | null {
  if (name.length === 0 || name.length > NAME_LENGTH_MAX || !NAME.test(name)) {
    return invalid(`${option} must be 1..${NAME_LENGTH_MAX} characters of [A-Za-z0-9._-], got ${JSON.stringify(name)}`, option);
  }
  return null;
}
