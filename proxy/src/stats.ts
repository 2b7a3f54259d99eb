/**
 * The proxy's statistics (INFO stats and commandstats) and the per-command record kept
 * for every executed command: call count, time, and the slow log.
 */
import type { CommandSpec } from './commands/table.js';
import type { CommandStats, ServerContext, ServerStats } from './commands/types.js';

export function newStats(nowMs: number): ServerStats {
  return {
    startedMs: nowMs, connectionsReceived: 0, connectionsRejected: 0, commandsProcessed: 0, errorReplies: 0,
    netInputBytes: 0, netOutputBytes: 0, commands: new Map(), opsPerSec: 0,
  };
}

export function resetStats(s: ServerStats): void {
  s.connectionsReceived = s.connectionsRejected = s.commandsProcessed = s.errorReplies = 0;
  s.netInputBytes = s.netOutputBytes = 0;
  s.commands.clear();
  s.opsPerSec = 0;
}

/** The counters of one command (created on first use). */
export function commandStats(stats: ServerStats, spec: CommandSpec): CommandStats {
  let s = stats.commands.get(spec.fullName);
  if (s === undefined) {
    s = { calls: 0, usec: 0, rejected: 0, failed: 0 };
    stats.commands.set(spec.fullName, s);
  }
  return s;
}

/** Counts an executed command and offers it to the slow log (unless flagged skip_slowlog). */
export function recordExecution(server: ServerContext, client: { addr: string; name: string }, spec: CommandSpec,
  argv: readonly Buffer[], startedMs: number, failed: boolean): void {
  const now = server.clock();
  const durationUs = Math.max(0, (now - startedMs) * 1000);
  const s = commandStats(server.stats, spec);
  s.calls++;
  s.usec += durationUs;
  if (failed) s.failed++;
  if (spec.flags.has('skip_slowlog')) return;
  const { slowlogLogSlowerThanUs, slowlogMaxLen } = server.settings;
  server.slowlog.record(argv, durationUs, now, client, slowlogLogSlowerThanUs, slowlogMaxLen);
}
