/**
 * Helpers for the transport's tests (not part of the public API): real grpc-js servers on
 * 127.0.0.1 port 0, raft messages, and waiting on conditions with a deadline instead of
 * sleeping for a fixed time.
 */
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { MessageType } from '@shoal/raft-ts';
import type { Entry, LogIndex, Message, PeerId, Term } from '@shoal/raft-ts';
import { RaftTransport } from './transport.js';
import { raftTransportServerOptions } from './transport-options.js';
import type { IncomingRaftMessage, IncomingSnapshotHeader, TransportOptions } from './transport-options.js';

/** Polls `condition` until it holds; throws naming `what` once `timeoutMs` passed. */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A MsgApp-like message with `entries` entries of `entryBytes` bytes each (or any fields given). */
export function raftMessage(fields: Partial<Omit<Message, 'from' | 'to'>> & { from: number; to: number }, entries = 0,
  entryBytes = 8): Message {
  const list: Entry[] = Array.from({ length: entries }, (_, i) => ({
    term: 1 as Term, index: (i + 1) as LogIndex, type: 0, data: new Uint8Array(entryBytes).fill(i & 0xff),
  }));
  return {
    type: MessageType.App, term: 1 as Term, logTerm: 1 as Term, index: 0 as LogIndex, entries: list,
    commit: 0 as LogIndex, snapshot: null, reject: false, rejectHint: 0 as LogIndex, context: new Uint8Array(0),
    ...fields,
    from: fields.from as PeerId,
    to: fields.to as PeerId,
  };
}

export async function startGrpcServer(register: (server: Server) => void, grpcMessageBytesMax?: number, port = 0): Promise<RunningServer> {
  const server = new Server(raftTransportServerOptions(grpcMessageBytesMax === undefined ? {} : { grpcMessageBytesMax }));
  register(server);
  const bound = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`127.0.0.1:${port}`, ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p)));
  });
  return { server, port: bound, address: `127.0.0.1:${bound}` };
}

export interface RunningServer {
  readonly server: Server;
  readonly port: number;
  readonly address: string;
}

/** One node of a test cluster: a transport, its server, and what it received. */
export interface TestNode {
  readonly nodeId: number;
  readonly transport: RaftTransport;
  readonly server: RunningServer;
  /** Every batch `onMessages` got, in order. */
  readonly batches: (readonly IncomingRaftMessage[])[];
  readonly unreachable: number[];
  stop(): Promise<void>;
}

export type TestNodeOptions = Partial<Omit<TransportOptions, 'nodeId' | 'resolve'>>;

/** Starts a node whose `resolve` reads `addresses` (shared by the test's nodes) at dial time. */
export async function startNode(nodeId: number, addresses: Map<number, string>, overrides: TestNodeOptions = {},
  port = 0): Promise<TestNode> {
  const batches: (readonly IncomingRaftMessage[])[] = [];
  const unreachable: number[] = [];
  const transport = new RaftTransport({
    nodeId,
    clusterId: 7,
    resolve: (id) => addresses.get(id),
    onMessages: (b) => batches.push(b),
    onSnapshot: drainSnapshot,
    onUnreachable: (id) => unreachable.push(id),
    snapshotRateBytesPerSec: 64 * 1024 * 1024,
    snapshotChunkBytes: 64 * 1024,
    sendQueueBytesMax: 8 * 1024 * 1024,
    reconnectBackoffMs: { initial: 20, max: 200 },
    random: () => 0.5,
    ...overrides,
  });
  const server = await startGrpcServer((s) => transport.addToServer(s), overrides.grpcMessageBytesMax, port);
  addresses.set(nodeId, server.address);
  return {
    nodeId, transport, server, batches, unreachable,
    async stop() {
      await transport.close();
      server.server.forceShutdown();
    },
  };
}

async function drainSnapshot(_header: IncomingSnapshotHeader, chunks: AsyncIterable<Uint8Array>): Promise<void> {
  for await (const _chunk of chunks) { /* discard */ }
}

/** All messages a node received, flattened. */
export function received(node: TestNode): IncomingRaftMessage[] {
  return node.batches.flat();
}
