/**
 * @shoal/proxy — the RESP proxy: Redis clients talk to Shoal through it unchanged.
 * This file is the package's only public entry.
 *
 * - `ProxyServer` (server.ts): the TCP server; give it the config and a `Backend`.
 * - `Backend` (backend.ts): what the proxy asks of the storage side; `MemoryBackend` is a
 *   test-only implementation.
 * - resp/: the protocol — `RespParser` (requests), `ReplyWriter` / `encodeReply` and the
 *   `Reply` constructors (replies, RESP2 and RESP3).
 * - commands/: the command table; `CommandDef` is how further commands are added.
 */
export { proxyConfigSchema, proxyUserSchema } from './config.js';
export type { ProxyConfig, ProxyUserConfig } from './config.js';
export { ProxyServer } from './server.js';
export type { ProxyServerOptions } from './server.js';
export type {
  Backend, BackendStats, CommandArgs, ExecOptions, ScanOptions, ScanPage, TableStats, TransactionCommand, WatchStamp,
} from './backend.js';
export { MemoryBackend } from './backend-memory.js';
export { ShoalBackend } from './backend-shoal.js';
export type { ShoalBackendOptions } from './backend-shoal.js';
export { runProxy, EXIT_FATAL } from './main.js';
export { DATA_COMMANDS, dataCommandKeys, isWriteCommand } from './commands/data.js';
export type { MemoryBackendOptions } from './backend-memory.js';
export { RespParser, ProtocolError, UNAUTHENTICATED_BULK_BYTES_MAX, UNAUTHENTICATED_MULTIBULK_MAX } from './resp/parser.js';
export type { ParseResult, ParserLimits } from './resp/parser.js';
export { encodeReply, ReplyWriter } from './resp/encoder.js';
export type { RespVersion } from './resp/encoder.js';
export * as reply from './resp/reply.js';
export type { Reply } from './resp/reply.js';
export { formatDouble, parseInteger, string2ll } from './resp/numbers.js';
export { splitArgs } from './resp/split-args.js';
export { BUILTIN_COMMANDS, createCommandTable } from './commands/index.js';
export { CommandTable } from './commands/table.js';
export type { CommandSpec } from './commands/table.js';
export type {
  ArgSpec, AclCategory, Client, CommandContext, CommandDef, CommandFlag, CommandRun, Handler, ServerContext,
} from './commands/types.js';
export { renderCommandsDoc } from './commands-doc.js';
export type { ProxyLogger } from './logger.js';
