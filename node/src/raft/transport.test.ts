// Goal: two real transports on 127.0.0.1 exchange coalesced, validated Raft batches for many
// groups; a restarted peer is redialled with backoff; unreachable peers, full queues and
// oversized messages drop and count instead of blocking; foreign clusters and malformed
// batches are refused.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, describe, it } from 'node:test';
import { Client, credentials, Metadata, status } from '@grpc/grpc-js';
import type { ClientDuplexStream, ServiceError, StatusObject } from '@grpc/grpc-js';
import { createRegistry, isKvError } from '@shoal/common';
import { raft } from '@shoal/proto';
import { MessageType } from '@shoal/raft-ts';
import type { LogIndex } from '@shoal/raft-ts';
import { toProtoMessage } from './raft-codec.js';
import { RaftTransport } from './transport.js';
import type { TransportOptions } from './transport-options.js';
import { ERROR_CODE_METADATA_KEY, RAFT_METHOD_PATH } from './transport-grpc.js';
import { raftMessage, received, startGrpcServer, startNode, waitFor } from './transport-testing.js';
import type { TestNode } from './transport-testing.js';

const started: TestNode[] = [];
async function node(id: number, addresses: Map<number, string>, opts: Parameters<typeof startNode>[2] = {}, port = 0): Promise<TestNode> {
  const n = await startNode(id, addresses, opts, port);
  started.push(n);
  return n;
}
after(async () => {
  await Promise.all(started.map((n) => n.stop()));
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close((err) => (err ? reject(err) : resolve(port)));
    });
  });
}

