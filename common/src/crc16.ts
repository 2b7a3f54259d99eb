/**
 * CRC16 as Redis Cluster uses it (CRC-16/XMODEM: polynomial 0x1021, initial value 0, no
 * reflection, no final xor) and the hash slot of a key, bit-for-bit compatible with
 * Redis Cluster so that slot numbers, `CLUSTER KEYSLOT` answers and `{hash tag}` grouping
 * mean the same here as there.
 */
import { toBytes } from './bytes.js';

/** Number of hash slots, as in Redis Cluster. A slot is in [0, SLOT_COUNT). */
export const SLOT_COUNT = 16384;

const TABLE = buildTable();

function buildTable(): Uint16Array {
  const table = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i << 8;
    for (let bit = 0; bit < 8; bit++) {
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    }
    table[i] = crc;
  }
  return table;
}

/** CRC-16/XMODEM of `data[start, end)`. `crc16('123456789') === 0x31c3`. */
export function crc16(data: Uint8Array | string, start = 0, end?: number): number {
  const bytes = toBytes(data);
  const stop = end ?? bytes.length;
  let crc = 0;
  for (let i = start; i < stop; i++) {
    crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >>> 8) ^ bytes[i]!) & 0xff]!;
  }
  return crc;
}

/**
 * The hash slot of a key, exactly as Redis Cluster computes it (cluster spec, "Hash
 * tags"): if the key contains a '{' and, after the first '{', a '}' with at least one byte
 * between them, only the bytes between that first '{' and the first '}' after it are
 * hashed; otherwise the whole key is. So `{user1000}.following` and `{user1000}.followers`
 * share a slot, `{}x` hashes whole, and `{{a}}` hashes `{a`.
 */
export function keySlot(key: Uint8Array | string): number {
  const bytes = toBytes(key);
  const open = bytes.indexOf(0x7b); // '{'
  if (open >= 0) {
    const close = bytes.indexOf(0x7d, open + 1); // '}'
    if (close > open + 1) return crc16(bytes, open + 1, close) & (SLOT_COUNT - 1);
  }
  return crc16(bytes) & (SLOT_COUNT - 1);
}
