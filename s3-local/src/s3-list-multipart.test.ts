/**
 * Goal: ListObjectsV2 (prefix, delimiter, pagination, start-after) and multipart uploads
 * (lib-storage's Upload of ~20 MiB and the raw calls) behave like S3 with the real SDK.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateBucketCommand, CreateMultipartUploadCommand, GetObjectCommand,
  ListObjectsV2Command, ListPartsCommand, PutObjectCommand, UploadPartCommand,
} from '@aws-sdk/client-s3';
import type { ListObjectsV2CommandInput, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { S3LocalServer } from './s3-local-server.js';
import { client, errorCode, pattern, startServer, tempDir } from './test-util.js';

let server: S3LocalServer;
let s3: S3Client;
let cleanup: () => void;
const MiB = 1024 * 1024;

before(async () => {
  const t = tempDir();
  cleanup = t.cleanup;
  server = await startServer(t.dir);
  s3 = client(server);
  await s3.send(new CreateBucketCommand({ Bucket: 'list' }));
  await s3.send(new CreateBucketCommand({ Bucket: 'mpu' }));
  const keys = ['a/1', 'a/2', 'a/b/3', 'b/1', 'c', 'd/e/f', 'é', 'z'];
  for (const k of keys) await s3.send(new PutObjectCommand({ Bucket: 'list', Key: k, Body: k }));
});

after(async () => {
  s3.destroy();
  await server.stop();
  cleanup();
});

/** Every page of a listing, following continuation tokens (bounded: at most 50 pages). */
async function listAll(input: Omit<ListObjectsV2CommandInput, 'Bucket'>): Promise<{ keys: string[]; prefixes: string[]; pages: number }> {
  const keys: string[] = [];
  const prefixes: string[] = [];
  let token: string | undefined;
  for (let pages = 1; pages <= 50; pages++) {
    const r = await s3.send(new ListObjectsV2Command({ Bucket: 'list', ...input, ...(token === undefined ? {} : { ContinuationToken: token }) }));
    keys.push(...(r.Contents ?? []).map((c) => c.Key ?? ''));
    prefixes.push(...(r.CommonPrefixes ?? []).map((c) => c.Prefix ?? ''));
    assert.equal(r.KeyCount, (r.Contents?.length ?? 0) + (r.CommonPrefixes?.length ?? 0));
    if (r.IsTruncated !== true) return { keys, prefixes, pages };
    token = r.NextContinuationToken;
  }
  throw new Error('listing did not end within 50 pages');
}

test('ListObjectsV2: all keys in UTF-8 order, sizes and ETags', async () => {
  const r = await s3.send(new ListObjectsV2Command({ Bucket: 'list' }));
  assert.deepEqual(r.Contents?.map((c) => c.Key), ['a/1', 'a/2', 'a/b/3', 'b/1', 'c', 'd/e/f', 'z', 'é']);
  assert.equal(r.Contents?.[0]?.Size, 3);
  assert.match(r.Contents?.[0]?.ETag ?? '', /^"[0-9a-f]{32}"$/);
});

test('ListObjectsV2: delimiter gives CommonPrefixes, prefix narrows', async () => {
  const top = await listAll({ Delimiter: '/' });
  assert.deepEqual(top, { keys: ['c', 'z', 'é'], prefixes: ['a/', 'b/', 'd/'], pages: 1 });
  const a = await listAll({ Prefix: 'a/', Delimiter: '/' });
  assert.deepEqual([a.keys, a.prefixes], [['a/1', 'a/2'], ['a/b/']]);
  assert.deepEqual((await listAll({ Prefix: 'd/' })).keys, ['d/e/f']);
  assert.deepEqual((await listAll({ Prefix: 'nothing' })).keys, []);
});

test('ListObjectsV2: pagination with max-keys and continuation tokens, start-after', async () => {
  const paged = await listAll({ MaxKeys: 2 });
  assert.deepEqual(paged.keys, ['a/1', 'a/2', 'a/b/3', 'b/1', 'c', 'd/e/f', 'z', 'é']);
  assert.equal(paged.pages, 4);
  const pagedDelim = await listAll({ MaxKeys: 1, Delimiter: '/' });
  assert.deepEqual([pagedDelim.keys, pagedDelim.prefixes, pagedDelim.pages], [['c', 'z', 'é'], ['a/', 'b/', 'd/'], 6]);
  assert.deepEqual((await listAll({ StartAfter: 'b/1' })).keys, ['c', 'd/e/f', 'z', 'é']);
  assert.equal(await errorCode(s3.send(new ListObjectsV2Command({ Bucket: 'list', ContinuationToken: '!!' }))), 'InvalidArgument 400');
  assert.equal(await errorCode(s3.send(new ListObjectsV2Command({ Bucket: 'missing' }))), 'NoSuchBucket 404');
});

