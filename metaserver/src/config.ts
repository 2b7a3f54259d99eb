/**
 * Options of a metaserver (`shoal metaserver --config metaserver.yaml`). The metaserver
 * issue (#5) adds the options it needs; this is the validated surface so far.
 */
import { durationMs, hostPort, logLevel } from '@shoal/common';
import { z } from 'zod';

export const metaserverConfigSchema = z.strictObject({
  /** This member's id in the metaserver Raft group. */
  id: z.number().int().min(1).max(255),
  dataDir: z.string().min(1),
  listen: hostPort().default('127.0.0.1:7100'),
  advertise: hostPort().optional(),
  httpListen: hostPort().default('127.0.0.1:8100'),
  /** Every member as `id=host:port`, this one included: 1, 3 or 5 members. */
  members: z.array(z.string().regex(/^\d+=.+:\d+$/, 'must be id=host:port')).min(1).max(5).default([]),
  logLevel: logLevel().default('info'),
  nodeSuspectAfterMs: durationMs().prefault('10s'),
  nodeDownAfterMs: durationMs().prefault('30s'),
  defaultReplicaCount: z.number().int().min(1).max(7).default(3),
});

export type MetaserverConfig = z.output<typeof metaserverConfigSchema>;
