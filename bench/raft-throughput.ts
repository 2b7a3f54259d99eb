/**
 * raft-ts throughput benchmark: a 3-member group in memory on one thread. The leader takes
 * batches of 64-byte proposals; every replica's Ready is handled as a host would (append
 * to MemoryStorage, set the hard state, queue the messages, apply, advance) and messages
 * are delivered synchronously until the group is idle. No fsync, no network: this measures
 * the Raft core and its allocation, not I/O.
 *
 * Prints committed entries per second (median of several runs) and bytes allocated per
 * committed entry. Allocation is measured without --trace-gc: the V8 heap's used size is
 * sampled after every batch and only its increases are summed, so a GC between samples
 * loses at most one batch's allocation (a few percent).
 *
 * Run with `npm run bench:raft [-- --runs 7 --entries 300000 --batch 256]`. Figures only:
 * benchmarks never assert (STYLE.md rule 12).
 */
import { getHeapStatistics } from 'node:v8';
import { MemoryStorage, RawNode, ReadOnlyOption } from '@shoal/raft-ts';
import type { ConfState, Message, PeerId, Rand } from '@shoal/raft-ts';

const PAYLOAD_BYTES = 64;
const TARGET_ENTRIES_PER_SEC = 300_000;
/** Bound on Ready/delivery rounds per batch; a group that never idles is a bug. */
const ROUNDS_PER_BATCH_MAX = 10_000;

interface BenchOptions {
  runs: number;
  entriesPerRun: number;
  batch: number;
  /** proposeBatch (one Prop message per batch) or one propose() call per entry. */
  mode: 'batch' | 'single';
}

interface RunResult {
  entriesPerSec: number;
  bytesPerEntry: number;
  committed: number;
}

/** A fixed-sequence Rand: the benchmark must be repeatable, not random. */
class CounterRand implements Rand {
  private n = 0;
  intn(n: number): number {
    this.n = (this.n * 1103515245 + 12345) >>> 0;
    return this.n % n;
  }
}

class BenchGroup {
  readonly nodes = new Map<number, { raw: RawNode; storage: MemoryStorage }>();
  private queue: Message[] = [];
  committed = 0;

  constructor(ids: readonly number[]) {
    const cs: ConfState = { voters: ids as PeerId[], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false };
    for (const id of ids) {
      const storage = new MemoryStorage(cs);
      const raw = new RawNode({
        id: id as PeerId, electionTimeoutTicks: 10, heartbeatIntervalTicks: 1, storage, rand: new CounterRand(),
        messageBytesMax: 1 << 20, inflightMessagesMax: 256, inflightBytesMax: 0, uncommittedBytesMax: 0,
        proposalBytesMax: 0, committedBytesPerReadyMax: 0, checkQuorum: false, preVote: false,
        readOnlyOption: ReadOnlyOption.Safe,
      });
      this.nodes.set(id, { raw, storage });
    }
  }

  leader(): RawNode {
    return this.nodes.get(1)!.raw;
  }

  /** Handles every Ready and delivers every message until nothing is left. */
  stabilize(): void {
    for (let round = 0; round < ROUNDS_PER_BATCH_MAX; round++) {
      let busy = false;
      for (const [id, n] of this.nodes) {
        if (!n.raw.hasReady()) continue;
        busy = true;
        const rd = n.raw.ready();
        if (rd.snapshot !== null) n.storage.applySnapshot(rd.snapshot);
        if (rd.entries.length > 0) n.storage.append(rd.entries);
        if (rd.hardState !== null) n.storage.setHardState(rd.hardState);
        for (const m of rd.messages) this.queue.push(m);
        if (id === 1) this.committed += rd.committedEntries.length;
        n.raw.advance();
      }
      const msgs = this.queue;
      if (msgs.length > 0) {
        busy = true;
        this.queue = [];
        for (const m of msgs) this.nodes.get(m.to)?.raw.step(m);
      }
      if (!busy) return;
    }
    throw new Error(`bench: group still busy after ${ROUNDS_PER_BATCH_MAX} rounds`);
  }
}

