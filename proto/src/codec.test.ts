// Goal: the generated codecs round-trip representative messages of every .proto file and
// follow the proto3 wire rules (defaults, presence, packing, 64-bit safety, bigint range,
// oneofs, maps, unknown fields) and refuse malformed input with a stable error code.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DECODE_DEPTH_MAX, ProtoError, Writer, admin, common, kv, meta, raft } from './index.js';
import type { MessageCodec, ProtoErrorCode } from './index.js';
import { allCodecs } from './test-helpers.js';

const bytes = (...b: number[]): Uint8Array => new Uint8Array(b);
const text = (s: string): Uint8Array => new TextEncoder().encode(s);

function roundTrip<T>(codec: MessageCodec<T>, message: T): Uint8Array {
  const encoded = codec.encode(message).finish();
  assert.deepEqual(codec.decode(encoded), message, codec.typeName);
  return encoded;
}

function throwsCode(fn: () => unknown, code: ProtoErrorCode): void {
  assert.throws(fn, (e: unknown) => e instanceof ProtoError && e.code === code);
}

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

const shard: common.ShardDescriptor = {
  id: 42, tableId: 7, startKey: text('a'), endKey: bytes(),
  epoch: { confVer: 3, version: 9 },
  replicas: [
    { nodeId: 1, peerId: 101, role: common.ReplicaRole.VOTER },
    { nodeId: 2, peerId: 102, role: common.ReplicaRole.LEARNER },
  ],
  leaderPeerId: 101,
  partition: common.Partition.RANGE,
};

test('every message encodes its defaults as zero bytes and decodes zero bytes as its defaults', () => {
  const codecs = allCodecs();
  assert.ok(codecs.size > 100, `found ${codecs.size} codecs`);
  for (const [name, codec] of codecs) {
    const empty = codec.create();
    assert.equal(codec.encode(empty).finish().length, 0, name);
    assert.deepEqual(codec.decode(new Uint8Array(0)), empty, name);
  }
});

test('common: descriptors and error details round-trip', () => {
  roundTrip(common.ShardDescriptor, shard);
  roundTrip(common.ErrorDetail, common.ErrorDetail.create({
    code: 'EPOCH_NOT_MATCH', message: 'stale', currentShard: shard, retryAfterMs: 5, option: 'key',
    leaderHint: { nodeId: 1, peerId: 101, address: '127.0.0.1:7201' },
  }));
});

test('kv: requests and responses round-trip, including recursive Redis replies', () => {
  const header = kv.RequestHeader.create({
    tableId: 7, shardId: 42, epoch: { confVer: 3, version: 9 }, consistency: common.ReadConsistency.STALE,
    maxStalenessMs: 500, timeoutMs: 2000, requestId: Number.MAX_SAFE_INTEGER, origin: 'dc-2',
  });
  roundTrip(kv.GetRequest, { header, key: text('user:1') });
  roundTrip(kv.BatchWriteRequest, {
    header,
    ops: [
      { type: kv.WriteOpType.PUT, key: text('k1'), value: text('v1'), ttlMs: 1000 },
      { type: kv.WriteOpType.DELETE, key: text('k2'), value: bytes(), ttlMs: undefined },
    ],
  });
  roundTrip(kv.ScanResponse, kv.ScanResponse.create({
    pairs: [{ key: text('a'), value: text('1'), expireAtUnixMs: 1_700_000_000_000 }], more: true, nextKey: text('a\0'),
  }));
  roundTrip(kv.ExecResponse, {
    error: undefined,
    replies: [],
    watches: [],
    errors: [],
    reply: kv.RedisReply.create({
      type: kv.RedisReplyType.ARRAY,
      elements: [
        kv.RedisReply.create({ type: kv.RedisReplyType.INTEGER, integer: -5n }),
        kv.RedisReply.create({ type: kv.RedisReplyType.DOUBLE, number: -0.5 }),
        kv.RedisReply.create({ type: kv.RedisReplyType.BULK_STRING, str: bytes(0, 255) }),
        kv.RedisReply.create({ type: kv.RedisReplyType.ARRAY, elements: [kv.RedisReply.create()] }),
      ],
    }),
  });
});

