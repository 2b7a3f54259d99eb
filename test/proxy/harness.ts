/**
 * A real Shoal under a real `shoal proxy` for the RESP specs: storage-node processes with
 * a static shard layout (test/cluster/harness.ts), a small fake Meta gRPC server in the
 * test process that serves the layout's routes to the proxy's SDK (until the metaserver
 * can create tables), and `node cli/dist/main.js proxy --config …` as a child process.
 *
 * The table `default` (db 0) is a hash table of two shards: slots [0, 8192) on node 1 and
 * [8192, 16384) on node 2, so keys spread over two shards and CROSSSLOT can be provoked.
 * `{a}x` and `{a}y` share a slot; KEYS_ON_TWO_SHARDS lie on different shards.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { execFile } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { keySlot } from '@shoal/common';
import { descriptorOf } from '@shoal/node';
import type { ShardConfig, TableConfig } from '@shoal/node';
import { common, meta } from '@shoal/proto';
import { Redis } from 'ioredis';
import { CLI, Cluster, freePorts, ROOT, waitUntil } from '../cluster/harness.js';

export { waitUntil };

/** Serves GetClusterInfo / GetRoutes / GetTable / WatchRoutes from a static layout (one member, the leader). */
class StaticMeta {
  private server: Server | undefined;
  port = 0;

  constructor(private readonly table: meta.TableInfo, private readonly routes: () => meta.GetRoutesResponse | undefined) {}

  async start(): Promise<void> {
    const server = new Server();
    const impl: Pick<meta.MetaServer, 'getRoutes' | 'getTable' | 'getClusterInfo' | 'watchRoutes'> = {
      getClusterInfo: (_call, cb) => cb(null, meta.GetClusterInfoResponse.create({
        clusterId: 1, leaderId: 1, members: [meta.MetaMember.create({ id: 1, address: `127.0.0.1:${this.port}`, isLeader: true })],
      })),
      getRoutes: (call, cb) => {
        const routes = this.routes();
        if (!this.matches(call.request.tableName, call.request.tableId)) {
          cb(null, meta.GetRoutesResponse.create({ error: common.ErrorDetail.create({ code: 'TABLE_NOT_FOUND', message: `no table ${call.request.tableName}` }) }));
        } else if (routes === undefined) {
          cb(null, meta.GetRoutesResponse.create({ error: common.ErrorDetail.create({ code: 'UNAVAILABLE', message: 'nodes still starting' }) }));
        } else {
          cb(null, routes);
        }
      },
      getTable: (call, cb) => cb(null, this.matches(call.request.name, call.request.id)
        ? meta.GetTableResponse.create({ table: this.table })
        : meta.GetTableResponse.create({ error: common.ErrorDetail.create({ code: 'TABLE_NOT_FOUND', message: 'no such table' }) })),
      // Routes never change here: keep the stream open and silent.
      watchRoutes: () => undefined,
    };
    server.addService(meta.MetaService, impl);
    this.port = await new Promise<number>((resolve, reject) => {
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p)));
    });
    this.server = server;
  }

  private matches(name: string, id: number): boolean {
    return name === this.table.name || id === this.table.id;
  }

  stop(): void {
    this.server?.forceShutdown();
  }
}

export interface ProxyEnv {
  readonly cluster: Cluster;
  readonly port: number;
  readonly httpPort: number;
  readonly proxy: ChildProcess;
  readonly logFile: string;
  /** A new ioredis client on the proxy (closed by destroy()). */
  redis(options?: { db?: number }): Redis;
  /** Runs redis-cli against the proxy; resolves with its stdout. */
  cli(args: readonly string[], input?: string): Promise<string>;
  /** SIGTERM the proxy and resolve its exit code. */
  stopProxy(): Promise<number | null>;
  destroy(): Promise<void>;
}

const TABLE: TableConfig = { id: 1, name: 'default', partition: 'hash', defaultTtlMs: 0 } as TableConfig;
const SLOTS_SPLIT = 8192;

/** Two keys on different shards of the layout. */
export const KEYS_ON_TWO_SHARDS: readonly [string, string] = (() => {
  const a = 'a';
  let b = 'b';
  for (let i = 0; (keySlot(Buffer.from(a)) < SLOTS_SPLIT) === (keySlot(Buffer.from(b)) < SLOTS_SPLIT); i++) b = `b${i}`;
  return [a, b];
})();

