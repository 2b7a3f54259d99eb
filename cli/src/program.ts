/**
 * The `shoal` command: one binary for every process and for administration. Subcommands
 * whose issue has not landed yet say so and exit with status 1, so scripts never mistake
 * them for success.
 */
import { Command, CommanderError } from 'commander';

export const EXIT_NOT_AVAILABLE = 1;

/** What a subcommand does; injected so tests can build the program without side effects. */
export interface CliActions {
  /** Starts a long-running process from its config; resolves with the exit code. */
  runProcess(kind: ProcessKind, argv: readonly string[]): Promise<number>;
  notYetAvailable(command: string, issue: number): number;
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

  for (const [kind, what] of [
    ['node', 'run a storage node (shard replicas over Raft)'],
    ['metaserver', 'run a metaserver (cluster metadata and scheduling)'],
    ['proxy', 'run a RESP proxy for Redis clients'],
  ] as const) {
    // Options belong to the process's config schema, not to commander: everything after the
    // subcommand goes to the config loader untouched (`--config f.yaml --raft-log-sync async`),
    // which rejects unknown options itself, naming them.
    program
      .command(kind)
      .description(`${what}; options: --config <file>, SHOAL_* env vars, --<option> flags (see --help)`)
      .helpOption(false)
      .allowUnknownOption(true)
      .allowExcessArguments(true)
      .action(async () => {
        setExitCode(await actions.runProcess(kind, processArgs(argv, kind)));
      });
  }

  program
    .command('dev')
    .description('start a local cluster on loopback: metaservers, storage nodes, a proxy and local S3')
    .option('--nodes <n>', 'number of storage nodes', '3')
    .option('--data-dir <dir>', 'where every process keeps its data and logs', './data')
    .action(later('dev', 6));

  const cluster = program.command('cluster').description('cluster-wide views');
  cluster.command('status').description('nodes, shards, leaders and health').action(later('cluster status', 6));

  const table = program.command('table').description('create, drop and inspect tables');
  table.command('create <name>').description('create a table').action(later('table create', 5));
  table.command('drop <name>').description('drop a table and its data').action(later('table drop', 5));
  table.command('list').description('list tables').action(later('table list', 5));

  const shard = program.command('shard').description('inspect and operate on shards');
  shard.command('list [table]').description('list shards with replicas and leaders').action(later('shard list', 5));
  shard.command('split <shardId>').description('split a shard').action(later('shard split', 5));
  shard.command('transfer-leader <shardId> <nodeId>').description('move a shard leader').action(later('shard transfer-leader', 5));
  shard
    .command('reduce-replicas <shardId>')
    .description('force a shard that lost quorum down to its surviving replicas, then re-grow it')
    .action(later('shard reduce-replicas', 5));

  const nodes = program.command('nodes').description('storage node administration');
  nodes.command('list').description('list storage nodes').action(later('nodes list', 5));
  nodes.command('decommission <nodeId>').description('drain a node, then remove it').action(later('nodes decommission', 5));

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
