/**
 * `npm run bench:resp`: redis-benchmark against a local redis-server (appendonly yes,
 * appendfsync always) and against Shoal through `shoal proxy` (a real metaserver, three
 * storage nodes, table `default` with 3 replicas per shard, `raftLogSync: always`), in the
 * same run with the same parameters: `-t set,get,incr,lpush,hset -d 100 -c 50 -r <keys>`,
 * without and with `-P 16`. Prints ops/s and p50/p99 for both and the ratio, as a markdown
 * table (docs/benchmarks.md keeps one). Shoal runs twice in the same run: through the
 * cluster's proxy (default settings: a client's pipelined commands coalesced per shard, and
 * single commands of different clients coalesced per shard and event-loop turn) and through
 * a second "baseline" proxy, so "before/after" share the machine's noise. `--baseline
 * cross-off` (default): `backendCoalesceAcrossClients: false` (each unpipelined command
 * its own Kv.Exec); `--baseline exec1`: `backendExecBatchCommandsMax: 1` (one Kv.Exec per
 * command, as before issue #7's batching). After the table, per proxy and pipeline depth, the
 * proxy's CPU seconds and the nodes' /metrics deltas (Kv requests served, proposals, node
 * CPU, event-loop lag) show where the work went.
 * Figures only, no assertion (STYLE.md rule 12).
 *
 * Options: `-- --requests 20000 --clients 50 --keys 100000 --tests get,set --pipelines 1,16
 * --baseline cross-off --baseline-first --sdk`. `--sdk` adds a direct SDK GET loop at the same concurrency (no proxy) and the
 * nodes' /metrics deltas over it (turns, fsyncs, server-side request time, node CPU), which
 * splits proxy cost from node cost. BENCH_PROXY_NODE_ARGS="--cpu-prof --cpu-prof-dir=DIR"
 * profiles the baseline proxy (node rejects --cpu-prof in NODE_OPTIONS). `-r` spreads keys so SET/GET/
 * INCR do not all hit one key (LPUSH and HSET use one key each in redis-benchmark).
 * Needs redis-server and redis-benchmark on PATH (redis-tools); else it says so and exits.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalCluster } from '@shoal/cli';
import { Shoal } from '@shoal/client-sdk';
import { argNumber, freePorts, ROOT, waitFor } from './node-cluster.js';

const REQUESTS = argNumber('requests', 20_000);
const CLIENTS = argNumber('clients', 50);
const KEYS = argNumber('keys', 100_000);
const TESTS = argString('tests', 'set,get,incr,lpush,hset');
const PIPELINES = argString('pipelines', '1,16').split(',').map(Number);
const BASELINES: Readonly<Record<string, { config: string; label: string; about: string }>> = {
  'cross-off': { config: 'backendCoalesceAcrossClients: false', label: 'no cross-client', about: 'without cross-client coalescing (backendCoalesceAcrossClients: false)' },
  exec1: { config: 'backendExecBatchCommandsMax: 1', label: '1 Exec/cmd', about: 'without any coalescing (backendExecBatchCommandsMax: 1)' },
};
const BASELINE = BASELINES[argString('baseline', 'cross-off')];

interface Row {
  readonly test: string;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

function onPath(cmd: string): boolean {
  return spawnSync('which', [cmd]).status === 0;
}

/** Runs redis-benchmark with --csv and parses its rows. */
function benchmark(port: number, pipeline: number, requests = REQUESTS): Row[] {
  const args = ['-h', '127.0.0.1', '-p', String(port), '-t', TESTS, '-d', '100', '-c', String(CLIENTS), '-n', String(requests), '-r', String(KEYS), '-P', String(pipeline), '--csv'];
  const out = spawnSync('redis-benchmark', args, { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  if (out.status !== 0) throw new Error(`redis-benchmark failed: ${out.stderr}`);
  const lines = out.stdout.trim().split('\n');
  const header = lines[0]!.split(',').map((h) => h.replace(/"/g, ''));
  const col = (name: string): number => header.indexOf(name);
  return lines.slice(1).map((l) => {
    const f = l.split(',').map((x) => x.replace(/"/g, ''));
    return { test: f[col('test')]!, rps: Number(f[col('rps')]), p50Ms: Number(f[col('p50_latency_ms')]), p99Ms: Number(f[col('p99_latency_ms')]) };
  });
}

async function startRedis(dir: string): Promise<{ port: number; child: ChildProcess }> {
  const [port] = await freePorts(1) as [number];
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--appendonly', 'yes', '--appendfsync', 'always', '--save', '', '--dir', dir], { stdio: 'ignore' });
  await waitFor('redis-server', 10_000, () => spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).stdout.trim() === 'PONG');
  return { port, child };
}

async function startShoal(dir: string): Promise<LocalCluster> {
  for (let attempt = 0; ; attempt++) {
    const basePort = 12_000 + Math.floor(Math.random() * 36) * 1000 + 100;
    const cluster = new LocalCluster({ dataDir: join(dir, `shoal${attempt}`), nodes: 3, metaservers: 1, basePort, readyTimeoutMs: 120_000 });
    try {
      await cluster.start();
      return cluster;
    } catch (e) {
      await cluster.stop().catch(() => undefined);
      if (attempt >= 2 || !/port|in use/i.test(String(e))) throw e;
    }
  }
}

/** A second `shoal proxy` on the same cluster with the baseline's setting. */
async function startBaselineProxy(dir: string, metaservers: readonly string[]): Promise<{ port: number; http: number; child: ChildProcess }> {
  const [port, http] = await freePorts(2) as [number, number];
  const file = join(dir, 'proxy-uncoalesced.yaml');
  writeFileSync(file, [
    `metaservers: ${JSON.stringify(metaservers)}`, `listen: "127.0.0.1:${port}"`, `httpListen: "127.0.0.1:${http}"`, BASELINE!.config, 'logLevel: "warn"',
  ].join('\n') + '\n');
  // BENCH_PROXY_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/p") profiles this proxy.
  const extra = (process.env.BENCH_PROXY_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
  const child = spawn(process.execPath, [...extra, join(ROOT, 'cli/dist/main.js'), 'proxy', '--config', file], { stdio: 'ignore' });
  await waitFor('the baseline proxy', 60_000, () => spawnSync('redis-cli', ['-p', String(port), 'set', 'warm', 'up'], { encoding: 'utf8' }).stdout.trim() === 'OK');
  return { port, http, child };
}

/** `--name value` from argv, else the default. */
function argString(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : dflt;
}

/**
 * `--sdk`: the same GETs straight through the SDK (Table.get, Kv.Get on the shard leader),
 * CLIENTS concurrent loops, REQUESTS in all: splits the proxy's cost from the node's.
 */
async function sdkGets(metaservers: readonly string[]): Promise<Row> {
  const db = await Shoal.connect({ metaservers });
  try {
    const table = db.table('default');
    const lat: number[] = [];
    let next = 0;
    const t0 = performance.now();
    await Promise.all(Array.from({ length: CLIENTS }, async () => {
      while (next < REQUESTS) {
        next++;
        const s = performance.now();
        await table.get(`key:${String(Math.floor(Math.random() * KEYS)).padStart(12, '0')}`);
        lat.push(performance.now() - s);
      }
    }));
    const secs = (performance.now() - t0) / 1000;
    lat.sort((a, b) => a - b);
    return { test: 'SDK GET', rps: lat.length / secs, p50Ms: lat[Math.floor(lat.length / 2)]!, p99Ms: lat[Math.floor(lat.length * 0.99)]! };
  } finally {
    await db.close();
  }
}

/**
 * A node's /metrics, tried 3 times: the body is sometimes cut short right after a
 * benchmark ("other side closed"). No keep-alive, so no stale pooled socket is reused.
 * Empty if every try failed (the figures of that run then read 0).
 */
async function metricsText(url: string): Promise<string> {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await (await fetch(url, { headers: { connection: 'close' } })).text();
    } catch (e) {
      console.error(`bench: ${url}: ${String(e)}${attempt < 2 ? ', trying again' : ''}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return '';
}

/** Sum over the nodes of the counters and histogram sums/counts that tell where a read waits. */
async function nodeMetrics(cluster: LocalCluster): Promise<Map<string, number>> {
  const sums = new Map<string, number>();
  for (let i = 0; i < 3; i++) {
    const text = await metricsText(`http://127.0.0.1:${cluster.ports.nodeHttp + i}/metrics`);
    for (const line of text.split('\n')) {
      const m = /^shoal_((?:raft_ready_loop_seconds|raft_readies_per_turn_items|kv_request_seconds)_(?:sum|count)|raft_log_fsyncs_total|raft_log_flushes_total|raft_proposals_total|kv_reads_served_total|process_cpu_seconds_total|nodejs_eventloop_lag_p99_seconds)(?:\{[^}]*\})? ([0-9.e+-]+)$/.exec(line);
      if (m !== null) sums.set(m[1]!, (sums.get(m[1]!) ?? 0) + Number(m[2]));
    }
  }
  return sums;
}

/** CPU seconds (user + system) of the process serving /metrics at `httpPort`. */
async function processCpu(httpPort: number): Promise<number> {
  const text = await metricsText(`http://127.0.0.1:${httpPort}/metrics`);
  return Number(/^shoal_process_cpu_seconds_total(?:\{[^}]*\})? ([0-9.e+-]+)$/m.exec(text)?.[1] ?? 0);
}

/** One line: what the nodes (and the proxy, `proxyCpuS`) spent during one Shoal benchmark run. */
function shortDelta(what: string, a: Map<string, number>, b: Map<string, number>, proxyCpuS: number): string {
  const d = (k: string): number => (b.get(k) ?? 0) - (a.get(k) ?? 0);
  return `${what}: proxy CPU ${fmt(proxyCpuS)} s; nodes served ${d('kv_request_seconds_count')} Kv requests (mean ${fmt((1000 * d('kv_request_seconds_sum')) / Math.max(d('kv_request_seconds_count'), 1))} ms), `
    + `${d('raft_proposals_total')} proposals, node CPU ${fmt(d('process_cpu_seconds_total'))} s, event-loop lag p99 (last, summed over 3) ${fmt(1000 * (b.get('nodejs_eventloop_lag_p99_seconds') ?? 0))} ms`;
}

function printMetricDelta(a: Map<string, number>, b: Map<string, number>): void {
  const d = (k: string): number => (b.get(k) ?? 0) - (a.get(k) ?? 0);
  const turns = d('raft_ready_loop_seconds_count');
  console.log(`nodes (3, summed): ${turns} turns, mean turn ${fmt((1000 * d('raft_ready_loop_seconds_sum')) / Math.max(turns, 1))} ms, `
    + `${fmt(d('raft_readies_per_turn_items_sum') / Math.max(d('raft_readies_per_turn_items_count'), 1))} readies/turn, fsyncs ${d('raft_log_fsyncs_total')}, `
    + `proposals ${d('raft_proposals_total')}, reads served ${d('kv_reads_served_total')}, kv requests ${d('kv_request_seconds_count')} mean ${fmt((1000 * d('kv_request_seconds_sum')) / Math.max(d('kv_request_seconds_count'), 1))} ms, node CPU ${fmt(d('process_cpu_seconds_total'))} s, event-loop lag p99 (last, summed) ${fmt(1000 * (b.get('nodejs_eventloop_lag_p99_seconds') ?? 0))} ms`);
}

const fmt = (n: number): string => (n >= 100 ? n.toFixed(0) : n.toFixed(2));

async function main(): Promise<void> {
  if (!onPath('redis-server') || !onPath('redis-benchmark')) {
    console.log('bench:resp skipped: redis-server and redis-benchmark must be on PATH (install redis-tools / redis-server)');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'shoal-bench-resp-'));
  const redis = await startRedis(dir);
  const shoal = await startShoal(dir);
  if (BASELINE === undefined) throw new Error(`--baseline must be one of ${Object.keys(BASELINES).join(', ')}`);
  const plain = await startBaselineProxy(dir, shoal.metaAddresses());
  try {
    // Routes are loaded on the first command.
    spawnSync('redis-cli', ['-p', String(shoal.ports.proxyResp), 'set', 'warm', 'up']);
    console.log(`redis-benchmark -t ${TESTS} -d 100 -c ${CLIENTS} -n ${REQUESTS} -r ${KEYS}; redis-server appendfsync always vs Shoal (3 replicas, raftLogSync always) via one proxy;`);
    console.log(`"${BASELINE.label}" is a second proxy on the same cluster ${BASELINE.about}\n`);
    const L = BASELINE.label;
    // Warm-up: whichever proxy ran first after start-up measured up to 1.9× slower (JIT,
    // routes, the nodes' first leases), which swamped the difference being measured.
    for (const port of [shoal.ports.proxyResp, plain.port]) benchmark(port, 1, Math.min(REQUESTS, 3000));
    console.log(`| test | -P | redis ops/s | Shoal ops/s | Shoal/redis | ${L} ops/s | ${L} / redis | Shoal / ${L} | redis p50 / p99 ms | Shoal p50 / p99 ms | ${L} p50 / p99 ms |`);
    console.log('|---|---|---|---|---|---|---|---|---|---|---|');
    const notes: string[] = [];
    for (const pipeline of PIPELINES) {
      const a = benchmark(redis.port, pipeline);
      // --baseline-first: the baseline proxy runs first (to see any order bias).
      const first = process.argv.includes('--baseline-first') ? plain.port : shoal.ports.proxyResp;
      const cpu0 = [await processCpu(shoal.ports.proxyHttp), await processCpu(plain.http)];
      const m0 = await nodeMetrics(shoal);
      const r1 = benchmark(first, pipeline);
      const m1 = await nodeMetrics(shoal);
      const r2 = benchmark(first === plain.port ? shoal.ports.proxyResp : plain.port, pipeline);
      const m2 = await nodeMetrics(shoal);
      const cpu = [await processCpu(shoal.ports.proxyHttp) - cpu0[0]!, await processCpu(plain.http) - cpu0[1]!];
      const [b, c] = first === plain.port ? [r2, r1] : [r1, r2];
      const [sb, sc] = first === plain.port
        ? [shortDelta(`-P ${pipeline} Shoal`, m1, m2, cpu[0]!), shortDelta(`-P ${pipeline} ${L}`, m0, m1, cpu[1]!)]
        : [shortDelta(`-P ${pipeline} Shoal`, m0, m1, cpu[0]!), shortDelta(`-P ${pipeline} ${L}`, m1, m2, cpu[1]!)];
      notes.push(sb, sc);
      for (const ra of a) {
        const rb = b.find((x) => x.test === ra.test);
        const rc = c.find((x) => x.test === ra.test);
        if (rb === undefined || rc === undefined) continue;
        console.log(`| ${ra.test} | ${pipeline} | ${fmt(ra.rps)} | ${fmt(rb.rps)} | ${(rb.rps / ra.rps).toFixed(3)} | ${fmt(rc.rps)} | ${(rc.rps / ra.rps).toFixed(3)} | ${(rb.rps / rc.rps).toFixed(2)} `
          + `| ${fmt(ra.p50Ms)} / ${fmt(ra.p99Ms)} | ${fmt(rb.p50Ms)} / ${fmt(rb.p99Ms)} | ${fmt(rc.p50Ms)} / ${fmt(rc.p99Ms)} |`);
      }
    }
    console.log(`\n${notes.join('\n')}`);
    if (process.argv.includes('--sdk')) {
      const before = await nodeMetrics(shoal);
      const t0 = performance.now();
      const r = await sdkGets(shoal.metaAddresses());
      console.log(`SDK loop wall time ${fmt((performance.now() - t0) / 1000)} s`);
      printMetricDelta(before, await nodeMetrics(shoal));
      console.log(`\nSDK Table.get x${CLIENTS} concurrent: ${fmt(r.rps)} ops/s, p50 / p99 ${fmt(r.p50Ms)} / ${fmt(r.p99Ms)} ms`);
    }
  } finally {
    plain.child.kill('SIGTERM');
    redis.child.kill('SIGTERM');
    await shoal.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