describe('RaftTransport messages', () => {
  it('coalesces everything sent in one turn into one batch per peer, for many groups', async () => {
    const addresses = new Map<number, string>();
    const a = await node(1, addresses);
    const b = await node(2, addresses);
    const c = await node(3, addresses);
    const groups = 50;
    for (let shard = 1; shard <= groups; shard++) {
      for (const [to, peer] of [[2, 20], [3, 30]] as const) {
        for (let i = 0; i < 4; i++) a.transport.send(to, shard, 10, peer, raftMessage({ from: 10, to: peer, index: i as LogIndex }, 1));
      }
    }
    await waitFor(() => received(b).length === groups * 4 && received(c).length === groups * 4, 'all messages at both peers');
    assert.equal(b.batches.length, 1, 'one batch at node 2');
    assert.equal(c.batches.length, 1, 'one batch at node 3');
    const first = b.batches[0]![0]!;
    assert.equal(first.shardId, 1);
    assert.equal(first.fromPeer, 10);
    assert.equal(first.message.entries.length, 1);
    assert.deepEqual(b.batches[0]!.map((m) => m.message.index).slice(0, 8), [0, 1, 2, 3, 0, 1, 2, 3], 'order kept');
    const stats = a.transport.stats().get(2)!;
    assert.equal(stats.batchesSent, 1);
    assert.equal(stats.messagesSent, groups * 4);
    await waitFor(() => a.transport.stats().get(2)!.lastSeqAcked === stats.lastSeqSent, 'ack of the batch');
    assert.equal(b.transport.stats().get(1)!.messagesReceived, groups * 4);

    // Messages flow the other way on node 2's own stream to node 1.
    b.transport.send(1, 5, 20, 10, raftMessage({ from: 20, to: 10, type: MessageType.AppResp }));
    await waitFor(() => received(a).length === 1, 'reply at node 1');
    assert.equal(received(a)[0]!.message.type, MessageType.AppResp);
  });

  it('splits a large turn into batches under grpcMessageBytesMax and drops a message that cannot fit', async () => {
    const addresses = new Map<number, string>();
    const small = { grpcMessageBytesMax: 64 * 1024, snapshotChunkBytes: 32 * 1024 };
    const a = await node(1, addresses, small);
    const b = await node(2, addresses, small);
    for (let i = 0; i < 100; i++) a.transport.send(2, i + 1, 1, 2, raftMessage({ from: 1, to: 2 }, 1, 4096));
    a.transport.send(2, 999, 1, 2, raftMessage({ from: 1, to: 2 }, 1, 70 * 1024));
    await waitFor(() => received(b).length === 100, '100 messages');
    assert.ok(b.batches.length >= 7, `${b.batches.length} batches`);
    assert.deepEqual(received(b).map((m) => m.shardId), Array.from({ length: 100 }, (_, i) => i + 1));
    assert.equal(a.transport.stats().get(2)!.messagesDropped['too-large'], 1);
  });

  it('bounds each peer queue: overflow in one turn is dropped and counted', async () => {
    const addresses = new Map<number, string>();
    const registry = createRegistry('node', { defaultMetrics: false });
    const a = await node(1, addresses, { sendQueueBytesMax: 64 * 1024, grpcMessageBytesMax: 64 * 1024, snapshotChunkBytes: 32 * 1024, registry });
    const b = await node(2, addresses);
    const sent = 100; // ~4.1 KiB each: about 15 fit
    for (let i = 0; i < sent; i++) a.transport.send(2, 1, 1, 2, raftMessage({ from: 1, to: 2 }, 1, 4096));
    const dropped = a.transport.stats().get(2)!.messagesDropped['queue-full'];
    assert.ok(dropped > 0 && dropped < sent, `${dropped} dropped`);
    await waitFor(() => received(b).length === sent - dropped, 'the admitted messages');
    assert.ok(received(b).length * 4096 <= 64 * 1024);
    const text = await registry.metrics();
    assert.match(text, new RegExp(`shoal_raft_transport_messages_dropped_total\\{peer_node="2",reason="queue-full",process="node"\\} ${dropped}`));
  });

  it('keeps memory bounded while a peer does not read: drops instead of blocking', async () => {
    const addresses = new Map<number, string>();
    // A peer that accepts the stream, acks nothing and never reads after the first batch.
    const stalled = await startGrpcServer((s) => s.addService(raft.RaftTransportService, {
      raft: (call: { pause(): void; on(e: string, f: () => void): void }) => {
        call.on('data', () => call.pause());
      },
      sendSnapshot: () => {},
    }));
    addresses.set(2, stalled.address);
    const a = await node(1, addresses, { sendQueueBytesMax: 256 * 1024, grpcMessageBytesMax: 64 * 1024, snapshotChunkBytes: 32 * 1024, connectTimeoutMs: 60_000 });
    const drops = (): number => a.transport.stats().get(2)?.messagesDropped['queue-full'] ?? 0;
    let turns = 0;
    for (; turns < 500 && drops() === 0; turns++) {
      for (let i = 0; i < 4; i++) a.transport.send(2, 1, 1, 2, raftMessage({ from: 1, to: 2 }, 1, 16 * 1024));
      await new Promise((r) => setTimeout(r, 1));
    }
    // Each turn's 64 KiB fits the queue; only bytes grpc could not hand to HTTP/2 pile up.
    assert.ok(drops() > 0, 'drops once flow control bites');
    assert.ok(turns > 4, `${turns} turns`);
    const s = a.transport.stats().get(2)!;
    assert.ok(s.bytesSent < 64 * 1024 * 1024, 'did not keep writing unboundedly');
    stalled.server.forceShutdown();
  });
});

