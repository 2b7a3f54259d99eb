/**
 * The Redis data-model commands every storage node executes (node/src/redis, Kv.Exec),
 * declared for the proxy's command table: name, arity, flags, key positions, ACL
 * category and summary, as Redis 7 publishes them. They all run on the backend
 * (`run: backend`). GET, SET, INCR, MGET, MSET, DEL, EXISTS, EXPIRE, TTL, SCAN and DBSIZE
 * are declared in strings.ts, keys.ts and keyspace.ts.
 *
 * `dataCommandKeys` gives the keys of any backend command, numkeys forms included — the
 * proxy's table (first, last, step) cannot describe those — so the backend can route it.
 */
import type { AclCategory, CommandDef, CommandFlag, KeyPositions } from './types.js';

/** How a command names its keys. */
type KeyForm =
  | 'one' | 'two' | 'all' | 'pairs' | 'none'
  /** `cmd numkeys key…` (SINTERCARD). */
  | 'numkeys1'
  /** `cmd destination numkeys key…` (ZUNIONSTORE, ZINTERSTORE). */
  | 'dest-numkeys';

type Family = 'string' | 'generic' | 'hash' | 'list' | 'set' | 'sorted-set';

/** name, arity, 'w' (write) / 'r' (read) with an optional 'f' (fast), key form, group, summary, since. */
type Row = readonly [string, number, string, KeyForm, Family, string, string];

