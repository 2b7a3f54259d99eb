/** Object-level operations: Put/Get/Head/Delete/CopyObject and the multipart upload calls. */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { readBody, readXmlBody } from './body.js';
import type { Ctx } from './context.js';
import { S3_XMLNS, httpDate, isoDate, sendEmpty, sendXml } from './context.js';
import type { ObjectMeta } from './file-store.js';
import { S3Error, xmlElements, xmlEscape, xmlText } from './s3-error.js';

/** User metadata (x-amz-meta-* names and values) per object; S3's limit. */
export const USER_METADATA_BYTES_MAX = 2048;
const STORED_HEADERS = ['content-type', 'cache-control', 'content-disposition', 'content-encoding', 'content-language', 'expires'];

/** The headers PutObject / CreateMultipartUpload / CopyObject(REPLACE) store with the object. */
function storedHeaders(ctx: Ctx): Record<string, string> {
  const out: Record<string, string> = { 'content-type': 'binary/octet-stream' };
  let metaBytes = 0;
  for (const [name, value] of Object.entries(ctx.req.headers)) {
    if (typeof value !== 'string') continue;
    if (name.startsWith('x-amz-meta-')) {
      metaBytes += name.length - 11 + Buffer.byteLength(value);
      out[name] = value;
    } else if (STORED_HEADERS.includes(name)) {
      out[name] = value;
    }
  }
  // aws-chunked is transfer framing, not a property of the object.
  const enc = (out['content-encoding'] ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '' && s !== 'aws-chunked');
  if (enc.length === 0) delete out['content-encoding'];
  else out['content-encoding'] = enc.join(',');
  if (metaBytes > USER_METADATA_BYTES_MAX) throw new S3Error('MetadataTooLarge', `user metadata exceeds ${USER_METADATA_BYTES_MAX} bytes`);
  return out;
}

/** Streams the body into a fsynced temp file; returns its path and digest. */
async function receive(ctx: Ctx, bytesMax: number): Promise<{ path: string; bytes: number; md5Hex: string }> {
  const t = await ctx.store.createTemp();
  try {
    const r = await readBody(ctx.req, ctx.signing, bytesMax, async (p) => {
      await t.handle.write(p);
    });
    await t.handle.sync();
    await t.handle.close();
    return { path: t.path, ...r };
  } catch (e) {
    await ctx.store.discardTemp(t);
    throw e;
  }
}

export async function putObject(ctx: Ctx): Promise<void> {
  ctx.store.assertBucket(ctx.bucket);
  const headers = storedHeaders(ctx);
  const body = await receive(ctx, ctx.options.objectBytesMax);
  const meta = await ctx.store.commit(ctx.bucket, ctx.key, body.path, {
    size: body.bytes, etag: `"${body.md5Hex}"`, lastModifiedMs: ctx.options.nowMs(), headers,
  });
  sendEmpty(ctx, 200, { etag: meta.etag });
}

function objectHeaders(ctx: Ctx, meta: ObjectMeta): Record<string, string | number> {
  const h: Record<string, string | number> = { ...meta.headers, etag: meta.etag, 'last-modified': httpDate(meta.lastModifiedMs), 'accept-ranges': 'bytes' };
  for (const name of ['content-type', 'content-disposition', 'cache-control', 'content-encoding', 'content-language', 'expires']) {
    const v = ctx.query.get(`response-${name}`);
    if (v !== null) h[name] = v;
  }
  return h;
}

/** If-Match / If-None-Match / If-(Un)Modified-Since; returns the status to answer with instead, if any. */
function preconditionStatus(ctx: Ctx, meta: ObjectMeta): 304 | 412 | undefined {
  const h = ctx.req.headers;
  const modifiedS = Math.floor(meta.lastModifiedMs / 1000);
  const matches = (list: string): boolean => list.split(',').some((e) => e.trim() === '*' || e.trim() === meta.etag || `"${e.trim()}"` === meta.etag);
  if (h['if-match'] !== undefined && !matches(h['if-match'])) return 412;
  if (h['if-match'] === undefined && h['if-unmodified-since'] !== undefined && modifiedS > Date.parse(h['if-unmodified-since']) / 1000) return 412;
  if (h['if-none-match'] !== undefined && matches(h['if-none-match'])) return 304;
  if (h['if-none-match'] === undefined && h['if-modified-since'] !== undefined && modifiedS <= Date.parse(h['if-modified-since']) / 1000) return 304;
  return undefined;
}

