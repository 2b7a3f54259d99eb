// Goal: AdminService.transferLeader re-issues a leader transfer raft gave up on (the target ignored its one TimeoutNow, as a just-promoted learner does), a bounded number of times, so leadership still moves before the deadline; a silent target gets no re-issue.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { KvError } from '@shoal/common';
import { admin } from '@shoal/proto';
import { MessageType } from '@shoal/raft-ts';
import type { ReplicaManager } from '../raft/replica-manager.js';
import type { TransportPort } from '../raft/ports.js';
import { descriptor, leaderOf, MemNetwork, MemNode, peerOf, silentLogger, waitFor } from '../raft/testing/mem-cluster.js';
import { AdminService, TRANSFER_ATTEMPTS_MAX } from './admin-service.js';

/** Drops the next `dropTimeoutNow` TimeoutNow messages, as a target that ignores them would. */
class IgnoringNetwork extends MemNetwork {
  dropTimeoutNow = 0;
  timeoutNowSent = 0;

  override transport(from: number): TransportPort {
    const t = super.transport(from);
    return {
      ...t,
      send: (to, shardId, fromPeer, toPeer, message) => {
        if (message.type === MessageType.TimeoutNow) {
          this.timeoutNowSent++;
          if (this.dropTimeoutNow > 0) {
            this.dropTimeoutNow--;
            return;
          }
        }
        t.send(to, shardId, fromPeer, toPeer, message);
      },
    };
  }
}

let nodes: MemNode[] = [];
afterEach(async () => {
  for (const n of nodes) await n.scheduler.stop();
  nodes = [];
});

async function cluster(timeoutMs = 3000): Promise<{ net: IgnoringNetwork; svc: AdminService; target: number }> {
  const net = new IgnoringNetwork();
  nodes = [1, 2, 3].map((n) => new MemNode(n, net));
  for (const n of nodes) n.host(descriptor(1, [1, 2, 3]), peerOf(1, n.nodeId));
  for (const n of nodes) n.scheduler.start();
  nodes[0]!.scheduler.campaign(nodes[0]!.scheduler.replica(1)!);
  await waitFor(() => leaderOf(net, 1)?.node === nodes[0], 5000, 'node 1 leads');
  const leader = leaderOf(net, 1)!;
  // transferLeader needs neither the replica manager nor addresses.
  const svc = new AdminService({
    nodeId: 1, scheduler: leader.node.scheduler, replicas: {} as ReplicaManager, addressOf: (n) => `node-${n}`, timeoutMs, logger: silentLogger,
  });
  return { net, svc, target: peerOf(1, 2) };
}

function request(toPeerId: number): admin.NodeTransferLeaderRequest {
  const r = nodes[0]!.scheduler.replica(1)!;
  return admin.NodeTransferLeaderRequest.create({ shardId: 1, epoch: r.descriptor.epoch, toPeerId });
}

describe('AdminService.transferLeader', () => {
  it('re-issues a transfer whose TimeoutNow the target ignored until leadership moves', async () => {
    // It ends when leadership moves; the long deadline only keeps a loaded machine from failing it.
    const { net, svc, target } = await cluster(30_000);
    net.dropTimeoutNow = 2;
    await svc.transferLeader(request(target));
    assert.equal(leaderOf(net, 1)?.replica.peerId, target);
    assert.equal(net.timeoutNowSent, 3, 'two ignored, the third taken');
  });

  it('gives up after TRANSFER_ATTEMPTS_MAX attempts with TIMEOUT, before its deadline', async () => {
    // A deadline far beyond what the attempts need, even on a loaded machine: the call must
    // end because the attempts ran out, not because the deadline passed.
    const { net, svc, target } = await cluster(60_000);
    net.dropTimeoutNow = 1_000;
    await assert.rejects(svc.transferLeader(request(target)),
      (e: unknown) => e instanceof KvError && e.code === 'TIMEOUT' && e.message.includes(`after ${TRANSFER_ATTEMPTS_MAX} transfers`));
    assert.equal(net.timeoutNowSent, TRANSFER_ATTEMPTS_MAX);
    assert.equal(leaderOf(net, 1)?.node, nodes[0]);
  });

  it('does not re-issue to a silent target', async () => {
    const { net, svc, target } = await cluster();
    net.dropTimeoutNow = 1_000;
    const done = svc.transferLeader(request(target));
    await waitFor(() => net.timeoutNowSent === 1, 2000, 'first TimeoutNow');
    net.down.add(2);
    await assert.rejects(done, (e: unknown) => e instanceof KvError && e.code === 'TIMEOUT');
    assert.ok(net.timeoutNowSent <= 2, `at most one re-issue before the target was seen silent: ${net.timeoutNowSent}`);
  });
});
