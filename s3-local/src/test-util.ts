/** Test helpers: a started S3LocalServer in a temp dir and an AWS SDK client pointed at it. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { S3LocalServer } from './s3-local-server.js';
import type { S3LocalOptions } from './s3-local-options.js';

export const CREDS = { accessKeyId: 'shoal-test', secretAccessKey: 'shoal-test-secret' };

export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 's3-local-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export async function startServer(dir: string, extra: Partial<S3LocalOptions> = {}): Promise<S3LocalServer> {
  const s = new S3LocalServer({ dir, port: 0, credentials: CREDS, ...extra });
  await s.start();
  return s;
}

export function client(server: S3LocalServer, creds = CREDS): S3Client {
  return new S3Client({ endpoint: server.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: creds, maxAttempts: 1 });
}

/** The S3 error code of a rejected SDK call (`Code` for XML errors, `name` for HEAD ones). */
export async function errorCode(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    const err = e as { Code?: string; name?: string; $metadata?: { httpStatusCode?: number } };
    return `${err.Code ?? err.name ?? 'unknown'} ${err.$metadata?.httpStatusCode ?? '?'}`;
  }
  throw new Error('expected the call to fail');
}

/** Deterministic bytes covering every byte value. */
export function pattern(size: number, seed = 1): Buffer {
  const b = Buffer.alloc(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = (x >>> 0) & 0xff;
  }
  return b;
}
