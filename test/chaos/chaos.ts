/**
 * `npm run chaos -- [--duration 60] [--seed S] [--nemesis kill,pause,partition,skew,split,transfer]
 *                  [--client sdk|resp] [--clients 8] [--reads linearizable|follower|stale] [--base-port P] [--dir D] [--keep]`
 *
 * Prints op counts and the nemesis events with their times, then exactly one last line:
 * `chaos: N ops, linearizable` (exit 0) | `… NOT linearizable: …` | `… unknown` (exit 1);
 * on failure also the seed, the history file and the command that replays the run.
 * Exit 2 for bad usage. See docs/reliability.md.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { NEMESIS_KINDS } from './nemesis.js';
import { freeBasePort } from './ports.js';
import type { NemesisKind } from './nemesis.js';
import { runChaos } from './runner.js';
import type { ChaosReport, ClientKind } from './runner.js';
import type { ReadConsistency } from '@shoal/client-sdk';

function usage(message: string): never {
  console.error(`chaos: ${message}\nusage: npm run chaos -- [--duration S] [--seed N] [--nemesis ${NEMESIS_KINDS.join(',')}] [--client sdk|resp] [--clients N] [--reads linearizable|follower|stale] [--base-port P] [--dir D] [--keep]`);
  process.exit(2);
}

function intOption(name: string, v: string | undefined, dflt: number, min: number, max: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < min || n > max) usage(`--${name} must be an integer from ${min} to ${max}, got "${v}"`);
  return n;
}

/** The report's lines, the summary last. */
export function reportLines(r: ChaosReport): string[] {
  const lines = [`ops: ${r.counts.ok} ok, ${r.counts.fail} failed, ${r.counts.unknown} unknown`, `nemesis: ${r.events.length} events`];
  for (const e of r.events) {
    const healed = e.healedAtMs === undefined ? '' : ` (healed ${(e.healedAtMs / 1000).toFixed(1)}s)`;
    lines.push(`  ${(e.atMs / 1000).toFixed(1)}s ${e.kind}: ${e.what}${healed}${e.error === undefined ? '' : ` — not done: ${e.error}`}`);
  }
  for (const u of r.unexpectedExits) lines.push(`unexpected exit: ${u}`);
  lines.push(r.summary);
  return lines;
}

async function main(): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      options: {
        duration: { type: 'string' }, seed: { type: 'string' }, nemesis: { type: 'string' }, client: { type: 'string' },
        clients: { type: 'string' }, reads: { type: 'string' }, 'base-port': { type: 'string' }, dir: { type: 'string' }, keep: { type: 'boolean' },
      },
    }));
  } catch (e) {
    usage((e as Error).message);
  }
  const str = (k: string): string | undefined => values[k] as string | undefined;
  const durationS = intOption('duration', str('duration'), 60, 1, 86_400);
  const seed = intOption('seed', str('seed'), Math.floor(Math.random() * 2 ** 31), 0, 2 ** 31);
  const nemesisArg = str('nemesis') ?? 'kill,pause,partition,skew,split,transfer';
  const nemesis = nemesisArg === '' || nemesisArg === 'none' ? [] : nemesisArg.split(',').map((s) => s.trim());
  for (const k of nemesis) if (!(NEMESIS_KINDS as readonly string[]).includes(k)) usage(`--nemesis: unknown kind "${k}" (known: ${NEMESIS_KINDS.join(', ')})`);
  const client = str('client') ?? 'sdk';
  if (client !== 'sdk' && client !== 'resp') usage(`--client must be sdk or resp, got "${client}"`);
  const reads = str('reads') ?? 'linearizable';
  if (!['linearizable', 'follower', 'stale'].includes(reads)) usage(`--reads must be linearizable, follower or stale, got "${reads}"`);
  if (reads !== 'linearizable' && client !== 'sdk') usage('--reads needs --client sdk');
  const clients = intOption('clients', str('clients'), 8, 1, 64);
  const basePort = str('base-port') === undefined ? await freeBasePort() : intOption('base-port', str('base-port'), 0, 1024, 60_000);
  const dir = str('dir') === undefined ? mkdtempSync(join(tmpdir(), 'shoal-chaos-')) : resolve(str('dir')!);
  const replay = `npm run chaos -- --duration ${durationS} --seed ${seed} --nemesis ${nemesis.join(',') || 'none'} --client ${client} --clients ${clients} --reads ${reads}`;
  console.log(`chaos: seed ${seed}, ${durationS} s, nemesis ${nemesis.join(',') || 'none'}, client ${client}, dir ${dir}`);
  let report: ChaosReport;
  try {
    report = await runChaos({
      dir, basePort, seed, durationMs: durationS * 1000, nemesis: nemesis as NemesisKind[], client: client as ClientKind, clients, reads: reads as ReadConsistency,
      log: (line) => console.log(line),
    });
  } catch (e) {
    console.log(`chaos: run failed: ${(e as Error).stack ?? String(e)}`);
    console.log(`seed ${seed}; replay: ${replay}; files kept in ${dir}`);
    console.log('chaos: 0 ops, unknown');
    return 1;
  }
  const ok = report.result.kind === 'linearizable';
  const lines = reportLines(report);
  for (const l of lines.slice(0, -1)) console.log(l);
  if (!ok) console.log(`seed ${seed}; history ${report.historyFile}; replay: ${replay}`);
  else if (report.unexpectedExits.length > 0) console.log(`a process crashed: files kept in ${dir}; replay: ${replay}`);
  else if (values['keep'] !== true) rmSync(dir, { recursive: true, force: true });
  console.log(lines.at(-1));
  return ok ? 0 : 1;
}

process.exitCode = await main();