/** Starts 2 nodes (one single-replica shard each), the static meta and `shoal proxy`. */
export async function startProxyEnv(extraConfig: Record<string, unknown> = {}): Promise<ProxyEnv> {
  const table = meta.TableInfo.create({
    id: 1, name: 'default', state: meta.TableState.ACTIVE,
    options: meta.TableOptions.create({ partition: meta.PartitionKind.HASH, readPolicy: common.ReadConsistency.LINEARIZABLE }),
  });
  // The meta and the proxy start while the nodes do (the routes exist once the nodes do):
  // the proxy's SDK only loads routes on the first command.
  const published: { routes?: meta.GetRoutesResponse } = {};
  const fakeMeta = new StaticMeta(table, () => published.routes);
  await fakeMeta.start();
  const dir = mkdtempSync(join(tmpdir(), 'shoal-proxy-'));
  const [port, httpPort] = await freePorts(2) as [number, number];
  const configFile = join(dir, 'proxy.json');
  writeFileSync(configFile, JSON.stringify({
    metaservers: [`127.0.0.1:${fakeMeta.port}`], listen: `127.0.0.1:${port}`, httpListen: `127.0.0.1:${httpPort}`,
    logLevel: 'warn', databases: ['default', 'missing'], ...extraConfig,
  }));
  const logFile = join(dir, 'proxy.log');
  const out = openSync(logFile, 'a');
  // PROXY_NODE_ARGS (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`) profiles the proxy process.
  const nodeArgs = (process.env['PROXY_NODE_ARGS'] ?? '').split(' ').filter((a) => a !== '');
  const proxy = spawn(process.execPath, [...nodeArgs, CLI, 'proxy', '--config', configFile], { cwd: ROOT, stdio: ['ignore', out, out] });
  closeSync(out);
  const tail = (): string => { try { return readFileSync(logFile, 'utf8').slice(-4000); } catch { return ''; } };
  const started = Promise.all([
    Cluster.start({
      nodes: 2,
      tables: [TABLE],
      shards: [
        { id: 1, tableId: 1, slots: [0, SLOTS_SPLIT], nodes: [1] },
        { id: 2, tableId: 1, slots: [SLOTS_SPLIT, 16384], nodes: [2] },
      ],
    }),
    waitUntil('proxy healthy', 20_000, async () => {
      if (proxy.exitCode !== null) throw new Error(`proxy exited with ${proxy.exitCode}:\n${tail()}`);
      const res = await fetch(`http://127.0.0.1:${httpPort}/healthz`).catch(() => undefined);
      return res?.ok === true;
    }),
  ]);
  let cluster: Cluster;
  try {
    [cluster] = await started;
  } catch (e) {
    proxy.kill('SIGKILL');
    fakeMeta.stop();
    throw e;
  }
  published.routes = meta.GetRoutesResponse.create({
    table, routeVersion: 1,
    shards: cluster.shards.map((s: ShardConfig) => meta.ShardRoute.create({ shard: descriptorOf(s, TABLE), leaderAddress: '' })),
    nodeAddresses: new Map([...cluster.nodes.values()].map((n) => [n.nodeId, n.address])),
  });
  const clients: Redis[] = [];
  // Both shards have elected their (single) leader once a command on each succeeds.
  const probe = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 0 });
  try {
    await waitUntil('both shards serve', 20_000, async () => (await probe.exists(...KEYS_ON_TWO_SHARDS)) >= 0);
  } finally {
    probe.disconnect();
  }
  const stopProxy = async (): Promise<number | null> => {
    if (proxy.exitCode !== null) return proxy.exitCode;
    // ioredis reconnects forever: stop its clients first so they do not fight the shutdown.
    for (const c of clients) c.disconnect();
    const exited = new Promise<number | null>((r) => proxy.once('exit', (code) => r(code)));
    proxy.kill('SIGTERM');
    const t = setTimeout(() => proxy.kill('SIGKILL'), 15_000);
    const code = await exited;
    clearTimeout(t);
    return code;
  };
  return {
    cluster, port, httpPort, proxy, logFile,
    redis(options = {}) {
      const r = new Redis({ port, host: '127.0.0.1', db: options.db ?? 0, maxRetriesPerRequest: 0, lazyConnect: false, enableOfflineQueue: true });
      clients.push(r);
      return r;
    },
    cli(args, input) {
      return new Promise((resolve, reject) => {
        const child = execFile('redis-cli', ['-p', String(port), ...args], { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 }, (e, stdout) => {
          if (e !== null) reject(e);
          else resolve(stdout.toString('latin1'));
        });
        if (input !== undefined) child.stdin?.end(input);
      });
    },
    stopProxy,
    async destroy() {
      for (const c of clients) c.disconnect();
      await stopProxy();
      fakeMeta.stop();
      await cluster.destroy();
      if (process.env['KEEP_CLUSTER'] === undefined) rmSync(dir, { recursive: true, force: true });
    },
  };
}
