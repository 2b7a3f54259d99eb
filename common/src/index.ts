/**
 * @shoal/common — what every Shoal package shares: the error model, branded ids, config
 * loading, logging, metrics and the HTTP status server, and the storage-key codecs.
 * This file is the package's only public entry; see common/README.md.
 */
export { AssertionError, assert, assertNever } from './assert.js';
export { compareBytes, equalBytes, toBytes, toHex } from './bytes.js';
export {
  ConfigError, configHelp, envName, exitOnConfigError, flagName, loadConfig,
} from './config.js';
export type { LoadConfigOptions } from './config.js';
export {
  byteSize, durationMs, formatHostPort, hostPort, LOG_LEVELS, logLevel, parseHostPort, port,
  tryParseByteSize, tryParseDurationMs, tryParseHostPort,
} from './config-schemas.js';
export type { HostPort, LogLevel } from './config-schemas.js';
export { crc16, keySlot, SLOT_COUNT } from './crc16.js';
export { globMatch, globMatchesAll } from './glob.js';
export { crc32c, crc32cMask, crc32cUnmask } from './crc32c.js';
export {
  isKvError, isKvErrorCode, KV_ERROR_CODES, KV_ERROR_GRPC_STATUS, KV_ERROR_RESP_PREFIX, KV_ERRORS, KvError,
  kvErrorFromCode,
} from './errors.js';
export type { KvErrorCode, KvErrorDetails, KvErrorInfo, KvErrorOptions, LeaderHint, RespErrorPrefix } from './errors.js';
export { GrpcStatus, grpcStatusName, isGrpcStatus } from './grpc-status.js';
export type { GrpcStatusName } from './grpc-status.js';
export { startHttpServer } from './http-server.js';
export type { HealthCheck, HealthReport, HttpHandler, HttpServerOptions, RunningHttpServer } from './http-server.js';
export {
  logIndex, nodeId, peerId, shardId, TABLE_ID_MAX, TABLE_ID_MIN, tableId, term,
} from './ids.js';
export type { LogIndex, NodeId, PeerId, ShardId, TableId, Term } from './ids.js';
export {
  dataKey, decodeDataKey, decodeStorageKey, END_SENTINEL_TABLE_ID, inRange, INTERNAL_RANGE, INTERNAL_TABLE_ID,
  internalKey, internalSpaceRange, InternalSpace, KeyKind, PartitionArea, prefixRange, rangeShardBound,
  shardLocalKey, shardLocalRange, ShardLocalField, slotRange, slotRangeEnd, slotRangeStart, subKey, subKeyRange,
  tableEnd, tableRange, tableStart, ttlIndexKey, ttlIndexRange, USER_RANGE, userKeyRange,
} from './keys.js';
export type { DecodedKey, KeyRange, Partition, PartitionScheme, VersionedKind } from './keys.js';
export { createLogger } from './logger.js';
export type { Logger, LoggerOptions } from './logger.js';
export {
  decodeBytes, decodeI64, decodeU64, encodeBytes, encodedBytesLength, encodedEnd, encodeI64, encodeU64,
  writeEncodedBytes,
} from './memcomparable.js';
export type { Decoded } from './memcomparable.js';
export {
  counter, createRegistry, gauge, histogram, HISTOGRAM_UNITS, LATENCY_BUCKETS_SECONDS, METRIC_PREFIX,
  SIZE_BUCKETS_BYTES,
} from './metrics.js';
export type { Counter, Gauge, Histogram, Registry, RegistryOptions } from './metrics.js';
export { err, ok, unwrap } from './result.js';
export type { Err, Ok, Result } from './result.js';
export { EXIT_FATAL, EXIT_OK, runService } from './service-main.js';
export type { RunningService, ServiceMainOptions } from './service-main.js';
