/**
 * Test harness for clusters of real storage-node processes on loopback: free ports,
 * generated configs (a static shard layout), `node cli/dist/main.js node --config …`
 * children, kill -9, restart and graceful stop, and waits on conditions with deadlines
 * (never fixed sleeps). Every child's output goes to `<dataDir>/stdout.log`, printed when a
 * wait fails so a failure explains itself.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ShardConfig, TableConfig } from '@shoal/node';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const CLI = join(ROOT, 'cli/dist/main.js');

/**
 * Below Linux's ephemeral range (32768–60999): a port the OS hands out for port-0 binds and
 * outgoing connections could be taken by another process while a test has a node down,
 * and the node could not listen on it again when it restarts (seen in CI: EADDRINUSE).
 */
const TEST_PORT_MIN = 20_000;
const TEST_PORT_MAX = 32_000;

/** `n` distinct ports free now, picked at random outside the ephemeral range. */
export async function freePorts(n: number): Promise<number[]> {
  const ports: number[] = [];
  for (let tries = 0; ports.length < n; tries++) {
    if (tries > n * 200) throw new Error(`no ${n} free ports in ${TEST_PORT_MIN}-${TEST_PORT_MAX}`);
    const port = TEST_PORT_MIN + Math.floor(Math.random() * (TEST_PORT_MAX - TEST_PORT_MIN));
    if (ports.includes(port)) continue;
    const free = await new Promise<boolean>((res) => {
      const s = createServer();
      s.once('error', () => res(false));
      s.listen(port, '127.0.0.1', () => s.close(() => res(true)));
    });
    if (free) ports.push(port);
  }
  return ports;
}

/** Polls `check` until it returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function waitUntil<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined | false> | T | undefined | false): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (let delay = 20; ; delay = Math.min(delay * 2, 250)) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last === undefined ? '' : `: ${String(last)}`}`);
    await new Promise((r) => setTimeout(r, delay));
  }
}

export interface ClusterSpec {
  readonly nodes: number;
  readonly tables: readonly TableConfig[] | readonly Partial<TableConfig>[];
  /** Shards with replicas on nodes 1..n (peer ids are assigned: shard * 10 + node). */
  readonly shards: readonly { id: number; tableId: number; slots?: [number, number]; startKey?: string; endKey?: string; nodes: readonly number[] }[];
  /** Extra options for every node's config. */
  readonly options?: Record<string, unknown>;
  /** Per-node extra options. */
  readonly nodeOptions?: Record<number, Record<string, unknown>>;
}

export interface NodeProc {
  readonly nodeId: number;
  readonly grpcPort: number;
  readonly httpPort: number;
  readonly address: string;
  readonly dataDir: string;
  readonly configFile: string;
  child: ChildProcess | null;
}

/** Fast timings so elections and failovers take well under a second or two. */
export const FAST_RAFT = {
  raftTickIntervalMs: 50,
  raftElectionTimeoutTicks: 10,
  raftHeartbeatIntervalTicks: 2,
  logLevel: 'info',
};

export function peerId(shard: number, node: number): number {
  return shard * 10 + node;
}

export class Cluster {
  readonly nodes = new Map<number, NodeProc>();
  readonly dir: string;
  readonly tables: TableConfig[];
  readonly shards: ShardConfig[];

  private constructor(readonly spec: ClusterSpec, dir: string) {
    this.dir = dir;
    this.tables = spec.tables.map((t) => ({ partition: 'hash', defaultTtlMs: 0, name: `t${t.id}`, ...t }) as TableConfig);
    this.shards = spec.shards.map((s) => ({
      id: s.id, tableId: s.tableId,
      ...(s.slots === undefined ? {} : { slots: s.slots }),
      ...(s.startKey === undefined ? {} : { startKey: s.startKey }),
      ...(s.endKey === undefined ? {} : { endKey: s.endKey }),
      replicas: s.nodes.map((n) => ({ nodeId: n, peerId: peerId(s.id, n), role: 'voter' as const })),
    }));
  }

