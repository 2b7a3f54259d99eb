/** One request as the handlers see it, plus small response helpers shared by them. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FileStore } from './file-store.js';
import type { Multipart } from './multipart.js';
import type { ResolvedS3LocalOptions } from './s3-local-options.js';
import { XML_DECL } from './s3-error.js';
import type { SigningContext } from './sigv4.js';

export interface Ctx {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly requestId: string;
  /** '' for service-level requests (ListBuckets). */
  readonly bucket: string;
  /** '' for bucket-level requests. */
  readonly key: string;
  readonly query: URLSearchParams;
  readonly signing: SigningContext | undefined;
  readonly store: FileStore;
  readonly multipart: Multipart;
  readonly options: ResolvedS3LocalOptions;
}

export const S3_XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/';

export function sendXml(ctx: Ctx, status: number, body: string): void {
  const buf = Buffer.from(body.startsWith('<?xml') ? body : XML_DECL + body, 'utf8');
  ctx.res.writeHead(status, { 'content-type': 'application/xml', 'content-length': buf.length });
  ctx.res.end(buf);
}

export function sendEmpty(ctx: Ctx, status: number, headers: Record<string, string | number> = {}): void {
  ctx.res.writeHead(status, { ...headers, 'content-length': 0 });
  ctx.res.end();
}

export function httpDate(ms: number): string {
  return new Date(ms).toUTCString();
}

export function isoDate(ms: number): string {
  return new Date(ms).toISOString();
}