describe('RaftTransport connections', () => {
  it('reports an unreachable peer, drops while backing off, and reports unknown addresses', async () => {
    const addresses = new Map<number, string>();
    addresses.set(9, `127.0.0.1:${await freePort()}`);
    const a = await node(1, addresses, { reconnectBackoffMs: { initial: 2000, max: 2000 } });
    a.transport.send(9, 1, 1, 9, raftMessage({ from: 1, to: 9 }));
    await waitFor(() => a.unreachable.includes(9), 'onUnreachable(9)');
    assert.equal(a.transport.peerState(9), 'backoff');
    for (let i = 0; i < 5; i++) a.transport.send(9, 1, 1, 9, raftMessage({ from: 1, to: 9 }));
    const s = a.transport.stats().get(9)!;
    // The first message may already have been written to the stream that failed (lost, not counted).
    assert.ok(s.messagesDropped.unreachable >= 5, 'dropped while backing off');
    assert.equal(s.streamFailures, 1);

    a.transport.send(8, 1, 1, 8, raftMessage({ from: 1, to: 8 }));
    assert.equal(a.transport.stats().get(8)!.messagesDropped['no-address'], 1);
    await waitFor(() => a.unreachable.includes(8), 'onUnreachable(8)');
  });

  it('abandons a stream the peer never accepts after connectTimeoutMs', async () => {
    const addresses = new Map<number, string>();
    const silent = await startGrpcServer((s) => s.addService(raft.RaftTransportService, { raft: () => {}, sendSnapshot: () => {} }));
    addresses.set(2, silent.address);
    const a = await node(1, addresses, { connectTimeoutMs: 100, reconnectBackoffMs: { initial: 5000, max: 5000 } });
    const t0 = Date.now();
    a.transport.send(2, 1, 1, 2, raftMessage({ from: 1, to: 2 }));
    await waitFor(() => a.unreachable.includes(2), 'onUnreachable(2)');
    assert.ok(Date.now() - t0 >= 90, 'not before the connect timeout');
    assert.equal(a.transport.peerState(2), 'backoff');
    silent.server.forceShutdown();
  });

  it('redials a restarted peer with backoff and messages flow again', async () => {
    const addresses = new Map<number, string>();
    const failures: number[] = [];
    const a = await node(1, addresses, { reconnectBackoffMs: { initial: 20, max: 160 }, metricsHooks: { streamFailed: () => failures.push(Date.now()) } });
    let b = await node(2, addresses);
    const port = b.server.port;
    a.transport.send(2, 1, 1, 2, raftMessage({ from: 1, to: 2 }));
    await waitFor(() => received(b).length === 1, 'first message');

    await b.stop();
    // Keep talking, as raft's heartbeats would, while the peer is down.
    const ticker = setInterval(() => a.transport.send(2, 1, 1, 2, raftMessage({ from: 1, to: 2, type: MessageType.Heartbeat })), 5);
    try {
      await waitFor(() => failures.length >= 4, 'several failed dials while down');
      // Equal jitter at random() = 0.5: 15, 30, 60 ms... the gaps between dials grow.
      const gaps = failures.slice(1).map((t, i) => t - failures[i]!);
      assert.ok(gaps[gaps.length - 1]! >= 40, `gaps grow: ${gaps.join(', ')}`);
      assert.ok(a.unreachable.includes(2));

      b = await node(2, addresses, {}, port);
      await waitFor(() => received(b).length > 0, 'messages at the restarted peer');
      await waitFor(() => a.transport.peerState(2) === 'streaming' && a.transport.stats().get(2)!.lastSeqAcked > 0, 'stream accepted');
    } finally {
      clearInterval(ticker);
    }
    const s = a.transport.stats().get(2)!;
    assert.ok(s.messagesDropped.unreachable > 0);
  });

  it('close() ends streams and timers promptly and later sends are dropped', async () => {
    const addresses = new Map<number, string>();
    const a = await startNode(1, addresses);
    const b = await node(2, addresses);
    a.transport.send(2, 1, 1, 2, raftMessage({ from: 1, to: 2 }));
    await waitFor(() => received(b).length === 1, 'first message');
    const t0 = Date.now();
    await a.stop();
    assert.ok(Date.now() - t0 < 1000);
    a.transport.send(2, 1, 1, 2, raftMessage({ from: 1, to: 2 }));
    assert.equal(a.transport.stats().get(2)!.messagesDropped.closed, 1);
    await a.transport.close(); // idempotent
  });
});

