/**
 * KV throughput and latency through the gRPC Kv API: three real node processes on this
 * machine, every shard with three replicas (`raftLogSync: always`: every acknowledged write
 * is fsynced on a quorum). Many concurrent Puts of 100-byte values, then Gets
 * (linearizable, on the leaders) of the same keys; prints ops/s, p50/p99 latency and the
 * fsyncs per second the nodes did (from /metrics), which shows group commit at work.
 *
 * If `redis-server` and `redis-benchmark` are on PATH, the same load shape (100-byte values,
 * same concurrency) runs against a local Redis (appendfsync everysec and always) and the
 * ratio is printed; otherwise the reference is reported as skipped.
 *
 * Run with `npm run bench:node [-- --seconds 10 --concurrency 256 --shards 8]`. Figures
 * only, no assertion (STYLE.md rule 12).
 */
import { spawn, spawnSync } from 'node:child_process';
import { credentials, Metadata } from '@grpc/grpc-js';
import { keySlot } from '@shoal/common';
import { admin, kv } from '@shoal/proto';
import { argNumber, BenchCluster, freePorts, hashShards, waitFor } from './node-cluster.js';

const SECONDS = argNumber('seconds', 10);
const CONCURRENCY = argNumber('concurrency', 256);
const SHARDS = argNumber('shards', 8);
const KEYSPACE = argNumber('keys', 100_000);
const VALUE_BYTES = 100;

interface Shard {
  readonly id: number;
  readonly slots: [number, number];
  leader: number;
}

interface PhaseResult {
  readonly ops: number;
  readonly errors: number;
  readonly seconds: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

async function main(): Promise<void> {
  const layout = hashShards(SHARDS, [1, 2, 3]);
  const cluster = await BenchCluster.create(3, { tables: [{ id: 1, name: 'bench', partition: 'hash' }], shards: layout }, { raftLogSync: 'always' });
  const clients = new Map<number, kv.KvClient>();
  try {
    await cluster.start([1, 2, 3]);
    for (const n of cluster.nodes) clients.set(n.nodeId, new kv.KvClient(n.address, credentials.createInsecure()));
    const shards: Shard[] = layout.map((s) => ({ id: s['id'] as number, slots: s['slots'] as [number, number], leader: 0 }));
    await findLeaders(cluster, shards);
    const value = new Uint8Array(VALUE_BYTES).fill(0x61);
    const shardOf = (key: Uint8Array): Shard => {
      const slot = keySlot(key);
      return shards.find((s) => slot >= s.slots[0] && slot < s.slots[1])!;
    };
    const header = (s: Shard): kv.RequestHeader => kv.RequestHeader.create({ tableId: 1, shardId: s.id, epoch: { confVer: 1, version: 1 } });

    const put = async (i: number): Promise<boolean> => {
      const key = new TextEncoder().encode(`key:${i % KEYSPACE}`);
      const s = shardOf(key);
      const res = await call<kv.PutResponse>(clients.get(s.leader)!, 'put', kv.PutRequest.create({ header: header(s), key, value }));
      return onResult(res.error, s);
    };
    const get = async (i: number): Promise<boolean> => {
      const key = new TextEncoder().encode(`key:${i % KEYSPACE}`);
      const s = shardOf(key);
      const res = await call<kv.GetResponse>(clients.get(s.leader)!, 'get', kv.GetRequest.create({ header: header(s), key }));
      return onResult(res.error, s);
    };
    const onResult = (error: { code: string } | undefined, s: Shard): boolean => {
      if (error === undefined) return true;
      if (error.code === 'NOT_LEADER') void findLeaders(cluster, [s]);
      return false;
    };

    await phase('warm-up', 2, put);
    const fsync0 = await fsyncs(cluster);
    const puts = await phase('put', SECONDS, put);
    const fsync1 = await fsyncs(cluster);
    const gets = await phase('get', SECONDS, get);
    const perNode = fsync1.map((f, i) => (f - fsync0[i]!) / puts.seconds);
    const total = perNode.reduce((a, b) => a + b, 0);

    console.log(`\nShoal, 3 node processes on this machine, ${SHARDS} shards × 3 replicas, raftLogSync=always, ${VALUE_BYTES}-byte values, ${CONCURRENCY} concurrent requests`);
    report('put', puts);
    report('get', gets);
    console.log(`fsyncs/s during puts: ${total.toFixed(0)} total (${perNode.map((f) => f.toFixed(0)).join(' / ')} per node); `
      + `${(puts.ops / puts.seconds / Math.max(total / 3, 1)).toFixed(1)} acknowledged puts per fsync per node`);
    await redisReference(puts, gets);
  } finally {
    for (const c of clients.values()) c.close();
    await cluster.stop();
  }
}

/** Runs `op` from CONCURRENCY workers for `seconds`; latency percentiles over successes. */
async function phase(name: string, seconds: number, op: (i: number) => Promise<boolean>): Promise<PhaseResult> {
  const latencies: number[] = [];
  let errors = 0;
  let next = Math.floor(Math.random() * KEYSPACE);
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  const end = start + seconds * 1000;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (performance.now() < end) {
      const t = performance.now();
      const ok = await op(next++).catch(() => false);
      if (ok) latencies.push(performance.now() - t);
      else errors++;
    }
  }));
  const elapsed = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const clientCpu = (cpu.user + cpu.system) / 1e6 / elapsed;
  latencies.sort((a, b) => a - b);
  const pct = (p: number): number => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? 0;
  if (name !== 'warm-up') {
    console.log(`${name}: ${latencies.length} ok, ${errors} errors in ${elapsed.toFixed(1)} s; load generator used ${(clientCpu * 100).toFixed(0)}% of a core`);
  }
  return { ops: latencies.length, errors, seconds: elapsed, p50Ms: pct(0.5), p99Ms: pct(0.99) };
}

