/**
 * The admin subcommands (`cluster`, `node`, `table`, `shard`, `operator`): commander
 * definitions and what each one asks the metaserver leader. Every leaf takes `--meta
 * a,b,c` (else SHOAL_METASERVERS, else 127.0.0.1:7100-7102), `--json` and `--timeout`;
 * arguments are validated before any RPC; any failure prints one line
 * `shoal <command>: <CODE>: <message>` and exits 1 (usage errors stay commander's exit 2).
 */
import type { Command } from 'commander';
import { isKvError, KvError } from '@shoal/common';
import { admin, meta } from '@shoal/proto';
import { AdminClient, DEFAULT_TIMEOUT_MS, parseMetaservers } from './admin-client.js';
import { buildCreateTable, parseDurationOption, parseId, parseIdList } from './args.js';
import type { TableCreateFlags } from './args.js';
import {
  formatClusterStatus, formatNodes, formatOperators, formatShards, formatTableOptions, formatTables, printableKey,
} from './format.js';

/** Tables whose shard count `cluster status` / `table list` look up (one GetRoutes each). */
const SHARD_COUNT_TABLES_MAX = 256;
/** Deadline of the per-member health probe in `cluster status`. */
const MEMBER_PROBE_TIMEOUT_MS = 1500;

interface ConnFlags {
  readonly meta?: string;
  readonly json?: boolean;
  readonly timeout?: string;
}

/** Where output goes; tests capture it. */
export interface Output {
  out(text: string): void;
  err(text: string): void;
}

export const consoleOutput: Output = { out: (t) => console.log(t), err: (t) => console.error(t) };

type Body = (c: AdminClient, flags: ConnFlags) => Promise<string | object>;

function connect(flags: ConnFlags, env: NodeJS.ProcessEnv): AdminClient {
  const fromFlag = flags.meta !== undefined;
  const metaservers = parseMetaservers(fromFlag ? flags.meta : env.SHOAL_METASERVERS, fromFlag ? '--meta' : 'SHOAL_METASERVERS');
  const timeoutMs = flags.timeout === undefined ? DEFAULT_TIMEOUT_MS : parseDurationOption(flags.timeout, '--timeout');
  if (timeoutMs <= 0) throw new KvError('INVALID_ARGUMENT', '--timeout: must be positive', { details: { option: '--timeout' } });
  return new AdminClient({ metaservers, timeoutMs });
}

/** Runs one admin command: connect, do, print (text, or JSON with --json); exit code 0 or 1. */
async function runAdmin(name: string, flags: ConnFlags, env: NodeJS.ProcessEnv, o: Output, body: Body): Promise<number> {
  let client: AdminClient | undefined;
  try {
    client = connect(flags, env);
    const result = await body(client, flags);
    o.out(typeof result === 'string' ? result : JSON.stringify(result, jsonReplacer, 2));
    return 0;
  } catch (e) {
    if (!isKvError(e)) throw e;
    o.err(`shoal ${name}: ${e.code}: ${e.message}`);
    return 1;
  } finally {
    client?.close();
  }
}

/** Bytes as printable text or 0x-hex, Maps as objects: JSON that scripts can use directly. */
export function jsonReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Uint8Array) return printableKey(value).replace(/^"(.*)"$/, '$1');
  if (value instanceof Map) return Object.fromEntries(value);
  return value;
}

async function shardCounts(c: AdminClient, tables: readonly meta.TableInfo[]): Promise<Map<number, number>> {
  const counts = new Map<number, number>();
  for (const t of tables.slice(0, SHARD_COUNT_TABLES_MAX)) {
    const r = await c.meta('getRoutes', meta.GetRoutesRequest.create({ tableId: t.id, tableName: t.name }));
    counts.set(t.id, r.shards.length);
  }
  return counts;
}

async function memberHealth(c: AdminClient, members: readonly meta.MetaMember[]): Promise<Map<string, string>> {
  const probes = members.map(async (m): Promise<[string, string]> => {
    try {
      await c.ask(m.address, meta.MetaService.getClusterInfo, meta.GetClusterInfoRequest.create(), MEMBER_PROBE_TIMEOUT_MS);
      return [m.address, 'up'];
    } catch (e) {
      return [m.address, isKvError(e) ? `unreachable (${e.code})` : 'unreachable'];
    }
  });
  return new Map(await Promise.all(probes));
}

