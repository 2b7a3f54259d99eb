// Goal: the chaos partition failpoints of the Raft transport (node/src/failpoints.ts) are
// one-way each: dropTo loses only what this node sends to the named node, dropFrom only
// what it receives from it; healing (the predicate turning false) restores delivery. And a
// regression case chaos found at the transport's envelope check.
import assert from 'node:assert/strict';
import { after, it } from 'node:test';
import { MessageType } from '@shoal/raft-ts';
import type { LogIndex } from '@shoal/raft-ts';
import { raftMessage, received, startNode, waitFor } from './transport-testing.js';
import type { TestNode } from './transport-testing.js';

const started: TestNode[] = [];
after(async () => {
  await Promise.all(started.map((n) => n.stop()));
});

it('drops messages to and from the named nodes only, one way each, until healed', async () => {
  const addresses = new Map<number, string>();
  const cut = { to: new Set<number>([2]), from: new Set<number>([3]) };
  const a = await startNode(1, addresses, { failpoints: { dropTo: (n) => cut.to.has(n), dropFrom: (n) => cut.from.has(n) } });
  const b = await startNode(2, addresses);
  const c = await startNode(3, addresses);
  started.push(a, b, c);
  const msg = (from: number, to: number, index: number) => raftMessage({ from, to, index: index as LogIndex });

  // 1 → 2 dropped, 1 → 3 delivered; 3 → 1 dropped, 2 → 1 delivered.
  a.transport.send(2, 1, 10, 20, msg(10, 20, 1));
  a.transport.send(3, 1, 10, 30, msg(10, 30, 1));
  c.transport.send(1, 1, 30, 10, msg(30, 10, 1));
  b.transport.send(1, 1, 20, 10, msg(20, 10, 1));
  await waitFor(() => received(c).length === 1 && received(a).some((m) => m.fromNodeId === 2), 'the undropped messages');
  // A later message on the same streams arrives after the dropped ones would have.
  a.transport.send(3, 1, 10, 30, msg(10, 30, 2));
  b.transport.send(1, 1, 20, 10, msg(20, 10, 2));
  await waitFor(() => received(c).length === 2 && received(a).filter((m) => m.fromNodeId === 2).length === 2, 'the second round');
  assert.equal(received(b).length, 0, 'nothing from node 1 reached node 2');
  assert.equal(received(a).filter((m) => m.fromNodeId === 3).length, 0, 'nothing from node 3 was delivered on node 1');
  assert.equal(received(c).filter((m) => m.fromNodeId === 1).length, 2);

  cut.to.clear();
  cut.from.clear();
  a.transport.send(2, 1, 10, 20, msg(10, 20, 3));
  c.transport.send(1, 1, 30, 10, msg(30, 10, 3));
  await waitFor(() => received(b).length === 1 && received(a).some((m) => m.fromNodeId === 3), 'delivery after healing');
});

// Found by `npm run chaos -- --duration 40 --seed 12 --nemesis partition,pause,kill --reads follower`:
// a leader-transfer operator timed out, its replica had become a follower meanwhile and
// forwarded the MsgTransferLeader (from = the transferee, as etcd does) to the new leader;
// the transport's envelope check killed the node (AssertionError "envelope peers 1→2
// disagree with message 3→2"). Forwarded transfers must pass, on both ends.
it('carries a MsgTransferLeader forwarded by a follower (from = the transferee)', async () => {
  const addresses = new Map<number, string>();
  const a = await startNode(11, addresses);
  const b = await startNode(12, addresses);
  started.push(a, b);
  const forwarded = raftMessage({ type: MessageType.TransferLeader, from: 3, to: 2 });
  a.transport.send(12, 1, 1, 2, forwarded);
  await waitFor(() => received(b).length === 1, 'the forwarded transfer');
  assert.equal(received(b)[0]!.message.from, 3);
  assert.equal(received(b)[0]!.fromPeer, 1);
  // The same chaos seed later found a ReadIndex forwarded twice (12 → old leader 10, which had
  // stepped down, → new leader 11): proposals and ReadIndex keep their originator too.
  a.transport.send(12, 1, 1, 2, raftMessage({ type: MessageType.ReadIndex, from: 3, to: 2 }));
  a.transport.send(12, 1, 1, 2, raftMessage({ type: MessageType.Prop, from: 3, to: 2 }));
  await waitFor(() => received(b).length === 3, 'the forwarded ReadIndex and proposal');
  assert.deepEqual(received(b).slice(1).map((r) => [r.message.type, r.message.from, r.fromPeer]),
    [[MessageType.ReadIndex, 3, 1], [MessageType.Prop, 3, 1]]);
  // Any other message must still agree with its envelope.
  assert.throws(() => a.transport.send(12, 1, 1, 2, raftMessage({ from: 3, to: 2 })), /disagree/);
});
