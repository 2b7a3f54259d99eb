/**
 * INFO [section ...]: Redis 7's sections and field names, for this proxy process, plus
 * the cluster's keyspace and topology from `Backend.stats` (only fetched when the keyspace
 * or cluster section is asked for). `replication` presents the proxy as a master with no
 * replicas: Shoal replicates with Raft, which the cluster section describes.
 */
import { arch, totalmem, type as osType, release } from 'node:os';
import type { BackendStats } from '../backend.js';
import { verbatim } from '../resp/reply.js';
import type { Reply } from '../resp/reply.js';
import { REDIS_COMPAT_VERSION } from './hello.js';
import { asciiLower } from './table.js';
import type { CommandContext, CommandDef, ServerContext } from './types.js';

export const SHOAL_VERSION = '0.1.0';

const DEFAULT_SECTIONS = ['server', 'clients', 'memory', 'persistence', 'stats', 'replication', 'cpu', 'cluster', 'keyspace'];
/** Every section, in Redis' order. */
const ALL_SECTIONS = ['server', 'clients', 'memory', 'persistence', 'stats', 'replication', 'cpu', 'commandstats', 'cluster', 'keyspace'];

/** Redis' bytesToHuman. */
export function bytesToHuman(n: number): string {
  const units = ['K', 'M', 'G', 'T', 'P'];
  if (n < 1024) return `${n}B`;
  let d = n / 1024;
  for (const u of units) {
    if (d < 1024 || u === 'P') return `${d.toFixed(2)}${u}`;
    d /= 1024;
  }
  return `${n}B`;
}

type Fields = readonly (readonly [string, string | number])[];

function serverSection(s: ServerContext, now: number): Fields {
  const uptime = Math.floor((now - s.stats.startedMs) / 1000);
  return [
    ['redis_version', REDIS_COMPAT_VERSION], ['shoal_version', SHOAL_VERSION], ['redis_git_sha1', '00000000'],
    ['redis_git_dirty', 0], ['redis_mode', 'standalone'], ['os', `${osType()} ${release()} ${arch()}`],
    ['arch_bits', 64], ['multiplexing_api', 'libuv'], ['process_id', process.pid], ['process_supervised', 'no'],
    ['run_id', s.info.runId], ['tcp_port', s.info.port], ['server_time_usec', Math.floor(now * 1000)],
    ['uptime_in_seconds', uptime], ['uptime_in_days', Math.floor(uptime / 86400)], ['hz', 10], ['configured_hz', 10],
    ['executable', process.argv[1] ?? ''], ['config_file', s.info.configFile], ['io_threads_active', 0],
  ];
}

function clientsSection(s: ServerContext): Fields {
  let maxIn = 0;
  let maxOut = 0;
  let connected = 0;
  for (const c of s.clients()) {
    connected++;
    maxIn = Math.max(maxIn, c.queryBufferBytes);
    maxOut = Math.max(maxOut, c.outputBufferBytes);
  }
  return [
    ['connected_clients', connected], ['cluster_connections', 0], ['maxclients', s.settings.maxClients],
    ['client_recent_max_input_buffer', maxIn], ['client_recent_max_output_buffer', maxOut], ['blocked_clients', 0],
    ['tracking_clients', 0], ['clients_in_timeout_table', 0], ['total_blocking_keys', 0],
  ];
}

function memorySection(): Fields {
  const m = process.memoryUsage();
  const used = m.heapUsed + m.external;
  return [
    ['used_memory', used], ['used_memory_human', bytesToHuman(used)], ['used_memory_rss', m.rss],
    ['used_memory_rss_human', bytesToHuman(m.rss)], ['total_system_memory', totalmem()],
    ['total_system_memory_human', bytesToHuman(totalmem())], ['maxmemory', 0], ['maxmemory_human', '0B'],
    ['maxmemory_policy', 'noeviction'], ['mem_allocator', 'v8'],
  ];
}

function persistenceSection(s: ServerContext): Fields {
  return [
    ['loading', 0], ['async_loading', 0], ['rdb_changes_since_last_save', 0], ['rdb_bgsave_in_progress', 0],
    ['rdb_last_save_time', Math.floor(s.stats.startedMs / 1000)], ['rdb_last_bgsave_status', 'ok'],
    ['aof_enabled', 1], ['aof_rewrite_in_progress', 0], ['aof_rewrite_scheduled', 0], ['aof_last_write_status', 'ok'],
  ];
}

function statsSection(s: ServerContext): Fields {
  const st = s.stats;
  return [
    ['total_connections_received', st.connectionsReceived], ['total_commands_processed', st.commandsProcessed],
    ['instantaneous_ops_per_sec', Math.round(st.opsPerSec)], ['total_net_input_bytes', st.netInputBytes],
    ['total_net_output_bytes', st.netOutputBytes], ['rejected_connections', st.connectionsRejected],
    ['expired_keys', 0], ['evicted_keys', 0], ['keyspace_hits', 0], ['keyspace_misses', 0],
    ['pubsub_channels', 0], ['pubsub_patterns', 0], ['total_error_replies', st.errorReplies],
  ];
}

