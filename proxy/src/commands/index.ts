/**
 * Every command the proxy serves, one file per command or family. `createCommandTable`
 * adds the commands others define (the data-model families) to these.
 */
import { AUTH } from './auth.js';
import { CLIENT } from './client.js';
import { COMMAND } from './command.js';
import { CONFIG } from './config.js';
import { ECHO } from './echo.js';
import { FUNCTION } from './function.js';
import { HELLO } from './hello.js';
import { INFO } from './info.js';
import { DEL, EXISTS, EXPIRE, TTL } from './keys.js';
import { DATA_COMMANDS } from './data.js';
import { DBSIZE, FLUSHALL, FLUSHDB, SCAN } from './keyspace.js';
import { PING } from './ping.js';
import { QUIT } from './quit.js';
import { RESET } from './reset.js';
import { SELECT } from './select.js';
import { SLOWLOG } from './slowlog.js';
import { GET, INCR, MGET, MSET, SET } from './strings.js';
import { TIME } from './time.js';
import { DISCARD, EXEC, MULTI, UNWATCH, WATCH } from './transactions.js';
import { CommandTable } from './table.js';
import type { CommandDef } from './types.js';

export const BUILTIN_COMMANDS: readonly CommandDef[] = [
  // connection
  AUTH, CLIENT, ECHO, HELLO, PING, QUIT, RESET, SELECT,
  // server
  COMMAND, CONFIG, DBSIZE, FLUSHALL, FLUSHDB, INFO, SLOWLOG, TIME,
  // scripting
  FUNCTION,
  // transactions
  DISCARD, EXEC, MULTI, UNWATCH, WATCH,
  // data, executed by the backend
  DEL, EXISTS, EXPIRE, GET, INCR, MGET, MSET, SCAN, SET, TTL,
  ...DATA_COMMANDS,
];

export function createCommandTable(extra: readonly CommandDef[] = []): CommandTable {
  return new CommandTable([...BUILTIN_COMMANDS, ...extra]);
}