test('lib-storage Upload of 20 MiB uses multipart and round-trips byte for byte', async () => {
  const data = pattern(20 * MiB + 12345, 11);
  const up = new Upload({ client: s3, params: { Bucket: 'mpu', Key: 'big/object.bin', Body: data }, partSize: 5 * MiB, queueSize: 2 });
  const r = await up.done();
  assert.match(r.ETag ?? '', /^"[0-9a-f]{32}-5"$/);
  const got = await s3.send(new GetObjectCommand({ Bucket: 'mpu', Key: 'big/object.bin' }));
  assert.equal(got.ETag, r.ETag);
  assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(data));
});

test('raw multipart calls: ListParts, wrong ETag, small part, abort', async () => {
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'mpu', Key: 'raw', ContentType: 'text/x' }));
  assert.ok(UploadId !== undefined);
  const ids = { Bucket: 'mpu', Key: 'raw', UploadId };
  const p1 = await s3.send(new UploadPartCommand({ ...ids, PartNumber: 1, Body: pattern(5 * MiB, 2) }));
  const p2 = await s3.send(new UploadPartCommand({ ...ids, PartNumber: 2, Body: Buffer.from('tail') }));
  const parts = await s3.send(new ListPartsCommand(ids));
  assert.deepEqual(parts.Parts?.map((p) => [p.PartNumber, p.Size, p.ETag]), [[1, 5 * MiB, p1.ETag], [2, 4, p2.ETag]]);
  assert.equal(await errorCode(s3.send(new UploadPartCommand({ ...ids, PartNumber: 10_001, Body: 'x' }))), 'InvalidArgument 400');
  assert.equal(await errorCode(s3.send(new CompleteMultipartUploadCommand({ ...ids, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: '"0000"' }] } }))), 'InvalidPart 400');
  assert.equal(await errorCode(s3.send(new CompleteMultipartUploadCommand({ ...ids, MultipartUpload: { Parts: [{ PartNumber: 2, ETag: p2.ETag! }, { PartNumber: 1, ETag: p1.ETag! }] } }))), 'InvalidPartOrder 400');
  assert.equal(await errorCode(s3.send(new CompleteMultipartUploadCommand({ ...ids, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.ETag! }, { PartNumber: 3, ETag: p2.ETag! }] } }))), 'InvalidPart 400');
  await s3.send(new AbortMultipartUploadCommand(ids));
  assert.equal(await errorCode(s3.send(new ListPartsCommand(ids))), 'NoSuchUpload 404');
  assert.equal(await errorCode(s3.send(new GetObjectCommand({ Bucket: 'mpu', Key: 'raw' }))), 'NoSuchKey 404');
});

test('a part below partBytesMin may only be last (EntityTooSmall)', async () => {
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'mpu', Key: 'small' }));
  const ids = { Bucket: 'mpu', Key: 'small', UploadId: UploadId! };
  const p1 = await s3.send(new UploadPartCommand({ ...ids, PartNumber: 1, Body: 'tiny' }));
  const p2 = await s3.send(new UploadPartCommand({ ...ids, PartNumber: 2, Body: 'tiny' }));
  const parts = [{ PartNumber: 1, ETag: p1.ETag! }, { PartNumber: 2, ETag: p2.ETag! }];
  assert.equal(await errorCode(s3.send(new CompleteMultipartUploadCommand({ ...ids, MultipartUpload: { Parts: parts } }))), 'EntityTooSmall 400');
  const done = await s3.send(new CompleteMultipartUploadCommand({ ...ids, MultipartUpload: { Parts: parts.slice(0, 1) } }));
  assert.match(done.ETag ?? '', /-1"$/);
  const got = await s3.send(new GetObjectCommand({ Bucket: 'mpu', Key: 'small' }));
  assert.equal(await got.Body!.transformToString(), 'tiny');
});
