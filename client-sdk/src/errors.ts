/**
 * The error of a write that spanned several shards and did not fully succeed. Each shard's
 * part is one atomic Raft proposal, but the parts are independent: some may have been
 * applied while others failed or have an unknown outcome. `PartialWriteError` says which,
 * so the caller never has to guess (no silent non-atomicity).
 *
 * It is a `KvError`: `code` is UNKNOWN_OUTCOME if any part's outcome is unknown, else the
 * code of the first failed part. Single-shard writes never throw it: their error is the
 * shard's own.
 */
import { KvError } from '@shoal/common';

/** What happened to one shard's part of a multi-shard write. */
export type PartStatus =
  /** Applied atomically. */
  | 'applied'
  /** Rejected: certainly not applied (`error` says why). */
  | 'failed'
  /** Sent, but no answer: may or may not have been applied (`error` is UNKNOWN_OUTCOME). */
  | 'unknown';

/** One shard's part of a multi-shard write. */
export interface WritePart {
  /** Whether this part was applied, certainly not applied, or may have been. */
  readonly status: PartStatus;
  /** batchWrite: indexes into the `ops` array given; deleteRange: empty. */
  readonly opIndexes: readonly number[];
  /** The error of a `failed` or `unknown` part. */
  readonly error?: KvError;
}

/** A multi-shard write that was not applied in full; see the file comment. */
export class PartialWriteError extends KvError {
  /** Every part, in the order the parts were planned. */
  readonly parts: readonly WritePart[];

  constructor(op: string, parts: readonly WritePart[]) {
    const bad = parts.filter((p) => p.status !== 'applied');
    const unknown = bad.some((p) => p.status === 'unknown');
    const first = bad[0]?.error;
    const code = unknown ? 'UNKNOWN_OUTCOME' : first?.code ?? 'INTERNAL';
    const applied = parts.length - bad.length;
    super(code, `${op}: ${applied} of ${parts.length} shard parts applied, ${bad.length} not` +
      (unknown ? ' (some with unknown outcome)' : '') + (first === undefined ? '' : `; first error ${first.code}: ${first.message}`),
    { cause: first });
    this.parts = parts;
  }
}