function report(name: string, r: PhaseResult): void {
  console.log(`${name.padEnd(4)} ${(r.ops / r.seconds).toFixed(0).padStart(8)} ops/s   p50 ${r.p50Ms.toFixed(2)} ms   p99 ${r.p99Ms.toFixed(2)} ms   errors ${r.errors}`);
}

function call<Res>(client: kv.KvClient, method: 'put' | 'get', req: unknown): Promise<Res> {
  const fn = (client as unknown as Record<string, (r: unknown, md: Metadata, o: object, cb: (e: Error | null, res: Res) => void) => void>)[method]!;
  return new Promise((resolve, reject) => {
    fn.call(client, req, new Metadata(), { deadline: Date.now() + 10_000 }, (e, res) => (e === null ? resolve(res) : reject(e)));
  });
}

async function findLeaders(cluster: BenchCluster, shards: Shard[]): Promise<void> {
  const ids = new Set(shards.map((s) => s.id));
  await waitFor('shard leaders', 30_000, async () => {
    for (const n of cluster.nodes) {
      const c = new admin.NodeAdminClient(n.address, credentials.createInsecure());
      const res = await new Promise<admin.GetShardStatusResponse>((resolve, reject) => {
        c.getShardStatus(admin.GetShardStatusRequest.create(), (e, r) => (e === null ? resolve(r) : reject(e)));
      }).finally(() => c.close());
      for (const st of res.shards) {
        const s = shards.find((x) => x.id === st.shard?.id);
        if (s !== undefined && ids.has(s.id) && st.leaderPeerId === st.peerId) s.leader = n.nodeId;
      }
    }
    return shards.every((s) => s.leader !== 0);
  });
}

async function fsyncs(cluster: BenchCluster): Promise<number[]> {
  return Promise.all(cluster.nodes.map((n) => cluster.metric(n.nodeId, 'shoal_raft_log_fsyncs_total')));
}

/** The same load shape against Redis, if it is installed. */
async function redisReference(puts: PhaseResult, gets: PhaseResult): Promise<void> {
  const has = (cmd: string): boolean => spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0;
  if (!has('redis-server') || !has('redis-benchmark')) {
    console.log('\nRedis reference: skipped (redis-server / redis-benchmark not on PATH)');
    return;
  }
  for (const fsync of ['everysec', 'always']) {
    const [port] = await freePorts(1);
    const server = spawn('redis-server', ['--port', String(port), '--save', '', '--appendonly', 'yes', '--appendfsync', fsync, '--dir', '/tmp'], { stdio: 'ignore' });
    try {
      await waitFor('redis', 10_000, () => spawnSync('redis-cli', ['-p', String(port), 'ping']).stdout?.toString().includes('PONG') ?? false);
      const n = Math.max(100_000, Math.round((puts.ops / puts.seconds) * SECONDS));
      const out = spawnSync('redis-benchmark', ['-p', String(port), '-t', 'set,get', '-d', String(VALUE_BYTES), '-c', String(CONCURRENCY),
        '-n', String(n), '-r', String(KEYSPACE), '--csv'], { encoding: 'utf8' }).stdout;
      const rps = (test: string): number => {
        const line = out.split('\n').find((l) => l.startsWith(`"${test}"`));
        return line === undefined ? 0 : Number(line.split(',')[1]?.replaceAll('"', ''));
      };
      const set = rps('SET');
      const get = rps('GET');
      console.log(`\nRedis (appendfsync ${fsync}, single process, same concurrency and value size): SET ${set.toFixed(0)} ops/s, GET ${get.toFixed(0)} ops/s`);
      console.log(`Shoal / Redis: put ${(puts.ops / puts.seconds / set).toFixed(3)}×, get ${(gets.ops / gets.seconds / get).toFixed(3)}×`);
    } finally {
      server.kill('SIGKILL');
    }
  }
}

await main();
