/**
 * ListObjects (V1 and V2) over a bucket's sorted keys: prefix, delimiter → CommonPrefixes,
 * a page limit, and a resume marker (start-after / continuation-token / marker). A common
 * prefix counts as one entry and is returned once; resuming after it skips its keys.
 */
import { compareKeys } from './file-store.js';
import type { ObjectMeta } from './file-store.js';
import { S3Error, XML_DECL, xmlEscape } from './s3-error.js';

/** S3's page size limit for ListObjects, also the default. */
export const LIST_KEYS_MAX = 1000;

export interface ListRequest {
  readonly prefix: string;
  readonly delimiter: string;
  /** Return only keys (and prefixes) after this one. */
  readonly marker: string;
  readonly maxKeys: number;
}

export interface ListPage {
  readonly keys: string[];
  readonly prefixes: string[];
  readonly truncated: boolean;
  /** The last key or prefix returned; resume from it. */
  readonly last: string | undefined;
}

function lowerBound(keys: readonly string[], x: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareKeys(keys[mid] ?? '', x) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function listKeys(sorted: readonly string[], r: ListRequest): ListPage {
  const keys: string[] = [];
  const prefixes: string[] = [];
  let last: string | undefined;
  let i = lowerBound(sorted, r.prefix);
  if (r.marker !== '') i = Math.max(i, lowerBound(sorted, r.marker));
  for (; i < sorted.length; i++) {
    const key = sorted[i] ?? '';
    if (!key.startsWith(r.prefix)) break;
    if (r.marker !== '' && compareKeys(key, r.marker) <= 0) continue;
    const cut = r.delimiter === '' ? -1 : key.indexOf(r.delimiter, r.prefix.length);
    const entry = cut < 0 ? key : key.slice(0, cut + r.delimiter.length);
    // A prefix already returned, on this page or (via the marker) on an earlier one.
    if (entry === last || (cut >= 0 && entry === r.marker)) continue;
    if (keys.length + prefixes.length >= r.maxKeys) return { keys, prefixes, truncated: true, last };
    if (cut < 0) keys.push(key);
    else prefixes.push(entry);
    last = entry;
  }
  return { keys, prefixes, truncated: false, last };
}

export function parseMaxKeys(v: string | null): number {
  if (v === null) return LIST_KEYS_MAX;
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n)) throw new S3Error('InvalidArgument', 'max-keys must be a non-negative integer');
  return Math.min(n, LIST_KEYS_MAX);
}

export function encodeToken(marker: string): string {
  return Buffer.from(marker, 'utf8').toString('base64url');
}

export function decodeToken(token: string): string {
  if (!/^[A-Za-z0-9_-]*$/.test(token)) throw new S3Error('InvalidArgument', 'the continuation token provided is incorrect');
  return Buffer.from(token, 'base64url').toString('utf8');
}

export interface ListXmlInput {
  readonly bucket: string;
  readonly req: ListRequest;
  readonly page: ListPage;
  readonly metas: (key: string) => ObjectMeta | undefined;
  readonly urlEncode: boolean;
  /** V2 fields; undefined for V1. */
  readonly v2?: { continuationToken: string | null; startAfter: string | null };
}

export function listXml(x: ListXmlInput): string {
  const enc = (s: string): string => xmlEscape(x.urlEncode ? encodeURIComponent(s) : s);
  const out: string[] = [`${XML_DECL}<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">`];
  out.push(`<Name>${xmlEscape(x.bucket)}</Name><Prefix>${enc(x.req.prefix)}</Prefix><MaxKeys>${x.req.maxKeys}</MaxKeys>`);
  if (x.req.delimiter !== '') out.push(`<Delimiter>${enc(x.req.delimiter)}</Delimiter>`);
  if (x.urlEncode) out.push('<EncodingType>url</EncodingType>');
  out.push(`<IsTruncated>${x.page.truncated}</IsTruncated>`);
  if (x.v2 !== undefined) {
    out.push(`<KeyCount>${x.page.keys.length + x.page.prefixes.length}</KeyCount>`);
    if (x.v2.continuationToken !== null) out.push(`<ContinuationToken>${xmlEscape(x.v2.continuationToken)}</ContinuationToken>`);
    if (x.v2.startAfter !== null) out.push(`<StartAfter>${enc(x.v2.startAfter)}</StartAfter>`);
    if (x.page.truncated && x.page.last !== undefined) out.push(`<NextContinuationToken>${encodeToken(x.page.last)}</NextContinuationToken>`);
  } else {
    out.push(`<Marker>${enc(x.req.marker)}</Marker>`);
    if (x.page.truncated && x.page.last !== undefined) out.push(`<NextMarker>${enc(x.page.last)}</NextMarker>`);
  }
  for (const k of x.page.keys) {
    const m = x.metas(k);
    if (m === undefined) continue;
    out.push(`<Contents><Key>${enc(k)}</Key><LastModified>${new Date(m.lastModifiedMs).toISOString()}</LastModified>`
      + `<ETag>${xmlEscape(m.etag)}</ETag><Size>${m.size}</Size><StorageClass>STANDARD</StorageClass></Contents>`);
  }
  for (const p of x.page.prefixes) out.push(`<CommonPrefixes><Prefix>${enc(p)}</Prefix></CommonPrefixes>`);
  out.push('</ListBucketResult>');
  return out.join('');
}
