/**
 * Options and port layout of a LocalCluster (local-cluster.ts). Ports follow DESIGN.md
 * "Default local ports" from one base (the first metaserver's gRPC port, 7100): node gRPC
 * +100, metaserver HTTP +1000, node HTTP +1100, proxy HTTP +1200, RESP proxy −720 (6380),
 * local S3 endpoint +1900 (9000).
 */
import { resolve } from 'node:path';
import { KvError } from '@shoal/common';
import type { S3Credentials } from '@shoal/s3-local';
import type { UnexpectedExit } from './local-cluster.js';

export interface LocalClusterOptions {
  /** Everything (configs, data, logs) goes under this directory. */
  readonly dataDir: string;
  /** Storage nodes started by start(); default 3. */
  readonly nodes?: number;
  /** 1 or 3 metaservers; default 3. */
  readonly metaservers?: number;
  /** Zones the nodes are spread over round-robin (z1..zN); default 3. */
  readonly zones?: number;
  /** First metaserver gRPC port; default 7100. */
  readonly basePort?: number;
  /** Start a RESP proxy (skipped, with `proxySkipped` set, while `shoal proxy` is not available); default true. */
  readonly proxy?: boolean;
  /** Create table `default` (hash, min(3, nodes) replicas) if absent; default true. */
  readonly defaultTable?: boolean;
  /**
   * Run the in-process S3-compatible endpoint (data under `<dataDir>/s3`, bucket `shoal`).
   * Default false, so test clusters do not also claim base+1900; `shoal dev` turns it on.
   */
  readonly s3?: boolean;
  /** Credentials the local S3 endpoint accepts; default LOCAL_S3_CREDENTIALS. */
  readonly s3Credentials?: S3Credentials;
  /** How long start() / addNode() wait for the cluster to be ready; default 60 s. */
  readonly readyTimeoutMs?: number;
  /** SIGTERM → SIGKILL deadline per process in stop() / kill(); default 15 s. */
  readonly stopTimeoutMs?: number;
  /** Deadline of each admin RPC the cluster makes; default 10 s. */
  readonly requestTimeoutMs?: number;
  /** Extra config keys for every metaserver / node / proxy (e.g. shorter failure-detection times in tests). */
  readonly metaserverConfig?: Record<string, unknown>;
  readonly nodeConfig?: Record<string, unknown>;
  readonly proxyConfig?: Record<string, unknown>;
  /** A child exited without being asked to; default: print it with its log tail to stderr. */
  readonly onUnexpectedExit?: (e: UnexpectedExit) => void;
}

export interface ResolvedLocalClusterOptions {
  readonly dataDir: string;
  readonly nodes: number;
  readonly metaservers: number;
  readonly zones: number;
  readonly basePort: number;
  readonly proxy: boolean;
  readonly defaultTable: boolean;
  readonly s3: boolean;
  readonly s3Credentials: S3Credentials;
  readonly readyTimeoutMs: number;
  readonly stopTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly metaserverConfig: Record<string, unknown>;
  readonly nodeConfig: Record<string, unknown>;
  readonly proxyConfig: Record<string, unknown>;
  readonly onUnexpectedExit: (e: UnexpectedExit) => void;
}

export interface ClusterPorts {
  readonly metaGrpc: number;
  readonly nodeGrpc: number;
  readonly metaHttp: number;
  readonly nodeHttp: number;
  readonly proxyHttp: number;
  readonly proxyResp: number;
  readonly s3: number;
}

/** Well-known development credentials of the local S3 endpoint (printed in the banner; not a secret). */
export const LOCAL_S3_CREDENTIALS: S3Credentials = { accessKeyId: 'shoal', secretAccessKey: 'shoal-local-secret' };
/** The bucket `shoal dev` creates for backups, restores and bulk loads. */
export const LOCAL_S3_BUCKET = 'shoal';
/** Highest base port: the local S3 endpoint, the highest port of the scheme, sits 1900 above it. */
export const BASE_PORT_MAX = 65535 - 1900;

/** Nodes one local cluster may start: node gRPC ports must stay below the metaserver HTTP range. */
export const LOCAL_NODES_MAX = 99;

export function clusterPorts(basePort: number): ClusterPorts {
  return {
    metaGrpc: basePort, nodeGrpc: basePort + 100, metaHttp: basePort + 1000, nodeHttp: basePort + 1100, proxyHttp: basePort + 1200, proxyResp: basePort - 720,
    s3: basePort + 1900,
  };
}

function intIn(v: number | undefined, dflt: number, min: number, max: number, option: string): number {
  const n = v ?? dflt;
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new KvError('INVALID_ARGUMENT', `${option}: ${String(v)} must be an integer from ${min} to ${max}`, { details: { option } });
  }
  return n;
}

export function defaultUnexpectedExit(e: UnexpectedExit): void {
  console.error(`shoal dev: ${e.process.name} exited unexpectedly (${e.signal ?? `code ${e.code}`}); last lines of ${e.process.logFile}:\n${e.logTail}`);
}

export function validateLocalClusterOptions(o: LocalClusterOptions): ResolvedLocalClusterOptions {
  if (o.dataDir.trim() === '') throw new KvError('INVALID_ARGUMENT', 'dataDir: must not be empty', { details: { option: 'dataDir' } });
  const metaservers = intIn(o.metaservers, 3, 1, 3, 'metaservers');
  if (metaservers === 2) throw new KvError('INVALID_ARGUMENT', 'metaservers: must be 1 or 3', { details: { option: 'metaservers' } });
  return {
    dataDir: resolve(o.dataDir),
    nodes: intIn(o.nodes, 3, 1, LOCAL_NODES_MAX, 'nodes'),
    metaservers,
    zones: intIn(o.zones, 3, 1, LOCAL_NODES_MAX, 'zones'),
    // The RESP proxy sits 720 below the base and every port must stay below 65536.
    basePort: intIn(o.basePort, 7100, 1744, BASE_PORT_MAX, 'basePort'),
    proxy: o.proxy ?? true,
    defaultTable: o.defaultTable ?? true,
    s3: o.s3 ?? false,
    s3Credentials: o.s3Credentials ?? LOCAL_S3_CREDENTIALS,
    readyTimeoutMs: intIn(o.readyTimeoutMs, 60_000, 1, 3_600_000, 'readyTimeoutMs'),
    stopTimeoutMs: intIn(o.stopTimeoutMs, 15_000, 1, 600_000, 'stopTimeoutMs'),
    requestTimeoutMs: intIn(o.requestTimeoutMs, 10_000, 1, 600_000, 'requestTimeoutMs'),
    metaserverConfig: o.metaserverConfig ?? {},
    nodeConfig: o.nodeConfig ?? {},
    proxyConfig: o.proxyConfig ?? {},
    onUnexpectedExit: o.onUnexpectedExit ?? defaultUnexpectedExit,
  };
}
