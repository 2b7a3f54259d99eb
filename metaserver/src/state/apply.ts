/**
 * The metaserver's state machine: `apply(state, command, stampMs)` is the only way the
 * topology changes. Like the Raft core it is deterministic — no clock, no randomness, no
 * configuration, no Map insertion order: members applying the same log reach the same
 * state (byte-equal snapshots, see snapshot.ts).
 *
 * A refused command (`ok: false`) leaves the state untouched: every handler validates
 * first and mutates after. Refusals are operating errors for the proposer to report
 * (KvError codes); a broken invariant is an assertion.
 *
 * The caller's obligations (see metaserver/README.md): apply committed entries in log
 * order, exactly once each, passing the proposer's stamp (`proposedAtUnixMs`).
 */
import { assertNever, err, KvError } from '@shoal/common';
import { metacmd } from '@shoal/proto';
import {
  applyAckDestroyed, applyAllocateIds, applyBootstrap, applyCreatePool, applyCreateZone, applyDecommission,
  applyRegisterNode, applySetNodeState,
} from './apply-cluster.js';
import { applyAddOperator, applyFinishOperator } from './apply-operators.js';
import { applyReportShard } from './apply-shards.js';
import { applyCreateTable, applyDropTable, applyRemoveTable } from './apply-tables.js';
import { invalid } from './apply-result.js';
import type { ApplyResult } from './apply-result.js';
import type { TopologyState } from './types.js';

/** Applies one command at the proposer's time stamp. */
export function apply(state: TopologyState, command: metacmd.MetaCommand, stampMs: number): ApplyResult {
  const kind = command.kind;
  if (kind === undefined) return invalid('empty meta command');
  switch (kind.$case) {
    case 'bootstrap': return applyBootstrap(state, kind.bootstrap);
    case 'createPool': return applyCreatePool(state, kind.createPool, stampMs);
    case 'createZone': return applyCreateZone(state, kind.createZone);
    case 'registerNode': return applyRegisterNode(state, kind.registerNode, stampMs);
    case 'setNodeState': return applySetNodeState(state, kind.setNodeState, stampMs);
    case 'decommissionNode': return applyDecommission(state, kind.decommissionNode, stampMs);
    case 'createTable': return applyCreateTable(state, kind.createTable, stampMs);
    case 'dropTable': return applyDropTable(state, kind.dropTable, stampMs);
    case 'removeTable': return applyRemoveTable(state, kind.removeTable);
    case 'reportShard': return applyReportShard(state, kind.reportShard, stampMs);
    case 'addOperator': return applyAddOperator(state, kind.addOperator, stampMs);
    case 'finishOperator': return applyFinishOperator(state, kind.finishOperator, stampMs);
    case 'allocateIds': return applyAllocateIds(state, kind.allocateIds);
    case 'ackDestroyedReplicas': return applyAckDestroyed(state, kind.ackDestroyedReplicas);
    default: return assertNever(kind, 'meta command');
  }
}

/**
 * Decodes and applies one committed entry's data, stamped with its own
 * `proposedAtUnixMs`. Undecodable data is refused as CORRUPTION on every member alike.
 */
export function applyEntry(state: TopologyState, data: Uint8Array): ApplyResult {
  let command: metacmd.MetaCommand;
  try {
    command = metacmd.MetaCommand.decode(data);
  } catch (e) {
    return err(new KvError('CORRUPTION', 'undecodable meta command', { cause: e }));
  }
  return apply(state, command, command.proposedAtUnixMs);
}

/** Encodes a command for proposing, stamped with the proposer's clock. */
export function encodeCommand(kind: NonNullable<metacmd.MetaCommand['kind']>, stampMs: number): Uint8Array {
  return metacmd.MetaCommand.encode(metacmd.MetaCommand.create({ proposedAtUnixMs: stampMs, kind })).finish();
}
