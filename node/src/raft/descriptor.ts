/**
 * Shard descriptors as the node uses them: membership ↔ raft ConfState, peer → node
 * lookups, epochs, and the descriptor carried in a conf change's context.
 *
 * A ConfChange entry's `context` holds the complete descriptor the shard has once the
 * change is applied (replicas with node ids, confVer bumped). Every replica applying the
 * entry adopts it, so all members learn the new peer's node — what the transport needs to
 * reach it — from the log itself, and a restarted replica finds it in the engine.
 */
import { common } from '@shoal/proto';
import type { ConfState, PeerId } from '@shoal/raft-ts';

export type ShardDescriptor = common.ShardDescriptor;
export type Epoch = common.Epoch;

export const EMPTY_CONF_STATE: ConfState = Object.freeze({
  voters: [], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false,
});

/** The bootstrap membership of a brand-new shard: its descriptor's voters and learners. */
export function confStateOf(desc: ShardDescriptor): ConfState {
  const voters: PeerId[] = [];
  const learners: PeerId[] = [];
  for (const r of desc.replicas) {
    if (r.role === common.ReplicaRole.LEARNER) learners.push(r.peerId as PeerId);
    else voters.push(r.peerId as PeerId);
  }
  return { voters, learners, votersOutgoing: [], learnersNext: [], autoLeave: false };
}

export function isMember(cs: ConfState, peer: number): boolean {
  return cs.voters.includes(peer as PeerId) || cs.learners.includes(peer as PeerId)
    || cs.votersOutgoing.includes(peer as PeerId) || cs.learnersNext.includes(peer as PeerId);
}

export function nodeOfPeer(desc: ShardDescriptor, peer: number): number | undefined {
  for (const r of desc.replicas) if (r.peerId === peer) return r.nodeId;
  return undefined;
}

export function epochOf(desc: ShardDescriptor): Epoch {
  return desc.epoch ?? common.Epoch.create();
}

export function epochEquals(a: Epoch | undefined, b: Epoch | undefined): boolean {
  const x = a ?? common.Epoch.create();
  const y = b ?? common.Epoch.create();
  return x.confVer === y.confVer && x.version === y.version;
}

/** Orders epochs: a descriptor from a conf change must never replace a newer one. */
export function epochNewer(a: Epoch | undefined, b: Epoch | undefined): boolean {
  const x = a ?? common.Epoch.create();
  const y = b ?? common.Epoch.create();
  return x.version > y.version || (x.version === y.version && x.confVer > y.confVer);
}

export function withLeader(desc: ShardDescriptor, leaderPeerId: number): ShardDescriptor {
  return desc.leaderPeerId === leaderPeerId ? desc : { ...desc, leaderPeerId };
}

export function encodeDescriptor(desc: ShardDescriptor): Uint8Array {
  return common.ShardDescriptor.encode(desc).finish();
}

export function decodeDescriptor(bytes: Uint8Array): ShardDescriptor {
  return common.ShardDescriptor.decode(bytes);
}

/** The descriptor with the replica of `peer` replaced or added (membership change). */
export function withReplica(desc: ShardDescriptor, replica: common.Replica): ShardDescriptor {
  const replicas = desc.replicas.filter((r) => r.peerId !== replica.peerId);
  replicas.push(replica);
  replicas.sort((a, b) => a.peerId - b.peerId);
  return { ...desc, replicas };
}

export function withoutReplica(desc: ShardDescriptor, peer: number): ShardDescriptor {
  return { ...desc, replicas: desc.replicas.filter((r) => r.peerId !== peer) };
}

export function bumpConfVer(desc: ShardDescriptor): ShardDescriptor {
  const e = epochOf(desc);
  return { ...desc, epoch: { confVer: e.confVer + 1, version: e.version } };
}
