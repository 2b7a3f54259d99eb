/**
 * The RESP server: accepts TCP connections, keeps the per-client registry, enforces
 * `maxclients` and the idle `timeout`, and holds what every connection shares (settings,
 * command table, ACL, slow log, statistics, the backend).
 *
 * Lifecycle, in order: `new ProxyServer({ config, backend })` validates what the config
 * schema cannot (ACL rules) and throws a `ConfigError` naming the option; `await listen()`
 * binds `config.listen` (port 0 picks a free port: read `port`); `await close()` stops
 * accepting, lets every client receive the replies of commands already read (at most
 * `closeTimeoutMs`), then closes them. The backend belongs to the caller, who closes it
 * after the server.
 *
 * One coarse timer (every 100 ms, like Redis' `hz 10`) closes idle clients and samples
 * the operations per second; it is unref'd and never keeps the process alive.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { assert, parseHostPort } from '@shoal/common';
import { Acl } from './acl.js';
import type { Backend } from './backend.js';
import { createCommandTable } from './commands/index.js';
import type { CommandTable } from './commands/table.js';
import type { Client, ClockMs, CommandDef, ServerInfo, ServerStats } from './commands/types.js';
import type { ProxyConfig } from './config.js';
import { Connection } from './connection.js';
import type { ConnectionHost } from './connection.js';
import { SILENT_LOGGER } from './logger.js';
import type { ProxyLogger } from './logger.js';
import { RuntimeSettings } from './settings.js';
import { Slowlog } from './slowlog.js';
import { newStats, resetStats } from './stats.js';

export interface ProxyServerOptions {
  readonly config: ProxyConfig;
  readonly backend: Backend;
  readonly logger?: ProxyLogger;
  /** Wall clock in ms with a fraction; injected by tests. */
  readonly clock?: ClockMs;
  /** The config file's path, for INFO `config_file`. */
  readonly configFile?: string;
  /** Commands beyond the built-in ones (the data-model families). */
  readonly commands?: readonly CommandDef[];
}

/** Redis' hz: the period of the server cron. */
const CRON_PERIOD_MS = 100;
/** Samples averaged for instantaneous_ops_per_sec (Redis uses 16). */
const OPS_SAMPLES = 16;
const MAX_CLIENTS_REPLY = '-ERR max number of clients reached\r\n';

const defaultClock: ClockMs = () => performance.timeOrigin + performance.now();

export class ProxyServer implements ConnectionHost {
  readonly config: ProxyConfig;
  readonly settings: RuntimeSettings;
  readonly commands: CommandTable;
  readonly acl: Acl;
  readonly backend: Backend;
  readonly slowlog = new Slowlog();
  readonly stats: ServerStats;
  readonly clock: ClockMs;
  readonly log: ProxyLogger;
  readonly info: ServerInfo;
  private readonly serverInfo: { runId: string; port: number; configFile: string };
  private readonly server: Server;
  private readonly conns = new Map<number, Connection>();
  private nextClientId = 1;
  private cron: NodeJS.Timeout | null = null;
  private opsSamples: number[] = [];
  private lastOpsSample = { atMs: 0, commands: 0 };
  private closing = false;

  constructor(options: ProxyServerOptions) {
    this.config = options.config;
    this.backend = options.backend;
    this.log = options.logger ?? SILENT_LOGGER;
    this.clock = options.clock ?? defaultClock;
    this.settings = new RuntimeSettings(options.config);
    this.commands = createCommandTable(options.commands);
    this.acl = new Acl(options.config, this.commands);
    this.stats = newStats(this.clock());
    this.serverInfo = { runId: randomBytes(20).toString('hex'), port: 0, configFile: options.configFile ?? '' };
    this.info = this.serverInfo;
    this.server = createServer({ allowHalfOpen: true }, (socket) => this.onConnection(socket));
  }

  /** Binds `config.listen`; resolves with the bound address. */
  async listen(): Promise<AddressInfo> {
    const { host, port } = parseHostPort(this.config.listen);
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.server.on('error', (e) => this.log.error({ err: e }, 'listener error'));
    const address = this.server.address();
    assert(address !== null && typeof address === 'object', 'a TCP server has an address');
    this.serverInfo.port = address.port;
    this.lastOpsSample = { atMs: this.clock(), commands: this.stats.commandsProcessed };
    this.cron = setInterval(() => this.tick(), CRON_PERIOD_MS);
    this.cron.unref();
    this.log.info({ address: `${address.address}:${address.port}` }, 'RESP proxy listening');
    return address;
  }

  get port(): number {
    return this.serverInfo.port;
  }

  /** Graceful close: no new clients, pending replies delivered within `closeTimeoutMs`. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    const stopped = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const c of this.conns.values()) c.shutdown();
    const deadline = this.clock() + this.config.closeTimeoutMs;
    while (this.conns.size > 0 && this.clock() < deadline) await new Promise((r) => setTimeout(r, 10));
    for (const c of [...this.conns.values()]) c.kill('proxy shutting down');
    if (this.cron !== null) clearInterval(this.cron);
    this.cron = null;
    await stopped;
  }

  // ---- ServerContext ----

  clients(): Iterable<Client> {
    return this.conns.values();
  }

  client(id: number): Client | undefined {
    return this.conns.get(id);
  }

  get connectedClients(): number {
    return this.conns.size;
  }

  resetStats(): void {
    resetStats(this.stats);
    this.opsSamples = [];
  }

  connectionClosed(conn: Connection): void {
    this.conns.delete(conn.id);
  }

  // ---- internals ----

  private onConnection(socket: Socket): void {
    socket.on('error', (e) => this.log.debug({ err: e }, 'socket error'));
    if (this.closing || this.conns.size >= this.settings.maxClients) {
      this.stats.connectionsRejected++;
      socket.end(MAX_CLIENTS_REPLY);
      return;
    }
    this.stats.connectionsReceived++;
    const conn = new Connection(this.nextClientId++, socket, this);
    this.conns.set(conn.id, conn);
    conn.start();
  }

  private tick(): void {
    const now = this.clock();
    const idleMs = this.settings.idleTimeoutMs;
    if (idleMs > 0) {
      for (const c of [...this.conns.values()]) {
        if (c.pendingCommands === 0 && now - c.lastInteractionMs > idleMs) c.kill('idle timeout');
      }
    }
    const elapsed = now - this.lastOpsSample.atMs;
    if (elapsed > 0) {
      const ops = ((this.stats.commandsProcessed - this.lastOpsSample.commands) * 1000) / elapsed;
      this.opsSamples.push(Math.max(0, ops));
      if (this.opsSamples.length > OPS_SAMPLES) this.opsSamples.shift();
      this.stats.opsPerSec = this.opsSamples.reduce((a, b) => a + b, 0) / this.opsSamples.length;
    }
    this.lastOpsSample = { atMs: now, commands: this.stats.commandsProcessed };
  }
}
