/**
 * `shoal proxy --config proxy.yaml`: loads the config (defaults < file < SHOAL_* env <
 * flags; a bad option exits 2 naming it), connects the client SDK to the metaservers,
 * serves RESP on `listen` and /metrics + /healthz on `httpListen`, and runs until
 * SIGTERM/SIGINT: then it stops accepting, lets clients receive the replies of what they
 * sent (`closeTimeoutMs`), closes the SDK and exits 0.
 */
import { ConfigError, createLogger, createRegistry, exitOnConfigError, loadConfig, parseHostPort, startHttpServer } from '@shoal/common';
import type { RunningHttpServer } from '@shoal/common';
import { RedisExec, Shoal } from '@shoal/client-sdk';
import { ShoalBackend } from './backend-shoal.js';
import { proxyConfigSchema } from './config.js';
import type { ProxyConfig } from './config.js';
import { ProxyServer } from './server.js';

export const EXIT_FATAL = 1;
/** Room in a reply message beyond its largest bulk string (framing, other replies of a gathered command). */
const REPLY_SLACK_BYTES = 64 * 1024 * 1024;

/** Runs a proxy from command-line arguments; resolves with the exit code. */
export async function runProxy(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let config: ProxyConfig;
  try {
    config = loadConfig(proxyConfigSchema, { env, argv });
  } catch (e) {
    if (e instanceof ConfigError) exitOnConfigError(e);
    throw e;
  }
  const logger = createLogger({ name: 'proxy', level: config.logLevel });
  let db: Shoal | undefined;
  let server: ProxyServer | undefined;
  let http: RunningHttpServer | undefined;
  let stopping = false;
  try {
    db = await Shoal.connect({
      metaservers: config.metaservers, timeoutMs: config.requestTimeoutMs,
      // A GET of the largest value a client may SET must fit in one reply (grpc-js' default is 4 MiB).
      channelOptions: { 'grpc.max_receive_message_length': Math.min(2 ** 31 - 1, config.bulkBytesMax + REPLY_SLACK_BYTES), 'grpc.max_send_message_length': -1 },
    });
    const backend = new ShoalBackend({
      exec: RedisExec.of(db), requestTimeoutMs: config.requestTimeoutMs,
      concurrencyMax: config.backendConcurrencyMax, scanCursorsMax: config.scanCursorsMax,
      batchCommandsMax: config.backendExecBatchCommandsMax, batchBytesMax: config.backendExecBatchBytesMax,
      coalesceAcrossClients: config.backendCoalesceAcrossClients,
    });
    const configFile = argv[argv.indexOf('--config') + 1];
    server = new ProxyServer({ config, backend, logger, ...(argv.includes('--config') && configFile !== undefined ? { configFile } : {}) });
    const at = await server.listen();
    const httpAt = parseHostPort(config.httpListen);
    http = await startHttpServer({
      host: httpAt.host, port: httpAt.port, registry: createRegistry('proxy'), logger,
      health: () => ({ healthy: !stopping && db?.isOpen === true }),
    });
    logger.info({ port: at.port, httpPort: http.port, metaservers: config.metaservers }, 'proxy started');
  } catch (e) {
    console.error(`shoal proxy: cannot start: ${e instanceof Error ? e.message : String(e)}`);
    await server?.close().catch(() => undefined);
    await db?.close().catch(() => undefined);
    return EXIT_FATAL;
  }
  const signal = await new Promise<string>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  stopping = true;
  logger.info({ signal }, 'shutting down');
  // Whatever still holds the event loop after a bounded shutdown must not keep us alive.
  setTimeout(() => process.exit(0), config.closeTimeoutMs + 5000).unref();
  await server.close().catch((e: unknown) => logger.error({ err: e }, 'closing the RESP server failed'));
  await db.close().catch((e: unknown) => logger.error({ err: e }, 'closing the SDK failed'));
  await http.close().catch(() => undefined);
  return 0;
}
