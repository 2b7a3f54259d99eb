/**
 * Hibernation: idle shard groups stop ticking and heartbeating, so a node with thousands
 * of idle replicas costs (almost) nothing.
 *
 * Protocol
 * 1. A leader counts ticks in which it was idle: `RawNode.isIdle()` (every member has the
 *    whole log, everything is committed, applied and the commit index was sent; no read,
 *    transfer or Ready pending) and nothing happened — no proposal, no read, no message
 *    other than plain heartbeats and their responses.
 * 2. After `2 × heartbeatIntervalTicks + 1` such ticks, and once it has taken part in no
 *    ReadIndex round for `electionTimeoutTicks` ticks (Replica.ticksSinceRead), it sends
 *    every other member a *hibernate marker* — a normal MsgHeartbeat for its term and commit
 *    whose context is `HIBERNATE_CTX` — and stops ticking the group.
 * 3. A follower that receives the marker from its leader steps it like any heartbeat
 *    (resetting its election timer), and stops ticking once it has applied everything the
 *    leader committed. The marker's HeartbeatResp is dropped by the sleeping leader.
 * 4. Any message for a sleeping replica, and any local proposal, read or request it
 *    cannot serve (NOT_LEADER), wakes it. A follower woken locally also *pokes* its leader
 *    with a ReadIndex request carrying `POKE_CTX_TAG`, which wakes the leader (and, through
 *    its heartbeat round, the rest of the group). A follower whose leader's node the
 *    transport reports unreachable wakes and, if the leader stays silent, campaigns after
 *    its election timeout as usual.
 *
 * Safety
 * - Raft's safety never depends on timing: sleeping only delays timeouts, so elections,
 *   commits and conf changes stay correct. Liveness: a follower that missed the marker
 *   stays awake, times out and pre-votes; that message wakes the group (the sleeping
 *   leader keeps its followers' lease, so the pre-vote fails and the woken leader's
 *   heartbeats settle it).
 * - Leader leases (raft-ts LeaseBased reads) are measured in the leader's ticks and are
 *   extended only by a quorum-acknowledged ReadIndex heartbeat round — by at most
 *   electionTimeoutTicks − 1 ticks from the tick the read was requested — never by plain
 *   heartbeats or by the marker. A leader sleeps only once electionTimeoutTicks of its ticks
 *   passed since its last read round (local read or forwarded MsgReadIndex), so its lease
 *   has expired when it falls asleep. A woken leader thus serves its first linearizable
 *   read only after a fresh heartbeat round (the Safe ReadIndex path), which also tells it
 *   if another leader was elected meanwhile. The scheduler ticks leaders by the monotonic
 *   clock (missed ticks are caught up, capped at an election timeout), so an event-loop
 *   stall cannot stretch a lease in real time; other replicas get at most one tick per turn
 *   (a slower election clock only makes them campaign later, which is safe).
 * - Stale reads use the replica's staleness (replica.ts), which keeps growing while a
 *   group sleeps: a bounded stale read on a sleeping follower wakes the group to refresh.
 */
import type { Message, PeerId, Term, LogIndex } from '@shoal/raft-ts';
import { MessageType } from '@shoal/raft-ts';
import { nodeOfPeer } from './descriptor.js';
import type { TransportPort } from './ports.js';
import type { Replica } from './replica.js';

export const HIBERNATE_CTX: Uint8Array = Uint8Array.from([0x03, 0x68, 0x69, 0x62]); // 03 "hib"
export const POKE_CTX_TAG = 0x02;

export function isHibernateMarker(m: Message): boolean {
  return (m.type === MessageType.Heartbeat || m.type === MessageType.HeartbeatResp) && sameBytes(m.context, HIBERNATE_CTX);
}

/** Plain heartbeats (no read context) are not activity: they must not keep a group awake. */
export function isQuietMessage(m: Message): boolean {
  return (m.type === MessageType.Heartbeat || m.type === MessageType.HeartbeatResp) && m.context.length === 0;
}

export function hibernateMarker(from: number, to: number, term: number, commit: number): Message {
  return {
    type: MessageType.Heartbeat, to: to as PeerId, from: from as PeerId, term: term as Term,
    logTerm: 0 as Term, index: 0 as LogIndex, entries: [], commit: commit as LogIndex,
    snapshot: null, reject: false, rejectHint: 0 as LogIndex, context: HIBERNATE_CTX,
  };
}

export function pokeCtx(peerId: number, seq: number): Uint8Array {
  const ctx = new Uint8Array(17);
  ctx[0] = POKE_CTX_TAG;
  const view = new DataView(ctx.buffer);
  view.setFloat64(1, peerId);
  view.setFloat64(9, seq);
  return ctx;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Called on each tick of an awake replica, before raft's tick: counts a leader's idle
 * ticks and says whether it may fall asleep now (step 2 of the protocol).
 */
export function leaderMaySleep(r: Replica, idleTicksMin: number, electionTimeoutTicks: number): boolean {
  if (!r.isLeader) return false;
  const idle = !r.active && !r.hasHostWork() && r.raw.isIdle();
  r.idleTicks = idle ? r.idleTicks + 1 : 0;
  return r.idleTicks >= idleTicksMin && r.ticksSinceRead >= electionTimeoutTicks;
}

/** Sends every other member the marker (commit = what it is known to have); returns the count. */
export function sendHibernateMarkers(r: Replica, transport: TransportPort): number {
  const st = r.raw.status();
  let sent = 0;
  for (const [peer, pr] of st.progress ?? []) {
    if (peer === r.peerId) continue;
    const node = nodeOfPeer(r.descriptor, peer);
    if (node === undefined) continue;
    const commit = Math.min(pr.match, st.hardState.commit);
    transport.send(node, r.shardId, r.peerId, peer, hibernateMarker(r.peerId, peer, st.hardState.term, commit));
    sent++;
  }
  return sent;
}

/**
 * After a turn: a follower that got its leader's marker sleeps if it has applied
 * everything and nothing is pending (step 3). Consumes the marker.
 */
export function followerMaySleep(r: Replica, hibernate: boolean): boolean {
  const from = r.markerFrom;
  if (from === 0) return false;
  r.markerFrom = 0;
  if (!hibernate || r.isLeader || r.lead !== from || r.appliedIndex < r.commitIndex) return false;
  return !r.hasHostWork() && !r.raw.hasReady();
}
