/**
 * Reads a request body once, decoding aws-chunked framing, enforcing a size limit and
 * checking every integrity claim the client made: x-amz-content-sha256 (hex), Content-MD5,
 * x-amz-decoded-content-length and x-amz-checksum-* (header or trailer). Payload bytes go
 * to a sink (a temp file for objects, memory for XML request documents).
 */
import { createHash } from 'node:crypto';
import type { Hash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { crc32 } from 'node:zlib';
import { AwsChunkedDecoder } from './aws-chunked.js';
import { S3Error } from './s3-error.js';
import type { SigningContext } from './sigv4.js';

export interface BodyResult {
  readonly bytes: number;
  readonly md5Hex: string;
}

/** Where decoded payload bytes go; awaited per piece so a slow disk pushes back on the socket. */
export type BodySink = (piece: Buffer) => Promise<void> | void;

const CRC32C_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32c(buf: Buffer, prev: number): number {
  let c = ~prev >>> 0;
  for (const b of buf) c = (CRC32C_TABLE[(c ^ b) & 0xff] ?? 0) ^ (c >>> 8);
  return ~c >>> 0;
}

/** One running checksum of the kinds clients put in x-amz-checksum-*; crc64nvme is passed unchecked. */
class Checksum {
  private crc = 0;
  private readonly hash: Hash | undefined;
  constructor(readonly algorithm: string) {
    this.hash = algorithm === 'sha1' || algorithm === 'sha256' ? createHash(algorithm) : undefined;
  }
  update(b: Buffer): void {
    if (this.algorithm === 'crc32') this.crc = crc32(b, this.crc);
    else if (this.algorithm === 'crc32c') this.crc = crc32c(b, this.crc);
    else this.hash?.update(b);
  }
  /** Base64 of the checksum, or undefined for algorithms we do not compute. */
  digest(): string | undefined {
    if (this.algorithm === 'crc32' || this.algorithm === 'crc32c') {
      const out = Buffer.alloc(4);
      out.writeUInt32BE(this.crc >>> 0);
      return out.toString('base64');
    }
    return this.hash?.digest('base64');
  }
}

function checksumAlgorithm(req: IncomingMessage): string | undefined {
  const trailer = req.headers['x-amz-trailer'];
  if (typeof trailer === 'string' && trailer.startsWith('x-amz-checksum-')) return trailer.slice(15).toLowerCase();
  for (const name of Object.keys(req.headers)) {
    if (name.startsWith('x-amz-checksum-') && name !== 'x-amz-checksum-type' && name !== 'x-amz-checksum-algorithm') return name.slice(15);
  }
  return undefined;
}

/** Consumes `req`, feeding decoded bytes to `sink`; throws the S3 error for any mismatch. */
export async function readBody(req: IncomingMessage, signing: SigningContext | undefined, bytesMax: number, sink: BodySink): Promise<BodyResult> {
  const contentSha = String(req.headers['x-amz-content-sha256'] ?? 'UNSIGNED-PAYLOAD');
  const streaming = contentSha.startsWith('STREAMING-');
  const chunkSigned = streaming && contentSha.startsWith('STREAMING-AWS4-HMAC-SHA256-PAYLOAD');
  if (streaming && !/^STREAMING-(UNSIGNED-PAYLOAD-TRAILER|AWS4-HMAC-SHA256-PAYLOAD(-TRAILER)?)$/.test(contentSha)) {
    throw new S3Error('NotImplemented', `x-amz-content-sha256 ${contentSha} is not supported`);
  }
  if (!streaming && contentSha !== 'UNSIGNED-PAYLOAD' && !/^[0-9a-f]{64}$/.test(contentSha)) {
    throw new S3Error('InvalidArgument', 'x-amz-content-sha256 must be a hex SHA-256, UNSIGNED-PAYLOAD or STREAMING-*');
  }
  const declared = streaming ? req.headers['x-amz-decoded-content-length'] : req.headers['content-length'];
  if (declared !== undefined && Number(declared) > bytesMax) throw new S3Error('EntityTooLarge', `body of ${declared} bytes exceeds the ${bytesMax}-byte limit`);
  const decoder = streaming ? new AwsChunkedDecoder(chunkSigned ? signing : undefined) : undefined;
  const md5 = createHash('md5');
  const sha = streaming || contentSha === 'UNSIGNED-PAYLOAD' ? undefined : createHash('sha256');
  const algo = checksumAlgorithm(req);
  const checksum = algo === undefined ? undefined : new Checksum(algo);
  let bytes = 0;
  for await (const raw of req as AsyncIterable<Buffer>) {
    for (const piece of decoder === undefined ? [raw] : decoder.push(raw)) {
      bytes += piece.length;
      if (bytes > bytesMax) throw new S3Error('EntityTooLarge', `body exceeds the ${bytesMax}-byte limit`);
      md5.update(piece);
      sha?.update(piece);
      checksum?.update(piece);
      await sink(piece);
    }
  }
  const trailers = decoder?.end();
  if (streaming && declared !== undefined && Number(declared) !== bytes) {
    throw new S3Error('IncompleteBody', `x-amz-decoded-content-length says ${String(declared)} bytes, body had ${bytes}`);
  }
  if (sha !== undefined && sha.digest('hex') !== contentSha) throw new S3Error('XAmzContentSHA256Mismatch', 'the body does not match x-amz-content-sha256');
  const md5Buf = md5.digest();
  const contentMd5 = req.headers['content-md5'];
  if (contentMd5 !== undefined && contentMd5 !== md5Buf.toString('base64')) throw new S3Error('BadDigest', 'the body does not match Content-MD5');
  if (checksum !== undefined) {
    const claimed = trailers?.get(`x-amz-checksum-${checksum.algorithm}`) ?? req.headers[`x-amz-checksum-${checksum.algorithm}`];
    const actual = checksum.digest();
    if (typeof claimed === 'string' && actual !== undefined && claimed !== actual) {
      throw new S3Error('BadDigest', `the body does not match x-amz-checksum-${checksum.algorithm}`);
    }
  }
  return { bytes, md5Hex: md5Buf.toString('hex') };
}

/** Reads a small XML request document into memory. */
export async function readXmlBody(req: IncomingMessage, signing: SigningContext | undefined, bytesMax: number): Promise<string> {
  const parts: Buffer[] = [];
  await readBody(req, signing, bytesMax, (p) => {
    parts.push(Buffer.from(p));
  });
  return Buffer.concat(parts).toString('utf8');
}