test('proto3 optional: an explicit 0 is sent and kept, an absent value stays undefined', () => {
  const withZero = roundTrip(kv.PutRequest, kv.PutRequest.create({ key: text('k'), ttlMs: 0 }));
  assert.equal(hex(withZero), '12016b2000'); // key, then field 4 = 0
  assert.equal(kv.PutRequest.decode(withZero).ttlMs, 0);
  const absent = kv.PutRequest.decode(kv.PutRequest.encode(kv.PutRequest.create({ key: text('k') })).finish());
  assert.equal(absent.ttlMs, undefined);
});

test('sint64 carries the full int64 range as bigint; values beyond are refused', () => {
  for (const delta of [0n, 1n, -1n, 2n ** 63n - 1n, -(2n ** 63n)]) {
    roundTrip(kv.IncrRequest, kv.IncrRequest.create({ key: text('n'), delta }));
    roundTrip(kv.IncrResponse, { error: undefined, value: delta });
  }
  throwsCode(() => kv.IncrRequest.encode(kv.IncrRequest.create({ delta: 2n ** 63n })), 'PROTO_OUT_OF_RANGE');
});

test('uint64 fields are numbers that must be safe integers, on encode and on decode', () => {
  roundTrip(raft.Entry, raft.Entry.create({ term: Number.MAX_SAFE_INTEGER, index: 2 ** 40 }));
  throwsCode(() => raft.Entry.encode(raft.Entry.create({ term: 2 ** 53 })), 'PROTO_UNSAFE_INTEGER');
  throwsCode(() => raft.Entry.encode(raft.Entry.create({ index: -1 })), 'PROTO_OUT_OF_RANGE');
  throwsCode(() => common.Epoch.encode({ confVer: 1.5, version: 0 }), 'PROTO_UNSAFE_INTEGER');
  // 2^53 sent by another implementation: field 1 (term), varint 80 80 80 80 80 80 80 10.
  throwsCode(() => raft.Entry.decode(bytes(0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10)), 'PROTO_UNSAFE_INTEGER');
  // Inside repeated packed fields too.
  throwsCode(() => raft.ConfState.decode(bytes(0x0a, 0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10)),
    'PROTO_UNSAFE_INTEGER');
});

test('32-bit fields refuse values outside their range', () => {
  throwsCode(() => kv.RequestHeader.encode(kv.RequestHeader.create({ tableId: 2 ** 32 })), 'PROTO_OUT_OF_RANGE');
  throwsCode(() => kv.RequestHeader.encode(kv.RequestHeader.create({ tableId: -1 })), 'PROTO_OUT_OF_RANGE');
  throwsCode(() => admin.ClusterStatusResponse.encode(admin.ClusterStatusResponse.create({
    nodesByState: new Map([[2 ** 31, 1]]),
  })), 'PROTO_OUT_OF_RANGE');
});

test('repeated scalars are written packed and read packed or unpacked', () => {
  const conf = raft.ConfState.create({ voters: [1, 2, 300] });
  assert.equal(hex(roundTrip(raft.ConfState, conf)), '0a040102ac02');
  // Unpacked (proto2 style), then a packed run of the same field: all elements, in order.
  assert.deepEqual(raft.ConfState.decode(bytes(0x08, 0x01, 0x08, 0x02, 0x0a, 0x02, 0x03, 0x04)).voters, [1, 2, 3, 4]);
  // A packed run whose length cuts a varint in half.
  throwsCode(() => raft.ConfState.decode(bytes(0x0a, 0x01, 0xac, 0x02)), 'PROTO_MALFORMED');
});