/** `bytes=a-b`, `bytes=a-`, `bytes=-n` → [start, end] inclusive; undefined means "whole object". */
export function parseRange(header: string | undefined, size: number): [number, number] | undefined {
  if (header === undefined) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (m === null || (m[1] === '' && m[2] === '')) return undefined; // S3 ignores ranges it cannot parse
  if (m[1] === '') {
    const n = Number(m[2]);
    if (n === 0) throw new S3Error('InvalidRange', 'the requested range is not satisfiable');
    return [Math.max(0, size - n), size - 1];
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size || (m[2] !== '' && Number(m[2]) < start)) throw new S3Error('InvalidRange', 'the requested range is not satisfiable');
  return [start, end];
}

/** Opens the object's data file; retries once if a concurrent PUT replaced it in between. */
async function openObject(ctx: Ctx): Promise<{ meta: ObjectMeta; fh: FileHandle }> {
  for (let attempt = 0; ; attempt++) {
    const meta = ctx.store.head(ctx.bucket, ctx.key);
    try {
      return { meta, fh: await open(ctx.store.dataPath(ctx.bucket, meta), 'r') };
    } catch (e) {
      if (attempt >= 1 || (e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
}

export async function getObject(ctx: Ctx, headOnly: boolean): Promise<void> {
  if (headOnly) {
    const meta = ctx.store.head(ctx.bucket, ctx.key);
    const pre = preconditionStatus(ctx, meta);
    if (pre !== undefined) {
      sendEmpty(ctx, pre, { etag: meta.etag });
      return;
    }
    // HEAD reports the object's length, so sendEmpty (content-length 0) does not fit.
    ctx.res.writeHead(200, { ...objectHeaders(ctx, meta), 'content-length': meta.size });
    ctx.res.end();
    return;
  }
  const { meta, fh } = await openObject(ctx);
  try {
    const pre = preconditionStatus(ctx, meta);
    if (pre !== undefined) {
      if (pre === 412) throw new S3Error('PreconditionFailed', 'at least one of the preconditions you specified did not hold');
      sendEmpty(ctx, 304, { etag: meta.etag });
      return;
    }
    const range = meta.size === 0 ? undefined : parseRange(ctx.req.headers.range, meta.size);
    const headers = objectHeaders(ctx, meta);
    if (range === undefined) {
      ctx.res.writeHead(200, { ...headers, 'content-length': meta.size });
    } else {
      ctx.res.writeHead(206, { ...headers, 'content-length': range[1] - range[0] + 1, 'content-range': `bytes ${range[0]}-${range[1]}/${meta.size}` });
    }
    if (meta.size === 0) {
      ctx.res.end();
      return;
    }
    await pipeline(fh.createReadStream({ start: range?.[0] ?? 0, end: range?.[1] ?? meta.size - 1, autoClose: false }), ctx.res);
  } finally {
    await fh.close();
  }
}

export async function deleteObject(ctx: Ctx): Promise<void> {
  await ctx.store.delete(ctx.bucket, ctx.key);
  sendEmpty(ctx, 204);
}

export async function copyObject(ctx: Ctx, source: string): Promise<void> {
  await readXmlBody(ctx.req, ctx.signing, ctx.options.xmlBodyBytesMax);
  let decoded: string;
  try {
    decoded = decodeURIComponent(source.split('?')[0] ?? '').replace(/^\//, '');
  } catch {
    throw new S3Error('InvalidArgument', 'x-amz-copy-source is not valid percent-encoding');
  }
  const slash = decoded.indexOf('/');
  if (slash <= 0 || slash === decoded.length - 1) throw new S3Error('InvalidArgument', 'x-amz-copy-source must be <bucket>/<key>');
  const srcBucket = decoded.slice(0, slash);
  const srcKey = decoded.slice(slash + 1);
  ctx.store.assertBucket(ctx.bucket);
  const replace = ctx.req.headers['x-amz-metadata-directive'] === 'REPLACE';
  if (!replace && srcBucket === ctx.bucket && srcKey === ctx.key) {
    throw new S3Error('InvalidRequest', 'copying an object onto itself needs x-amz-metadata-directive: REPLACE');
  }
  const src = ctx.store.head(srcBucket, srcKey);
  const headers = replace ? storedHeaders(ctx) : src.headers;
  const t = await ctx.store.createTemp();
  try {
    for await (const chunk of createReadStream(ctx.store.dataPath(srcBucket, src)) as AsyncIterable<Buffer>) await t.handle.write(chunk);
    await t.handle.sync();
    await t.handle.close();
  } catch (e) {
    await ctx.store.discardTemp(t);
    throw e;
  }
  const meta = await ctx.store.commit(ctx.bucket, ctx.key, t.path, { size: src.size, etag: src.etag, lastModifiedMs: ctx.options.nowMs(), headers });
  sendXml(ctx, 200, `<CopyObjectResult xmlns="${S3_XMLNS}"><ETag>${xmlEscape(meta.etag)}</ETag><LastModified>${isoDate(meta.lastModifiedMs)}</LastModified></CopyObjectResult>`);
}

export async function createMultipartUpload(ctx: Ctx): Promise<void> {
  await readXmlBody(ctx.req, ctx.signing, ctx.options.xmlBodyBytesMax);
  const uploadId = await ctx.multipart.create(ctx.bucket, ctx.key, storedHeaders(ctx), ctx.options.nowMs());
  sendXml(ctx, 200, `<InitiateMultipartUploadResult xmlns="${S3_XMLNS}"><Bucket>${xmlEscape(ctx.bucket)}</Bucket>`
    + `<Key>${xmlEscape(ctx.key)}</Key><UploadId>${uploadId}</UploadId></InitiateMultipartUploadResult>`);
}

export async function uploadPart(ctx: Ctx, uploadId: string): Promise<void> {
  if (ctx.req.headers['x-amz-copy-source'] !== undefined) throw new S3Error('NotImplemented', 'UploadPartCopy is not supported');
  const partNumber = Number(ctx.query.get('partNumber'));
  ctx.multipart.checkPart(ctx.bucket, ctx.key, uploadId, partNumber);
  const body = await receive(ctx, ctx.options.partBytesMax);
  const part = await ctx.multipart.putPart(ctx.bucket, ctx.key, uploadId, partNumber, body.path, body.bytes, body.md5Hex, ctx.options.nowMs());
  sendEmpty(ctx, 200, { etag: part.etag });
}

export async function completeMultipartUpload(ctx: Ctx, uploadId: string): Promise<void> {
  const xml = await readXmlBody(ctx.req, ctx.signing, ctx.options.xmlBodyBytesMax);
  const wanted = xmlElements(xml, 'Part').map((p) => {
    const n = Number(xmlText(p, 'PartNumber'));
    const etag = xmlText(p, 'ETag');
    if (!Number.isInteger(n) || etag === undefined) throw new S3Error('MalformedXML', 'every <Part> needs <PartNumber> and <ETag>');
    return { partNumber: n, etag };
  });
  const meta = await ctx.multipart.complete(ctx.bucket, ctx.key, uploadId, wanted, ctx.options.nowMs());
  sendXml(ctx, 200, `<CompleteMultipartUploadResult xmlns="${S3_XMLNS}"><Location>/${xmlEscape(ctx.bucket)}/${xmlEscape(ctx.key)}</Location>`
    + `<Bucket>${xmlEscape(ctx.bucket)}</Bucket><Key>${xmlEscape(ctx.key)}</Key><ETag>${xmlEscape(meta.etag)}</ETag></CompleteMultipartUploadResult>`);
}

export async function abortMultipartUpload(ctx: Ctx, uploadId: string): Promise<void> {
  await ctx.multipart.abort(ctx.bucket, ctx.key, uploadId);
  sendEmpty(ctx, 204);
}

export function listParts(ctx: Ctx, uploadId: string): void {
  const parts = ctx.multipart.listParts(ctx.bucket, ctx.key, uploadId).map((p) => `<Part><PartNumber>${p.partNumber}</PartNumber>`
    + `<LastModified>${isoDate(p.lastModifiedMs)}</LastModified><ETag>${xmlEscape(p.etag)}</ETag><Size>${p.size}</Size></Part>`);
  sendXml(ctx, 200, `<ListPartsResult xmlns="${S3_XMLNS}"><Bucket>${xmlEscape(ctx.bucket)}</Bucket><Key>${xmlEscape(ctx.key)}</Key>`
    + `<UploadId>${uploadId}</UploadId><IsTruncated>false</IsTruncated>${parts.join('')}</ListPartsResult>`);
}
