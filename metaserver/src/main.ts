/**
 * `shoal metaserver`: loads the config (defaults < file < SHOAL_* env < flags; a bad option
 * exits 2 naming it), starts the member and runs until SIGTERM/SIGINT (graceful shutdown,
 * exit 0) or a fatal storage failure such as a WAL DISK_FAILURE (logged, exit 1).
 */
import { ConfigError, exitOnConfigError, loadConfig } from '@shoal/common';
import { metaserverConfigSchema } from './config.js';
import type { MetaserverConfig } from './config.js';
import { MetaserverProcess } from './server.js';

export const EXIT_FATAL = 1;

/** Runs a metaserver member from command-line arguments; resolves with the exit code. */
export async function runMetaserver(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let config: MetaserverConfig;
  try {
    config = loadConfig(metaserverConfigSchema, { env, argv });
  } catch (e) {
    if (e instanceof ConfigError) exitOnConfigError(e);
    throw e;
  }
  let server: MetaserverProcess;
  try {
    server = await MetaserverProcess.start(config);
  } catch (e) {
    console.error(`shoal metaserver: cannot start: ${e instanceof Error ? e.message : String(e)}`);
    return EXIT_FATAL;
  }
  const outcome = await new Promise<{ kind: 'signal'; signal: string } | { kind: 'fatal' }>((resolve) => {
    const onSignal = (signal: string): void => resolve({ kind: 'signal', signal });
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
    void server.fatal.then(() => resolve({ kind: 'fatal' }));
  });
  if (outcome.kind === 'signal') server.logger.info({ signal: outcome.signal }, 'shutting down');
  const code = outcome.kind === 'fatal' ? EXIT_FATAL : 0;
  setTimeout(() => process.exit(code), config.shutdownTimeoutMs + 1000).unref();
  await Promise.race([
    server.stop().catch((e: unknown) => server.logger.error({ err: e }, 'shutdown failed')),
    new Promise((resolve) => setTimeout(resolve, config.shutdownTimeoutMs).unref()),
  ]);
  return code;
}
