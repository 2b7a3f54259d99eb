/**
 * S3LocalServer: a small S3-compatible HTTP endpoint over a directory, for `shoal dev` and
 * tests. Callers construct it, `await start()`, use `endpoint`, and `await stop()`; stop()
 * closes the listener and waits for requests in flight. Requests are path-style
 * (`/bucket/key`) or virtual-host-style (`Host: bucket.<virtualHostSuffix>`), authenticated
 * with SigV4 against the configured credentials (or anonymous when configured), and answered
 * with S3's XML errors. See README.md for the operations and limits.
 */
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as buckets from './bucket-handlers.js';
import type { Ctx } from './context.js';
import { FileStore } from './file-store.js';
import { Multipart } from './multipart.js';
import * as objects from './object-handlers.js';
import { validateS3LocalOptions } from './s3-local-options.js';
import type { ResolvedS3LocalOptions, S3LocalOptions } from './s3-local-options.js';
import { S3Error, errorXml } from './s3-error.js';
import { verifySigV4 } from './sigv4.js';
import type { SigningContext } from './sigv4.js';

/** S3's key length limit, in UTF-8 bytes. */
export const KEY_BYTES_MAX = 1024;

/** How long stop() waits for requests in flight before cutting their connections. */
export const STOP_GRACE_MS = 5000;
const STOP_SWEEP_MS = 20;

/** Bucket/object sub-resources S3 has and this server does not; answered NotImplemented. */
const UNSUPPORTED_SUBRESOURCES = ['acl', 'tagging', 'versioning', 'versions', 'policy', 'cors', 'lifecycle', 'website', 'encryption',
  'replication', 'notification', 'logging', 'object-lock', 'retention', 'legal-hold', 'torrent', 'restore', 'select', 'attributes',
  'accelerate', 'analytics', 'inventory', 'metrics', 'ownershipControls', 'publicAccessBlock', 'requestPayment', 'intelligent-tiering'];

export class S3LocalServer {
  readonly options: ResolvedS3LocalOptions;
  private readonly store: FileStore;
  private readonly multipart: Multipart;
  private server: Server | undefined;
  private inFlight = 0;

  constructor(options: S3LocalOptions) {
    this.options = validateS3LocalOptions(options);
    this.store = new FileStore(this.options.dir);
    this.multipart = new Multipart(this.store, this.options);
  }

  /** The port listened on (the real one when options.port was 0). */
  get port(): number {
    const addr = this.server?.address();
    if (addr === null || addr === undefined || typeof addr === 'string') throw new Error('S3LocalServer: not started');
    return (addr as AddressInfo).port;
  }

  get endpoint(): string {
    const host = this.options.host.includes(':') ? `[${this.options.host}]` : this.options.host;
    return `http://${host}:${this.port}`;
  }

