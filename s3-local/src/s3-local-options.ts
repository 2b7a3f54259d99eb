/** Options of S3LocalServer, their defaults and their validation (KvError naming the option). */
import { resolve } from 'node:path';
import { KvError } from '@shoal/common';
import type { S3Credentials } from './sigv4.js';

export interface S3LocalOptions {
  /** Buckets live under this directory (created if absent). */
  readonly dir: string;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 9000; 0 picks a free port (see S3LocalServer.port). */
  readonly port?: number;
  /** SigV4 requests must be signed with these. */
  readonly credentials?: S3Credentials;
  /** Accept unsigned requests (and, without credentials, any signature unchecked); default false. */
  readonly anonymous?: boolean;
  /** Largest object, single PUT or completed multipart; default 5 GiB (S3's single-PUT limit). */
  readonly objectBytesMax?: number;
  /** Largest single part; default 5 GiB. */
  readonly partBytesMax?: number;
  /** Smallest part except the last; default 5 MiB like S3. */
  readonly partBytesMin?: number;
  /** Parts per multipart upload; default 10,000 like S3. */
  readonly partsMax?: number;
  /** Multipart uploads in progress at once; default 1,000. */
  readonly uploadsMax?: number;
  /** Request line plus headers; default 16 KiB (Node's default; S3 allows 8 KiB of headers). */
  readonly requestHeaderBytesMax?: number;
  /** Requests served at once; more get 503 SlowDown. Default 64. */
  readonly concurrentRequestsMax?: number;
  /** XML request documents (DeleteObjects, CompleteMultipartUpload); default 2 MiB. */
  readonly xmlBodyBytesMax?: number;
  /** Virtual-host-style requests: Host `<bucket>.<suffix>`; default `localhost`. */
  readonly virtualHostSuffix?: string;
  /** Wall clock for Last-Modified and signature dates; default Date.now. */
  readonly nowMs?: () => number;
}

export interface ResolvedS3LocalOptions {
  readonly dir: string;
  readonly host: string;
  readonly port: number;
  readonly credentials: S3Credentials | undefined;
  readonly anonymous: boolean;
  readonly objectBytesMax: number;
  readonly partBytesMax: number;
  readonly partBytesMin: number;
  readonly partsMax: number;
  readonly uploadsMax: number;
  readonly requestHeaderBytesMax: number;
  readonly concurrentRequestsMax: number;
  readonly xmlBodyBytesMax: number;
  readonly virtualHostSuffix: string;
  readonly nowMs: () => number;
}

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

function bad(option: string, message: string): KvError {
  return new KvError('INVALID_ARGUMENT', `${option}: ${message}`, { details: { option } });
}

function intIn(v: number | undefined, dflt: number, min: number, max: number, option: string): number {
  const n = v ?? dflt;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw bad(option, `${String(v)} must be an integer from ${min} to ${max}`);
  return n;
}

export function validateS3LocalOptions(o: S3LocalOptions): ResolvedS3LocalOptions {
  if (o.dir.trim() === '') throw bad('dir', 'must not be empty');
  const anonymous = o.anonymous ?? false;
  if (o.credentials === undefined && !anonymous) throw bad('credentials', 'give credentials or set anonymous: true');
  if (o.credentials !== undefined) {
    if (!/^[A-Za-z0-9+/=._-]{3,128}$/.test(o.credentials.accessKeyId)) throw bad('credentials.accessKeyId', 'must be 3-128 characters of [A-Za-z0-9+/=._-]');
    if (o.credentials.secretAccessKey.length < 8) throw bad('credentials.secretAccessKey', 'must be at least 8 characters');
  }
  const objectBytesMax = intIn(o.objectBytesMax, 5 * GiB, 1, 5 * 1024 * GiB, 'objectBytesMax');
  const partBytesMin = intIn(o.partBytesMin, 5 * MiB, 1, 5 * GiB, 'partBytesMin');
  const partBytesMax = intIn(o.partBytesMax, 5 * GiB, 1, 5 * GiB, 'partBytesMax');
  if (partBytesMin > partBytesMax) throw bad('partBytesMin', `must not exceed partBytesMax (${partBytesMax})`);
  const suffix = o.virtualHostSuffix ?? 'localhost';
  if (!/^[a-z0-9.-]+$/.test(suffix)) throw bad('virtualHostSuffix', 'must be a lower-case host name');
  return {
    dir: resolve(o.dir),
    host: o.host ?? '127.0.0.1',
    port: intIn(o.port, 9000, 0, 65535, 'port'),
    credentials: o.credentials,
    anonymous,
    objectBytesMax,
    partBytesMax,
    partBytesMin,
    partsMax: intIn(o.partsMax, 10_000, 1, 10_000, 'partsMax'),
    uploadsMax: intIn(o.uploadsMax, 1000, 1, 1_000_000, 'uploadsMax'),
    requestHeaderBytesMax: intIn(o.requestHeaderBytesMax, 16 * 1024, 1024, 1024 * 1024, 'requestHeaderBytesMax'),
    concurrentRequestsMax: intIn(o.concurrentRequestsMax, 64, 1, 100_000, 'concurrentRequestsMax'),
    xmlBodyBytesMax: intIn(o.xmlBodyBytesMax, 2 * MiB, 1024, 64 * MiB, 'xmlBodyBytesMax'),
    virtualHostSuffix: suffix,
    nowMs: o.nowMs ?? Date.now,
  };
}
