/**
 * `shoal node`: loads the config (defaults < file < SHOAL_* env < flags; a bad option exits
 * 2 naming it), starts the node and runs until SIGTERM/SIGINT (graceful shutdown, exit 0)
 * or a fatal storage failure (logged, exit 1). See common's `runService`.
 */
import { ConfigError, EXIT_FATAL, exitOnConfigError, loadConfig, runService } from '@shoal/common';
import { nodeConfigSchema } from './config.js';
import type { NodeConfig } from './config.js';
import { NodeServer } from './server.js';

export { EXIT_FATAL };

/** Runs a storage node from command-line arguments; resolves with the exit code. */
export async function runNode(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let config: NodeConfig;
  try {
    config = loadConfig(nodeConfigSchema, { env, argv });
  } catch (e) {
    if (e instanceof ConfigError) exitOnConfigError(e);
    throw e;
  }
  return runService({ name: 'shoal node', start: () => NodeServer.start(config), shutdownTimeoutMs: config.shutdownTimeoutMs });
}
