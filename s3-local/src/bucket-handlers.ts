/** Service- and bucket-level operations: ListBuckets, Create/Head/DeleteBucket, ListObjects(V2), DeleteObjects. */
import { readXmlBody } from './body.js';
import type { Ctx } from './context.js';
import { S3_XMLNS, isoDate, sendEmpty, sendXml } from './context.js';
import { decodeToken, listKeys, listXml, parseMaxKeys } from './listing.js';
import { S3Error, xmlElements, xmlEscape, xmlText } from './s3-error.js';

/** Keys one DeleteObjects request may name (S3's limit). */
export const DELETE_OBJECTS_MAX = 1000;

export function listBuckets(ctx: Ctx): void {
  const items = ctx.store.listBuckets().map((b) => `<Bucket><Name>${xmlEscape(b.name)}</Name><CreationDate>${isoDate(b.createdMs)}</CreationDate></Bucket>`);
  sendXml(ctx, 200, `<ListAllMyBucketsResult xmlns="${S3_XMLNS}"><Owner><ID>shoal</ID><DisplayName>shoal</DisplayName></Owner>`
    + `<Buckets>${items.join('')}</Buckets></ListAllMyBucketsResult>`);
}

export async function createBucket(ctx: Ctx): Promise<void> {
  // The optional CreateBucketConfiguration (region) means nothing to a local store.
  await readXmlBody(ctx.req, ctx.signing, ctx.options.xmlBodyBytesMax);
  await ctx.store.createBucket(ctx.bucket, ctx.options.nowMs());
  sendEmpty(ctx, 200, { location: `/${ctx.bucket}` });
}

export function headBucket(ctx: Ctx): void {
  ctx.store.assertBucket(ctx.bucket);
  sendEmpty(ctx, 200, { 'x-amz-bucket-region': 'us-east-1' });
}

export async function deleteBucket(ctx: Ctx): Promise<void> {
  await ctx.store.deleteBucket(ctx.bucket);
  sendEmpty(ctx, 204);
}

export function getBucketLocation(ctx: Ctx): void {
  ctx.store.assertBucket(ctx.bucket);
  sendXml(ctx, 200, `<LocationConstraint xmlns="${S3_XMLNS}"/>`);
}

export function listObjects(ctx: Ctx): void {
  const q = ctx.query;
  const v2 = q.get('list-type') === '2';
  const encodingType = q.get('encoding-type');
  if (encodingType !== null && encodingType !== 'url') throw new S3Error('InvalidArgument', 'encoding-type must be url');
  const token = v2 ? q.get('continuation-token') : null;
  const startAfter = v2 ? q.get('start-after') : null;
  const marker = token !== null ? decodeToken(token) : (v2 ? startAfter : q.get('marker')) ?? '';
  const req = { prefix: q.get('prefix') ?? '', delimiter: q.get('delimiter') ?? '', marker, maxKeys: parseMaxKeys(q.get('max-keys')) };
  const page = listKeys(ctx.store.sortedKeys(ctx.bucket), req);
  const metas = (k: string): ReturnType<typeof ctx.store.head> | undefined => {
    try {
      return ctx.store.head(ctx.bucket, k);
    } catch {
      return undefined; // deleted while we listed
    }
  };
  sendXml(ctx, 200, listXml({ bucket: ctx.bucket, req, page, metas, urlEncode: encodingType === 'url', ...(v2 ? { v2: { continuationToken: token, startAfter } } : {}) }));
}

export async function deleteObjects(ctx: Ctx): Promise<void> {
  if (ctx.req.headers['content-md5'] === undefined && !Object.keys(ctx.req.headers).some((h) => h.startsWith('x-amz-checksum-') || h === 'x-amz-trailer')) {
    throw new S3Error('InvalidRequest', 'DeleteObjects requires Content-MD5 or an x-amz-checksum-* header');
  }
  const xml = await readXmlBody(ctx.req, ctx.signing, ctx.options.xmlBodyBytesMax);
  ctx.store.assertBucket(ctx.bucket);
  if (!/<Delete[\s>]/.test(xml)) throw new S3Error('MalformedXML', 'expected a <Delete> document');
  const objects = xmlElements(xml, 'Object');
  if (objects.length === 0 || objects.length > DELETE_OBJECTS_MAX) throw new S3Error('MalformedXML', `a Delete names 1 to ${DELETE_OBJECTS_MAX} objects`);
  const quiet = xmlText(xml, 'Quiet') === 'true';
  const out: string[] = [];
  for (const o of objects) {
    const key = xmlText(o, 'Key');
    if (key === undefined || key === '') throw new S3Error('MalformedXML', 'every <Object> needs a <Key>');
    try {
      await ctx.store.delete(ctx.bucket, key);
      if (!quiet) out.push(`<Deleted><Key>${xmlEscape(key)}</Key></Deleted>`);
    } catch (e) {
      const code = e instanceof S3Error ? e.code : 'InternalError';
      out.push(`<Error><Key>${xmlEscape(key)}</Key><Code>${code}</Code><Message>${xmlEscape(String(e))}</Message></Error>`);
    }
  }
  sendXml(ctx, 200, `<DeleteResult xmlns="${S3_XMLNS}">${out.join('')}</DeleteResult>`);
}
