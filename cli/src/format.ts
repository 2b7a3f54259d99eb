/**
 * Human-readable output of the admin commands: aligned text tables, byte sizes, enum
 * names and shard bounds. Pure functions over the wire messages, so they are unit-tested
 * without a cluster. `--json` output does not go through here: it prints the messages
 * as decoded (see admin-commands.ts `toJson`).
 */
import { assertNever, decodeBytes, SLOT_COUNT } from '@shoal/common';
import { admin, common, meta } from '@shoal/proto';

/** Columns separated by two spaces, each as wide as its widest cell; numbers right-aligned. */
export function renderTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  // A column is numeric when every cell is a number or size ("-" stands for unknown) and one is real.
  const isNumber = (c: string): boolean => /^\d+(\.\d+)?( [KMGTP]?i?B)?$/.test(c);
  const numeric = headers.map((_, i) => rows.some((r) => isNumber(r[i] ?? '')) && rows.every((r) => isNumber(r[i] ?? '') || r[i] === '-'));
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (numeric[i] === true ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'] as const;

/** 1536 → "1.5 KiB"; below 1 KiB exact bytes. */
export function formatBytes(n: number): string {
  let v = n;
  let u = 0;
  while (v >= 1024 && u < BYTE_UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${v < 10 ? v.toFixed(1) : Math.round(v)} ${BYTE_UNITS[u]}`;
}

/** 3_600_000 → "1h", 90_000 → "1m30s", 0 → "none". */
export function formatDurationMs(ms: number): string {
  if (ms === 0) return 'none';
  const parts: string[] = [];
  let rest = ms;
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  if (rest > 0) parts.push(`${rest}ms`);
  return parts.join('');
}

/** `{ DECOMMISSIONING: 4 }`, 4 → `decommissioning`: the generated enum's own member name. */
function enumName(values: Readonly<Record<string, number>>, value: number): string {
  const name = Object.keys(values).find((k) => values[k] === value);
  return name === undefined ? `unknown(${value})` : name.toLowerCase().replaceAll('_', '-');
}

export const nodeStateName = (s: meta.NodeState): string => enumName(meta.NodeState, s);
export const partitionName = (p: meta.PartitionKind): string => enumName(meta.PartitionKind, p);
export const tableStateName = (s: meta.TableState): string => enumName(meta.TableState, s);
export const operatorStateName = (s: meta.OperatorState): string => enumName(meta.OperatorState, s);

/** What an operator does, in one short phrase. */
export function describeOperator(op: meta.Operator): string {
  const k = op.kind;
  switch (k?.$case) {
    case undefined:
      return 'unknown';
    case 'addLearner':
      return `add-learner peer ${k.addLearner.replica?.peerId ?? '?'} on node ${k.addLearner.replica?.nodeId ?? '?'}`;
    case 'promoteLearner':
      return `promote-learner peer ${k.promoteLearner.peerId}`;
    case 'removeReplica':
      return `remove-replica peer ${k.removeReplica.peerId}`;
    case 'transferLeader':
      return `transfer-leader to peer ${k.transferLeader.toPeerId}`;
    case 'split':
      return `split${k.split.splitKey.length > 0 ? ` at ${printableKey(k.split.splitKey)}` : ''} → shard ${k.split.newShardId}`;
    default:
      return assertNever(k);
  }
}

/** UTF-8 text when it is printable, else 0x-hex. */
export function printableKey(key: Uint8Array): string {
  const text = new TextDecoder('utf-8', { fatal: false }).decode(key);
  return /^[\x20-\x7e]*$/.test(text) ? JSON.stringify(text) : `0x${Buffer.from(key).toString('hex')}`;
}

/**
 * A shard's start or end bound in storage-key space, shown in the table's terms: a slot
 * number for hash tables, a user key for range tables (DESIGN.md "Keyspace": table id u32,
 * then slot u16 or the memcomparable user key). The bare table prefix is −∞ / +∞.
 */
export function describeBound(key: Uint8Array, tableId: number, kind: meta.PartitionKind): string {
  const prefix = key.length >= 4 ? Buffer.from(key).readUInt32BE(0) : -1;
  if (key.length === 4 && prefix === tableId) return kind === meta.PartitionKind.HASH ? '0' : '-∞';
  if (key.length === 4 && prefix === tableId + 1) return kind === meta.PartitionKind.HASH ? String(SLOT_COUNT) : '+∞';
  if (prefix !== tableId) return `0x${Buffer.from(key).toString('hex')}`;
  if (kind === meta.PartitionKind.HASH && key.length === 6) return String((key[4]! << 8) | key[5]!);
  try {
    return printableKey(decodeBytes(key, 4).value);
  } catch {
    return `0x${Buffer.from(key).toString('hex')}`;
  }
}

/** `[0, 8192)` for hash slots, `["a", "m")` for range keys. */
export function describeRange(shard: common.ShardDescriptor, kind: meta.PartitionKind): string {
  return `[${describeBound(shard.startKey, shard.tableId, kind)}, ${describeBound(shard.endKey, shard.tableId, kind)})`;
}

/** `n1:p4*, n2:p5, n3:p6(learner)` — * marks the leader. */
export function describeReplicas(shard: common.ShardDescriptor): string {
  return shard.replicas.map((r) => {
    const lead = r.peerId === shard.leaderPeerId ? '*' : '';
    const learner = r.role === common.ReplicaRole.LEARNER ? '(learner)' : '';
    return `n${r.nodeId}:p${r.peerId}${lead}${learner}`;
  }).join(', ');
}

export function formatNodes(nodes: readonly meta.NodeInfo[]): string {
  if (nodes.length === 0) return 'no storage nodes registered';
  return renderTable(['ID', 'ADDRESS', 'POOL', 'ZONE', 'STATE', 'REPLICAS', 'LEADERS', 'USED', 'CAPACITY', 'VERSION'],
    nodes.map((n) => [String(n.id), n.address, n.pool, n.zone, nodeStateName(n.state), String(n.stats?.replicaCount ?? 0),
      String(n.stats?.leaderCount ?? 0), formatBytes(n.stats?.usedBytes ?? 0), formatBytes(n.stats?.capacityBytes ?? 0), n.version || '-']));
}

/** One row per table; `shardCounts` by table id (absent = unknown, shown as "-"). */
export function formatTables(tables: readonly meta.TableInfo[], shardCounts: ReadonlyMap<number, number>): string {
  if (tables.length === 0) return 'no tables';
  return renderTable(['ID', 'NAME', 'POOL', 'PARTITION', 'SHARDS', 'REPLICAS', 'STATE'],
    tables.map((t) => [String(t.id), t.name, t.pool, partitionName(t.options?.partition ?? 0), String(shardCounts.get(t.id) ?? '-'),
      String(t.options?.replicaCount ?? 0), tableStateName(t.state)]));
}

export function formatTableOptions(t: meta.TableInfo): string {
  const o = t.options ?? meta.TableOptions.create();
  const vsep = o.valueSeparationThresholdBytes;
  return [
    `table ${t.name} (id ${t.id}), pool ${t.pool}, ${tableStateName(t.state)}`,
    `  partition: ${partitionName(o.partition)}`,
    `  replicas: ${o.replicaCount}`,
    `  value separation threshold: ${vsep === 0 ? 'never' : formatBytes(vsep)}`,
    `  default TTL: ${formatDurationMs(o.defaultTtlMs)}`,
    `  created: ${t.createdUnixMs === 0 ? '-' : new Date(t.createdUnixMs).toISOString()}`,
  ].join('\n');
}

/** Shards of one or more tables (`routes` from GetRoutes), in key order per table. */
export function formatShards(routes: readonly meta.GetRoutesResponse[]): string {
  const rows: string[][] = [];
  for (const r of routes) {
    const kind = r.table?.options?.partition ?? meta.PartitionKind.UNSPECIFIED;
    for (const s of r.shards) {
      const d = s.shard ?? common.ShardDescriptor.create();
      rows.push([String(d.id), r.table?.name ?? String(d.tableId), describeRange(d, kind),
        `${d.epoch?.confVer ?? 0}/${d.epoch?.version ?? 0}`, describeReplicas(d), s.leaderAddress === '' ? 'none' : s.leaderAddress]);
    }
  }
  if (rows.length === 0) return 'no shards';
  return renderTable(['SHARD', 'TABLE', 'RANGE', 'EPOCH', 'REPLICAS (* leader)', 'LEADER'], rows);
}

export function formatOperators(ops: readonly admin.OperatorInfo[], nowMs: number): string {
  if (ops.length === 0) return 'no operators';
  return renderTable(['ID', 'SHARD', 'KIND', 'STATE', 'AGE', 'REASON', 'MESSAGE'], ops.map((o) => {
    const op = o.operator ?? meta.Operator.create();
    const end = o.finishedUnixMs === 0 ? nowMs : o.finishedUnixMs;
    const age = o.createdUnixMs === 0 ? '-' : formatDurationMs(Math.max(0, Math.round((end - o.createdUnixMs) / 1000) * 1000)) || '0s';
    return [String(op.id), String(op.shardId), describeOperator(op), operatorStateName(o.status?.state ?? 0), age === 'none' ? '0s' : age,
      op.reason || '-', o.status?.message || '-'];
  }));
}

/** Everything `shoal cluster status` shows, gathered by admin-commands.ts. */
export interface ClusterView {
  readonly status: admin.ClusterStatusResponse;
  /** Per member: reachable or the error met. */
  readonly memberHealth: ReadonlyMap<string, string>;
  readonly nodes: readonly meta.NodeInfo[];
  readonly tables: readonly meta.TableInfo[];
  readonly shardCounts: ReadonlyMap<number, number>;
  readonly operators: readonly admin.OperatorInfo[];
}

export function formatClusterStatus(v: ClusterView, nowMs: number): string {
  const m = v.status.metaservers ?? meta.GetClusterInfoResponse.create();
  const s = v.status;
  const states = [...s.nodesByState].filter(([, n]) => n > 0).sort(([a], [b]) => a - b)
    .map(([k, n]) => `${n} ${nodeStateName(k as meta.NodeState)}`).join(', ');
  const health = s.leaderlessShardCount === 0 && s.underReplicatedShardCount === 0 && s.stuckShards.length === 0 ? 'healthy' : 'degraded';
  const out = [
    `cluster ${m.clusterId}: ${health}; term ${m.term}, leader ${m.leaderId === 0 ? 'none' : `metaserver ${m.leaderId}`}, route version ${s.routeVersion}`,
    '',
    'metaservers:',
    renderTable(['ID', 'ADDRESS', 'HTTP', 'ROLE', 'HEALTH'], m.members.map((x) => [String(x.id), x.address, x.httpAddress || '-',
      x.isLeader ? 'leader' : 'follower', v.memberHealth.get(x.address) ?? '-'])),
    '',
    `nodes: ${states || 'none'}; used ${formatBytes(s.usedBytes)} of ${formatBytes(s.capacityBytes)}`,
    formatNodes(v.nodes),
    '',
    `tables: ${s.tableCount}; shards: ${s.shardCount}, leaderless: ${s.leaderlessShardCount}, under-replicated: ${s.underReplicatedShardCount}`,
    formatTables(v.tables, v.shardCounts),
    '',
    `running operators: ${s.runningOperatorCount}`,
  ];
  if (v.operators.length > 0) out.push(formatOperators(v.operators, nowMs));
  // Shards the scheduler cannot help need an administrator (e.g. `shoal shard force-reduce`).
  if (s.stuckShards.length > 0) {
    const names = new Map(v.tables.map((t) => [t.id, t.name]));
    out.push('', `stuck shards (the scheduler cannot help them): ${s.stuckShards.length}`,
      renderTable(['SHARD', 'TABLE', 'REASON'], s.stuckShards.map((x) => [String(x.shardId), names.get(x.tableId) ?? String(x.tableId), x.reason])));
  }
  return out.join('\n');
}
