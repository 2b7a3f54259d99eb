/**
 * `shoal metaserver`: loads the config (defaults < file < SHOAL_* env < flags; a bad option
 * exits 2 naming it), starts the member and runs until SIGTERM/SIGINT (graceful shutdown,
 * exit 0) or a fatal storage failure such as a WAL DISK_FAILURE (logged, exit 1). See
 * common's `runService`.
 */
import { ConfigError, EXIT_FATAL, exitOnConfigError, loadConfig, runService } from '@shoal/common';
import { metaserverConfigSchema } from './config.js';
import type { MetaserverConfig } from './config.js';
import { MetaserverProcess } from './server.js';

export { EXIT_FATAL };

/** Runs a metaserver member from command-line arguments; resolves with the exit code. */
export async function runMetaserver(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let config: MetaserverConfig;
  try {
    config = loadConfig(metaserverConfigSchema, { env, argv });
  } catch (e) {
    if (e instanceof ConfigError) exitOnConfigError(e);
    throw e;
  }
  return runService({ name: 'shoal metaserver', start: () => MetaserverProcess.start(config), shutdownTimeoutMs: config.shutdownTimeoutMs });
}
