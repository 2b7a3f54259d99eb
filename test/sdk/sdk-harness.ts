/**
 * What the SDK end-to-end tests share: a real cluster (cli's LocalCluster through
 * test/cluster/dyn-harness.ts: 3 metaservers, 3 storage nodes in dynamic mode, short
 * failure-detection and Raft timings), tables created through the Admin service and
 * waited on until every shard has a leader, an SDK client, and node metrics scraped
 * from each node's /metrics.
 */
import { Shoal } from '@shoal/client-sdk';
import type { ShoalHooks } from '@shoal/client-sdk';
import { admin, meta } from '@shoal/proto';
import { DynCluster } from '../cluster/dyn-harness.js';

/** Every wait on the cluster (leaders, operators, routes) gives up after this. */
export const WAIT_MS = 60_000;
const SCRAPE_TIMEOUT_MS = 5000;

export interface TableSpec {
  readonly name: string;
  readonly partition: 'hash' | 'range';
  /** Hash tables: initial shard count (a power of two). */
  readonly shards?: number;
  /** Range tables: user keys cutting the table into shards. */
  readonly splitKeys?: readonly string[];
}

export async function startCluster(tables: readonly TableSpec[]): Promise<DynCluster> {
  const c = await DynCluster.start({ nodes: 3, metaservers: 3, zones: 3, tables: tables.map((t) => t.name) });
  try {
    for (const t of tables) {
      await c.admin.admin('createTable', admin.CreateTableRequest.create({
        name: t.name, pool: 'default',
        options: meta.TableOptions.create({
          partition: t.partition === 'hash' ? meta.PartitionKind.HASH : meta.PartitionKind.RANGE,
          shardCount: t.shards ?? 0, replicaCount: 3,
        }),
        splitKeys: (t.splitKeys ?? []).map((k) => new TextEncoder().encode(k)),
      }));
    }
    await waitLeaders(c);
    return c;
  } catch (e) {
    await c.stop().catch(() => undefined);
    throw e;
  }
}

/** Waits until every shard of the cluster's tables has a leader known to the metaserver. */
export async function waitLeaders(c: DynCluster, timeoutMs = WAIT_MS): Promise<void> {
  await c.waitFor('a leader for every shard', timeoutMs, async () => {
    const shards = await c.shards();
    return shards.length > 0 && shards.every((s) => s.leaderNode !== 0 && s.route.leaderAddress !== '');
  });
}

export function connect(c: DynCluster, timeoutMs = 10_000, hooks?: ShoalHooks): Promise<Shoal> {
  return Shoal.connect({ metaservers: c.lc.metaAddresses(), timeoutMs, ...(hooks === undefined ? {} : { hooks }) });
}

/** The LocalCluster process name (`node<i>`) of the node with gRPC `address`. */
export function nodeName(c: DynCluster, address: string): string {
  const p = c.lc.processes().find((x) => x.kind === 'node' && x.address === address);
  if (p === undefined) throw new Error(`no node process at ${address}`);
  return p.name;
}

/** The node id → gRPC address map, as the metaserver knows it. */
export async function nodeAddresses(c: DynCluster): Promise<Map<number, string>> {
  return new Map((await c.nodes()).map((n) => [n.id, n.address]));
}

export type ReadCounts = Map<string, number>;

/**
 * `shoal_kv_reads_served_total` of one node, keyed `consistency/role`
 * (e.g. `follower/follower`: follower reads served while this replica was a follower).
 */
export async function scrapeReads(httpAddress: string): Promise<ReadCounts> {
  const res = await fetch(`http://${httpAddress}/metrics`, { signal: AbortSignal.timeout(SCRAPE_TIMEOUT_MS) });
  if (!res.ok) throw new Error(`GET http://${httpAddress}/metrics: ${res.status}`);
  const out: ReadCounts = new Map();
  for (const line of (await res.text()).split('\n')) {
    if (!line.startsWith('shoal_kv_reads_served_total{')) continue;
    const consistency = /consistency="([a-z]+)"/.exec(line)?.[1];
    const role = /role="([a-z]+)"/.exec(line)?.[1];
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (consistency !== undefined && role !== undefined) out.set(`${consistency}/${role}`, value);
  }
  return out;
}

/** Per node process name, its read counters. */
export async function scrapeAll(c: DynCluster): Promise<Map<string, ReadCounts>> {
  const out = new Map<string, ReadCounts>();
  for (const p of c.lc.processes()) if (p.kind === 'node') out.set(p.name, await scrapeReads(p.httpAddress));
  return out;
}

/** Sum over nodes of `after - before` for one `consistency/role` label pair. */
export function grown(before: Map<string, ReadCounts>, after: Map<string, ReadCounts>, label: string): number {
  let sum = 0;
  for (const [name, counts] of after) sum += (counts.get(label) ?? 0) - (before.get(name)?.get(label) ?? 0);
  return sum;
}

/** Resolves once `check` returns true; fails after `timeoutMs` naming `what`. */
export async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = WAIT_MS): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
