/**
 * Value log (Bitcask-style large-value storage) of a storage node: append-only files of
 * `{storage key, value}` records with a CRC32C each, addressed by 20-byte pointers that the
 * engine stores in classic-level, plus the garbage collector that rewrites mostly-dead
 * files. See value-log.ts for the caller's obligations and gc.ts for the swap protocol.
 * The engine (../engine) is the only user; this is the module's public entry.
 */
export { readU32, readU64, u32Bytes, u64Bytes, writeU32, writeU64 } from './bytes-be.js';
export { ValueLogGc } from './gc.js';
export type { GcCandidate, GcHost, GcRunResult, PointerSwap, ValueLogGcOptions } from './gc.js';
export type { VlogLogger } from './logger.js';
export {
  decodePointer, describePointer, encodePointer, FILE_HEADER_BYTES, POINTER_BYTES, RECORD_HEADER_BYTES, recordLength,
  samePointer,
} from './record.js';
export type { ValuePointer, ValueRecord } from './record.js';
export { ValueLog, vlogFileName } from './value-log.js';
export type { ScannedRecord, ValueLogOptions } from './value-log.js';
