/**
 * Where a user key sits in its table's storage keyspace (common/README.md "Storage-key
 * layout"), which is what shard boundaries in routes are expressed in.
 *
 * Requests carry user keys; only routing and scan positions use storage keys:
 * - a key is routed by its data key `tableId [slot] enc(key) 01` (what the node checks);
 * - a scan position is a storage key `p` meaning "every entry whose data key is ≥ p"
 *   (forward) or "< p" (reverse). A shard boundary is such a position, and so is
 *   `after(k) = dataKey(k) ‖ 00`, the first position past key k.
 */
import { dataKey, decodeBytes, keySlot, rangeShardBound, tableEnd, tableStart } from '@shoal/common';
import type { TableId } from '@shoal/common';

/** How a table partitions its keys. */
export type PartitionScheme = 'hash' | 'range';

const TABLE_ID_BYTES = 4;
const SLOT_BYTES = 2;
const EMPTY = new Uint8Array(0);

export class TableKeyspace {
  /** The first storage key of the table; the first shard starts here. */
  readonly start: Uint8Array;
  /** The table's exclusive end; the last shard ends here. */
  readonly end: Uint8Array;

  constructor(readonly tableId: TableId, readonly scheme: PartitionScheme) {
    this.start = tableStart(tableId);
    this.end = tableEnd(tableId);
  }

  /** The hash slot of a key, or null on a range table. */
  slotOf(key: Uint8Array): number | null {
    return this.scheme === 'hash' ? keySlot(key) : null;
  }

  /** The storage key of `key`'s value: what routing compares with shard boundaries. */
  dataKey(key: Uint8Array): Uint8Array {
    return dataKey(this.tableId, this.slotOf(key), key);
  }

  /** The first position after `key`: `dataKey(key) ‖ 00`. */
  after(key: Uint8Array): Uint8Array {
    const d = this.dataKey(key);
    const out = new Uint8Array(d.length + 1);
    out.set(d);
    return out;
  }

  /** The position of range-table key `key` (range tables only): everything below it is < key. */
  rangeBound(key: Uint8Array): Uint8Array {
    return rangeShardBound(this.tableId, key);
  }

  /**
   * The user key a Scan/DeleteRange request uses as its bound for position `p`: a request
   * bound k covers exactly the entries at or above (forward start) / below (reverse end)
   * `position(k)` on the node. Returns the empty key — "from the shard's own start", or
   * "to its end" — when `p` is a table or slot bound that no user key names, or cannot be
   * decoded. Either way the caller filters entries by `p` itself, so the bound only has to
   * be on the safe side of `p`, never exact.
   */
  requestKeyAt(p: Uint8Array): Uint8Array {
    const o = TABLE_ID_BYTES + (this.scheme === 'hash' ? SLOT_BYTES : 0);
    if (p.length <= o) return EMPTY;
    try {
      return decodeBytes(p, o).value;
    } catch {
      // A boundary that is not a key bound (a foreign split point): scan from the shard start.
      return EMPTY;
    }
  }

  /** The slot a hash-table position lies in (for cursors); null for range tables or the table start. */
  slotAt(p: Uint8Array): number | null {
    if (this.scheme !== 'hash' || p.length < TABLE_ID_BYTES + SLOT_BYTES) return null;
    return (p[TABLE_ID_BYTES]! << 8) | p[TABLE_ID_BYTES + 1]!;
  }
}
