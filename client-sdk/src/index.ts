/**
 * @shoal/client-sdk — the TypeScript client of Shoal, a Raft-replicated, sharded KV
 * database. This file is the package's only public entry; see client-sdk/README.md.
 *
 * ```ts
 * import { Shoal } from '@shoal/client-sdk';
 * const db = await Shoal.connect({ metaservers: ['127.0.0.1:7100'] });
 * await db.table('default').put('greeting', 'hello');
 * await db.close();
 * ```
 */
export { Shoal } from './shoal.js';
export { Table } from './table.js';
export { Scanner } from './scan.js';
export { CROSSSLOT_MESSAGE, RedisExec } from './exec.js';
export type { ExecCallOptions, ExecCommandOptions, ShardExecResult } from './exec.js';
export { PartialWriteError } from './errors.js';
export type { PartStatus, WritePart } from './errors.js';
export { formatScanCursor, parseScanCursor } from './cursor.js';
export type { ScanCursor } from './cursor.js';
export type { ConnectOptions, ReadConsistency } from './options.js';
export type { CallEvent, OpName, RetryEvent, RouteSource, RoutesEvent, ShoalHooks } from './hooks.js';
export type {
  AtomicBatchWriteResult, BatchWriteOptions, BatchWriteResult, CallOptions, CasOptions, CasResult, DeleteRangeResult,
  GetOptions, IncrOptions, PutCondition, PutOptions, PutResult, PutResultWithPrevious, ReadOptions, ScanEntry, ScanOptions,
  TableDescription, WriteOp,
} from './table-types.js';
export type { Decoded, Encoding, Key, Value } from './values.js';
/** The SDK's error class and its helpers, re-exported from @shoal/common for convenience. */
export { isKvError, KV_ERRORS, KvError } from '@shoal/common';
export type { KvErrorCode } from '@shoal/common';
