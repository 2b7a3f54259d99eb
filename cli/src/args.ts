/**
 * Argument parsing of the admin commands: every bad value is a KvError INVALID_ARGUMENT
 * whose message and `details.option` name the flag or argument at fault, so the CLI prints
 * one clear line and exits 1 without contacting the cluster.
 */
import { KvError, tryParseByteSize, tryParseDurationMs } from '@shoal/common';
import { admin, meta } from '@shoal/proto';

function bad(option: string, message: string): KvError {
  return new KvError('INVALID_ARGUMENT', `${option}: ${message}`, { details: { option } });
}

/** A positive integer id (node, shard, peer, operator) below 2^53. */
export function parseId(text: string, option: string): number {
  if (!/^\d+$/.test(text.trim())) throw bad(option, `"${text}" is not a positive integer id`);
  const n = Number(text.trim());
  if (n < 1 || !Number.isSafeInteger(n)) throw bad(option, `"${text}" is not a positive integer id`);
  return n;
}

export function parseIdList(text: string, option: string): number[] {
  const items = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (items.length === 0) throw bad(option, 'needs at least one id');
  const ids = items.map((s) => parseId(s, option));
  if (new Set(ids).size !== ids.length) throw bad(option, `"${text}" repeats an id`);
  return ids;
}

/** An integer in [min, max]. */
export function parseCount(text: string, option: string, min: number, max: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || n < min || n > max) throw bad(option, `"${text}" must be an integer from ${min} to ${max}`);
  return n;
}

export function parseByteSizeOption(text: string, option: string): number {
  const n = tryParseByteSize(text);
  if (n === null) throw bad(option, `"${text}" is not a byte size (e.g. 4096, 4KiB, 1MiB)`);
  return n;
}

export function parseDurationOption(text: string, option: string): number {
  const n = tryParseDurationMs(text);
  if (n === null) throw bad(option, `"${text}" is not a duration (e.g. 30s, 1h, 7d)`);
  return n;
}

/** Raw options of `shoal table create`, as commander hands them over. */
export interface TableCreateFlags {
  readonly partition?: string;
  readonly shards?: string;
  readonly replicas?: string;
  readonly splitKeys?: string;
  readonly valueSeparationThreshold?: string;
  readonly defaultTtl?: string;
  readonly pool?: string;
  readonly ifNotExists?: boolean;
}

/** Shards of one hash table at most: one per slot. */
const HASH_SHARDS_MAX = 16_384;
const REPLICAS_MAX = 7;
/** Split keys given on the command line; more belongs in a bulk-load plan. */
const SPLIT_KEYS_MAX = 1024;

/**
 * `shoal table create` flags → CreateTableRequest. Hash tables take `--shards` (a power of
 * two; 0/absent = the metaserver default), range tables `--split-keys` (N keys → N+1
 * shards); each flag is refused on the other kind rather than ignored.
 */
export function buildCreateTable(name: string, f: TableCreateFlags): { req: admin.CreateTableRequest; splitKeys: Uint8Array[] } {
  if (name.trim() === '' || name.length > 255) throw bad('name', 'must be 1 to 255 characters');
  const partition = f.partition ?? 'hash';
  if (partition !== 'hash' && partition !== 'range') throw bad('--partition', `"${partition}" must be hash or range`);
  const hash = partition === 'hash';
  let shardCount = 0;
  if (f.shards !== undefined) {
    if (!hash) throw bad('--shards', 'applies to hash tables; range tables take --split-keys');
    shardCount = parseCount(f.shards, '--shards', 1, HASH_SHARDS_MAX);
    if ((shardCount & (shardCount - 1)) !== 0) throw bad('--shards', `${shardCount} must be a power of two (hash tables double on split)`);
  }
  let splitKeys: Uint8Array[] = [];
  if (f.splitKeys !== undefined) {
    if (hash) throw bad('--split-keys', 'applies to range tables; hash tables take --shards');
    const keys = f.splitKeys.split(',').filter((k) => k !== '');
    if (keys.length === 0 || keys.length > SPLIT_KEYS_MAX) throw bad('--split-keys', `needs 1 to ${SPLIT_KEYS_MAX} keys`);
    const sorted = [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    if (sorted.some((k, i) => k !== keys[i] || (i > 0 && k === sorted[i - 1]))) throw bad('--split-keys', 'keys must be distinct and in ascending order');
    splitKeys = keys.map((k) => new TextEncoder().encode(k));
  }
  const options = meta.TableOptions.create({
    partition: hash ? meta.PartitionKind.HASH : meta.PartitionKind.RANGE,
    shardCount,
    replicaCount: f.replicas === undefined ? 0 : parseCount(f.replicas, '--replicas', 1, REPLICAS_MAX),
    valueSeparationThresholdBytes: f.valueSeparationThreshold === undefined ? 0 : parseByteSizeOption(f.valueSeparationThreshold, '--value-separation-threshold'),
    defaultTtlMs: f.defaultTtl === undefined ? 0 : parseDurationOption(f.defaultTtl, '--default-ttl'),
  });
  const req = admin.CreateTableRequest.create({ name, pool: f.pool ?? 'default', options, ifNotExists: f.ifNotExists === true, splitKeys });
  return { req, splitKeys };
}
