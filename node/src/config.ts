/**
 * Options of a storage node (`shoal node --config node.yaml`). Names carry their unit last;
 * every queue and size has a named limit here (STYLE.md rule 9). The storage-node issue
 * (#4) adds the options it needs; this is the validated surface so far.
 */
import { byteSize, durationMs, hostPort, logLevel } from '@shoal/common';
import { z } from 'zod';

export const nodeConfigSchema = z.strictObject({
  /** Stable id of this node in the cluster; assigned by the operator or the metaserver. */
  nodeId: z.number().int().min(1).max(2 ** 32 - 1),
  /** Directory for the Raft WAL, the classic-level DB and value-log files. */
  dataDir: z.string().min(1),
  listen: hostPort().default('127.0.0.1:7200'),
  /** Address peers and clients dial; defaults to `listen`. */
  advertise: hostPort().optional(),
  httpListen: hostPort().default('127.0.0.1:8200'),
  metaservers: z.array(hostPort()).default([]),
  zone: z.string().min(1).default('zone-1'),
  pool: z.string().min(1).default('default'),
  logLevel: logLevel().default('info'),
  /** `always`: group-committed fsync before acknowledging; `async`: fsync every raftLogSyncIntervalMs. */
  raftLogSync: z.enum(['always', 'async']).default('always'),
  raftLogSyncIntervalMs: durationMs().prefault('10ms'),
  raftLogSegmentBytes: byteSize().prefault('64MiB'),
  raftTickIntervalMs: durationMs().prefault('100ms'),
  raftElectionTimeoutTicks: z.number().int().min(2).default(10),
  raftHeartbeatIntervalTicks: z.number().int().min(1).default(2),
  keyBytesMax: byteSize().prefault('64KiB'),
  valueBytesMax: byteSize().prefault('512MiB'),
  requestBytesMax: byteSize().prefault('600MiB'),
  pendingProposalsPerShardMax: z.number().int().min(1).default(4096),
  pendingProposalsPerNodeMax: z.number().int().min(1).default(65536),
  snapshotRateBytesPerSec: byteSize().prefault('64MiB'),
  valueSeparationThresholdBytes: byteSize().prefault('16KiB'),
  valueLogGcGarbageRatio: z.number().gt(0).lt(1).default(0.5),
});

export type NodeConfig = z.output<typeof nodeConfigSchema>;
