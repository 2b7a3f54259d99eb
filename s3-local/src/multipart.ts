/**
 * Multipart uploads: parts are stored under `<root>/.uploads/<uploadId>/` (data file plus a
 * JSON sidecar each, written like objects), and CompleteMultipartUpload concatenates the
 * listed parts into one temp file that is committed as the object. Uploads survive a
 * restart; open() reloads them. The ETag of the result is S3's: the MD5 of the parts' binary
 * MD5s followed by `-<part count>`.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { FileStore, ObjectMeta } from './file-store.js';
import { S3Error } from './s3-error.js';

export interface PartInfo {
  readonly partNumber: number;
  readonly etag: string;
  readonly size: number;
  readonly md5Hex: string;
  readonly lastModifiedMs: number;
  readonly dataFile: string;
}

interface Upload {
  readonly uploadId: string;
  readonly bucket: string;
  readonly key: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly initiatedMs: number;
  readonly parts: Map<number, PartInfo>;
}

export interface MultipartLimits {
  readonly partsMax: number;
  /** Every part but the last must be at least this big (S3: 5 MiB). */
  readonly partBytesMin: number;
  readonly objectBytesMax: number;
  /** Uploads in progress at once; more is refused rather than filling the disk. */
  readonly uploadsMax: number;
}

export class Multipart {
  private readonly uploads = new Map<string, Upload>();

  constructor(private readonly store: FileStore, private readonly limits: MultipartLimits) {}

  async open(): Promise<void> {
    for (const id of await readdir(this.store.uploadsDir)) {
      const dir = join(this.store.uploadsDir, id);
      const info = JSON.parse(await readFile(join(dir, 'upload.json'), 'utf8').catch(() => 'null')) as Omit<Upload, 'parts'> | null;
      if (info === null) {
        await this.store.removeDir(dir);
        continue;
      }
      const parts = new Map<number, PartInfo>();
      for (const f of (await readdir(dir)).filter((x) => /^\d+\.json$/.test(x))) {
        const p = JSON.parse(await readFile(join(dir, f), 'utf8')) as PartInfo;
        parts.set(p.partNumber, p);
      }
      this.uploads.set(id, { ...info, parts });
    }
  }

  async create(bucket: string, key: string, headers: Record<string, string>, nowMs: number): Promise<string> {
    this.store.assertBucket(bucket);
    if (this.uploads.size >= this.limits.uploadsMax) throw new S3Error('SlowDown', `more than ${this.limits.uploadsMax} multipart uploads in progress`);
    const uploadId = randomBytes(16).toString('hex');
    const dir = join(this.store.uploadsDir, uploadId);
    await mkdir(dir);
    const info = { uploadId, bucket, key, headers, initiatedMs: nowMs };
    await this.store.writeFileAtomic(join(dir, 'upload.json'), JSON.stringify(info));
    this.uploads.set(uploadId, { ...info, parts: new Map() });
    return uploadId;
  }

  private upload(bucket: string, key: string, uploadId: string): Upload {
    const u = this.uploads.get(uploadId);
    if (u === undefined || u.bucket !== bucket || u.key !== key) throw new S3Error('NoSuchUpload', `upload ${uploadId} does not exist`);
    return u;
  }

  /** Checks the part number before the body is read. */
  checkPart(bucket: string, key: string, uploadId: string, partNumber: number): void {
    this.upload(bucket, key, uploadId);
    if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > this.limits.partsMax) {
      throw new S3Error('InvalidArgument', `partNumber must be an integer from 1 to ${this.limits.partsMax}`);
    }
  }

  async putPart(bucket: string, key: string, uploadId: string, partNumber: number, tempPath: string, size: number, md5Hex: string, nowMs: number): Promise<PartInfo> {
    const u = this.upload(bucket, key, uploadId);
    const dir = join(this.store.uploadsDir, uploadId);
    const part: PartInfo = { partNumber, etag: `"${md5Hex}"`, size, md5Hex, lastModifiedMs: nowMs, dataFile: `${partNumber}.${randomBytes(6).toString('hex')}.part` };
    await rename(tempPath, join(dir, part.dataFile));
    await this.store.writeFileAtomic(join(dir, `${partNumber}.json`), JSON.stringify(part));
    u.parts.set(partNumber, part);
    return part;
  }

  listParts(bucket: string, key: string, uploadId: string): PartInfo[] {
    return [...this.upload(bucket, key, uploadId).parts.values()].sort((a, b) => a.partNumber - b.partNumber);
  }

  async abort(bucket: string, key: string, uploadId: string): Promise<void> {
    this.upload(bucket, key, uploadId);
    this.uploads.delete(uploadId);
    await this.store.removeDir(join(this.store.uploadsDir, uploadId));
  }

  /** `wanted` is the client's (partNumber, ETag) list from the CompleteMultipartUpload body. */
  async complete(bucket: string, key: string, uploadId: string, wanted: readonly { partNumber: number; etag: string }[], nowMs: number): Promise<ObjectMeta> {
    const u = this.upload(bucket, key, uploadId);
    if (wanted.length === 0) throw new S3Error('MalformedXML', 'CompleteMultipartUpload needs at least one part');
    if (wanted.length > this.limits.partsMax) throw new S3Error('InvalidArgument', `more than ${this.limits.partsMax} parts`);
    const parts: PartInfo[] = [];
    let total = 0;
    // Order is checked over the whole list first, as S3 reports it before part-level errors.
    for (const [i, w] of wanted.entries()) {
      if (i > 0 && w.partNumber <= (wanted[i - 1]?.partNumber ?? 0)) throw new S3Error('InvalidPartOrder', 'parts must be listed in ascending order');
    }
    for (const [i, w] of wanted.entries()) {
      const p = u.parts.get(w.partNumber);
      if (p === undefined || p.etag !== normaliseEtag(w.etag)) throw new S3Error('InvalidPart', `part ${w.partNumber} was not uploaded or its ETag differs`);
      if (i < wanted.length - 1 && p.size < this.limits.partBytesMin) throw new S3Error('EntityTooSmall', `part ${w.partNumber} is smaller than ${this.limits.partBytesMin} bytes`);
      total += p.size;
      parts.push(p);
    }
    if (total > this.limits.objectBytesMax) throw new S3Error('EntityTooLarge', `object of ${total} bytes exceeds ${this.limits.objectBytesMax}`);
    const dir = join(this.store.uploadsDir, uploadId);
    const t = await this.store.createTemp();
    const etagHash = createHash('md5');
    try {
      for (const p of parts) {
        etagHash.update(Buffer.from(p.md5Hex, 'hex'));
        for await (const chunk of createReadStream(join(dir, p.dataFile)) as AsyncIterable<Buffer>) await t.handle.write(chunk);
      }
      await t.handle.sync();
      await t.handle.close();
    } catch (e) {
      await this.store.discardTemp(t);
      throw e;
    }
    const meta = await this.store.commit(bucket, key, t.path, {
      size: total, etag: `"${etagHash.digest('hex')}-${parts.length}"`, lastModifiedMs: nowMs, headers: u.headers,
    });
    this.uploads.delete(uploadId);
    await this.store.removeDir(dir);
    return meta;
  }
}

function normaliseEtag(e: string): string {
  const t = e.trim();
  return t.startsWith('"') ? t : `"${t}"`;
}