const clusterStatus: Body = async (c, flags) => {
  const status = await c.admin('clusterStatus', admin.ClusterStatusRequest.create());
  const [nodes, tables, ops] = await Promise.all([
    c.admin('listNodes', admin.ListNodesRequest.create()),
    c.admin('listTables', meta.ListTablesRequest.create()),
    c.admin('listOperators', admin.ListOperatorsRequest.create()),
  ]);
  const view = {
    status, memberHealth: await memberHealth(c, status.metaservers?.members ?? []), nodes: nodes.nodes, tables: tables.tables,
    shardCounts: await shardCounts(c, tables.tables), operators: ops.operators,
  };
  return flags.json === true ? view : formatClusterStatus(view, Date.now());
};

type Register = (cmd: Command, name: string, body: (...args: string[]) => Body) => void;

/** Adds the admin command groups to `program`; `setExitCode` receives each command's outcome. */
export function addAdminCommands(
  program: Command, nodeCommand: Command, setExitCode: (code: number) => void, env: NodeJS.ProcessEnv, o: Output = consoleOutput,
): void {
  const leaf: Register = (cmd, name, body) => {
    cmd.option('--meta <addresses>', 'metaservers, comma-separated host:port (default: $SHOAL_METASERVERS or 127.0.0.1:7100,7101,7102)')
      .option('--json', 'print JSON for scripts instead of tables')
      .option('--timeout <duration>', 'deadline of each request, leader retries included', '10s')
      .action(async (...args: unknown[]) => {
        const positional = args.filter((a): a is string => typeof a === 'string');
        const flags = args.find((a): a is ConnFlags & Record<string, unknown> => typeof a === 'object' && a !== null && !('commands' in a)) ?? {};
        let exit: number;
        try {
          exit = await runAdmin(name, flags, env, o, (c, f) => body(...positional)(c, f));
        } catch (e) {
          o.err(`shoal ${name}: ${e instanceof Error ? e.message : String(e)}`);
          exit = 1;
        }
        setExitCode(exit);
      });
  };
  const cluster = program.command('cluster').description('cluster-wide views');
  leaf(cluster.command('status').description('metaservers, nodes, tables, shards, leaders and health'), 'cluster status', () => clusterStatus);
  addNodeCommands(nodeCommand, leaf);
  addTableCommands(program, leaf);
  addShardCommands(program, leaf);
  const operator = program.command('operator').description('scheduling operators (replica moves, splits, leader transfers)');
  const opList = operator.command('list').description('running operators (--all: finished ones still in the history too)')
    .option('--all', 'include finished operators').option('--shard <id>', 'only this shard\'s operators');
  leaf(opList, 'operator list', () => async (c, f) => {
    const opts = f as ConnFlags & { all?: boolean; shard?: string };
    const req = admin.ListOperatorsRequest.create({ shardId: opts.shard === undefined ? 0 : parseId(opts.shard, '--shard'), includeFinished: opts.all === true });
    const res = await c.admin('listOperators', req);
    return f.json === true ? res.operators : formatOperators(res.operators, Date.now());
  });
  leaf(operator.command('cancel <operatorId>').description('cancel a running operator (a learner it created is cleaned up)'),
    'operator cancel', (id) => async (c, f) => {
      const operatorId = parseId(id!, 'operatorId');
      await c.admin('cancelOperator', admin.CancelOperatorRequest.create({ operatorId }));
      return f.json === true ? { cancelled: operatorId } : `operator ${operatorId} cancelled`;
    });
}

function addNodeCommands(node: Command, leaf: Register): void {
  leaf(node.command('list').description('storage nodes with state, zone, replica and leader counts, used bytes'), 'node list', () => async (c, f) => {
    const res = await c.admin('listNodes', admin.ListNodesRequest.create());
    return f.json === true ? res.nodes : formatNodes(res.nodes);
  });
  const decom = node.command('decommission <nodeId>').description('drain a node (its replicas move away), then mark it decommissioned')
    .option('--cancel', 'stop an ongoing decommission; the node returns to service');
  leaf(decom, 'node decommission', (id) => async (c, f) => {
    const nodeId = parseId(id!, 'nodeId');
    const res = await c.admin('decommissionNode', admin.DecommissionNodeRequest.create({ nodeId, cancel: (f as { cancel?: boolean }).cancel === true }));
    if (f.json === true) return res.node ?? {};
    return res.node === undefined ? `node ${nodeId}: decommission requested` : formatNodes([res.node]);
  });
}