const ROWS: readonly Row[] = [
  // strings
  ['setnx', 3, 'wf', 'one', 'string', 'Set the string value of a key only when the key doesn\'t exist.', '1.0.0'],
  ['setex', 4, 'w', 'one', 'string', 'Sets the string value and expiration time of a key. Creates the key if it doesn\'t exist.', '2.0.0'],
  ['psetex', 4, 'w', 'one', 'string', 'Sets both string value and expiration time in milliseconds of a key. The key is created if it doesn\'t exist.', '2.6.0'],
  ['getset', 3, 'wf', 'one', 'string', 'Returns the previous string value of a key after setting it to a new value.', '1.0.0'],
  ['getdel', 2, 'wf', 'one', 'string', 'Returns the string value of a key after deleting the key.', '6.2.0'],
  ['getex', -2, 'wf', 'one', 'string', 'Returns the string value of a key after setting its expiration time.', '6.2.0'],
  ['msetnx', -3, 'w', 'pairs', 'string', 'Atomically modifies the string values of one or more keys only when all keys don\'t exist.', '1.0.1'],
  ['decr', 2, 'wf', 'one', 'string', 'Decrements the integer value of a key by one. Uses 0 as initial value if the key doesn\'t exist.', '1.0.0'],
  ['incrby', 3, 'wf', 'one', 'string', 'Increments the integer value of a key by a number. Uses 0 as initial value if the key doesn\'t exist.', '1.0.0'],
  ['decrby', 3, 'wf', 'one', 'string', 'Decrements a number from the integer value of a key. Uses 0 as initial value if the key doesn\'t exist.', '1.0.0'],
  ['incrbyfloat', 3, 'wf', 'one', 'string', 'Increment the floating point value of a key by a number. Uses 0 as initial value if the key doesn\'t exist.', '2.6.0'],
  ['append', 3, 'wf', 'one', 'string', 'Appends a string to the value of a key. Creates the key if it doesn\'t exist.', '2.0.0'],
  ['strlen', 2, 'rf', 'one', 'string', 'Returns the length of a string value.', '2.2.0'],
  ['getrange', 4, 'r', 'one', 'string', 'Returns a substring of the string stored at a key.', '2.4.0'],
  ['substr', 4, 'r', 'one', 'string', 'Returns a substring from a string value.', '1.0.0'],
  ['setrange', 4, 'w', 'one', 'string', 'Overwrites a part of a string value with another by an offset. Creates the key if it doesn\'t exist.', '2.2.0'],
  // generic
  ['unlink', -2, 'wf', 'all', 'generic', 'Asynchronously deletes one or more keys.', '4.0.0'],
  ['touch', -2, 'rf', 'all', 'generic', 'Returns the number of existing keys out of those specified after updating the time they were last accessed.', '3.2.1'],
  ['type', 2, 'rf', 'one', 'generic', 'Determines the type of value stored at a key.', '1.0.0'],
  ['pexpire', -3, 'wf', 'one', 'generic', 'Sets the expiration time of a key in milliseconds.', '2.6.0'],
  ['expireat', -3, 'wf', 'one', 'generic', 'Sets the expiration time of a key to a Unix timestamp.', '1.2.0'],
  ['pexpireat', -3, 'wf', 'one', 'generic', 'Sets the expiration time of a key to a Unix milliseconds timestamp.', '2.6.0'],
  ['pttl', 2, 'rf', 'one', 'generic', 'Returns the expiration time in milliseconds of a key.', '2.6.0'],
  ['expiretime', 2, 'rf', 'one', 'generic', 'Returns the expiration time of a key as a Unix timestamp.', '7.0.0'],
  ['pexpiretime', 2, 'rf', 'one', 'generic', 'Returns the expiration time of a key as a Unix milliseconds timestamp.', '7.0.0'],
  ['persist', 2, 'wf', 'one', 'generic', 'Removes the expiration time of a key.', '2.2.0'],
  ['rename', 3, 'w', 'two', 'generic', 'Renames a key and overwrites the destination.', '1.0.0'],
  ['renamenx', 3, 'wf', 'two', 'generic', 'Renames a key only when the target key name doesn\'t exist.', '1.0.0'],
  ['keys', 2, 'r', 'none', 'generic', 'Returns all key names that match a pattern.', '1.0.0'],
  ['randomkey', 1, 'r', 'none', 'generic', 'Returns a random key name from the database.', '1.0.0'],
  // hashes
  ['hset', -4, 'wf', 'one', 'hash', 'Creates or modifies the value of a field in a hash.', '2.0.0'],
  ['hmset', -4, 'wf', 'one', 'hash', 'Sets the values of multiple fields.', '2.0.0'],
  ['hsetnx', 4, 'wf', 'one', 'hash', 'Sets the value of a field in a hash only when the field doesn\'t exist.', '2.0.0'],
  ['hget', 3, 'rf', 'one', 'hash', 'Returns the value of a field in a hash.', '2.0.0'],
  ['hmget', -3, 'rf', 'one', 'hash', 'Returns the values of all fields in a hash.', '2.0.0'],
  ['hdel', -3, 'wf', 'one', 'hash', 'Deletes one or more fields and their values from a hash. Deletes the hash if no fields remain.', '2.0.0'],
  ['hlen', 2, 'rf', 'one', 'hash', 'Returns the number of fields in a hash.', '2.0.0'],
  ['hexists', 3, 'rf', 'one', 'hash', 'Determines whether a field exists in a hash.', '2.0.0'],
  ['hstrlen', 3, 'rf', 'one', 'hash', 'Returns the length of the value of a field.', '3.2.0'],
  ['hgetall', 2, 'r', 'one', 'hash', 'Returns all fields and values in a hash.', '2.0.0'],
  ['hkeys', 2, 'r', 'one', 'hash', 'Returns all fields in a hash.', '2.0.0'],
  ['hvals', 2, 'r', 'one', 'hash', 'Returns all values in a hash.', '2.0.0'],
  ['hincrby', 4, 'wf', 'one', 'hash', 'Increments the integer value of a field in a hash by a number. Uses 0 as initial value if the field doesn\'t exist.', '2.0.0'],
  ['hincrbyfloat', 4, 'wf', 'one', 'hash', 'Increments the floating point value of a field by a number. Uses 0 as initial value if the field doesn\'t exist.', '2.6.0'],
  ['hrandfield', -2, 'r', 'one', 'hash', 'Returns one or more random fields from a hash.', '6.2.0'],
  ['hscan', -3, 'r', 'one', 'hash', 'Iterates over fields and values of a hash.', '2.8.0'],
  // lists
  ['lpush', -3, 'wf', 'one', 'list', 'Prepends one or more elements to a list. Creates the key if it doesn\'t exist.', '1.0.0'],
  ['rpush', -3, 'wf', 'one', 'list', 'Appends one or more elements to a list. Creates the key if it doesn\'t exist.', '1.0.0'],
  ['lpushx', -3, 'wf', 'one', 'list', 'Prepends one or more elements to a list only when the list exists.', '2.2.0'],
  ['rpushx', -3, 'wf', 'one', 'list', 'Appends an element to a list only when the list exists.', '2.2.0'],
  ['lpop', -2, 'wf', 'one', 'list', 'Returns the first elements in a list after removing it. Deletes the list if the last element was popped.', '1.0.0'],
  ['rpop', -2, 'wf', 'one', 'list', 'Returns and removes the last elements of a list. Deletes the list if the last element was popped.', '1.0.0'],
  ['llen', 2, 'rf', 'one', 'list', 'Returns the length of a list.', '1.0.0'],
  ['lrange', 4, 'r', 'one', 'list', 'Returns a range of elements from a list.', '1.0.0'],
  ['lindex', 3, 'r', 'one', 'list', 'Returns an element from a list by its index.', '1.0.0'],
  ['lset', 4, 'w', 'one', 'list', 'Sets the value of an element in a list by its index.', '1.0.0'],
  ['lrem', 4, 'w', 'one', 'list', 'Removes elements from a list. Deletes the list if the last element was removed.', '1.0.0'],
  ['ltrim', 4, 'w', 'one', 'list', 'Removes elements from both ends a list. Deletes the list if all elements were trimmed.', '1.0.0'],
  ['linsert', 5, 'w', 'one', 'list', 'Inserts an element before or after another element in a list.', '2.2.0'],
  ['lpos', -3, 'r', 'one', 'list', 'Returns the index of matching elements in a list.', '6.0.6'],
  ['lmove', 5, 'w', 'two', 'list', 'Returns an element after popping it from one list and pushing it to another. Deletes the list if the last element was moved.', '6.2.0'],
  ['rpoplpush', 3, 'w', 'two', 'list', 'Returns the last element of a list after removing and pushing it to another list. Deletes the list if the last element was popped.', '1.2.0'],
  // sets
  ['sadd', -3, 'wf', 'one', 'set', 'Adds one or more members to a set. Creates the key if it doesn\'t exist.', '1.0.0'],
  ['srem', -3, 'wf', 'one', 'set', 'Removes one or more members from a set. Deletes the set if the last member was removed.', '1.0.0'],
  ['sismember', 3, 'rf', 'one', 'set', 'Determines whether a member belongs to a set.', '1.0.0'],
  ['smismember', -3, 'rf', 'one', 'set', 'Determines whether multiple members belong to a set.', '6.2.0'],
  ['smembers', 2, 'r', 'one', 'set', 'Returns all members of a set.', '1.0.0'],
  ['scard', 2, 'rf', 'one', 'set', 'Returns the number of members in a set.', '1.0.0'],
  ['spop', -2, 'wf', 'one', 'set', 'Returns one or more random members from a set after removing them. Deletes the set if the last member was popped.', '1.0.0'],
  ['srandmember', -2, 'r', 'one', 'set', 'Get one or multiple random members from a set', '1.0.0'],
  ['smove', 4, 'wf', 'two', 'set', 'Moves a member from one set to another.', '1.0.0'],
  ['sinter', -2, 'r', 'all', 'set', 'Returns the intersect of multiple sets.', '1.0.0'],
  ['sunion', -2, 'r', 'all', 'set', 'Returns the union of multiple sets.', '1.0.0'],
  ['sdiff', -2, 'r', 'all', 'set', 'Returns the difference of multiple sets.', '1.0.0'],
  ['sinterstore', -3, 'w', 'all', 'set', 'Stores the intersect of multiple sets in a key.', '1.0.0'],
  ['sunionstore', -3, 'w', 'all', 'set', 'Stores the union of multiple sets in a key.', '1.0.0'],
  ['sdiffstore', -3, 'w', 'all', 'set', 'Stores the difference of multiple sets in a key.', '1.0.0'],
  ['sintercard', -3, 'r', 'numkeys1', 'set', 'Returns the number of members of the intersect of multiple sets.', '7.0.0'],
  ['sscan', -3, 'r', 'one', 'set', 'Iterates over members of a set.', '2.8.0'],
  // sorted sets
  ['zadd', -4, 'wf', 'one', 'sorted-set', 'Adds one or more members to a sorted set, or updates their scores. Creates the key if it doesn\'t exist.', '1.2.0'],
  ['zincrby', 4, 'wf', 'one', 'sorted-set', 'Increments the score of a member in a sorted set.', '1.2.0'],
  ['zrem', -3, 'wf', 'one', 'sorted-set', 'Removes one or more members from a sorted set. Deletes the sorted set if all members were removed.', '1.2.0'],
  ['zscore', 3, 'rf', 'one', 'sorted-set', 'Returns the score of a member in a sorted set.', '1.2.0'],
  ['zmscore', -3, 'rf', 'one', 'sorted-set', 'Returns the score of one or more members in a sorted set.', '6.2.0'],
  ['zcard', 2, 'rf', 'one', 'sorted-set', 'Returns the number of members in a sorted set.', '1.2.0'],
  ['zcount', 4, 'rf', 'one', 'sorted-set', 'Returns the count of members in a sorted set that have scores within a range.', '2.0.0'],
  ['zlexcount', 4, 'rf', 'one', 'sorted-set', 'Returns the number of members in a sorted set within a lexicographical range.', '2.8.9'],
  ['zrange', -4, 'r', 'one', 'sorted-set', 'Returns members in a sorted set within a range of indexes.', '1.2.0'],
  ['zrangebyscore', -4, 'r', 'one', 'sorted-set', 'Returns members in a sorted set within a range of scores.', '1.0.5'],
  ['zrevrangebyscore', -4, 'r', 'one', 'sorted-set', 'Returns members in a sorted set within a range of scores in reverse order.', '2.2.0'],
  ['zrevrange', -4, 'r', 'one', 'sorted-set', 'Returns members in a sorted set within a range of indexes in reverse order.', '1.2.0'],
  ['zrangebylex', -4, 'r', 'one', 'sorted-set', 'Returns members in a sorted set within a lexicographical range.', '2.8.9'],
  ['zrevrangebylex', -4, 'r', 'one', 'sorted-set', 'Returns members in a sorted set within a lexicographical range in reverse order.', '2.8.9'],
  ['zrank', -3, 'rf', 'one', 'sorted-set', 'Returns the index of a member in a sorted set ordered by ascending scores.', '2.0.0'],
  ['zrevrank', -3, 'rf', 'one', 'sorted-set', 'Returns the index of a member in a sorted set ordered by descending scores.', '2.0.0'],
  ['zpopmin', -2, 'wf', 'one', 'sorted-set', 'Returns the lowest-scoring members from a sorted set after removing them. Deletes the sorted set if the last member was popped.', '5.0.0'],
  ['zpopmax', -2, 'wf', 'one', 'sorted-set', 'Returns the highest-scoring members from a sorted set after removing them. Deletes the sorted set if the last member was popped.', '5.0.0'],
  ['zremrangebyrank', 4, 'w', 'one', 'sorted-set', 'Removes members in a sorted set within a range of indexes. Deletes the sorted set if all members were removed.', '2.0.0'],
  ['zremrangebyscore', 4, 'w', 'one', 'sorted-set', 'Removes members in a sorted set within a range of scores. Deletes the sorted set if all members were removed.', '1.2.0'],
  ['zremrangebylex', 4, 'w', 'one', 'sorted-set', 'Removes members in a sorted set within a lexicographical range. Deletes the sorted set if all members were removed.', '2.8.9'],
  ['zrandmember', -2, 'r', 'one', 'sorted-set', 'Returns one or more random members from a sorted set.', '6.2.0'],
  ['zunionstore', -4, 'w', 'dest-numkeys', 'sorted-set', 'Stores the union of multiple sorted sets in a key.', '2.0.0'],
  ['zinterstore', -4, 'w', 'dest-numkeys', 'sorted-set', 'Stores the intersect of multiple sorted sets in a key.', '2.0.0'],
  ['zscan', -3, 'r', 'one', 'sorted-set', 'Iterates over members and scores of a sorted set.', '2.8.0'],
];

