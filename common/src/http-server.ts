/**
 * The small HTTP server every process runs beside its gRPC or RESP port:
 *   GET /metrics  Prometheus text exposition of the process's registry;
 *   GET /healthz  200 with a JSON health report when healthy, 503 when not;
 *   anything else 404 (405 for a known path with a method other than GET/HEAD).
 * A process may add its own GET pages (the metaserver's dashboard) through `handlers`.
 *
 * Obligations: call `close()` on shutdown; it stops accepting, drops keep-alive
 * connections and resolves once the server is closed.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { KvError } from './errors.js';

export interface HealthCheck {
  readonly healthy: boolean;
  readonly detail?: string;
}

export interface HealthReport {
  readonly healthy: boolean;
  /** Named sub-checks, e.g. `{ disk: { healthy: true }, raft: { healthy: false, detail: 'no leader' } }`. */
  readonly checks?: Readonly<Record<string, HealthCheck>>;
}

export type HttpHandler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

export interface HttpServerOptions {
  readonly host: string;
  /** 0 picks a free port; read it from the result. */
  readonly port: number;
  readonly registry: Registry;
  readonly health: () => HealthReport | Promise<HealthReport>;
  /** Extra GET routes, by exact path (`/dashboard`). May not replace /metrics or /healthz. */
  readonly handlers?: Readonly<Record<string, HttpHandler>>;
  /** A health check slower than this reports unhealthy; default 5000. */
  readonly healthTimeoutMs?: number;
  readonly logger?: Logger;
}

export interface RunningHttpServer {
  readonly host: string;
  readonly port: number;
  /** `http://host:port` */
  readonly url: string;
  close(): Promise<void>;
}

const HEALTH_TIMEOUT_MS_DEFAULT = 5000;

export async function startHttpServer(options: HttpServerOptions): Promise<RunningHttpServer> {
  const routes = buildRoutes(options);
  const server = createServer((req, res) => {
    void handle(routes, req, res, options.logger);
  });
  await new Promise<void>((resolve, reject) => {
    const onError = (e: Error): void => {
      reject(new KvError('UNAVAILABLE', `cannot listen for HTTP on ${options.host}:${options.port}: ${e.message}`, { cause: e }));
    };
    server.once('error', onError);
    server.listen(options.port, options.host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  server.on('error', (e) => options.logger?.error({ err: e }, 'http server error'));
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    host: options.host,
    port,
    url: `http://${host}:${port}`,
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

function buildRoutes(options: HttpServerOptions): Map<string, HttpHandler> {
  const routes = new Map<string, HttpHandler>(Object.entries(options.handlers ?? {}));
  if (routes.has('/metrics') || routes.has('/healthz')) {
    throw new KvError('INVALID_ARGUMENT', 'handlers may not replace /metrics or /healthz', { details: { option: 'handlers' } });
  }
  routes.set('/metrics', async (_req, res) => {
    const text = await options.registry.metrics();
    res.writeHead(200, { 'content-type': options.registry.contentType });
    res.end(text);
  });
  routes.set('/healthz', async (_req, res) => {
    const report = await healthWithTimeout(options);
    const body = JSON.stringify({ status: report.healthy ? 'ok' : 'unhealthy', ...report });
    res.writeHead(report.healthy ? 200 : 503, { 'content-type': 'application/json' });
    res.end(body);
  });
  return routes;
}

async function healthWithTimeout(options: HttpServerOptions): Promise<HealthReport> {
  const timeoutMs = options.healthTimeoutMs ?? HEALTH_TIMEOUT_MS_DEFAULT;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<HealthReport>((resolve) => {
    timer = setTimeout(() => resolve({ healthy: false, checks: { health: { healthy: false, detail: `check took over ${timeoutMs} ms` } } }), timeoutMs);
  });
  try {
    return await Promise.race([Promise.resolve().then(options.health), timeout]);
  } catch (e) {
    return { healthy: false, checks: { health: { healthy: false, detail: `check failed: ${(e as Error).message}` } } };
  } finally {
    clearTimeout(timer);
  }
}

async function handle(routes: Map<string, HttpHandler>, req: IncomingMessage, res: ServerResponse, logger: Logger | undefined): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  const route = routes.get(path);
  try {
    if (route === undefined) {
      sendText(res, 404, 'not found\n');
    } else if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      sendText(res, 405, 'method not allowed\n');
    } else {
      await route(req, res);
    }
  } catch (e) {
    logger?.error({ err: e, path }, 'http handler failed');
    if (!res.headersSent) sendText(res, 500, 'internal error\n');
    else res.destroy();
  }
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(text);
}
