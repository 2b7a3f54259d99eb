/**
 * RegisterNode, at start-up (before the WAL and the engine open: they need the node id)
 * and again when the metaserver asks (NodeCommand REREGISTER).
 *
 * Order: load `<dataDir>/node-identity.json` → register with its ids (or 0/0 on a fresh
 * data dir, 0 = allocate) → check the answer keeps a saved identity → save a new one
 * durably → only then may anything be written under the node id.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { KvError } from '@shoal/common';
import type { Logger } from '@shoal/common';
import { meta } from '@shoal/proto';
import type { NodeConfig } from '../config.js';
import { IDENTITY_FILE, loadIdentity, registrationIdentity, saveIdentity } from './identity.js';
import type { NodeIdentity } from './identity.js';
import type { MetaClient } from './meta-client.js';

/** Bounds on the heartbeat interval a metaserver may ask for; 0 (unset) means the default. */
const HEARTBEAT_INTERVAL_MS_MIN = 50;
const HEARTBEAT_INTERVAL_MS_MAX = 60_000;
const HEARTBEAT_INTERVAL_MS_DEFAULT = 1000;

/** The software version reported to the metaserver. */
export const NODE_VERSION = '0.1.0';

export interface Registration {
  readonly identity: NodeIdentity;
  readonly heartbeatIntervalMs: number;
}

/** The RegisterNode request for this node (without ids). */
export function registerRequest(c: NodeConfig, capacityBytes: number, ids: { nodeId: number; clusterId: number }): meta.RegisterNodeRequest {
  return meta.RegisterNodeRequest.create({
    nodeId: ids.nodeId, clusterId: ids.clusterId, address: c.advertise ?? c.listen, httpAddress: c.httpListen,
    pool: c.pool, zone: c.zone, capacityBytes, version: NODE_VERSION,
  });
}

/**
 * Registers (retrying with backoff over the members until metaRegisterTimeoutMs) and
 * returns the durable identity. Throws if the metaserver's answer contradicts the data dir.
 */
export async function registerNode(client: MetaClient, c: NodeConfig, capacityBytes: number, log: Logger): Promise<Registration> {
  const saved = loadIdentity(c.dataDir);
  const want = registrationIdentity(saved, c.nodeId);
  if (saved === undefined && c.nodeId === undefined && holdsData(c.dataDir)) {
    // A fresh id over existing replicas would make them another node's: refuse to guess.
    throw new KvError('INVALID_ARGUMENT', `${c.dataDir} holds a node's data but no ${IDENTITY_FILE}; set nodeId to that node's id`, { details: { option: 'nodeId' } });
  }
  const res = await client.callRetrying(meta.MetaService.registerNode, registerRequest(c, capacityBytes, want), Date.now() + c.metaRegisterTimeoutMs);
  const got: NodeIdentity = { clusterId: res.clusterId, nodeId: res.nodeId };
  checkAnswer(want, got);
  if (saved === undefined) saveIdentity(c.dataDir, got);
  const heartbeatIntervalMs = heartbeatInterval(res.heartbeatIntervalMs);
  log.info({ nodeId: got.nodeId, clusterId: got.clusterId, heartbeatIntervalMs, fresh: saved === undefined }, 'registered with the metaserver');
  return { identity: got, heartbeatIntervalMs };
}

/** Registers again with a known identity (REREGISTER); the answer must keep it. */
export async function reregister(client: MetaClient, c: NodeConfig, capacityBytes: number, identity: NodeIdentity): Promise<number> {
  const res = await client.call(meta.MetaService.registerNode, registerRequest(c, capacityBytes, identity));
  checkAnswer(identity, { clusterId: res.clusterId, nodeId: res.nodeId });
  return heartbeatInterval(res.heartbeatIntervalMs);
}

function checkAnswer(want: { nodeId: number; clusterId: number }, got: NodeIdentity): void {
  if (got.nodeId === 0) throw new KvError('INTERNAL', 'the metaserver registered this node without a node id');
  if ((want.nodeId !== 0 && got.nodeId !== want.nodeId) || (want.clusterId !== 0 && got.clusterId !== want.clusterId)) {
    throw new KvError('CONDITION_FAILED', `the metaserver answered node ${got.nodeId} of cluster ${got.clusterId}, but this node is ` +
      `node ${want.nodeId} of cluster ${want.clusterId || '(any)'}: wrong metaservers, or a data dir of another cluster`);
  }
}

/** Whether the data dir already has a WAL with segments (a node ran here). */
function holdsData(dataDir: string): boolean {
  const wal = join(dataDir, 'wal');
  return existsSync(wal) && readdirSync(wal).length > 0;
}

function heartbeatInterval(ms: number): number {
  if (ms === 0) return HEARTBEAT_INTERVAL_MS_DEFAULT;
  return Math.min(HEARTBEAT_INTERVAL_MS_MAX, Math.max(HEARTBEAT_INTERVAL_MS_MIN, ms));
}
