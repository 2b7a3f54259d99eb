/**
 * Failure detection from node heartbeat times (leader memory), as SetNodeState commands:
 *
 *   silent ≥ nodeSuspectAfterMs   up → suspect        (nothing is moved yet)
 *   silent ≥ nodeDownAfterMs      up | suspect → down (its replicas get replaced)
 *   heard within nodeSuspectAfterMs   suspect | down → up
 *
 * Silence is counted from the later of the last heartbeat and the leader's own start,
 * so a metaserver leader change never makes the whole cluster look dead. That grace only
 * delays suspicion: bringing a node back up takes a real heartbeat, or every leader change
 * would revive the down nodes (and cancel their recovery) until they went down again. Decommissioning
 * nodes keep their state; the replica checker treats a silent one like a down one.
 * Each decision is a compare-and-set on the state it was made from.
 */
import { commands as cmd, sortedNodes } from '../state/index.js';
import type { CommandKind, NodeRecord, NodeState, TopologyState } from '../state/index.js';
import type { FailureDetectionOptions } from './options.js';
import { lastHeardMs } from './soft-state.js';
import type { SoftState } from './soft-state.js';

/** The state the node should be in after `silentMs` without a heartbeat, or undefined to leave it. */
export function livenessTarget(state: NodeState, silentMs: number, o: FailureDetectionOptions): NodeState | undefined {
  switch (state) {
    case 'up':
      if (silentMs >= o.nodeDownAfterMs) return 'down';
      return silentMs >= o.nodeSuspectAfterMs ? 'suspect' : undefined;
    case 'suspect':
      if (silentMs >= o.nodeDownAfterMs) return 'down';
      return silentMs < o.nodeSuspectAfterMs ? 'up' : undefined;
    case 'down':
      return silentMs < o.nodeSuspectAfterMs ? 'up' : undefined;
    case 'decommissioning':
    case 'removed':
      return undefined;
  }
}

export function detectFailures(state: TopologyState, soft: SoftState, nowMs: number, o: FailureDetectionOptions): CommandKind[] {
  const out: CommandKind[] = [];
  for (const n of sortedNodes(state)) {
    const to = livenessTarget(n.state, nowMs - lastHeardMs(soft, n.id), o);
    if (to === undefined) continue;
    const heardMs = soft.nodes.get(n.id)?.lastHeartbeatMs ?? Number.NEGATIVE_INFINITY;
    if (to === 'up' && nowMs - heardMs >= o.nodeSuspectAfterMs) continue;
    out.push(cmd.setNodeState(n.id, n.state, to));
  }
  return out;
}

/** True if the node serves its replicas: up or suspect, or decommissioning and still heartbeating. */
export function nodeServes(n: NodeRecord | undefined, soft: SoftState, nowMs: number, o: FailureDetectionOptions): boolean {
  if (n === undefined) return false;
  switch (n.state) {
    case 'up':
    case 'suspect': return true;
    case 'decommissioning': return nowMs - lastHeardMs(soft, n.id) < o.nodeDownAfterMs;
    case 'down':
    case 'removed': return false;
  }
}