  /** Loads the store and listens; rejects (EADDRINUSE …) without leaving a listener behind. */
  async start(): Promise<void> {
    if (this.server !== undefined) throw new Error('S3LocalServer: already started');
    await mkdir(this.options.dir, { recursive: true });
    await this.store.open();
    await this.multipart.open();
    const server = createServer({ maxHeaderSize: this.options.requestHeaderBytesMax }, (req, res) => void this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, this.options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
  }

  /**
   * Stops accepting connections and resolves once requests in flight finished, or after
   * STOP_GRACE_MS, when the remaining connections are cut (a client may hold a body open).
   */
  async stop(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    // Keep-alive connections that finish their request after close() would otherwise
    // linger until their idle timeout, so they are swept until the server has closed.
    const deadline = Date.now() + STOP_GRACE_MS;
    const sweep = setInterval(() => {
      if (Date.now() > deadline) server.closeAllConnections();
      else server.closeIdleConnections();
    }, STOP_SWEEP_MS);
    server.closeIdleConnections();
    await closed;
    clearInterval(sweep);
  }

  /** Creates `bucket` unless it exists (for callers that provision, like `shoal dev`). */
  async ensureBucket(bucket: string): Promise<void> {
    if (!this.store.hasBucket(bucket)) await this.store.createBucket(bucket, this.options.nowMs());
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = randomBytes(8).toString('hex').toUpperCase();
    res.setHeader('x-amz-request-id', requestId);
    res.setHeader('server', 'ShoalS3Local');
    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    const rawPath = q < 0 ? rawUrl : rawUrl.slice(0, q);
    const rawQuery = q < 0 ? '' : rawUrl.slice(q + 1);
    this.inFlight++;
    try {
      if (this.inFlight > this.options.concurrentRequestsMax) {
        res.setHeader('connection', 'close');
        throw new S3Error('SlowDown', `more than ${this.options.concurrentRequestsMax} requests at once`);
      }
      const signing = this.authenticate(req, rawPath, rawQuery);
      const [bucket, key] = this.target(req, rawPath);
      const ctx: Ctx = { req, res, requestId, bucket, key, query: new URLSearchParams(rawQuery), signing, store: this.store, multipart: this.multipart, options: this.options };
      await this.dispatch(ctx);
    } catch (e) {
      this.fail(req, res, rawPath, requestId, e);
    } finally {
      this.inFlight--;
    }
  }

  private authenticate(req: IncomingMessage, rawPath: string, rawQuery: string): SigningContext | undefined {
    const signed = req.headers.authorization !== undefined;
    if (!signed && this.options.anonymous) return undefined;
    if (this.options.credentials === undefined) return undefined; // anonymous without credentials: signatures unchecked
    return verifySigV4(req, rawPath, rawQuery, this.options.credentials, this.options.nowMs());
  }

  /** [bucket, key] from a path-style URL or a `<bucket>.<suffix>` Host header. */
  private target(req: IncomingMessage, rawPath: string): [string, string] {
    const decode = (s: string): string => {
      try {
        return decodeURIComponent(s);
      } catch {
        throw new S3Error('InvalidArgument', 'the path is not valid percent-encoding');
      }
    };
    const hostname = (req.headers.host ?? '').replace(/:\d+$/, '').toLowerCase();
    const suffix = `.${this.options.virtualHostSuffix}`;
    let bucket: string;
    let key: string;
    if (hostname.endsWith(suffix) && hostname.length > suffix.length) {
      bucket = hostname.slice(0, -suffix.length);
      key = decode(rawPath.slice(1));
    } else {
      const slash = rawPath.indexOf('/', 1);
      bucket = decode(slash < 0 ? rawPath.slice(1) : rawPath.slice(1, slash));
      key = slash < 0 ? '' : decode(rawPath.slice(slash + 1));
    }
    if (Buffer.byteLength(key) > KEY_BYTES_MAX) throw new S3Error('KeyTooLongError', `keys are at most ${KEY_BYTES_MAX} bytes`);
    return [bucket, key];
  }

  private async dispatch(ctx: Ctx): Promise<void> {
    const method = ctx.req.method ?? 'GET';
    const q = ctx.query;
    const unsupported = UNSUPPORTED_SUBRESOURCES.find((s) => q.has(s));
    if (unsupported !== undefined) throw new S3Error('NotImplemented', `?${unsupported} is not supported by the local S3 endpoint`);
    if (ctx.bucket === '') {
      if (method === 'GET') return buckets.listBuckets(ctx);
      throw new S3Error('MethodNotAllowed', `${method} is not allowed on the service`);
    }
    if (ctx.key === '') return this.dispatchBucket(ctx, method);
    const uploadId = q.get('uploadId');
    switch (method) {
      case 'PUT': {
        if (uploadId !== null) return objects.uploadPart(ctx, uploadId);
        const copySource = ctx.req.headers['x-amz-copy-source'];
        return typeof copySource === 'string' ? objects.copyObject(ctx, copySource) : objects.putObject(ctx);
      }
      case 'GET':
        return uploadId !== null ? objects.listParts(ctx, uploadId) : objects.getObject(ctx, false);
      case 'HEAD':
        return objects.getObject(ctx, true);
      case 'DELETE':
        return uploadId !== null ? objects.abortMultipartUpload(ctx, uploadId) : objects.deleteObject(ctx);
      case 'POST':
        if (q.has('uploads')) return objects.createMultipartUpload(ctx);
        if (uploadId !== null) return objects.completeMultipartUpload(ctx, uploadId);
        break;
      default:
        break;
    }
    throw new S3Error('MethodNotAllowed', `${method} is not allowed on an object here`);
  }

  private async dispatchBucket(ctx: Ctx, method: string): Promise<void> {
    switch (method) {
      case 'PUT':
        return buckets.createBucket(ctx);
      case 'HEAD':
        return buckets.headBucket(ctx);
      case 'DELETE':
        return buckets.deleteBucket(ctx);
      case 'GET':
        if (ctx.query.has('location')) return buckets.getBucketLocation(ctx);
        if (ctx.query.has('uploads')) throw new S3Error('NotImplemented', 'ListMultipartUploads is not supported');
        return buckets.listObjects(ctx);
      case 'POST':
        if (ctx.query.has('delete')) return buckets.deleteObjects(ctx);
        break;
      default:
        break;
    }
    throw new S3Error('MethodNotAllowed', `${method} is not allowed on a bucket here`);
  }

  private fail(req: IncomingMessage, res: ServerResponse, resource: string, requestId: string, e: unknown): void {
    const err = e instanceof S3Error ? e : new S3Error('InternalError', e instanceof Error ? e.message : String(e));
    if (!(e instanceof S3Error)) console.error('s3-local: internal error', e);
    if (res.headersSent) {
      res.destroy(); // mid-body: the client sees a short read, never a corrupt 200
      return;
    }
    // The body may be unread; ask the client not to reuse a connection we cannot resync.
    if (!req.complete) res.setHeader('connection', 'close');
    const body = req.method === 'HEAD' ? Buffer.alloc(0) : Buffer.from(errorXml(err, resource, requestId));
    res.writeHead(err.status, { 'content-type': 'application/xml', 'content-length': body.length });
    res.end(body);
    if (!req.complete) req.resume();
  }
}
