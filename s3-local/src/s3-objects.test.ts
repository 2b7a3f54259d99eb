/**
 * Goal: the real @aws-sdk/client-s3 works against S3LocalServer for every supported bucket
 * and object operation, with byte-exact content, ranges, metadata and S3 error codes.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import {
  CopyObjectCommand, CreateBucketCommand, DeleteBucketCommand, DeleteObjectCommand, DeleteObjectsCommand, GetObjectCommand,
  HeadBucketCommand, HeadObjectCommand, ListBucketsCommand, PutObjectCommand,
} from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import type { S3LocalServer } from './s3-local-server.js';
import { client, errorCode, pattern, startServer, tempDir } from './test-util.js';

let server: S3LocalServer;
let s3: S3Client;
let cleanup: () => void;

before(async () => {
  const t = tempDir();
  cleanup = t.cleanup;
  server = await startServer(t.dir);
  s3 = client(server);
  await s3.send(new CreateBucketCommand({ Bucket: 'objs' }));
});

after(async () => {
  s3.destroy();
  await server.stop();
  cleanup();
});

async function getBytes(key: string, range?: string): Promise<{ body: Buffer; status: number | undefined; contentRange: string | undefined }> {
  const r = await s3.send(new GetObjectCommand({ Bucket: 'objs', Key: key, ...(range === undefined ? {} : { Range: range }) }));
  return { body: Buffer.from(await r.Body!.transformToByteArray()), status: r.$metadata.httpStatusCode, contentRange: r.ContentRange };
}

test('buckets: create, head, list, delete only when empty', async () => {
  await s3.send(new CreateBucketCommand({ Bucket: 'b-two' }));
  assert.equal(await errorCode(s3.send(new CreateBucketCommand({ Bucket: 'b-two' }))), 'BucketAlreadyOwnedByYou 409');
  assert.equal(await errorCode(s3.send(new CreateBucketCommand({ Bucket: 'Bad_Name' }))), 'InvalidBucketName 400');
  await s3.send(new HeadBucketCommand({ Bucket: 'b-two' }));
  const names = (await s3.send(new ListBucketsCommand({}))).Buckets?.map((b) => b.Name);
  assert.deepEqual(names, ['b-two', 'objs']);
  await s3.send(new PutObjectCommand({ Bucket: 'b-two', Key: 'x', Body: 'x' }));
  assert.equal(await errorCode(s3.send(new DeleteBucketCommand({ Bucket: 'b-two' }))), 'BucketNotEmpty 409');
  await s3.send(new DeleteObjectCommand({ Bucket: 'b-two', Key: 'x' }));
  await s3.send(new DeleteBucketCommand({ Bucket: 'b-two' }));
  assert.equal(await errorCode(s3.send(new HeadBucketCommand({ Bucket: 'b-two' }))), 'NotFound 404');
  assert.equal(await errorCode(s3.send(new PutObjectCommand({ Bucket: 'b-two', Key: 'x', Body: 'x' }))), 'NoSuchBucket 404');
});

test('put/get/head: binary round-trip, ETag is the MD5, metadata and odd keys kept', async () => {
  const data = pattern(1024 * 1024 + 7);
  const keys = ['plain', 'dir/sub/file.bin', 'sp ace+plus%pct/ü/..', 'a'.repeat(1024)];
  for (const key of keys) {
    const put = await s3.send(new PutObjectCommand({ Bucket: 'objs', Key: key, Body: data, ContentType: 'application/x-test', Metadata: { owner: 'shoal', n: '1' } }));
    assert.equal(put.ETag, `"${createHash('md5').update(data).digest('hex')}"`);
    const got = await getBytes(key);
    assert.ok(got.body.equals(data), `content of ${key}`);
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'objs', Key: key }));
    assert.equal(head.ContentLength, data.length);
    assert.equal(head.ContentType, 'application/x-test');
    assert.deepEqual(head.Metadata, { owner: 'shoal', n: '1' });
    assert.equal(head.ETag, put.ETag);
  }
  assert.equal(await errorCode(s3.send(new PutObjectCommand({ Bucket: 'objs', Key: 'a'.repeat(1025), Body: 'x' }))), 'KeyTooLongError 400');
  await s3.send(new PutObjectCommand({ Bucket: 'objs', Key: 'empty', Body: Buffer.alloc(0) }));
  assert.equal((await getBytes('empty')).body.length, 0);
});

test('put with a streamed body of unknown checksum (aws-chunked with a trailer) round-trips', async () => {
  const data = pattern(300_000, 7);
  const body = Readable.from([data.subarray(0, 100_000), data.subarray(100_000)]);
  await s3.send(new PutObjectCommand({ Bucket: 'objs', Key: 'streamed', Body: body, ContentLength: data.length }));
  assert.ok((await getBytes('streamed')).body.equals(data));
});

test('missing keys are NoSuchKey; overwrite replaces content', async () => {
  assert.equal(await errorCode(s3.send(new GetObjectCommand({ Bucket: 'objs', Key: 'nope' }))), 'NoSuchKey 404');
  assert.equal(await errorCode(s3.send(new HeadObjectCommand({ Bucket: 'objs', Key: 'nope' }))), 'NotFound 404');
  await s3.send(new PutObjectCommand({ Bucket: 'objs', Key: 'ow', Body: 'first' }));
  await s3.send(new PutObjectCommand({ Bucket: 'objs', Key: 'ow', Body: 'second!' }));
  assert.equal((await getBytes('ow')).body.toString(), 'second!');
});

test('GetObject ranges: a-b, a-, -n, and unsatisfiable ones', async () => {
  const data = pattern(1000, 3);
  await s3.send(new PutObjectCommand({ Bucket: 'objs', Key: 'ranged', Body: data }));
  const r1 = await getBytes('ranged', 'bytes=10-19');
  assert.equal(r1.status, 206);
  assert.equal(r1.contentRange, 'bytes 10-19/1000');
  assert.ok(r1.body.equals(data.subarray(10, 20)));
  assert.ok((await getBytes('ranged', 'bytes=990-')).body.equals(data.subarray(990)));
  assert.ok((await getBytes('ranged', 'bytes=-5')).body.equals(data.subarray(995)));
  assert.ok((await getBytes('ranged', 'bytes=900-5000')).body.equals(data.subarray(900)));
  assert.equal(await errorCode(s3.send(new GetObjectCommand({ Bucket: 'objs', Key: 'ranged', Range: 'bytes=1000-' }))), 'InvalidRange 416');
});

test('DeleteObject is idempotent; DeleteObjects removes many', async () => {
  for (const k of ['d1', 'd2', 'd3']) await s3.send(new PutObjectCommand({ Bucket: 'objs', Key: k, Body: k }));
  await s3.send(new DeleteObjectCommand({ Bucket: 'objs', Key: 'd1' }));
  await s3.send(new DeleteObjectCommand({ Bucket: 'objs', Key: 'd1' }));
  const r = await s3.send(new DeleteObjectsCommand({ Bucket: 'objs', Delete: { Objects: [{ Key: 'd2' }, { Key: 'd3' }, { Key: 'never' }] } }));
  assert.deepEqual(r.Deleted?.map((d) => d.Key).sort(), ['d2', 'd3', 'never']);
  for (const k of ['d1', 'd2', 'd3']) assert.equal(await errorCode(s3.send(new GetObjectCommand({ Bucket: 'objs', Key: k }))), 'NoSuchKey 404');
});

test('CopyObject keeps or replaces metadata; a missing source is NoSuchKey', async () => {
  await s3.send(new PutObjectCommand({ Bucket: 'objs', Key: 'src key', Body: 'copy me', ContentType: 'text/plain', Metadata: { a: '1' } }));
  const c = await s3.send(new CopyObjectCommand({ Bucket: 'objs', Key: 'dst/copied', CopySource: 'objs/src%20key' }));
  assert.equal(c.CopyObjectResult?.ETag, `"${createHash('md5').update('copy me').digest('hex')}"`);
  const h1 = await s3.send(new HeadObjectCommand({ Bucket: 'objs', Key: 'dst/copied' }));
  assert.deepEqual([h1.ContentType, h1.Metadata], ['text/plain', { a: '1' }]);
  await s3.send(new CopyObjectCommand({ Bucket: 'objs', Key: 'dst/replaced', CopySource: 'objs/src%20key', MetadataDirective: 'REPLACE', ContentType: 'text/x', Metadata: { b: '2' } }));
  const h2 = await s3.send(new HeadObjectCommand({ Bucket: 'objs', Key: 'dst/replaced' }));
  assert.deepEqual([h2.ContentType, h2.Metadata], ['text/x', { b: '2' }]);
  assert.equal((await getBytes('dst/replaced')).body.toString(), 'copy me');
  assert.equal(await errorCode(s3.send(new CopyObjectCommand({ Bucket: 'objs', Key: 'x', CopySource: 'objs/absent' }))), 'NoSuchKey 404');
});
