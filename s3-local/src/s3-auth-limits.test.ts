/**
 * Goal: SigV4 is enforced (wrong secret/key, unsigned), anonymous mode works, body integrity
 * claims (aws-chunked trailer CRC, x-amz-content-sha256) are checked, named limits answer
 * with S3 errors, options are validated, and objects survive a restart.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, test } from 'node:test';
import { crc32 } from 'node:zlib';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { isKvError } from '@shoal/common';
import { S3LocalServer } from './s3-local-server.js';
import { CREDS, client, errorCode, pattern, startServer, tempDir } from './test-util.js';

const dirs: (() => void)[] = [];
after(() => dirs.forEach((c) => c()));

function newDir(): string {
  const t = tempDir();
  dirs.push(t.cleanup);
  return t.dir;
}

interface RawReply { status: number; body: string }

/** One plain HTTP request; `hold` keeps the body open until the returned promise's `finish` is called. */
function raw(server: S3LocalServer, method: string, path: string, headers: Record<string, string> = {}, body?: string | Buffer): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('SigV4: right credentials work; wrong secret, unknown key and unsigned requests are refused', async () => {
  const server = await startServer(newDir());
  const good = client(server);
  await good.send(new CreateBucketCommand({ Bucket: 'auth' }));
  await good.send(new PutObjectCommand({ Bucket: 'auth', Key: 'k', Body: 'v' }));
  const wrongSecret = client(server, { ...CREDS, secretAccessKey: 'not-the-secret' });
  assert.equal(await errorCode(wrongSecret.send(new GetObjectCommand({ Bucket: 'auth', Key: 'k' }))), 'SignatureDoesNotMatch 403');
  assert.equal(await errorCode(wrongSecret.send(new PutObjectCommand({ Bucket: 'auth', Key: 'k2', Body: 'x' }))), 'SignatureDoesNotMatch 403');
  const wrongKey = client(server, { ...CREDS, accessKeyId: 'someone-else' });
  assert.equal(await errorCode(wrongKey.send(new ListObjectsV2Command({ Bucket: 'auth' }))), 'InvalidAccessKeyId 403');
  const anon = await raw(server, 'GET', '/auth/k');
  assert.equal(anon.status, 403);
  assert.match(anon.body, /<Code>AccessDenied<\/Code>/);
  for (const c of [good, wrongSecret, wrongKey]) c.destroy();
  await server.stop();
});

test('anonymous mode: unsigned requests, path- and virtual-host-style', async () => {
  const server = await startServer(newDir(), { credentials: undefined, anonymous: true });
  assert.equal((await raw(server, 'PUT', '/anon')).status, 200);
  assert.equal((await raw(server, 'PUT', '/anon/a%20b', { 'content-type': 'text/plain' }, 'hello')).status, 200);
  assert.equal((await raw(server, 'GET', '/anon/a%20b')).body, 'hello');
  const vh = await raw(server, 'GET', '/a%20b', { host: `anon.localhost:${server.port}` });
  assert.deepEqual([vh.status, vh.body], [200, 'hello']);
  const missing = await raw(server, 'GET', '/anon/zzz');
  assert.equal(missing.status, 404);
  assert.match(missing.body, /<Code>NoSuchKey<\/Code>/);
  await server.stop();
});

test('body integrity: aws-chunked trailer CRC32 and x-amz-content-sha256 are checked', async () => {
  const server = await startServer(newDir(), { credentials: undefined, anonymous: true });
  await raw(server, 'PUT', '/integ');
  const payload = Buffer.from('hello world');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(payload));
  const chunked = (crcB64: string): string => `5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:${crcB64}\r\n\r\n`;
  const headers = {
    'content-encoding': 'aws-chunked', 'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER', 'x-amz-trailer': 'x-amz-checksum-crc32',
    'x-amz-decoded-content-length': String(payload.length),
  };
  assert.equal((await raw(server, 'PUT', '/integ/ok', headers, chunked(crc.toString('base64')))).status, 200);
  assert.equal((await raw(server, 'GET', '/integ/ok')).body, 'hello world');
  const bad = await raw(server, 'PUT', '/integ/bad', headers, chunked('AAAAAA=='));
  assert.equal(bad.status, 400);
  assert.match(bad.body, /<Code>BadDigest<\/Code>/);
  const short = await raw(server, 'PUT', '/integ/short', headers, '5\r\nhello\r\n');
  assert.match(short.body, /<Code>IncompleteBody<\/Code>/);
  const sha = await raw(server, 'PUT', '/integ/sha', { 'x-amz-content-sha256': '0'.repeat(64) }, 'body');
  assert.match(sha.body, /<Code>XAmzContentSHA256Mismatch<\/Code>/);
  assert.equal((await raw(server, 'GET', '/integ/bad')).status, 404);
  await server.stop();
});

