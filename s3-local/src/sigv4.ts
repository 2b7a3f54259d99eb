/**
 * AWS Signature Version 4 verification for S3 requests (Authorization header form), and
 * the per-chunk signatures of `STREAMING-AWS4-HMAC-SHA256-PAYLOAD` bodies. The canonical
 * URI is the path exactly as the client sent it: S3 signs the once-encoded path and never
 * normalises it, so re-encoding here would break keys with spaces, `+` or unicode.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { S3Error } from './s3-error.js';

export interface S3Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** What a verified request needs later to check the signatures of its body chunks. */
export interface SigningContext {
  readonly signingKey: Buffer;
  readonly amzDate: string;
  readonly scope: string;
  readonly seedSignature: string;
}

/** Allowed distance between the request's x-amz-date and our clock (S3 uses 15 minutes). */
export const CLOCK_SKEW_MS_MAX = 15 * 60 * 1000;
export const EMPTY_SHA256 = createHash('sha256').digest('hex');

const AUTH_RE = /^AWS4-HMAC-SHA256\s+Credential=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]{64})\s*$/;

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function hmac(key: Buffer | string, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

/** RFC 3986 encoding as SigV4 wants it: only unreserved characters stay as they are. */
export function uriEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, '%20'));
  } catch {
    throw new S3Error('InvalidArgument', 'query string is not valid percent-encoding');
  }
}

export function canonicalQuery(rawQuery: string): string {
  if (rawQuery === '') return '';
  const pairs = rawQuery.split('&').filter((p) => p !== '').map((p) => {
    const eq = p.indexOf('=');
    const k = eq < 0 ? p : p.slice(0, eq);
    const v = eq < 0 ? '' : p.slice(eq + 1);
    return [uriEncode(safeDecode(k)), uriEncode(safeDecode(v))] as const;
  });
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join('&');
}

/** Header values as sent, repeated headers joined by commas, whitespace runs collapsed. */
function canonicalHeaders(req: IncomingMessage, signed: readonly string[]): string {
  const values = new Map<string, string[]>();
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = (req.rawHeaders[i] ?? '').toLowerCase();
    const list = values.get(name) ?? [];
    list.push((req.rawHeaders[i + 1] ?? '').trim().replace(/\s+/g, ' '));
    values.set(name, list);
  }
  return signed.map((h) => {
    const v = values.get(h);
    if (v === undefined) throw new S3Error('SignatureDoesNotMatch', `signed header ${h} is missing`);
    return `${h}:${v.join(',')}\n`;
  }).join('');
}

function parseAmzDate(s: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (m === null) throw new S3Error('AccessDenied', 'x-amz-date must look like 20240101T000000Z');
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
}

function sameHex(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

/**
 * Checks the Authorization header of `req` against `creds`; throws the S3 error a real
 * server would send. `payloadHash` is the x-amz-content-sha256 value (the body itself
 * is checked against it later, while it streams).
 */
export function verifySigV4(req: IncomingMessage, rawPath: string, rawQuery: string, creds: S3Credentials, nowMs: number): SigningContext {
  const auth = req.headers.authorization;
  if (auth === undefined) throw new S3Error('AccessDenied', 'anonymous requests are not allowed; sign with SigV4');
  const m = AUTH_RE.exec(auth);
  if (m === null) throw new S3Error('AccessDenied', 'only AWS4-HMAC-SHA256 Authorization headers are supported');
  const [, credential = '', signedList = '', signature = ''] = m;
  const parts = credential.split('/');
  if (parts.length !== 5 || parts[3] !== 's3' || parts[4] !== 'aws4_request') {
    throw new S3Error('AccessDenied', `malformed credential scope ${credential}`);
  }
  const [accessKey = '', date = '', region = ''] = parts;
  if (accessKey !== creds.accessKeyId) throw new S3Error('InvalidAccessKeyId', 'the access key id does not exist in our records');
  const amzDate = String(req.headers['x-amz-date'] ?? '');
  const t = parseAmzDate(amzDate);
  if (Math.abs(t - nowMs) > CLOCK_SKEW_MS_MAX) throw new S3Error('RequestTimeTooSkewed', 'request time differs from server time by more than 15 minutes');
  if (!amzDate.startsWith(date)) throw new S3Error('SignatureDoesNotMatch', 'credential date does not match x-amz-date');
  const signed = signedList.split(';');
  if (!signed.includes('host')) throw new S3Error('AccessDenied', 'the host header must be signed');
  const payloadHash = String(req.headers['x-amz-content-sha256'] ?? '');
  if (payloadHash === '') throw new S3Error('InvalidRequest', 'x-amz-content-sha256 header is required');
  const canonical = [req.method ?? 'GET', rawPath, canonicalQuery(rawQuery), canonicalHeaders(req, signed), signedList, payloadHash].join('\n');
  const scope = `${date}/${region}/s3/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonical)].join('\n');
  const signingKey = deriveSigningKey(creds.secretAccessKey, date, region);
  const expected = hmac(signingKey, stringToSign).toString('hex');
  if (!sameHex(expected, signature)) {
    throw new S3Error('SignatureDoesNotMatch', 'the request signature we calculated does not match the signature you provided');
  }
  return { signingKey, amzDate, scope, seedSignature: signature };
}

/** SigV4's per-day, per-region key for service s3. */
export function deriveSigningKey(secret: string, date: string, region: string): Buffer {
  return hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), 's3'), 'aws4_request');
}

/** The signature a `STREAMING-AWS4-HMAC-SHA256-PAYLOAD` chunk must carry. */
export function chunkSignature(ctx: SigningContext, previous: string, chunkSha256Hex: string): string {
  const sts = ['AWS4-HMAC-SHA256-PAYLOAD', ctx.amzDate, ctx.scope, previous, EMPTY_SHA256, chunkSha256Hex].join('\n');
  return hmac(ctx.signingKey, sts).toString('hex');
}

/** The signature of a signed trailer section (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER`). */
export function trailerSignature(ctx: SigningContext, previous: string, trailerText: string): string {
  const sts = ['AWS4-HMAC-SHA256-TRAILER', ctx.amzDate, ctx.scope, previous, sha256Hex(trailerText)].join('\n');
  return hmac(ctx.signingKey, sts).toString('hex');
}

export function signaturesEqual(a: string, b: string): boolean {
  return sameHex(a, b);
}
