/**
 * Decoder for `Content-Encoding: aws-chunked` request bodies, which AWS SDKs send when
 * x-amz-content-sha256 is one of the STREAMING-* values:
 *
 *   <hex size>[;chunk-signature=<sig>]\r\n<data>\r\n ... 0[;chunk-signature=<sig>]\r\n
 *   [<trailer name>:<value>\r\n ...]\r\n
 *
 * Signed variants chain each chunk's signature to the previous one, starting from the
 * request's seed signature; a broken chain is SignatureDoesNotMatch. Trailers (newer SDKs
 * put `x-amz-checksum-crc32` there) are returned by end() for the caller to check.
 */
import { createHash } from 'node:crypto';
import type { Hash } from 'node:crypto';
import { S3Error } from './s3-error.js';
import { chunkSignature, signaturesEqual, trailerSignature } from './sigv4.js';
import type { SigningContext } from './sigv4.js';

/** Longest chunk header or trailer line we buffer before calling the body malformed. */
export const CHUNK_LINE_BYTES_MAX = 4096;
/** Trailer lines one body may carry. */
export const TRAILERS_MAX = 16;

type State = 'header' | 'data' | 'data-crlf' | 'trailer' | 'done';

export class AwsChunkedDecoder {
  private state: State = 'header';
  private line = Buffer.alloc(0);
  private remaining = 0;
  private chunkHash: Hash | undefined;
  private chunkSig = '';
  private previousSig: string;
  private crlf = 0;
  private readonly trailers = new Map<string, string>();
  private trailerText = '';

  /** `signing` is set for STREAMING-AWS4-HMAC-SHA256-* bodies whose chunks carry signatures. */
  constructor(private readonly signing: SigningContext | undefined) {
    this.previousSig = signing?.seedSignature ?? '';
  }

  /** Feeds raw body bytes; returns the decoded payload bytes they contained. */
  push(buf: Buffer): Buffer[] {
    const out: Buffer[] = [];
    let i = 0;
    while (i < buf.length) {
      switch (this.state) {
        case 'header':
        case 'trailer': {
          const nl = buf.indexOf(0x0a, i);
          const end = nl < 0 ? buf.length : nl + 1;
          this.line = Buffer.concat([this.line, buf.subarray(i, end)]);
          if (this.line.length > CHUNK_LINE_BYTES_MAX) throw new S3Error('IncompleteBody', 'aws-chunked line too long');
          i = end;
          if (nl >= 0) this.onLine(this.line.toString('latin1').replace(/\r?\n$/, ''));
          break;
        }
        case 'data': {
          const n = Math.min(this.remaining, buf.length - i);
          const piece = buf.subarray(i, i + n);
          this.chunkHash?.update(piece);
          out.push(piece);
          this.remaining -= n;
          i += n;
          if (this.remaining === 0) this.state = 'data-crlf';
          break;
        }
        case 'data-crlf': {
          const want = this.crlf === 0 ? 0x0d : 0x0a;
          if (buf[i] !== want) throw new S3Error('IncompleteBody', 'aws-chunked chunk not followed by CRLF');
          i++;
          if (++this.crlf === 2) {
            this.crlf = 0;
            this.finishChunk();
            this.state = 'header';
          }
          break;
        }
        case 'done':
          throw new S3Error('IncompleteBody', 'bytes after the end of an aws-chunked body');
        default: {
          const never: never = this.state;
          throw new Error(`unreachable ${String(never)}`);
        }
      }
    }
    return out;
  }

  /** Call at the end of the request; returns the trailers (lower-case names). */
  end(): ReadonlyMap<string, string> {
    // Some clients close the trailer section without its final empty line.
    if (this.state === 'trailer' && this.line.length === 0) this.state = 'done';
    if (this.state !== 'done') throw new S3Error('IncompleteBody', 'aws-chunked body ended early');
    return this.trailers;
  }

  private onLine(text: string): void {
    this.line = Buffer.alloc(0);
    if (this.state === 'header') {
      const m = /^([0-9a-fA-F]{1,16})(?:;chunk-signature=([0-9a-f]{64}))?$/.exec(text);
      if (m === null) throw new S3Error('IncompleteBody', `bad aws-chunked header ${JSON.stringify(text.slice(0, 80))}`);
      if (this.signing !== undefined && m[2] === undefined) throw new S3Error('SignatureDoesNotMatch', 'aws-chunked chunk without chunk-signature');
      this.remaining = parseInt(m[1] ?? '0', 16);
      this.chunkSig = m[2] ?? '';
      this.chunkHash = this.signing === undefined ? undefined : createHash('sha256');
      if (this.remaining > 0) {
        this.state = 'data';
      } else {
        this.finishChunk();
        this.state = 'trailer';
      }
      return;
    }
    if (text === '') {
      this.state = 'done';
      return;
    }
    this.onTrailer(text);
  }

  private onTrailer(text: string): void {
    const colon = text.indexOf(':');
    if (colon <= 0) throw new S3Error('IncompleteBody', 'bad aws-chunked trailer line');
    const name = text.slice(0, colon).trim().toLowerCase();
    const value = text.slice(colon + 1).trim();
    if (name === 'x-amz-trailer-signature') {
      if (this.signing !== undefined) {
        const want = trailerSignature(this.signing, this.previousSig, this.trailerText);
        if (!signaturesEqual(want, value)) throw new S3Error('SignatureDoesNotMatch', 'trailer signature does not match');
      }
      return;
    }
    if (this.trailers.size >= TRAILERS_MAX) throw new S3Error('InvalidRequest', `more than ${TRAILERS_MAX} trailers`);
    this.trailers.set(name, value);
    this.trailerText += `${name}:${value}\n`;
  }

  private finishChunk(): void {
    if (this.signing === undefined || this.chunkHash === undefined) return;
    const want = chunkSignature(this.signing, this.previousSig, this.chunkHash.digest('hex'));
    if (!signaturesEqual(want, this.chunkSig)) throw new S3Error('SignatureDoesNotMatch', 'aws-chunked chunk signature does not match');
    this.previousSig = this.chunkSig;
  }
}