describe('RaftTransport validation', () => {
  it('validates options at construction, naming the bad one', () => {
    const base: TransportOptions = {
      nodeId: 1, clusterId: 7, resolve: () => undefined, onMessages: () => {}, onSnapshot: () => Promise.resolve(),
      snapshotRateBytesPerSec: 1024 * 1024, snapshotChunkBytes: 64 * 1024, sendQueueBytesMax: 8 * 1024 * 1024,
      reconnectBackoffMs: { initial: 100, max: 10_000 },
    };
    const cases: [Partial<TransportOptions>, string][] = [
      [{ clusterId: 'blue' }, 'clusterId'],
      [{ nodeId: 0 }, 'nodeId'],
      [{ snapshotRateBytesPerSec: 0 }, 'snapshotRateBytesPerSec'],
      [{ snapshotChunkBytes: 8 * 1024 * 1024 }, 'snapshotChunkBytes'],
      [{ sendQueueBytesMax: 1024 * 1024 }, 'sendQueueBytesMax'],
      [{ reconnectBackoffMs: { initial: 100, max: 50 } }, 'reconnectBackoffMs.max'],
      [{ snapshotReceiveConcurrencyMax: 0 }, 'snapshotReceiveConcurrencyMax'],
    ];
    for (const [bad, option] of cases) {
      assert.throws(() => new RaftTransport({ ...base, ...bad }), (e) => isKvError(e, 'CONFIG_INVALID') && e.details?.option === option, option);
    }
  });

  function rawStream(address: string): { stream: ClientDuplexStream<Uint8Array, raft.RaftBatchAck>; client: Client; ended: Promise<StatusObject>; acks: number[] } {
    const client = new Client(address, credentials.createInsecure());
    const stream = client.makeBidiStreamRequest(RAFT_METHOD_PATH, (b: Uint8Array) => Buffer.from(b), (b: Buffer) => raft.RaftBatchAck.decode(b), new Metadata());
    const acks: number[] = [];
    stream.on('data', (ack: raft.RaftBatchAck) => acks.push(ack.ackedSeq));
    stream.on('error', () => {});
    const ended = new Promise<StatusObject>((resolve) => stream.on('status', resolve));
    return { stream, client, ended, acks };
  }

  const batch = (fields: Partial<raft.RaftMessageBatch>): Uint8Array => raft.RaftMessageBatch.encode(raft.RaftMessageBatch.create({
    clusterId: 7, fromNodeId: 5, toNodeId: 2, seq: 1, ...fields,
  })).finish();
  const envelope = (m: raft.Message): raft.RaftEnvelope => ({ shardId: 3, fromPeer: m.from, toPeer: m.to, shardEpoch: undefined, message: m });

  it('rejects a stream from another cluster with INVALID_ARGUMENT (generated client, and between transports)', async () => {
    const addresses = new Map<number, string>();
    const b = await node(2, addresses);
    const client = new raft.RaftTransportClient(b.server.address, credentials.createInsecure());
    const call = client.raft();
    const err = await new Promise<ServiceError>((resolve) => {
      call.on('error', resolve);
      call.write(raft.RaftMessageBatch.create({ clusterId: 8, fromNodeId: 5, toNodeId: 2, seq: 1 }));
    });
    assert.equal(err.code, status.INVALID_ARGUMENT);
    assert.match(err.details, /cluster id mismatch/);
    assert.deepEqual(err.metadata.get(ERROR_CODE_METADATA_KEY), ['INVALID_ARGUMENT']);
    client.close();

    const foreign = await node(1, addresses, { clusterId: '8' });
    foreign.transport.send(2, 1, 1, 2, raftMessage({ from: 1, to: 2 }));
    await waitFor(() => foreign.unreachable.includes(2), 'the foreign node sees node 2 as unreachable');
    assert.equal(received(b).length, 0);
    assert.ok(b.transport.stats().get(0)!.batchesRejected['wrong-cluster'] >= 2);
  });

  it('rejects a stream addressed to another node', async () => {
    const addresses = new Map<number, string>();
    const b = await node(2, addresses);
    const { stream, client, ended } = rawStream(b.server.address);
    stream.write(batch({ toNodeId: 3 }));
    const st = await ended;
    assert.equal(st.code, status.INVALID_ARGUMENT);
    assert.match(st.details, /node id mismatch/);
    client.close();
  });

  it('drops malformed batches without ending the stream, then delivers good ones', async () => {
    const addresses = new Map<number, string>();
    const b = await node(2, addresses);
    const { stream, client, acks } = rawStream(b.server.address);
    const good = toProtoMessage(raftMessage({ from: 5, to: 2 }, 2));
    stream.write(new Uint8Array([0x0a, 0xff, 0xff])); // does not decode
    stream.write(batch({ seq: 2, messages: [envelope({ ...good, type: 77 as raft.MessageType })] })); // unknown type
    stream.write(batch({ seq: 3, messages: [{ ...envelope(good), message: undefined }] })); // no message
    stream.write(batch({ seq: 4, messages: [{ ...envelope(good), toPeer: 9 }] })); // envelope disagrees
    stream.write(batch({ seq: 5, messages: [envelope(good), envelope(good)] }));
    await waitFor(() => received(b).length === 2, 'the good batch');
    assert.equal(b.batches.length, 1);
    assert.equal(received(b)[0]!.shardId, 3);
    await waitFor(() => acks.includes(5), 'ack of seq 5');
    const rejected = [...b.transport.stats().values()].reduce((n, s) => n + s.batchesRejected.malformed, 0);
    assert.equal(rejected, 4);
    stream.end();
    client.close();
  });
});
