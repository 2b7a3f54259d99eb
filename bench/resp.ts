/**
 * `npm run bench:resp`: redis-benchmark against a local redis-server (appendonly yes,
 * appendfsync always) and against Shoal through `shoal proxy` (a real metaserver, three
 * storage nodes, table `default` with 3 replicas per shard, `raftLogSync: always`), in the
 * same run with the same parameters: `-t set,get,incr,lpush,hset -d 100 -c 50 -r <keys>`,
 * without and with `-P 16`. Prints ops/s and p50/p99 for both and the ratio, as a markdown
 * table (docs/benchmarks.md keeps one). Shoal runs twice in the same run: through the
 * cluster's proxy (pipelined commands coalesced per shard into one Kv.Exec) and through a
 * second proxy with `backendExecBatchCommandsMax: 1` (one Kv.Exec per command, as before
 * issue #7's batching), so "before/after" share the machine's noise. Figures only, no
 * assertion (STYLE.md rule 12).
 *
 * Options: `-- --requests 20000 --clients 50 --keys 100000`. `-r` spreads keys so SET/GET/
 * INCR do not all hit one key (LPUSH and HSET use one key each in redis-benchmark).
 * Needs redis-server and redis-benchmark on PATH (redis-tools); else it says so and exits.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalCluster } from '@shoal/cli';
import { argNumber, freePorts, ROOT, waitFor } from './node-cluster.js';

const REQUESTS = argNumber('requests', 20_000);
const CLIENTS = argNumber('clients', 50);
const KEYS = argNumber('keys', 100_000);
const TESTS = 'set,get,incr,lpush,hset';

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
function benchmark(port: number, pipeline: number): Row[] {
  const args = ['-h', '127.0.0.1', '-p', String(port), '-t', TESTS, '-d', '100', '-c', String(CLIENTS), '-n', String(REQUESTS), '-r', String(KEYS), '-P', String(pipeline), '--csv'];
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

/** A second `shoal proxy` on the same cluster with one Kv.Exec per command (no coalescing). */
async function startUncoalescedProxy(dir: string, metaservers: readonly string[]): Promise<{ port: number; child: ChildProcess }> {
  const [port, http] = await freePorts(2) as [number, number];
  const file = join(dir, 'proxy-uncoalesced.yaml');
  writeFileSync(file, [
    `metaservers: ${JSON.stringify(metaservers)}`, `listen: "127.0.0.1:${port}"`, `httpListen: "127.0.0.1:${http}"`, 'backendExecBatchCommandsMax: 1', 'logLevel: "warn"',
  ].join('\n') + '\n');
  const child = spawn(process.execPath, [join(ROOT, 'cli/dist/main.js'), 'proxy', '--config', file], { stdio: 'ignore' });
  await waitFor('the uncoalesced proxy', 60_000, () => spawnSync('redis-cli', ['-p', String(port), 'set', 'warm', 'up'], { encoding: 'utf8' }).stdout.trim() === 'OK');
  return { port, child };
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
  const plain = await startUncoalescedProxy(dir, shoal.metaAddresses());
  try {
    // Routes are loaded on the first command.
    spawnSync('redis-cli', ['-p', String(shoal.ports.proxyResp), 'set', 'warm', 'up']);
    console.log(`redis-benchmark -t ${TESTS} -d 100 -c ${CLIENTS} -n ${REQUESTS} -r ${KEYS}; redis-server appendfsync always vs Shoal (3 replicas, raftLogSync always) via one proxy;`);
    console.log('"1 Exec/cmd" is a second proxy on the same cluster without coalescing (backendExecBatchCommandsMax: 1)\n');
    console.log('| test | -P | redis ops/s | Shoal ops/s | Shoal/redis | 1 Exec/cmd ops/s | 1 Exec/cmd / redis | redis p50 / p99 ms | Shoal p50 / p99 ms | 1 Exec/cmd p50 / p99 ms |');
    console.log('|---|---|---|---|---|---|---|---|---|---|');
    for (const pipeline of [1, 16]) {
      const a = benchmark(redis.port, pipeline);
      const b = benchmark(shoal.ports.proxyResp, pipeline);
      const c = benchmark(plain.port, pipeline);
      for (const ra of a) {
        const rb = b.find((x) => x.test === ra.test);
        const rc = c.find((x) => x.test === ra.test);
        if (rb === undefined || rc === undefined) continue;
        console.log(`| ${ra.test} | ${pipeline} | ${fmt(ra.rps)} | ${fmt(rb.rps)} | ${(rb.rps / ra.rps).toFixed(3)} | ${fmt(rc.rps)} | ${(rc.rps / ra.rps).toFixed(3)} `
          + `| ${fmt(ra.p50Ms)} / ${fmt(ra.p99Ms)} | ${fmt(rb.p50Ms)} / ${fmt(rb.p99Ms)} | ${fmt(rc.p50Ms)} / ${fmt(rc.p99Ms)} |`);
      }
    }
  } finally {
    plain.child.kill('SIGTERM');
    redis.child.kill('SIGTERM');
    await shoal.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
