// Goal: the generated service definitions, server interfaces and client constructors work
// with a real grpc-js server and client on 127.0.0.1 — unary, server-streaming,
// client-streaming and bidirectional calls, messages intact in both directions.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Server, ServerCredentials, credentials, status } from '@grpc/grpc-js';
import type { ServiceError } from '@grpc/grpc-js';
import { common, kv, meta, raft } from './index.js';

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

const server = new Server();
let address = '';

const kvImpl: Pick<kv.KvServer, 'get'> = {
  get(call, callback) {
    const key = new TextDecoder().decode(call.request.key);
    if (key === 'elsewhere') {
      callback(null, kv.GetResponse.create({
        error: { code: 'NOT_LEADER', message: 'not leader', leaderHint: { nodeId: 2, peerId: 102, address: 'h:2' }, currentShard: undefined, retryAfterMs: 0, option: '' },
      }));
      return;
    }
    callback(null, kv.GetResponse.create({ found: true, value: text(`value of ${key}`), expireAtUnixMs: 2 ** 50 }));
  },
};

const metaImpl: Pick<meta.MetaServer, 'watchRoutes'> = {
  watchRoutes(call) {
    for (let v = call.request.fromVersion + 1; v <= call.request.fromVersion + 3; v++) {
      call.write(meta.RouteEvent.create({ routeVersion: v, tableId: 7, nodeAddresses: new Map([[v, `node-${v}:7200`]]) }));
    }
    call.end();
  },
};

const raftImpl: raft.RaftTransportServer = {
  raft(call) {
    call.on('data', (batch: raft.RaftMessageBatch) => {
      const entries = batch.messages.flatMap((m) => m.message?.entries ?? []);
      assert.ok(entries.every((e) => e.data.length > 0));
      call.write({ ackedSeq: batch.seq });
    });
    call.on('end', () => call.end());
  },
  sendSnapshot(call, callback) {
    let received = 0;
    let expected = -1;
    call.on('data', (chunk: raft.SnapshotChunk) => {
      const payload = chunk.payload;
      if (payload?.$case === 'header') expected = payload.header.totalBytes;
      else if (payload?.$case === 'data') received += payload.data.length;
    });
    call.on('end', () => {
      const error = received === expected ? undefined : common.ErrorDetail.create({ code: 'CORRUPTION' });
      callback(null, { error, receivedBytes: received });
    });
  },
};

before(async () => {
  server.addService(kv.KvService, kvImpl);
  server.addService(meta.MetaService, metaImpl);
  server.addService(raft.RaftTransportService, raftImpl);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p)));
  });
  address = `127.0.0.1:${port}`;
});

after(() => {
  server.forceShutdown();
});

test('unary: Kv.Get returns values and error details', async () => {
  const client = new kv.KvClient(address, credentials.createInsecure());
  try {
    const get = (key: string): Promise<kv.GetResponse> => new Promise((resolve, reject) => {
      client.get(kv.GetRequest.create({ key: text(key) }), (err, res) => (err ? reject(err) : resolve(res)));
    });
    const found = await get('a');
    assert.equal(found.found, true);
    assert.deepEqual(found.value, text('value of a'));
    assert.equal(found.expireAtUnixMs, 2 ** 50);
    const moved = await get('elsewhere');
    assert.equal(moved.error?.code, 'NOT_LEADER');
    assert.equal(moved.error?.leaderHint?.address, 'h:2');
    // Methods the server did not implement answer UNIMPLEMENTED.
    const err = await new Promise<ServiceError | null>((resolve) => {
      client.put(kv.PutRequest.create(), (e) => resolve(e));
    });
    assert.equal(err?.code, status.UNIMPLEMENTED);
  } finally {
    client.close();
  }
});

test('server streaming: Meta.WatchRoutes delivers every event with its map', async () => {
  const client = new meta.MetaClient(address, credentials.createInsecure());
  try {
    const events: meta.RouteEvent[] = [];
    for await (const event of client.watchRoutes(meta.WatchRoutesRequest.create({ fromVersion: 10 }))) {
      events.push(event as meta.RouteEvent);
    }
    assert.deepEqual(events.map((e) => e.routeVersion), [11, 12, 13]);
    assert.equal(events[2]?.nodeAddresses.get(13), 'node-13:7200');
  } finally {
    client.close();
  }
});

test('bidi streaming: RaftTransport.Raft acks every batch in order', async () => {
  const client = new raft.RaftTransportClient(address, credentials.createInsecure());
  try {
    const call = client.raft();
    const acks: number[] = [];
    const done = new Promise<void>((resolve, reject) => {
      call.on('data', (ack: raft.RaftBatchAck) => acks.push(ack.ackedSeq));
      call.on('end', resolve);
      call.on('error', reject);
    });
    for (let seq = 1; seq <= 3; seq++) {
      const message = raft.Message.create({
        type: raft.MessageType.APP, from: 101, to: 102, term: 2, index: seq,
        entries: [{ term: 2, index: seq + 1, type: raft.EntryType.NORMAL, data: text(`entry ${seq}`) }],
      });
      call.write(raft.RaftMessageBatch.create({ clusterId: 1, fromNodeId: 1, toNodeId: 2, seq, messages: [{ shardId: 42, fromPeer: 101, toPeer: 102, shardEpoch: undefined, message }] }));
    }
    call.end();
    await done;
    assert.deepEqual(acks, [1, 2, 3]);
  } finally {
    client.close();
  }
});

test('client streaming: RaftTransport.SendSnapshot receives header, chunks and trailer', async () => {
  const client = new raft.RaftTransportClient(address, credentials.createInsecure());
  try {
    const chunks = [text('abc'), text('defg'), new Uint8Array(64 * 1024).fill(7)];
    const totalBytes = chunks.reduce((n, c) => n + c.length, 0);
    const ack = await new Promise<raft.SnapshotAck>((resolve, reject) => {
      const call = client.sendSnapshot((err, res) => (err ? reject(err) : resolve(res)));
      call.write({ payload: { $case: 'header', header: raft.SnapshotHeader.create({ shardId: 42, totalBytes }) } });
      for (const data of chunks) call.write({ payload: { $case: 'data', data } });
      call.write({ payload: { $case: 'trailer', trailer: { crc32c: 0, chunkCount: chunks.length } } });
      call.end();
    });
    assert.equal(ack.error, undefined);
    assert.equal(ack.receivedBytes, totalBytes);
  } finally {
    client.close();
  }
});
