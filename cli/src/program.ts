/**
 * The `shoal` command: one binary for every process and for administration. Subcommands
 * whose issue has not landed yet say so and exit with status 1, so scripts never mistake
 * them for success.
 */
import { Command, CommanderError } from 'commander';
import { addAdminCommands } from './admin-commands.js';

export const EXIT_NOT_AVAILABLE = 1;

/** What a subcommand does; injected so tests can build the program without side effects. */
export interface CliActions {
  /** Starts a long-running process from its config; resolves with the exit code. */
  runProcess(kind: ProcessKind, argv: readonly string[]): Promise<number>;
  /** `shoal dev`: runs a local cluster until SIGINT/SIGTERM; resolves with the exit code. */
  dev(flags: DevFlags): Promise<number>;
  notYetAvailable(command: string, issue: number): number;
  /** Environment the admin commands read SHOAL_METASERVERS from. */
  readonly env: NodeJS.ProcessEnv;
}

/** `shoal dev` options as commander hands them over (validated by dev.ts). */
export interface DevFlags {
  readonly nodes: string;
  readonly metaservers: string;
  readonly dataDir: string;
  readonly basePort: string;
}

export type ProcessKind = 'node' | 'metaserver' | 'proxy';

/** `argv` is the full process argv (node, script, ...), as given to `parseAsync`. */
export function buildProgram(actions: CliActions, setExitCode: (code: number) => void, argv: readonly string[]): Command {
  const program = new Command('shoal')
    .description('Shoal: a Raft-replicated, sharded, persistent key-value database that speaks Redis')
    .version('0.1.0')
    .showHelpAfterError()
    .exitOverride();

  const later = (command: string, issue: number) => () => setExitCode(actions.notYetAvailable(command, issue));

  const processCommands = new Map<ProcessKind, Command>();
  for (const [kind, what] of [
    ['node', 'run a storage node (shard replicas over Raft); `node list|decommission` administer nodes'],
    ['metaserver', 'run a metaserver (cluster metadata and scheduling)'],
    ['proxy', 'run a RESP proxy for Redis clients'],
  ] as const) {
    // Options belong to the process's config schema, not to commander: everything after the
    // subcommand goes to the config loader untouched (`--config f.yaml --raft-log-sync async`),
    // which rejects unknown options itself, naming them.
    const cmd = program
      .command(kind)
      .description(`${what}; options: --config <file>, SHOAL_* env vars, --<option> flags (see --help)`)
      .helpOption(false)
      .allowUnknownOption(true)
      .allowExcessArguments(true)
      .action(async () => {
        setExitCode(await actions.runProcess(kind, processArgs(argv, kind)));
      });
    processCommands.set(kind, cmd);
  }

  program
    .command('dev')
    .description('start a local cluster on loopback: metaservers, storage nodes and a RESP proxy; Ctrl-C stops it')
    .option('--nodes <n>', 'number of storage nodes (zones z1..z3 round-robin)', '3')
    .option('--metaservers <n>', 'number of metaservers: 1 or 3', '3')
    .option('--data-dir <dir>', 'where every process keeps its data and logs', './data')
    .option('--base-port <port>', 'first metaserver gRPC port; the others follow from it (see README "Quick start")', '7100')
    .action(async (opts: DevFlags) => {
      setExitCode(await actions.dev(opts));
    });

  // `shoal node` runs a node; `shoal node list` and `shoal node decommission` are admin commands.
  addAdminCommands(program, processCommands.get('node')!, setExitCode, actions.env);

  program.command('bulk-load').description('build sorted files offline and ingest them into shards').action(later('bulk-load', 0));
  program.command('backup').description('full backup of a table to S3').action(later('backup', 0));
  program.command('restore').description('point-in-time restore from backup + binlog').action(later('restore', 0));
  const binlog = program.command('binlog').description('change streams from the Raft log');
  binlog.command('tail <table>').description('follow a table\'s change stream').action(later('binlog tail', 0));

  return program;
}

/** The raw arguments after the subcommand name, so the process's config loader sees all of them. */
function processArgs(argv: readonly string[], name: string): string[] {
  const at = argv.indexOf(name, 2);
  return at < 0 ? [] : argv.slice(at + 1);
}

export { CommanderError };