test('limits: objectBytesMax is EntityTooLarge, concurrentRequestsMax is SlowDown', async () => {
  const server = await startServer(newDir(), { objectBytesMax: 1000, concurrentRequestsMax: 1 });
  const s3 = client(server);
  await s3.send(new CreateBucketCommand({ Bucket: 'lim' }));
  assert.equal(await errorCode(s3.send(new PutObjectCommand({ Bucket: 'lim', Key: 'big', Body: pattern(2000) }))), 'EntityTooLarge 400');
  s3.destroy();
  await server.stop();
  // Hold one request open (headers sent, body not finished) so the next one is over the limit;
  // anonymous, so it gets as far as reading its body.
  const anonServer = await startServer(newDir(), { credentials: undefined, anonymous: true, concurrentRequestsMax: 1 });
  await raw(anonServer, 'PUT', '/lim');
  const held = request({ host: '127.0.0.1', port: anonServer.port, method: 'PUT', path: '/lim/x', headers: { 'content-length': '10' } });
  held.on('error', () => undefined);
  held.write('12345');
  let slow: RawReply | undefined;
  for (const deadline = Date.now() + 10_000; Date.now() < deadline;) {
    const r = await raw(anonServer, 'GET', '/', { connection: 'close' });
    if (r.status === 503) {
      slow = r;
      break;
    }
  }
  assert.match(slow?.body ?? '', /<Code>SlowDown<\/Code>/);
  held.end('67890');
  await anonServer.stop();
  assert.equal((await (async () => {
    const again = await startServer(anonServer.options.dir, { credentials: undefined, anonymous: true });
    const r = await raw(again, 'GET', '/lim/x', { connection: 'close' });
    await again.stop();
    return r.body;
  })()), '1234567890');
});

test('options are validated with KvError naming the option', () => {
  const bad = (o: object, option: string): void => {
    assert.throws(() => new S3LocalServer({ dir: '/tmp/x', ...o }), (e: unknown) => isKvError(e, 'INVALID_ARGUMENT') && e.details?.option === option);
  };
  bad({}, 'credentials');
  bad({ anonymous: true, partsMax: 10_001 }, 'partsMax');
  bad({ anonymous: true, port: 70000 }, 'port');
  bad({ anonymous: true, partBytesMin: 10, partBytesMax: 5 }, 'partBytesMin');
  bad({ credentials: { accessKeyId: 'ok-key', secretAccessKey: 'short' } }, 'credentials.secretAccessKey');
});

test('a restart keeps buckets and objects', async () => {
  const dir = newDir();
  const first = await startServer(dir);
  const s3a = client(first);
  const data = pattern(70_000, 5);
  await s3a.send(new CreateBucketCommand({ Bucket: 'keep' }));
  await s3a.send(new PutObjectCommand({ Bucket: 'keep', Key: 'x/y', Body: data, Metadata: { m: 'v' } }));
  s3a.destroy();
  await first.stop();
  const second = await startServer(dir);
  const s3b = client(second);
  const got = await s3b.send(new GetObjectCommand({ Bucket: 'keep', Key: 'x/y' }));
  assert.deepEqual(got.Metadata, { m: 'v' });
  assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(data));
  assert.deepEqual((await s3b.send(new ListObjectsV2Command({ Bucket: 'keep' }))).Contents?.map((c) => c.Key), ['x/y']);
  s3b.destroy();
  await second.stop();
});
