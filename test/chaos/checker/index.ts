/**
 * The chaos-test history checker: a linearizability checker for a key-value register
 * model (get, put, delete, compare-and-swap, put-if-absent, increment, append; outcomes
 * ok / fail / unknown), and the JSON-lines history format the workload runner writes.
 *
 * Use: record a `HistoryRecord` per completed operation (`HistoryWriter`), then
 * `checkHistory(records)` and print `summaryLine(result)`. See test/chaos/README.md.
 */
export { checkHistory, partitionByKey, summaryLine, CHECK_STEPS_MAX_PER_KEY_DEFAULT } from './check.js';
export type { CheckOptions, CheckResult, KeyStats } from './check.js';
export { formatHistory, formatRecord, parseHistory, toModelOp, validateRecord, OP_SHAPES } from './history.js';
export type { HistoryOpName, HistoryRecord, HistoryResult, HistoryValue } from './history.js';
export { HistoryWriter, readHistoryFile } from './history-file.js';
export { describeRecord } from './explain.js';
