/**
 * Buckets and objects on disk under one root directory:
 *
 *   <root>/<bucket>/bucket.json                      creation time
 *   <root>/<bucket>/objects/<sha256(key)>.json       sidecar: key, size, ETag, headers, data file
 *   <root>/<bucket>/objects/<sha256(key)>.<id>.data  the bytes
 *   <root>/.tmp/, <root>/.uploads/<uploadId>/        in-flight writes and multipart uploads
 *
 * Keys are hashed for their file names, so any key (slashes, `..`, 1024 bytes) is safe on
 * disk. Every write goes to a temp file, is fsynced and renamed; the sidecar rename is the
 * commit point and names its data file, so a crash never pairs new bytes with old metadata.
 * Data files no sidecar names are removed at open(). Bucket names never start with a dot,
 * so `.tmp` and `.uploads` cannot collide with one. The index of keys lives in memory
 * (rebuilt from sidecars at open); this process must be the only writer of the root.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, rmdir, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { S3Error } from './s3-error.js';

export interface ObjectMeta {
  readonly key: string;
  readonly size: number;
  /** Quoted, as S3 sends it: `"<md5 hex>"` or `"<md5 of part md5s>-<parts>"`. */
  readonly etag: string;
  readonly lastModifiedMs: number;
  /** Stored response headers: content-type, cache-control, …, x-amz-meta-*. */
  readonly headers: Readonly<Record<string, string>>;
  readonly dataFile: string;
}

interface Bucket {
  readonly name: string;
  readonly createdMs: number;
  readonly objects: Map<string, ObjectMeta>;
  sortedKeys: string[] | undefined;
}

/** S3 sorts keys by their UTF-8 bytes, which differs from JS string order past U+D7FF. */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

export function validBucketName(name: string): boolean {
  return /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name) && !name.includes('..') && !/^\d+\.\d+\.\d+\.\d+$/.test(name);
}

/** A temp file being written; close() fsyncs it so a later rename publishes durable bytes. */
export interface TempFile {
  readonly path: string;
  readonly handle: FileHandle;
}

export class FileStore {
  private readonly buckets = new Map<string, Bucket>();
  private readonly locks = new Map<string, Promise<void>>();
  readonly tmpDir: string;
  readonly uploadsDir: string;

  constructor(readonly root: string) {
    this.tmpDir = join(root, '.tmp');
    this.uploadsDir = join(root, '.uploads');
  }

  /** Loads every bucket's index from its sidecars; clears temp files left by a crash. */
  async open(): Promise<void> {
    await rm(this.tmpDir, { recursive: true, force: true });
    await mkdir(this.tmpDir, { recursive: true });
    await mkdir(this.uploadsDir, { recursive: true });
    for (const name of await readdir(this.root)) {
      if (!validBucketName(name)) continue;
      const info = JSON.parse(await readFile(join(this.root, name, 'bucket.json'), 'utf8')) as { createdMs: number };
      const bucket: Bucket = { name, createdMs: info.createdMs, objects: new Map(), sortedKeys: undefined };
      const dir = join(this.root, name, 'objects');
      const files = await readdir(dir);
      const live = new Set<string>();
      for (const f of files.filter((x) => x.endsWith('.json'))) {
        const meta = JSON.parse(await readFile(join(dir, f), 'utf8')) as ObjectMeta;
        bucket.objects.set(meta.key, meta);
        live.add(meta.dataFile);
      }
      for (const f of files) if (!f.endsWith('.json') && !live.has(f)) await unlink(join(dir, f));
      this.buckets.set(name, bucket);
    }
  }

  listBuckets(): { name: string; createdMs: number }[] {
    return [...this.buckets.values()].map((b) => ({ name: b.name, createdMs: b.createdMs })).sort((a, b) => compareKeys(a.name, b.name));
  }

  hasBucket(name: string): boolean {
    return this.buckets.has(name);
  }

  async createBucket(name: string, nowMs: number): Promise<void> {
    if (!validBucketName(name)) throw new S3Error('InvalidBucketName', `${name} is not a valid bucket name`);
    if (this.buckets.has(name)) throw new S3Error('BucketAlreadyOwnedByYou', `bucket ${name} already exists`);
    await mkdir(join(this.root, name, 'objects'), { recursive: true });
    await this.writeFileAtomic(join(this.root, name, 'bucket.json'), JSON.stringify({ createdMs: nowMs }));
    this.buckets.set(name, { name, createdMs: nowMs, objects: new Map(), sortedKeys: undefined });
  }

