/**
 * WAL group-commit microbenchmark: every turn stages one 100-byte entry (plus a hard
 * state) for each of 100 groups, then calls one `flush()` — one write and, with
 * `--sync always`, one fdatasync — as the storage node's scheduler does. Prints appends
 * per second and fsyncs per second (median of several runs). The figures depend mostly on
 * the disk's fdatasync latency; figures only, no assertions (STYLE.md rule 12).
 *
 * Run: `npm run bench:wal -- [--turns 2000] [--runs 3]
 * [--groups 100] [--bytes 100] [--sync always|async] [--dir /path/on/the/disk/to/test]`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConfState, Entry, HardState, LogIndex, PeerId, Term } from '@shoal/raft-ts';
import { Wal } from '@shoal/node';

interface Args {
  turns: number;
  runs: number;
  groups: number;
  bytes: number;
  sync: 'always' | 'async';
  dir: string;
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { turns: 2000, runs: 3, groups: 100, bytes: 100, sync: 'always', dir: tmpdir() };
  for (let k = 0; k < argv.length; k += 2) {
    const [flag, value] = [argv[k], argv[k + 1]];
    if (value === undefined) throw new Error(`missing value for ${flag}`);
    switch (flag) {
      case '--turns': args.turns = Number(value); break;
      case '--runs': args.runs = Number(value); break;
      case '--groups': args.groups = Number(value); break;
      case '--bytes': args.bytes = Number(value); break;
      case '--sync': args.sync = value === 'async' ? 'async' : 'always'; break;
      case '--dir': args.dir = value; break;
      default: throw new Error(`unknown flag ${flag}`);
    }
  }
  return args;
}

interface RunResult {
  appendsPerSec: number;
  fsyncsPerSec: number;
  flushesPerSec: number;
}

async function run(args: Args): Promise<RunResult> {
  const dir = await mkdtemp(join(args.dir, 'shoal-wal-bench-'));
  const wal = await Wal.open({ dir, segmentBytes: 64 * 2 ** 20, sync: args.sync, syncIntervalMs: 10,
    entryCacheBytesMax: 64 * 2 ** 20 });
  try {
    const conf: ConfState = { voters: [1 as PeerId], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false };
    for (let g = 1; g <= args.groups; g++) wal.createGroup(g, conf);
    await wal.flush();
    const data = new Uint8Array(args.bytes).fill(0x61);
    const before = wal.stats();
    const startedMs = performance.now();
    for (let turn = 1; turn <= args.turns; turn++) {
      for (let g = 1; g <= args.groups; g++) {
        const e: Entry = { index: turn as LogIndex, term: 1 as Term, type: 0, data };
        wal.stageEntries(g, [e]);
        const hs: HardState = { term: 1 as Term, vote: 1 as PeerId, commit: (turn - 1) as LogIndex };
        wal.stageHardState(g, hs);
      }
      await wal.flush();
      // Keep memory flat like a real node: compact well behind the tail.
      if (turn % 500 === 0) for (let g = 1; g <= args.groups; g++) wal.stageCompact(g, (turn - 100) as LogIndex);
    }
    const seconds = (performance.now() - startedMs) / 1000;
    const after = wal.stats();
    return {
      appendsPerSec: (args.turns * args.groups) / seconds,
      fsyncsPerSec: (after.fsyncs - before.fsyncs) / seconds,
      flushesPerSec: (after.flushes - before.flushes) / seconds,
    };
  } finally {
    await wal.close();
    await rm(dir, { recursive: true, force: true });
  }
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const args = parseArgs(process.argv.slice(2));
const results: RunResult[] = [];
for (let r = 0; r < args.runs; r++) results.push(await run(args));
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
console.log(`wal-append: ${args.groups} groups × 1 entry × ${args.bytes} B per flush, sync=${args.sync}, `
  + `${args.turns} flushes × ${args.runs} runs, dir ${args.dir}`);
console.log(`  appends/s: ${fmt(median(results.map((r) => r.appendsPerSec)))}`
  + `  (runs: ${results.map((r) => fmt(r.appendsPerSec)).join(', ')})`);
console.log(`  fsyncs/s:  ${fmt(median(results.map((r) => r.fsyncsPerSec)))}`
  + `  (writes/s: ${fmt(median(results.map((r) => r.flushesPerSec)))})`);
