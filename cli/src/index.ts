/**
 * @shoal/cli — the `shoal` command. Its public entry exports what integration tests reuse:
 * LocalCluster (real metaserver, node and proxy processes on loopback) and AdminClient
 * (Admin/Meta calls that follow metaserver leader hints).
 */
export { LocalCluster, LOG_TAIL_LINES_MAX, logTail } from './local-cluster.js';
export type { ManagedProcess, ProcessKind, UnexpectedExit } from './local-cluster.js';
export { clusterPorts, LOCAL_NODES_MAX } from './local-cluster-options.js';
export type { ClusterPorts, LocalClusterOptions } from './local-cluster-options.js';
export { AdminClient, DEFAULT_METASERVERS, DEFAULT_TIMEOUT_MS, parseMetaservers } from './admin-client.js';
export type { AdminClientOptions } from './admin-client.js';