function replicationSection(s: ServerContext): Fields {
  return [
    ['role', 'master'], ['connected_slaves', 0], ['master_failover_state', 'no-failover'],
    ['master_replid', s.info.runId], ['master_replid2', '0'.repeat(40)], ['master_repl_offset', 0],
    ['second_repl_offset', -1], ['repl_backlog_active', 0],
  ];
}

function cpuSection(): Fields {
  const u = process.cpuUsage();
  return [
    ['used_cpu_sys', (u.system / 1e6).toFixed(6)], ['used_cpu_user', (u.user / 1e6).toFixed(6)],
    ['used_cpu_sys_children', '0.000000'], ['used_cpu_user_children', '0.000000'],
  ];
}

function commandstatsSection(s: ServerContext): Fields {
  return [...s.stats.commands.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, c]) => [
    `cmdstat_${name}`,
    `calls=${c.calls},usec=${Math.round(c.usec)},usec_per_call=${(c.calls === 0 ? 0 : c.usec / c.calls).toFixed(2)},`
    + `rejected_calls=${c.rejected},failed_calls=${c.failed}`,
  ] as const);
}

function clusterSection(stats: BackendStats | Error): Fields {
  if (stats instanceof Error) return [['cluster_enabled', 0], ['shoal_stats_error', stats.message.replace(/[\r\n]+/g, ' ')]];
  return [['cluster_enabled', 0], ...Object.entries(stats.cluster).map(([k, v]) => [k.startsWith('shoal_') ? k : `shoal_${k}`, v] as const)];
}

function keyspaceSection(s: ServerContext, stats: BackendStats | Error): Fields {
  if (stats instanceof Error) return [];
  const out: [string, string][] = [];
  s.config.databases.forEach((table, i) => {
    const t = stats.tables.get(table);
    if (t !== undefined && t.keys > 0) out.push([`db${i}`, `keys=${t.keys},expires=${t.expires},avg_ttl=${Math.round(t.avgTtlMs)}`]);
  });
  return out;
}

const TITLES: Readonly<Record<string, string>> = {
  server: 'Server', clients: 'Clients', memory: 'Memory', persistence: 'Persistence', stats: 'Stats',
  replication: 'Replication', cpu: 'CPU', commandstats: 'Commandstats', cluster: 'Cluster', keyspace: 'Keyspace',
};

/** The sections INFO's arguments ask for, in Redis' order. */
export function requestedSections(args: readonly Buffer[]): string[] {
  if (args.length === 0) return DEFAULT_SECTIONS;
  const wanted = new Set<string>();
  for (const a of args) {
    const name = asciiLower(a);
    if (name === 'default') DEFAULT_SECTIONS.forEach((x) => wanted.add(x));
    else if (name === 'all' || name === 'everything') ALL_SECTIONS.forEach((x) => wanted.add(x));
    else wanted.add(name);
  }
  return ALL_SECTIONS.filter((x) => wanted.has(x));
}

async function info({ argv, server }: CommandContext): Promise<Reply> {
  const sections = requestedSections(argv.slice(1));
  let stats: BackendStats | Error = new Error('not requested');
  if (sections.includes('keyspace') || sections.includes('cluster')) {
    try {
      stats = await server.backend.stats(server.config.databases);
    } catch (e) {
      stats = e instanceof Error ? e : new Error(String(e));
    }
  }
  const now = server.clock();
  const text = sections.map((name) => {
    const fields = fieldsOf(name, server, now, stats);
    return `# ${TITLES[name]!}\r\n${fields.map(([k, v]) => `${k}:${v}\r\n`).join('')}`;
  }).join('\r\n');
  return verbatim(text);
}

function fieldsOf(name: string, s: ServerContext, now: number, stats: BackendStats | Error): Fields {
  switch (name) {
    case 'server': return serverSection(s, now);
    case 'clients': return clientsSection(s);
    case 'memory': return memorySection();
    case 'persistence': return persistenceSection(s);
    case 'stats': return statsSection(s);
    case 'replication': return replicationSection(s);
    case 'cpu': return cpuSection();
    case 'commandstats': return commandstatsSection(s);
    case 'cluster': return clusterSection(stats);
    case 'keyspace': return keyspaceSection(s, stats);
    default: return [];
  }
}

export const INFO: CommandDef = {
  name: 'info',
  arity: -1,
  flags: ['loading', 'stale'],
  categories: ['dangerous'],
  doc: {
    summary: 'Returns information and statistics about the server.', since: '1.0.0', group: 'server', complexity: 'O(1)',
    args: [{ name: 'section', type: 'string', optional: true, multiple: true }],
    shoalNotes: 'Sections server, clients, memory, persistence, stats, replication, cpu, commandstats, cluster, keyspace; keyspace and cluster come from the cluster, the rest describe this proxy.',
  },
  run: { kind: 'local', handler: info },
};
