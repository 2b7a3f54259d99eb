// The real side effects behind each subcommand.
import type { CliActions, ProcessKind } from './program.js';
import { EXIT_NOT_AVAILABLE } from './program.js';

const PROCESS_ISSUE: Record<ProcessKind, number> = { node: 4, metaserver: 5, proxy: 7 };

export const defaultActions: CliActions = {
  async runProcess(kind, _argv) {
    return defaultActions.notYetAvailable(kind, PROCESS_ISSUE[kind]);
  },
  notYetAvailable(command, issue) {
    const where = issue > 0 ? ` (issue #${issue})` : '';
    console.error(`shoal ${command}: not yet available${where}`);
    return EXIT_NOT_AVAILABLE;
  },
};