/** Key forms of the commands declared elsewhere (strings.ts, keys.ts). */
const OTHER_FORMS: Readonly<Record<string, KeyForm>> = {
  get: 'one', set: 'one', incr: 'one', ttl: 'one', expire: 'one', mget: 'all', mset: 'pairs', del: 'all', exists: 'all',
};

const CATEGORY: Record<Family, AclCategory> = {
  string: 'string', generic: 'keyspace', hash: 'hash', list: 'list', set: 'set', 'sorted-set': 'sortedset',
};

const POSITIONS: Record<KeyForm, KeyPositions | undefined> = {
  one: { first: 1, last: 1, step: 1 },
  two: { first: 1, last: 2, step: 1 },
  all: { first: 1, last: -1, step: 1 },
  pairs: { first: 1, last: -1, step: 2 },
  none: undefined,
  // Movable keys: COMMAND INFO reports what the legacy triple can (nothing, or the destination).
  numkeys1: undefined,
  'dest-numkeys': { first: 1, last: 1, step: 1 },
};

function defOf([name, arity, mode, form, group, summary, since]: Row): CommandDef {
  const flags: CommandFlag[] = mode.startsWith('w') ? ['write', 'denyoom'] : ['readonly'];
  if (mode.endsWith('f')) flags.push('fast');
  if (form === 'numkeys1' || form === 'dest-numkeys') flags.push('movablekeys');
  const categories: AclCategory[] = [CATEGORY[group]];
  if (name === 'keys') categories.push('dangerous');
  const positions = POSITIONS[form];
  const multiKey = form !== 'one' && form !== 'none';
  return {
    name, arity, flags, categories, ...(positions === undefined ? {} : { keys: positions }),
    // Keyless commands fan out over every shard: they cannot join a one-shard transaction.
    ...(form === 'none' ? { notInTransaction: true } : {}),
    doc: {
      summary, since, group,
      ...(multiKey ? { shoalNotes: 'Keys must share a shard (use {hash tags}); else -CROSSSLOT.' } : {}),
      ...(form === 'none' ? { shoalNotes: 'Runs on every shard of the table; results are gathered.' } : {}),
    },
    run: { kind: 'backend' },
  };
}