function addTableCommands(program: Command, leaf: Register): void {
  const table = program.command('table').description('create, drop and inspect tables');
  const create = table.command('create <name>').description('create a table; returns when every shard has a leader')
    .option('--partition <kind>', 'hash (Redis-Cluster slots) or range (ordered keys)', 'hash')
    .option('--shards <n>', 'hash tables: initial shard count, a power of two (default: the metaserver\'s)')
    .option('--replicas <n>', 'replicas per shard (default: the metaserver\'s, 3)')
    .option('--split-keys <keys>', 'range tables: comma-separated split keys, ascending (N keys → N+1 shards)')
    .option('--value-separation-threshold <size>', 'values at least this big go to the value log, e.g. 4KiB (default: never)')
    .option('--default-ttl <duration>', 'TTL of writes that set none, e.g. 1h (default: none)')
    .option('--pool <name>', 'resource pool', 'default')
    .option('--if-not-exists', 'succeed without change if the table exists');
  leaf(create, 'table create', (name) => async (c, f) => {
    const { req } = buildCreateTable(name!, f as TableCreateFlags);
    const res = await c.admin('createTable', req);
    return f.json === true ? res.table ?? {} : res.table === undefined ? `table ${name} created` : formatTableOptions(res.table);
  });
  leaf(table.command('list').description('tables with partitioning, shard and replica counts'), 'table list', () => async (c, f) => {
    const res = await c.admin('listTables', meta.ListTablesRequest.create());
    const counts = await shardCounts(c, res.tables);
    return f.json === true ? res.tables.map((t) => ({ ...t, shardCount: counts.get(t.id) })) : formatTables(res.tables, counts);
  });
  leaf(table.command('describe <name>').description('a table\'s options and its shards'), 'table describe', (name) => async (c, f) => {
    const routes = await c.meta('getRoutes', meta.GetRoutesRequest.create({ tableName: name! }));
    if (f.json === true) return routes;
    if (routes.table === undefined) throw new KvError('TABLE_NOT_FOUND', `no table ${name}`);
    return `${formatTableOptions(routes.table)}\n\n${formatShards([routes])}`;
  });
  const drop = table.command('drop <name>').description('drop a table and delete its data').option('--yes', 'confirm: the data is deleted')
    .option('--if-exists', 'succeed without change if the table does not exist');
  leaf(drop, 'table drop', (name) => async (c, f) => {
    const o = f as { yes?: boolean; ifExists?: boolean };
    if (o.yes !== true) throw new KvError('INVALID_ARGUMENT', `--yes: dropping table ${name} deletes its data; add --yes to confirm`, { details: { option: '--yes' } });
    await c.admin('dropTable', admin.DropTableRequest.create({ name: name!, ifExists: o.ifExists === true }));
    return f.json === true ? { dropped: name } : `table ${name} dropped`;
  });
}

function scheduled(what: string, res: admin.ScheduleResponse, json: boolean | undefined): string | object {
  if (json === true) return { operatorId: res.operatorId };
  return `${what}: operator ${res.operatorId} scheduled; follow it with \`shoal operator list --all\``;
}

