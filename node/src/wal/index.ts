/**
 * The storage node's shared Raft log (WAL). See README.md in this directory for the
 * caller's obligations, the on-disk format and the durability guarantees. This file is
 * the module's only public entry.
 */
export { Wal } from './wal.js';
export type { WalGcResult, WalStats } from './wal.js';
export { WalGroupStorage } from './group-storage.js';
export type { SnapshotProvider } from './group-storage.js';
export type { WalFailpoints, WalLogger, WalOptions } from './options.js';