function payloads(batch: number): Uint8Array[] {
  return Array.from({ length: batch }, (_, i) => new Uint8Array(PAYLOAD_BYTES).fill(i & 0xff));
}

function runOnce(o: BenchOptions): RunResult {
  const g = new BenchGroup([1, 2, 3]);
  g.leader().campaign();
  g.stabilize();
  const leader = g.leader();
  const data = payloads(o.batch);
  const start = g.committed;
  let lastHeap = getHeapStatistics().used_heap_size;
  let allocated = 0;
  const t0 = process.hrtime.bigint();
  while (g.committed - start < o.entriesPerRun) {
    if (o.mode === 'batch') {
      const r = leader.proposeBatch(data);
      if (!r.ok) throw new Error(`bench: proposal dropped: ${r.reason}`);
    } else {
      for (const d of data) {
        const r = leader.propose(d);
        if (!r.ok) throw new Error(`bench: proposal dropped: ${r.reason}`);
      }
    }
    g.stabilize();
    const heap = getHeapStatistics().used_heap_size;
    if (heap > lastHeap) allocated += heap - lastHeap;
    lastHeap = heap;
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const committed = g.committed - start;
  return { entriesPerSec: committed / seconds, bytesPerEntry: allocated / committed, committed };
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function parseArgs(argv: readonly string[]): BenchOptions {
  const o: BenchOptions = { runs: 7, entriesPerRun: 300_000, batch: 256, mode: 'batch' };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const v = Number(argv[i + 1]);
    i++;
    if (!Number.isSafeInteger(v) || v < 1) throw new Error(`bench: ${flag ?? ''} needs a positive integer`);
    if (flag === '--runs') o.runs = v;
    else if (flag === '--entries') o.entriesPerRun = v;
    else if (flag === '--batch') o.batch = v;
    else throw new Error(`bench: unknown flag ${flag ?? ''} (use --runs, --entries, --batch)`);
  }
  return o;
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** Runs `o.runs` measured runs after a warm-up; returns the median rate and allocation. */
function measure(o: BenchOptions, label: string): { rate: number; bytes: number } {
  runOnce({ ...o, entriesPerRun: Math.min(o.entriesPerRun, 50_000) }); // warm-up: JIT
  const results: RunResult[] = [];
  for (let i = 0; i < o.runs; i++) {
    const r = runOnce(o);
    results.push(r);
    console.log(`  ${label} run ${i + 1}: ${fmt(r.entriesPerSec)} entries/s, ${fmt(r.bytesPerEntry)} B allocated/entry`);
  }
  return { rate: median(results.map((r) => r.entriesPerSec)), bytes: median(results.map((r) => r.bytesPerEntry)) };
}

function main(): void {
  const o = parseArgs(process.argv.slice(2));
  console.log(`raft-throughput: 3 members in memory, ${o.batch} x ${PAYLOAD_BYTES}-byte proposals per batch,`
    + ` ${fmt(o.entriesPerRun)} entries per run, ${o.runs} runs (+1 warm-up), node ${process.version}`);
  const batched = measure(o, 'proposeBatch');
  const single = measure({ ...o, mode: 'single', runs: Math.max(1, Math.ceil(o.runs / 2)) }, 'propose');
  console.log(`raft-throughput: ${fmt(batched.rate)} committed entries/s (median of ${o.runs}, proposeBatch of ${o.batch})`);
  console.log(`raft-throughput: ${fmt(batched.bytes)} bytes allocated per committed entry (median)`);
  console.log(`raft-throughput: target ${fmt(TARGET_ENTRIES_PER_SEC)} entries/s: `
    + `${batched.rate >= TARGET_ENTRIES_PER_SEC ? 'met' : 'NOT met'} (${(batched.rate / TARGET_ENTRIES_PER_SEC).toFixed(2)}x)`);
  console.log(`raft-throughput: vs ${o.batch} single propose() calls per batch: ${fmt(single.rate)} entries/s,`
    + ` ${fmt(single.bytes)} B/entry (batching is ${(batched.rate / single.rate).toFixed(2)}x)`);
}

main();