export const DATA_COMMANDS: readonly CommandDef[] = ROWS.map(defOf);

const FORMS: ReadonlyMap<string, KeyForm> = new Map([
  ...ROWS.map((r) => [r[0], r[3]] as const),
  ...Object.entries(OTHER_FORMS),
]);

/** Writes of the commands declared elsewhere. */
const OTHER_WRITES = ['set', 'incr', 'expire', 'mset', 'del'];

const WRITES: ReadonlySet<string> = new Set([...ROWS.filter((r) => r[2].startsWith('w')).map((r) => r[0]), ...OTHER_WRITES]);

/** True if `name` (lower case) is a known backend data command. */
export function isDataCommand(name: string): boolean {
  return FORMS.has(name);
}

/** True if the data command `name` (lower case) may write: it is never re-sent once its outcome is unknown. */
export function isWriteCommand(name: string): boolean {
  return WRITES.has(name);
}

/**
 * The keys of a backend command (`args[0]` is its name, any case), or null when its
 * numkeys argument is malformed (the node answers the Redis error). Keyless: [].
 */
export function dataCommandKeys(args: readonly Buffer[]): Buffer[] | null {
  const form = FORMS.get(args[0]!.toString('latin1').toLowerCase()) ?? 'none';
  switch (form) {
    case 'one': return args.length > 1 ? [args[1]!] : [];
    case 'two': return args.slice(1, 3);
    case 'all': return args.slice(1);
    case 'pairs': return args.filter((_, i) => i >= 1 && i % 2 === 1);
    case 'none': return [];
    case 'numkeys1': return numkeysKeys(args, 1, []);
    case 'dest-numkeys': return args.length > 1 ? numkeysKeys(args, 2, [args[1]!]) : null;
  }
}

function numkeysKeys(args: readonly Buffer[], at: number, before: Buffer[]): Buffer[] | null {
  const raw = args[at];
  if (raw === undefined || !/^[1-9][0-9]{0,8}$/.test(raw.toString('latin1'))) return null;
  const n = Number(raw.toString('latin1'));
  if (at + n >= args.length) return null;
  return [...before, ...args.slice(at + 1, at + 1 + n)];
}