test('raft: a full Message and a batch round-trip', () => {
  const message = raft.Message.create({
    type: raft.MessageType.APP, to: 2, from: 1, term: 7, logTerm: 6, index: 99, commit: 98,
    entries: [
      { term: 7, index: 100, type: raft.EntryType.NORMAL, data: text('put k v') },
      { term: 7, index: 101, type: raft.EntryType.CONF_CHANGE, data: bytes(1, 2, 3) },
    ],
    snapshot: {
      data: text('descriptor'),
      metadata: { confState: raft.ConfState.create({ voters: [1, 2, 3], learners: [4], autoLeave: true }), index: 90, term: 5 },
    },
    reject: true, rejectHint: 50, context: text('ctx'),
  });
  roundTrip(raft.Message, message);
  roundTrip(raft.RaftMessageBatch, {
    clusterId: 1, fromNodeId: 1, toNodeId: 2, seq: 3,
    messages: [{ shardId: 42, fromPeer: 101, toPeer: 102, shardEpoch: { confVer: 1, version: 1 }, message }],
  });
});

test('oneof: each case round-trips, a default-valued case is still present', () => {
  const header = raft.SnapshotHeader.create({ shardId: 42, totalBytes: 3, message: raft.Message.create({ type: raft.MessageType.SNAP }) });
  roundTrip(raft.SnapshotChunk, { payload: { $case: 'header', header } });
  roundTrip(raft.SnapshotChunk, { payload: { $case: 'data', data: bytes(1, 2, 3) } });
  roundTrip(raft.SnapshotChunk, { payload: { $case: 'trailer', trailer: { crc32c: 0xdeadbeef, chunkCount: 1 } } });
  const emptyData = roundTrip(raft.SnapshotChunk, { payload: { $case: 'data', data: bytes() } });
  assert.equal(hex(emptyData), '1200');
  // The last member on the wire wins, as in every protobuf implementation.
  const both = bytes(0x12, 0x01, 0x07, 0x1a, 0x00);
  assert.deepEqual(raft.SnapshotChunk.decode(both).payload, { $case: 'trailer', trailer: raft.SnapshotTrailer.create() });
});

test('meta: operators, routes and node info with maps round-trip', () => {
  roundTrip(meta.ShardHeartbeatResponse, {
    error: undefined,
    operator: {
      id: 5, shardId: 42, epoch: { confVer: 3, version: 9 }, timeoutMs: 60_000, reason: 'size',
      kind: { $case: 'split', split: { splitKey: bytes(), newShardId: 43, newPeerIds: [201, 202, 203] } },
    },
  });
  roundTrip(meta.ShardHeartbeatResponse, {
    error: undefined,
    operator: meta.Operator.create({ id: 6, kind: { $case: 'addLearner', addLearner: { replica: shard.replicas[1] } } }),
  });
  roundTrip(meta.GetRoutesResponse, meta.GetRoutesResponse.create({
    routeVersion: 17,
    shards: [{ shard, leaderAddress: '127.0.0.1:7201' }],
    nodeAddresses: new Map([[1, '127.0.0.1:7201'], [2 ** 40, '10.0.0.2:7200'], [0, '']]),
  }));
  roundTrip(meta.NodeInfo, meta.NodeInfo.create({
    id: 1, address: 'h:1', state: meta.NodeState.SUSPECT, labels: new Map([['disk', 'ssd'], ['', 'empty key']]),
    stats: meta.NodeStats.create({ cpuLoad: 0.25, usedBytes: 2 ** 45, busy: true }),
  }));
});

