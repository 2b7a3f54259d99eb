/** @shoal/s3-local: a small S3-compatible endpoint over a directory (see README.md). */
export { S3LocalServer, KEY_BYTES_MAX } from './s3-local-server.js';
export { validateS3LocalOptions } from './s3-local-options.js';
export type { S3LocalOptions, ResolvedS3LocalOptions } from './s3-local-options.js';
export type { S3Credentials } from './sigv4.js';
export { S3_ERRORS } from './s3-error.js';
export type { S3ErrorCode } from './s3-error.js';
