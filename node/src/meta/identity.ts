/**
 * The node's identity in a metaserver-driven cluster: `{clusterId, nodeId}`, allocated by
 * the metaserver at the first registration and kept in `<dataDir>/node-identity.json`.
 *
 * It must be durable before anything is written under that node id (WAL, engine): data
 * written by a node whose id was never saved could later be claimed by another id. So the
 * file is written to a temporary name, fsynced, renamed over the old one, and the
 * directory is fsynced (the rename itself must survive a crash).
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { KvError } from '@shoal/common';

export const IDENTITY_FILE = 'node-identity.json';

export interface NodeIdentity {
  readonly clusterId: number;
  readonly nodeId: number;
}

function validId(x: unknown, min: number): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= min;
}

/** The saved identity, or undefined for a data dir that never registered. A damaged file is an error, never ignored. */
export function loadIdentity(dataDir: string): NodeIdentity | undefined {
  const path = join(dataDir, IDENTITY_FILE);
  if (!existsSync(path)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new KvError('CORRUPTION', `${path} is not valid JSON; restore it or start with an empty data dir`, { cause: e });
  }
  const o = parsed as { clusterId?: unknown; nodeId?: unknown } | null;
  if (o === null || typeof o !== 'object' || !validId(o.clusterId, 0) || !validId(o.nodeId, 1)) {
    throw new KvError('CORRUPTION', `${path} must hold {"clusterId": n, "nodeId": n ≥ 1}`);
  }
  return { clusterId: o.clusterId, nodeId: o.nodeId };
}

/** Saves the identity durably (temp file, fsync, rename, directory fsync). */
export function saveIdentity(dataDir: string, id: NodeIdentity): void {
  if (!validId(id.clusterId, 0) || !validId(id.nodeId, 1)) {
    throw new KvError('INTERNAL', `refusing to save node identity ${JSON.stringify(id)}`);
  }
  const path = join(dataDir, IDENTITY_FILE);
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w', 0o644);
  try {
    writeSync(fd, `${JSON.stringify({ clusterId: id.clusterId, nodeId: id.nodeId })}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  const dir = openSync(dataDir, 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}

/**
 * The identity to register with: the saved one, checked against a configured node id.
 * A configured id that differs from the saved one is a config error (the data belongs to
 * the saved id).
 */
export function registrationIdentity(saved: NodeIdentity | undefined, configuredNodeId: number | undefined): { nodeId: number; clusterId: number } {
  if (saved !== undefined && configuredNodeId !== undefined && saved.nodeId !== configuredNodeId) {
    throw new KvError('INVALID_ARGUMENT', `nodeId ${configuredNodeId} does not match this data dir's node id ${saved.nodeId} (${IDENTITY_FILE}); ` +
      'remove nodeId from the config or fix it', { details: { option: 'nodeId' } });
  }
  return { nodeId: saved?.nodeId ?? configuredNodeId ?? 0, clusterId: saved?.clusterId ?? 0 };
}
