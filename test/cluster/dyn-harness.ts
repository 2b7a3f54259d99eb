/**
 * A dynamic-mode cluster of real processes for end-to-end tests: cli's LocalCluster
 * (metaservers + storage nodes registering with them) with short failure-detection and
 * scheduling timings, plus what the tests observe it with — the topology as the
 * metaserver sees it (nodes, routes, operators), replica status on the nodes themselves,
 * waits on conditions with deadlines that print the cluster state when they time out.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials, Metadata } from '@grpc/grpc-js';
import { LocalCluster } from '@shoal/cli';
import type { UnexpectedExit } from '@shoal/cli';
import { admin, common, meta } from '@shoal/proto';
import { FAST_RAFT } from './harness.js';

/** Metaserver timings: a node is suspect after 1.5 s, down after 4 s; rounds every 300 ms. */
export const DYN_META_CONFIG = {
  nodeHeartbeatIntervalMs: 300,
  nodeSuspectAfterMs: 1500,
  nodeDownAfterMs: 4000,
  raftTickIntervalMs: 50,
  createTableTimeoutMs: 30_000,
  nodeAdminTimeoutMs: 3000,
  logLevel: 'info',
  schedule: {
    scheduleIntervalMs: 300,
    operatorRetryBackoffMs: 1000,
    moveReplicaTimeoutMs: 30_000,
    recoveryOperatorsPerNodeMax: 4,
    drainOperatorsPerNodeMax: 4,
    balanceOperatorsPerNodeMax: 2,
    balanceOperatorsMax: 8,
    replicaBalanceTolerancePercent: 5,
    leaderBalanceTolerancePercent: 10,
  },
} as const;

/** Base ports are picked at random in this range (node HTTP ports end 1200 above; below the ephemeral range). */
const BASE_PORT_MIN = 11_000;
const BASE_PORT_MAX = 30_000;
const START_ATTEMPTS_MAX = 4;
const RPC_TIMEOUT_MS = 5000;

export interface ShardView {
  readonly table: string;
  readonly route: meta.ShardRoute;
  readonly shard: common.ShardDescriptor;
  readonly leaderNode: number;
}

export class DynCluster {
  private readonly nodeAdmins = new Map<string, admin.NodeAdminClient>();

  /** `unexpected`: deaths of processes the test did not stop (each fails the next wait). */
  private constructor(readonly lc: LocalCluster, readonly dir: string, readonly tables: string[], readonly unexpected: UnexpectedExit[]) {}

  static async start(o: { nodes: number; metaservers: number; zones: number; tables: string[] }): Promise<DynCluster> {
    const dir = mkdtempSync(join(tmpdir(), 'shoal-meta-cluster-'));
    for (let attempt = 1; ; attempt++) {
      const basePort = BASE_PORT_MIN + Math.floor(Math.random() * (BASE_PORT_MAX - BASE_PORT_MIN));
      const unexpected: UnexpectedExit[] = [];
      const lc = new LocalCluster({
        dataDir: join(dir, `c${attempt}`), nodes: o.nodes, metaservers: o.metaservers, zones: o.zones, basePort, proxy: false,
        defaultTable: false, readyTimeoutMs: 60_000, stopTimeoutMs: 5000, requestTimeoutMs: 10_000,
        metaserverConfig: DYN_META_CONFIG, nodeConfig: { ...FAST_RAFT },
        onUnexpectedExit: (e) => unexpected.push(e),
      });
      try {
        await lc.start();
        return new DynCluster(lc, dir, o.tables, unexpected);
      } catch (e) {
        await lc.stop().catch(() => undefined);
        // Another process holds a port of this layout: try another base.
        if (attempt < START_ATTEMPTS_MAX && /is in use/.test(String(e))) continue;
        throw e;
      }
    }
  }

  get admin() {
    return this.lc.adminClient();
  }

  nodeProcess(name: string) {
    return this.lc.process(name);
  }

  /** Stops every process; the data and logs are kept (and their place printed) when `keep`. */
  async stop(keep = false): Promise<void> {
    for (const c of this.nodeAdmins.values()) c.close();
    await this.lc.stop();
    if (keep) console.log(`# cluster data and logs kept in ${this.dir}`);
    else rmSync(this.dir, { recursive: true, force: true });
  }

  async nodes(): Promise<readonly meta.NodeInfo[]> {
    return (await this.admin.admin('listNodes', admin.ListNodesRequest.create())).nodes;
  }

  async routes(table: string): Promise<meta.GetRoutesResponse> {
    return this.admin.meta('getRoutes', meta.GetRoutesRequest.create({ tableName: table }));
  }

  /** Every shard of the test's tables with its leader's node id (0 = unknown). */
  async shards(): Promise<ShardView[]> {
    const out: ShardView[] = [];
    for (const table of this.tables) {
      for (const route of (await this.routes(table)).shards) {
        const shard = route.shard!;
        const leaderNode = shard.replicas.find((r) => r.peerId === shard.leaderPeerId)?.nodeId ?? 0;
        out.push({ table, route, shard, leaderNode });
      }
    }
    return out;
  }

