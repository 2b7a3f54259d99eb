/**
 * Checks a recorded history file for linearizability:
 *
 *   node test/dist/chaos/check-history.js history.jsonl [--steps-max-per-key N] [--verbose]
 *
 * Prints exactly one line — `chaos: N ops, linearizable` | `chaos: N ops, NOT
 * linearizable: <key and explanation>` | `chaos: N ops, unknown` — preceded, with
 * --verbose, by per-key statistics on stderr. Exit code 0 only when linearizable, 1 when
 * not linearizable or unknown, 2 on bad usage or an unreadable file.
 */
import { parseArgs } from 'node:util';
import { checkHistory, readHistoryFile, summaryLine } from './checker/index.js';

const USAGE = 'usage: check-history <history.jsonl> [--steps-max-per-key N] [--verbose]';

async function main(argv: readonly string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv], allowPositionals: true,
      options: { 'steps-max-per-key': { type: 'string' }, verbose: { type: 'boolean', default: false } },
    });
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const [file, ...rest] = parsed.positionals;
  if (file === undefined || rest.length > 0) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const stepsRaw = parsed.values['steps-max-per-key'];
  const stepsMaxPerKey = stepsRaw === undefined ? undefined : Number(stepsRaw);
  try {
    const records = await readHistoryFile(file);
    const t0 = performance.now();
    const result = checkHistory(records, stepsMaxPerKey === undefined ? {} : { stepsMaxPerKey });
    if (parsed.values.verbose) {
      for (const k of result.keys) process.stderr.write(`key ${JSON.stringify(k.key)}: ${k.ops} ops, ${k.steps} steps, ${k.outcome}\n`);
      process.stderr.write(`checked in ${(performance.now() - t0).toFixed(0)} ms\n`);
    }
    process.stdout.write(`${summaryLine(result)}\n`);
    return result.kind === 'linearizable' ? 0 : 1;
  } catch (e) {
    process.stderr.write(`check-history: ${(e as Error).message}\n`);
    return 2;
  }
}

process.exitCode = await main(process.argv.slice(2));
