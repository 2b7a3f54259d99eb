/**
 * @shoal/node — the storage node (`shoal node --config node.yaml`): multi-raft shard
 * replicas over a shared WAL, classic-level and a value log, serving the Kv and NodeAdmin
 * gRPC services. See README.md and docs/node.md. This file is the package's only public
 * entry.
 */
export { nodeConfigSchema } from './config.js';
export type { NodeAddress, NodeConfig, ShardConfig, TableConfig } from './config.js';
export { runNode, EXIT_FATAL } from './main.js';
export { NodeServer } from './server.js';
export type { NodeServerOptions } from './server.js';
export { descriptorOf, localLayout } from './raft/layout.js';
// Reused by the metaserver's own Raft group (issue #5).
export { Wal, WalGroupStorage } from './wal/index.js';
export type { WalOptions } from './wal/index.js';
export { RaftTransport } from './raft/transport.js';
export { raftTransportServerOptions } from './raft/transport-options.js';
export type { IncomingRaftMessage, IncomingSnapshotHeader, TransportOptions } from './raft/transport-options.js';
// Dynamic mode (driven by the metaserver): the saved identity, and a fake metaserver for tests.
export { IDENTITY_FILE, loadIdentity } from './meta/identity.js';
export type { NodeIdentity } from './meta/identity.js';
export { FakeMeta } from './meta/testing/fake-meta.js';
export type { FakeMetaOptions } from './meta/testing/fake-meta.js';
