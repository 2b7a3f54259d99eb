/**
 * Storage-node processes for the node benchmarks: free ports, a generated JSON config per
 * node (static layout), `node cli/dist/main.js node --config …` children, /metrics scraping.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo, Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = join(ROOT, 'cli/dist/main.js');

export interface BenchNode {
  readonly nodeId: number;
  readonly address: string;
  readonly httpPort: number;
  readonly dataDir: string;
  readonly configFile: string;
  child: ChildProcess | null;
}

export interface BenchLayout {
  readonly tables: readonly Record<string, unknown>[];
  readonly shards: readonly Record<string, unknown>[];
}

export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: n }, () => new Promise<Server>((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => res(s));
  })));
  const ports = servers.map((s) => (s.address() as AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

/** Hash-table shards 1..n tiling the 16384 slots, each with a replica on every node. */
export function hashShards(n: number, nodes: readonly number[]): Record<string, unknown>[] {
  return Array.from({ length: n }, (_, i) => ({
    id: i + 1, tableId: 1, slots: [Math.floor((i * 16384) / n), Math.floor(((i + 1) * 16384) / n)],
    replicas: nodes.map((node) => ({ nodeId: node, peerId: (i + 1) * 10 + node })),
  }));
}

export class BenchCluster {
  readonly nodes: BenchNode[] = [];
  readonly dir = mkdtempSync(join(tmpdir(), 'shoal-bench-'));

  static async create(nodeCount: number, layout: BenchLayout, options: Record<string, unknown>): Promise<BenchCluster> {
    const c = new BenchCluster();
    const ports = await freePorts(nodeCount * 2);
    for (let n = 1; n <= nodeCount; n++) {
      const dataDir = join(c.dir, `node${n}`);
      mkdirSync(dataDir, { recursive: true });
      c.nodes.push({
        nodeId: n, address: `127.0.0.1:${ports[(n - 1) * 2]!}`, httpPort: ports[(n - 1) * 2 + 1]!, dataDir,
        configFile: join(c.dir, `node${n}.json`), child: null,
      });
    }
    for (const node of c.nodes) {
      writeFileSync(node.configFile, JSON.stringify({
        nodeId: node.nodeId, dataDir: node.dataDir, listen: node.address, httpListen: `127.0.0.1:${node.httpPort}`,
        logLevel: 'warn', ...options,
        nodes: c.nodes.map((x) => ({ nodeId: x.nodeId, address: x.address })), tables: layout.tables, shards: layout.shards,
      }));
    }
    return c;
  }

  /** Starts the given nodes as child processes and waits until /healthz answers. */
  async start(ids: readonly number[], timeoutMs = 120_000): Promise<void> {
    await Promise.all(ids.map(async (id) => {
      const node = this.nodes[id - 1]!;
      const out = openSync(join(node.dataDir, 'stdout.log'), 'a');
      // SHOAL_BENCH_NODE_ARGS: extra node flags for the node processes (e.g. --cpu-prof).
      const extra = (process.env['SHOAL_BENCH_NODE_ARGS'] ?? '').split(' ').filter((a) => a !== '');
      node.child = spawn(process.execPath, [...extra, CLI, 'node', '--config', node.configFile], { cwd: ROOT, stdio: ['ignore', out, out] });
      closeSync(out);
      await waitFor(`node ${id} healthy`, timeoutMs, async () => (await fetch(`http://127.0.0.1:${node.httpPort}/healthz`).catch(() => undefined))?.ok === true);
    }));
  }

  /** Sum of a metric's samples on one node (optionally only lines containing `labels`). */
  async metric(id: number, name: string, labels = ''): Promise<number> {
    const text = await (await fetch(`http://127.0.0.1:${this.nodes[id - 1]!.httpPort}/metrics`)).text();
    let sum = 0;
    for (const line of text.split('\n')) {
      if (!line.startsWith(name) || (line[name.length] !== '{' && line[name.length] !== ' ')) continue;
      if (labels !== '' && !line.includes(labels)) continue;
      sum += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
    return sum;
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map(async (n) => {
      const child = n.child;
      if (child === null || child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    }));
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export async function waitFor(what: string, timeoutMs: number, check: () => Promise<boolean> | boolean): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await Promise.resolve().then(check).catch(() => false))) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export function argNumber(name: string, dflt: number): number {
  const at = process.argv.indexOf(`--${name}`);
  if (at < 0) return dflt;
  const v = Number(process.argv[at + 1]);
  if (!Number.isFinite(v)) throw new Error(`--${name} needs a number`);
  return v;
}
