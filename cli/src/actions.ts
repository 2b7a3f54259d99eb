// The real side effects behind each subcommand.
import { ConfigError, configHelp, exitOnConfigError, loadConfig } from '@shoal/common';
import { metaserverConfigSchema, runMetaserver } from '@shoal/metaserver';
import { nodeConfigSchema, runNode } from '@shoal/node';
import { proxyConfigSchema } from '@shoal/proxy';
import { runDev } from './dev.js';
import type { CliActions, ProcessKind } from './program.js';
import { EXIT_NOT_AVAILABLE } from './program.js';

const SCHEMAS = { node: nodeConfigSchema, metaserver: metaserverConfigSchema, proxy: proxyConfigSchema } as const;

/** Validates a process's configuration; a bad option exits 2 with one line naming it. */
export function validateProcessConfig(kind: ProcessKind, argv: readonly string[]): void {
  const options = { env: process.env, argv };
  try {
    switch (kind) {
      case 'node':
        loadConfig(nodeConfigSchema, options);
        return;
      case 'metaserver':
        loadConfig(metaserverConfigSchema, options);
        return;
      case 'proxy':
        loadConfig(proxyConfigSchema, options);
        return;
    }
  } catch (err) {
    if (err instanceof ConfigError) exitOnConfigError(err);
    throw err;
  }
}

export const defaultActions: CliActions = {
  async runProcess(kind, argv) {
    if (argv.includes('--help') || argv.includes('-h')) {
      console.log(`Usage: shoal ${kind} [--config <file>] [--<option> <value> ...]\n\n${configHelp(SCHEMAS[kind])}`);
      return 0;
    }
    validateProcessConfig(kind, argv);
    if (kind === 'node') return runNode(argv, process.env);
    if (kind === 'metaserver') return runMetaserver(argv, process.env);
    return (await import('@shoal/proxy')).runProxy(argv, process.env);
  },
  dev: runDev,
  env: process.env,
  notYetAvailable(command, issue) {
    const where = issue > 0 ? ` (issue #${issue})` : '';
    console.error(`shoal ${command}: not yet available${where}`);
    return EXIT_NOT_AVAILABLE;
  },
};