test('admin: table creation, status with an int32-keyed map, and node admin round-trip', () => {
  roundTrip(admin.CreateTableRequest, {
    name: 'users', pool: 'default', ifNotExists: true, splitKeys: [new Uint8Array([0x6d]), new Uint8Array([0, 0xff])],
    splitSizeBytes: 64 << 20, splitKeyCount: 0,
    options: meta.TableOptions.create({
      partition: meta.PartitionKind.HASH, shardCount: 16, replicaCount: 3, valueSeparationThresholdBytes: 4096,
      defaultTtlMs: 0, readPolicy: common.ReadConsistency.FOLLOWER,
    }),
  });
  roundTrip(admin.ClusterStatusResponse, admin.ClusterStatusResponse.create({
    nodesByState: new Map([[meta.NodeState.UP, 3], [meta.NodeState.DOWN, 1], [-1, 2]]), shardCount: 100,
  }));
  roundTrip(admin.ChangeMembershipRequest, {
    shardId: 42, epoch: { confVer: 3, version: 9 }, joint: true,
    changes: [{ type: admin.MembershipChangeType.ADD_LEARNER, replica: { nodeId: 3, peerId: 103, role: common.ReplicaRole.LEARNER } }],
  });
});

test('unknown fields of every wire type are skipped, also inside nested messages', () => {
  const entry = raft.Entry.create({ term: 1, index: 2, data: bytes(9) });
  const unknown = Writer.create();
  unknown.uint32((100 << 3) | 0).uint64(12345);
  unknown.uint32((101 << 3) | 1).fixed64(7);
  unknown.uint32((102 << 3) | 2).bytes(bytes(1, 2, 3));
  unknown.uint32((103 << 3) | 5).fixed32(9);
  unknown.uint32((104 << 3) | 3).uint32((1 << 3) | 0).uint32(1).uint32((104 << 3) | 4); // a group
  const tail = unknown.finish();
  const withTail = new Uint8Array([...raft.Entry.encode(entry).finish(), ...tail]);
  assert.deepEqual(raft.Entry.decode(withTail), entry);
  // An Entry with unknown fields nested in a Message.
  const outer = Writer.create();
  outer.uint32((7 << 3) | 2).bytes(withTail);
  outer.uint32((99 << 3) | 2).string('future');
  assert.deepEqual(raft.Message.decode(outer.finish()), raft.Message.create({ entries: [entry] }));
});

test('an unknown enum number is kept, so newer peers can add values', () => {
  const decoded = raft.Entry.decode(bytes(0x18, 0x63)); // type = 99
  assert.equal(decoded.type as number, 99);
});

test('malformed input is refused: wrong wire type, overrunning length, excess nesting', () => {
  throwsCode(() => raft.Entry.decode(bytes(0x0a, 0x00)), 'PROTO_WIRE_TYPE'); // term as length-delimited
  // Message.entries claims 5 bytes, holds a 3-byte Entry followed by a field of the parent.
  throwsCode(() => raft.Message.decode(bytes(0x3a, 0x05, 0x08, 0x01, 0x10, 0x02, 0x50, 0x01)), 'PROTO_MALFORMED');
  assert.throws(() => raft.Entry.decode(bytes(0x22, 0x05, 0x01))); // bytes past the end
  let reply = kv.RedisReply.create();
  for (let i = 0; i < DECODE_DEPTH_MAX + 1; i++) reply = kv.RedisReply.create({ type: kv.RedisReplyType.ARRAY, elements: [reply] });
  throwsCode(() => kv.RedisReply.decode(kv.RedisReply.encode(reply).finish()), 'PROTO_TOO_DEEP');
});

test('decoded bytes are plain Uint8Array views, also when the input is a Buffer', () => {
  const encoded = Buffer.from(raft.Entry.encode(raft.Entry.create({ data: bytes(1, 2) })).finish());
  const data = raft.Entry.decode(encoded).data;
  assert.equal(Object.getPrototypeOf(data), Uint8Array.prototype);
  assert.equal(data.buffer, encoded.buffer);
});

test('enum prefixes are stripped and numbers kept', () => {
  assert.equal(common.ReadConsistency.LINEARIZABLE, 0);
  assert.equal(common.ReadConsistency.STALE, 2);
  assert.equal(raft.MessageType.PRE_VOTE_RESP, 18);
  assert.equal(meta.NodeState.DECOMMISSIONED, 5);
});
