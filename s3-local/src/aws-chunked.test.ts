/**
 * Goal: signed aws-chunked bodies are decoded and their chunk-signature chain is checked,
 * using the worked example of AWS's "Signature Calculations for the Authorization Header:
 * Transferring Payload in Multiple Chunks" (so the chain is checked against AWS's numbers,
 * not against our own signer).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AwsChunkedDecoder } from './aws-chunked.js';
import { S3Error } from './s3-error.js';
import { deriveSigningKey } from './sigv4.js';
import type { SigningContext } from './sigv4.js';

const CTX: SigningContext = {
  signingKey: deriveSigningKey('wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', '20130524', 'us-east-1'),
  amzDate: '20130524T000000Z',
  scope: '20130524/us-east-1/s3/aws4_request',
  seedSignature: '4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9',
};
const SIGS = [
  'ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648',
  '0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497',
  'b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9',
];

function body(sigs: readonly string[]): Buffer {
  return Buffer.concat([
    Buffer.from(`10000;chunk-signature=${sigs[0]}\r\n`), Buffer.alloc(65536, 'a'), Buffer.from('\r\n'),
    Buffer.from(`400;chunk-signature=${sigs[1]}\r\n`), Buffer.alloc(1024, 'a'), Buffer.from('\r\n'),
    Buffer.from(`0;chunk-signature=${sigs[2]}\r\n\r\n`),
  ]);
}

/** Feeds `buf` in pieces of `step` bytes, as a socket would. */
function decode(buf: Buffer, step: number, ctx: SigningContext | undefined): Buffer {
  const d = new AwsChunkedDecoder(ctx);
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; i += step) out.push(...d.push(buf.subarray(i, i + step)));
  d.end();
  return Buffer.concat(out);
}

test('AWS example: 65 KiB + 1 KiB signed chunks decode to the payload, in any split', () => {
  for (const step of [1, 7, 1000, 1 << 20]) {
    const out = decode(body(SIGS), step, CTX);
    assert.equal(out.length, 66560, `step ${step}`);
    assert.ok(out.every((b) => b === 0x61));
  }
});

test('a wrong chunk signature anywhere in the chain is SignatureDoesNotMatch', () => {
  for (let i = 0; i < SIGS.length; i++) {
    const sigs = SIGS.map((s, j) => (j === i ? s.replace(/^./, s[0] === '0' ? '1' : '0') : s));
    assert.throws(() => decode(body(sigs), 4096, CTX), (e: unknown) => e instanceof S3Error && e.code === 'SignatureDoesNotMatch');
  }
});

test('truncated or malformed framing is IncompleteBody', () => {
  const full = body(SIGS);
  assert.throws(() => decode(full.subarray(0, full.length - 10), 4096, CTX), (e: unknown) => e instanceof S3Error && e.code === 'IncompleteBody');
  assert.throws(() => decode(Buffer.from('zz\r\n'), 10, undefined), (e: unknown) => e instanceof S3Error && e.code === 'IncompleteBody');
  assert.throws(() => decode(Buffer.from('3\r\nabcX\r\n'), 10, undefined), (e: unknown) => e instanceof S3Error && e.code === 'IncompleteBody');
});