  async runningOperators(): Promise<admin.OperatorInfo[]> {
    return (await this.admin.admin('listOperators', admin.ListOperatorsRequest.create())).operators
      .filter((o) => o.status?.state === meta.OperatorState.RUNNING);
  }

  /** The replicas a node itself hosts (GetShardStatus on the node). */
  async shardStatus(address: string, shardIds: number[] = []): Promise<readonly admin.ShardStatus[]> {
    let c = this.nodeAdmins.get(address);
    if (c === undefined) this.nodeAdmins.set(address, c = new admin.NodeAdminClient(address, credentials.createInsecure()));
    const client = c;
    const res = await new Promise<admin.GetShardStatusResponse>((resolve, reject) => client.getShardStatus(
      admin.GetShardStatusRequest.create({ shardIds }), new Metadata(), { deadline: Date.now() + RPC_TIMEOUT_MS },
      (e, r) => (e === null ? resolve(r) : reject(e))));
    if (res.error !== undefined) throw new Error(`GetShardStatus at ${address}: ${res.error.code}: ${res.error.message}`);
    return res.shards;
  }

  /** Replicas and leaders per node id, over the test's tables. */
  async perNode(): Promise<Map<number, { replicas: number; leaders: number }>> {
    const out = new Map<number, { replicas: number; leaders: number }>();
    const of = (n: number) => {
      let v = out.get(n);
      if (v === undefined) out.set(n, v = { replicas: 0, leaders: 0 });
      return v;
    };
    for (const s of await this.shards()) {
      for (const r of s.shard.replicas) of(r.nodeId).replicas++;
      if (s.leaderNode !== 0) of(s.leaderNode).leaders++;
    }
    return out;
  }

  /** Nodes, shards and operators, for a failure message. */
  async describe(): Promise<string> {
    const lines: string[] = [];
    const safe = async (what: string, f: () => Promise<void>) => {
      try {
        await f();
      } catch (e) {
        lines.push(`(${what} unavailable: ${String(e)})`);
      }
    };
    await safe('nodes', async () => {
      for (const n of await this.nodes()) {
        lines.push(`node ${n.id} ${n.address} ${n.zone} ${nameOf(meta.NodeState, n.state)} replicas=${n.stats?.replicaCount} leaders=${n.stats?.leaderCount}`);
      }
    });
    await safe('shards', async () => {
      for (const s of await this.shards()) {
        const e = s.shard.epoch;
        const reps = s.shard.replicas.map((r) => `${r.nodeId}${r.role === common.ReplicaRole.LEARNER ? 'L' : ''}`).join(',');
        lines.push(`shard ${s.table}/${s.shard.id} epoch ${e?.confVer}/${e?.version} replicas [${reps}] leader node ${s.leaderNode}`);
      }
      const per = [...(await this.perNode()).entries()].sort((a, b) => a[0] - b[0]);
      lines.push(`per node (replicas/leaders): ${per.map(([n, v]) => `${n}: ${v.replicas}/${v.leaders}`).join('  ')}`);
    });
    await safe('operators', async () => {
      const ops = (await this.admin.admin('listOperators', admin.ListOperatorsRequest.create({ includeFinished: true }))).operators;
      for (const o of ops.slice(-25)) {
        lines.push(`operator ${o.operator?.id} shard ${o.operator?.shardId} ${o.operator?.kind?.$case} ${nameOf(meta.OperatorState, o.status?.state ?? 0)} ${o.operator?.reason} ${o.status?.message ?? ''}`);
      }
    });
    for (const u of this.unexpected) lines.push(`${u.process.name} died unexpectedly (${u.signal ?? u.code}):\n${u.logTail}`);
    return lines.join('\n');
  }

  /** Polls `check` until it returns a value; on timeout throws with the last error and the cluster state. */
  async waitFor<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined | false>): Promise<T> {
    const started = Date.now();
    const end = started + timeoutMs;
    let last: unknown;
    for (;;) {
      if (this.unexpected.length > 0) throw new Error(`a process died while waiting for ${what}:\n${await this.describe()}`);
      try {
        const v = await check();
        if (v !== undefined && v !== false) return v;
      } catch (e) {
        last = e;
      }
      if (Date.now() > end) {
        throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last === undefined ? '' : ` (last error: ${String(last)})`}\n${await this.describe()}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/** The enum member name of a value (for messages). */
function nameOf(e: Record<string, number>, v: number): string {
  return Object.entries(e).find(([, x]) => x === v)?.[0] ?? String(v);
}

/** `shoal_metaserver_<name>` (unlabelled but for `process`) of a member's /metrics; undefined if absent or unreachable. */
export async function metaGauge(httpAddress: string, name: string): Promise<number | undefined> {
  const res = await fetch(`http://${httpAddress}/metrics`, { signal: AbortSignal.timeout(RPC_TIMEOUT_MS) }).catch(() => undefined);
  if (res === undefined || !res.ok) return undefined;
  const m = new RegExp(`^shoal_metaserver_${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(await res.text());
  return m === null ? undefined : Number(m[1]);
}
