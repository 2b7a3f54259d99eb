/**
 * Helpers shared by the collection families: open a collection for writing (creating its
 * metadata with a fresh version if absent) and store its new size, deleting the key when
 * it becomes empty (Redis never keeps an empty collection).
 */
import type { CommandEnv } from './command.js';
import type { CollectionType, Meta } from './encoding.js';

export interface Opened {
  meta: Meta;
  /** Created by this command: no element exists yet, so element lookups can be skipped. */
  readonly fresh: boolean;
}

export async function openForWrite(env: CommandEnv, key: Uint8Array, type: CollectionType, head = 0): Promise<Opened> {
  const meta = await env.txn.readCollection(key, type);
  if (meta !== undefined) return { meta, fresh: false };
  return { meta: await env.txn.newMeta(key, type, env.txn.defaultExpireAtMs, head), fresh: true };
}

/** Stores the metadata with `size`, or deletes the key when the collection is empty. */
export function saveMeta(env: CommandEnv, key: Uint8Array, meta: Meta, changed = true): void {
  if (meta.size === 0) env.txn.deleteKey(key);
  else if (changed) env.txn.putMeta(key, meta);
}