  /** Writes configs and starts every node; resolves when all are healthy. */
  static async start(spec: ClusterSpec): Promise<Cluster> {
    const c = new Cluster(spec, mkdtempSync(join(tmpdir(), 'shoal-cluster-')));
    const ports = await freePorts(spec.nodes * 2);
    for (let n = 1; n <= spec.nodes; n++) {
      const grpcPort = ports[(n - 1) * 2]!;
      const httpPort = ports[(n - 1) * 2 + 1]!;
      const dataDir = join(c.dir, `node${n}`);
      mkdirSync(dataDir, { recursive: true });
      c.nodes.set(n, { nodeId: n, grpcPort, httpPort, address: `127.0.0.1:${grpcPort}`, dataDir, configFile: join(c.dir, `node${n}.json`), child: null });
    }
    for (const node of c.nodes.values()) writeFileSync(node.configFile, JSON.stringify(c.configOf(node), null, 2));
    await Promise.all([...c.nodes.keys()].map((n) => c.startNode(n)));
    return c;
  }

  private configOf(node: NodeProc): Record<string, unknown> {
    return {
      nodeId: node.nodeId, dataDir: node.dataDir, listen: node.address, httpListen: `127.0.0.1:${node.httpPort}`,
      ...FAST_RAFT, ...this.spec.options, ...this.spec.nodeOptions?.[node.nodeId],
      nodes: [...this.nodes.values()].map((n) => ({ nodeId: n.nodeId, address: n.address })),
      tables: this.tables, shards: this.shards,
    };
  }

  node(n: number): NodeProc {
    const p = this.nodes.get(n);
    if (p === undefined) throw new Error(`no node ${n}`);
    return p;
  }

  /** Spawns the node's process and waits for /healthz. */
  async startNode(n: number): Promise<void> {
    const node = this.node(n);
    const out = openSync(join(node.dataDir, 'stdout.log'), 'a');
    const child = spawn(process.execPath, [CLI, 'node', '--config', node.configFile], { cwd: ROOT, stdio: ['ignore', out, out] });
    closeSync(out);
    node.child = child;
    let exited: number | null = null;
    child.once('exit', (code) => {
      exited = code ?? -1;
    });
    await waitUntil(`node ${n} healthy`, 20_000, async () => {
      if (exited !== null) throw new Error(`node ${n} exited with ${exited}:\n${this.tail(n)}`);
      const res = await fetch(`http://127.0.0.1:${node.httpPort}/healthz`).catch(() => undefined);
      return res?.ok === true;
    }).catch((e: unknown) => {
      throw new Error(`${String(e)}\n--- node ${n} output ---\n${this.tail(n)}`);
    });
  }

  /** SIGKILL: no shutdown, no flush beyond what the node already did. */
  async kill9(n: number): Promise<void> {
    const child = this.node(n).child;
    if (child === null || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    this.node(n).child = null;
  }

  /** SIGTERM and wait for the exit code. */
  async stopNode(n: number, timeoutMs = 15_000): Promise<number | null> {
    const child = this.node(n).child;
    if (child === null || child.exitCode !== null) return child?.exitCode ?? null;
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const code = await exited;
    clearTimeout(t);
    this.node(n).child = null;
    return code;
  }

  async restartNode(n: number): Promise<void> {
    await this.kill9(n);
    await this.startNode(n);
  }

  /** The node's Prometheus text. */
  async metrics(n: number): Promise<string> {
    const res = await fetch(`http://127.0.0.1:${this.node(n).httpPort}/metrics`);
    return res.text();
  }

  /** Sum of a metric's samples whose labels include `labels` (e.g. `consistency="follower"`). */
  async metric(n: number, name: string, labels = ''): Promise<number> {
    let sum = 0;
    for (const line of (await this.metrics(n)).split('\n')) {
      if (!line.startsWith(name)) continue;
      const rest = line.slice(name.length);
      if (rest[0] !== '{' && rest[0] !== ' ') continue;
      if (labels !== '' && !rest.includes(labels)) continue;
      sum += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
    return sum;
  }

  tail(n: number, lines = 40): string {
    try {
      return readFileSync(join(this.node(n).dataDir, 'stdout.log'), 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no output)';
    }
  }

  /** Stops every node (SIGTERM, then SIGKILL) and removes the data unless KEEP_CLUSTER is set. */
  async destroy(): Promise<void> {
    await Promise.all([...this.nodes.keys()].map((n) => this.stopNode(n, 5000).catch(() => undefined)));
    if (process.env['KEEP_CLUSTER'] === undefined) rmSync(this.dir, { recursive: true, force: true });
    else console.log(`cluster data kept in ${this.dir}`);
  }
}
