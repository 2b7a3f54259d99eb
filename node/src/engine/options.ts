/** Engine options with their defaults, validated at open (a bad one names itself). */
import { KvError } from '@shoal/common';
import type { EngineFailpoints, EngineLogger, EngineOptions } from './types.js';

export interface ResolvedEngineOptions {
  readonly dir: string;
  readonly valueLogFileBytes: number;
  readonly valueLogGcGarbageRatio: number;
  readonly valueLogGcRateBytesPerSec: number;
  readonly keyBytesMax: number;
  readonly valueBytesMax: number;
  readonly logger: EngineLogger | undefined;
  readonly batchKeysMax: number;
  readonly scanPageKeysDefault: number;
  readonly scanPageKeysMax: number;
  readonly scanPageBytesMax: number;
  readonly scanExaminedKeysMax: number;
  readonly internalWriteBytesMax: number;
  readonly valueLogSyncOnCommit: boolean;
  readonly failpoints: EngineFailpoints;
}

const MIB = 1024 * 1024;

export function resolveEngineOptions(o: EngineOptions): ResolvedEngineOptions {
  const r: ResolvedEngineOptions = {
    dir: o.dir,
    valueLogFileBytes: o.valueLogFileBytes,
    valueLogGcGarbageRatio: o.valueLogGcGarbageRatio,
    valueLogGcRateBytesPerSec: o.valueLogGcRateBytesPerSec,
    keyBytesMax: o.keyBytesMax,
    valueBytesMax: o.valueBytesMax,
    logger: o.logger,
    batchKeysMax: o.batchKeysMax ?? 10_000,
    scanPageKeysDefault: o.scanPageKeysDefault ?? 1_000,
    scanPageKeysMax: o.scanPageKeysMax ?? 10_000,
    scanPageBytesMax: o.scanPageBytesMax ?? 4 * MIB,
    scanExaminedKeysMax: o.scanExaminedKeysMax ?? 100_000,
    internalWriteBytesMax: o.internalWriteBytesMax ?? 4 * MIB,
    valueLogSyncOnCommit: o.valueLogSyncOnCommit ?? true,
    failpoints: o.failpoints ?? {},
  };
  if (typeof r.dir !== 'string' || r.dir === '') invalid('dir', 'must be a non-empty path');
  positiveInt(r, 'valueLogFileBytes', 4096);
  if (!(r.valueLogGcGarbageRatio > 0 && r.valueLogGcGarbageRatio < 1)) invalid('valueLogGcGarbageRatio', 'must be in (0, 1)');
  if (!(r.valueLogGcRateBytesPerSec > 0)) invalid('valueLogGcRateBytesPerSec', 'must be positive');
  positiveInt(r, 'keyBytesMax', 1);
  positiveInt(r, 'valueBytesMax', 1);
  if (r.keyBytesMax + r.valueBytesMax > 0xffff_0000) invalid('valueBytesMax', 'keyBytesMax + valueBytesMax must fit a u32 value-log record');
  for (const k of ['batchKeysMax', 'scanPageKeysDefault', 'scanPageKeysMax', 'scanPageBytesMax', 'scanExaminedKeysMax', 'internalWriteBytesMax'] as const) {
    positiveInt(r, k, 1);
  }
  if (r.scanPageKeysDefault > r.scanPageKeysMax) invalid('scanPageKeysDefault', 'must not exceed scanPageKeysMax');
  return r;
}

type NumericOption = {
  [K in keyof ResolvedEngineOptions]: ResolvedEngineOptions[K] extends number ? K : never
}[keyof ResolvedEngineOptions];

function positiveInt(r: ResolvedEngineOptions, option: NumericOption, min: number): void {
  const v = r[option];
  if (!Number.isSafeInteger(v) || v < min) invalid(option, `must be an integer >= ${min}, got ${String(v)}`);
}

function invalid(option: string, reason: string): never {
  throw new KvError('CONFIG_INVALID', `engine option ${option}: ${reason}`, { details: { option } });
}