  async deleteBucket(name: string): Promise<void> {
    const b = this.bucket(name);
    if (b.objects.size > 0) throw new S3Error('BucketNotEmpty', `bucket ${name} is not empty`);
    this.buckets.delete(name);
    await rm(join(this.root, name), { recursive: true, force: true });
  }

  /** The bucket, or NoSuchBucket. */
  private bucket(name: string): Bucket {
    const b = this.buckets.get(name);
    if (b === undefined) throw new S3Error('NoSuchBucket', `bucket ${name} does not exist`);
    return b;
  }

  assertBucket(name: string): void {
    this.bucket(name);
  }

  head(bucket: string, key: string): ObjectMeta {
    const meta = this.bucket(bucket).objects.get(key);
    if (meta === undefined) throw new S3Error('NoSuchKey', `key ${key} does not exist`);
    return meta;
  }

  dataPath(bucket: string, meta: ObjectMeta): string {
    return join(this.root, bucket, 'objects', meta.dataFile);
  }

  /** Keys of `bucket` in S3 order; sorted again only after a change. */
  sortedKeys(bucket: string): readonly string[] {
    const b = this.bucket(bucket);
    b.sortedKeys ??= [...b.objects.keys()].sort(compareKeys);
    return b.sortedKeys;
  }

  async createTemp(): Promise<TempFile> {
    const path = join(this.tmpDir, randomBytes(12).toString('hex'));
    return { path, handle: await open(path, 'wx') };
  }

  async discardTemp(t: TempFile): Promise<void> {
    await t.handle.close().catch(() => undefined);
    await unlink(t.path).catch(() => undefined);
  }

  /**
   * Publishes a closed, fsynced temp file as `key`. Serialised per key so the index, the
   * sidecar on disk and the removal of the replaced data file always agree.
   */
  async commit(bucket: string, key: string, tempPath: string, meta: Omit<ObjectMeta, 'key' | 'dataFile'>): Promise<ObjectMeta> {
    const b = this.bucket(bucket);
    const base = createHash('sha256').update(key).digest('hex');
    const dir = join(this.root, bucket, 'objects');
    const full: ObjectMeta = { ...meta, key, dataFile: `${base}.${randomBytes(8).toString('hex')}.data` };
    return this.withLock(`${bucket}/${key}`, async () => {
      await rename(tempPath, join(dir, full.dataFile));
      await this.writeFileAtomic(join(dir, `${base}.json`), JSON.stringify(full));
      const old = b.objects.get(key);
      b.objects.set(key, full);
      if (old === undefined) b.sortedKeys = undefined;
      // Readers that already opened the old file keep reading it: unlink does not cut them off.
      if (old !== undefined) await unlink(join(dir, old.dataFile)).catch(() => undefined);
      return full;
    });
  }

  /** Removes `key`; absent keys are fine (S3 DeleteObject is idempotent). */
  async delete(bucket: string, key: string): Promise<void> {
    const b = this.bucket(bucket);
    const base = createHash('sha256').update(key).digest('hex');
    const dir = join(this.root, bucket, 'objects');
    await this.withLock(`${bucket}/${key}`, async () => {
      const old = b.objects.get(key);
      if (old === undefined) return;
      await unlink(join(dir, `${base}.json`));
      b.objects.delete(key);
      b.sortedKeys = undefined;
      await unlink(join(dir, old.dataFile)).catch(() => undefined);
    });
  }

  /** temp file + fsync + rename, the only way this store writes a small file. */
  async writeFileAtomic(path: string, text: string): Promise<void> {
    const t = await this.createTemp();
    try {
      await t.handle.writeFile(text);
      await t.handle.sync();
      await t.handle.close();
      await rename(t.path, path);
    } catch (e) {
      await this.discardTemp(t);
      throw e;
    }
  }

  async removeDir(path: string): Promise<void> {
    await rm(path, { recursive: true, force: true });
  }

  async removeEmptyDir(path: string): Promise<void> {
    await rmdir(path).catch(() => undefined);
  }

  private async withLock<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(id) ?? Promise.resolve();
    let release = (): void => undefined;
    const mine = new Promise<void>((r) => {
      release = r;
    });
    const chained = prev.then(() => mine);
    this.locks.set(id, chained);
    await prev;
    try {
      return await fn();
    } finally {
      release();
      if (this.locks.get(id) === chained) this.locks.delete(id);
    }
  }
}
