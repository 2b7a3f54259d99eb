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

export function buildProgram(actions: CliActions, setExitCode: (code: number) => void): Command {
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
    program
      .command(kind)
      .description(what)
      .option('--config <file>', 'YAML or JSON config file; options may also come from SHOAL_* env vars and --flags')
      .allowUnknownOption(true)
      .allowExcessArguments(true)
      .helpOption('-h, --help')
      .action(async (_opts: unknown, cmd: Command) => {
        setExitCode(await actions.runProcess(kind, processArgs(cmd)));
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

/** The arguments after the subcommand name, so the process's config loader sees its flags. */
function processArgs(cmd: Command): string[] {
  const out: string[] = [];
  const config = cmd.opts()['config'] as string | undefined;
  if (config !== undefined) out.push('--config', config);
  out.push(...cmd.args);
  return out;
}

export { CommanderError };
