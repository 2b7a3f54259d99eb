/**
 * Options of a RESP proxy (`shoal proxy --config proxy.yaml`). The proxy issue (#7) adds
 * the options it needs; this is the validated surface so far.
 */
import { byteSize, durationMs, hostPort, logLevel } from '@shoal/common';
import { z } from 'zod';

export const proxyConfigSchema = z.strictObject({
  listen: hostPort().default('127.0.0.1:6380'),
  httpListen: hostPort().default('127.0.0.1:8300'),
  metaservers: z.array(hostPort()).min(1),
  logLevel: logLevel().default('info'),
  /** Password for AUTH / HELLO AUTH; empty means no authentication. */
  requirePass: z.string().default(''),
  maxClients: z.number().int().min(1).default(10000),
  /** Close a client idle this long; 0 disables, like Redis' `timeout`. */
  idleTimeoutMs: durationMs().prefault('0'),
  bulkBytesMax: byteSize().prefault('512MiB'),
  multibulkLengthMax: z.number().int().min(1).default(1024 * 1024),
  inlineBytesMax: byteSize().prefault('64KiB'),
  clientBufferBytesMax: byteSize().prefault('1GiB'),
  /** SELECT n maps to the table named here at index n. */
  databases: z.array(z.string().min(1)).min(1).default(['default']),
});

export type ProxyConfig = z.output<typeof proxyConfigSchema>;