function addShardCommands(program: Command, leaf: Register): void {
  const shard = program.command('shard').description('inspect and operate on shards');
  leaf(shard.command('list [table]').description('shards with key ranges, epochs, replicas and leaders'), 'shard list', (name) => async (c, f) => {
    const names = name !== undefined ? [name] : (await c.admin('listTables', meta.ListTablesRequest.create())).tables.map((t) => t.name);
    const routes: meta.GetRoutesResponse[] = [];
    for (const n of names) routes.push(await c.meta('getRoutes', meta.GetRoutesRequest.create({ tableName: n })));
    return f.json === true ? routes : formatShards(routes);
  });
  leaf(shard.command('split <shardId>').description('split a shard (range: at --key or the middle key; hash: slot range halves)')
    .option('--key <key>', 'range tables: the split key (UTF-8)'), 'shard split', (id) => async (c, f) => {
    const shardId = parseId(id!, 'shardId');
    const key = (f as { key?: string }).key;
    const res = await c.admin('splitShard', admin.SplitShardRequest.create({ shardId, splitKey: key === undefined ? new Uint8Array() : new TextEncoder().encode(key) }));
    return scheduled(`split shard ${shardId}`, res, f.json);
  });
  leaf(shard.command('transfer-leader <shardId> [peerId]').description('move a shard\'s leadership to a replica, by peer id or --node')
    .option('--node <nodeId>', 'the node whose replica should lead'), 'shard transfer-leader', (id, peer) => async (c, f) => {
    const shardId = parseId(id!, 'shardId');
    const node = (f as { node?: string }).node;
    if ((peer === undefined) === (node === undefined)) throw new KvError('INVALID_ARGUMENT', 'peerId: give a peer id or --node, not both', { details: { option: 'peerId' } });
    const toPeerId = peer !== undefined ? parseId(peer, 'peerId') : await peerOnNode(c, shardId, parseId(node!, '--node'));
    const res = await c.admin('transferLeader', admin.TransferLeaderRequest.create({ shardId, toPeerId }));
    return scheduled(`transfer leader of shard ${shardId} to peer ${toPeerId}`, res, f.json);
  });
  leaf(shard.command('move <shardId>').description('move a replica to another node (add learner → promote → remove)')
    .requiredOption('--from <nodeId>', 'the node whose replica leaves').option('--to <nodeId>', 'target node (default: placement chooses)'),
  'shard move', (id) => async (c, f) => {
    const o = f as { from: string; to?: string };
    const req = admin.MoveReplicaRequest.create({ shardId: parseId(id!, 'shardId'), fromNodeId: parseId(o.from, '--from'), toNodeId: o.to === undefined ? 0 : parseId(o.to, '--to') });
    return scheduled(`move shard ${req.shardId}'s replica off node ${req.fromNodeId}`, await c.admin('moveReplica', req), f.json);
  });
  leaf(shard.command('force-reduce <shardId>').description('UNSAFE: force a shard that lost quorum down to surviving replicas, then re-grow it')
    .requiredOption('--keep <peerIds>', 'comma-separated peer ids to keep').option('--yes', 'confirm: recent acknowledged writes may be lost'),
  'shard force-reduce', (id) => async (c, f) => {
    const o = f as { keep: string; yes?: boolean };
    const shardId = parseId(id!, 'shardId');
    const keepPeerIds = parseIdList(o.keep, '--keep');
    if (o.yes !== true) throw new KvError('INVALID_ARGUMENT', '--yes: force-reduce may lose acknowledged writes; add --yes to confirm', { details: { option: '--yes' } });
    const res = await c.admin('forceReduceReplicas', admin.ForceReduceReplicasRequest.create({ shardId, keepPeerIds, confirmShardId: shardId }));
    return scheduled(`force-reduce shard ${shardId} to peers ${keepPeerIds.join(',')}`, res, f.json);
  });
}

/** The peer id of `shardId`'s replica on `nodeId`, from the routes. */
async function peerOnNode(c: AdminClient, shardId: number, nodeId: number): Promise<number> {
  const tables = (await c.admin('listTables', meta.ListTablesRequest.create())).tables;
  for (const t of tables) {
    const routes = await c.meta('getRoutes', meta.GetRoutesRequest.create({ tableId: t.id, tableName: t.name }));
    const s = routes.shards.find((r) => r.shard?.id === shardId)?.shard;
    if (s === undefined) continue;
    const r = s.replicas.find((x) => x.nodeId === nodeId);
    if (r === undefined) throw new KvError('INVALID_ARGUMENT', `--node: shard ${shardId} has no replica on node ${nodeId}`, { details: { option: '--node' } });
    return r.peerId;
  }
  throw new KvError('SHARD_NOT_FOUND', `no shard ${shardId}`);
}
