/**
 * raft-ts: a deterministic Raft state machine in the style of etcd-io/raft. See doc.ts for
 * the caller's obligations. This file is the package's only public entry.
 */
export * from './types.js';
export type { Config } from './config.js';
export { RaftConfigError, validateConfig } from './config.js';
export type { ProposeResult, StepResult } from './raw-node.js';
export { RawNode } from './raw-node.js';
export type { ProgressStateName, ProgressStatus, Status } from './status.js';
export { MemoryStorage } from './storage-memory.js';
export { encodeConfChange, decodeConfChange } from './conf-change.js';
export { RaftAssertionError } from './assert.js';
export {
  describeConfState, describeEntry, describeHardState, describeMessage, describeReady, describeSnapshot,
} from './describe.js';
