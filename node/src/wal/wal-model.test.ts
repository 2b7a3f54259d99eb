// Goal: across random appends, overwrites, hard states, snapshots, compactions, group removals, flushes, GC, clean reopens and crashes, every WalGroupStorage answers exactly as raft-ts's MemoryStorage fed the same operations (and, after a crash, as it stood at the last flush). Failures print fast-check's seed; WAL_MODEL_RUNS=500 runs deeper.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { MemoryStorage } from '@shoal/raft-ts';
import type { ConfState, Entry, HardState, LogIndex, PeerId, SnapshotMetadata, Term } from '@shoal/raft-ts';
import type { WalOptions } from './options.js';
import { hs, plain } from './test-support.js';
import { Wal } from './wal.js';

const RUNS = Number(process.env['WAL_MODEL_RUNS'] ?? 40);
const GROUP_IDS = [1, 2, 3];
const EMPTY = new Uint8Array(0);

interface ModelGroup {
  readonly mem: MemoryStorage;
  snap: SnapshotMetadata;
  hs: HardState;
}
type Model = Map<number, ModelGroup>;

function cloneGroup(m: ModelGroup): ModelGroup {
  const first = m.mem.firstIndex();
  const last = m.mem.lastIndex();
  const mem = new MemoryStorage(m.snap.confState);
  const term = m.mem.term((first - 1) as LogIndex) as Term;
  mem.applySnapshot({ data: EMPTY, metadata: { index: (first - 1) as LogIndex, term, confState: m.snap.confState } });
  if (last >= first) mem.append(m.mem.entries(first, (last + 1) as LogIndex, 0) as Entry[]);
  return { mem, snap: m.snap, hs: m.hs };
}

function cloneModel(m: Model): Model {
  return new Map([...m].map(([id, g]) => [id, cloneGroup(g)]));
}

const conf = (n: number): ConfState => ({
  voters: [1, 2, 3].slice(0, 1 + (n % 3)) as PeerId[], learners: n % 2 === 0 ? [] : [9 as PeerId],
  votersOutgoing: [], learnersNext: [], autoLeave: n % 4 === 1,
});

interface Op {
  readonly kind: 'create' | 'remove' | 'append' | 'hardState' | 'compact' | 'snapshot' | 'flush' | 'gc' | 'reopen'
    | 'crash';
  readonly g: number;
  readonly a: number;
  readonly b: number;
}

const opArb: fc.Arbitrary<Op> = fc.record({
  kind: fc.constantFrom<Op['kind']>('create', 'remove', 'append', 'append', 'append', 'append', 'hardState',
    'compact', 'snapshot', 'flush', 'flush', 'gc', 'reopen', 'crash'),
  g: fc.constantFrom(...GROUP_IDS),
  a: fc.nat({ max: 1000 }),
  b: fc.nat({ max: 1000 }),
});

const configArb = fc.record({
  segmentBytes: fc.constantFrom(512, 1024, 4096),
  entryCacheBytesMax: fc.constantFrom(0, 300, 1 << 20),
  sync: fc.constantFrom<'always' | 'async'>('always', 'async'),
  recordBytesMax: fc.constantFrom(1024, 1 << 20),
});

/** Applies a staging op to both the WAL and the model. */
function stage(wal: Wal, model: Model, op: Op): void {
  const m = model.get(op.g);
  if (op.kind === 'create') {
    if (m !== undefined) return;
    const cs = conf(op.a);
    wal.createGroup(op.g, cs);
    model.set(op.g, { mem: new MemoryStorage(cs), snap: { index: 0 as LogIndex, term: 0 as Term, confState: cs },
      hs: hs(0, 0, 0) });
    return;
  }
  if (m === undefined) return;
  const first = m.mem.firstIndex();
  const last = m.mem.lastIndex();
  const c = first - 1;
  const lastTerm = m.mem.term(last as LogIndex) as number;
  switch (op.kind) {
    case 'remove':
      wal.stageRemoveGroup(op.g);
      model.delete(op.g);
      return;
    case 'append': {
      const lo = Math.max(1, c - 1);
      const from = lo + (op.a % (last + 1 - lo + 1)); // may start inside the compacted prefix or overwrite
      const term = lastTerm + (op.b % 2);
      const es: Entry[] = [];
      for (let k = 0; k < 1 + (op.b % 4); k++) {
        es.push({ index: (from + k) as LogIndex, term: term as Term, type: (op.a % 5 === 0 ? 1 : 0),
          data: new Uint8Array((op.a * 7 + k * 13) % (op.a % 3 === 0 ? 400 : 70)).fill(op.b & 0xff) });
      }
      wal.stageEntries(op.g, es);
      m.mem.append(es);
      return;
    }
    case 'hardState': {
      const h = hs(op.a % 100, op.b % 4, op.a % 50);
      wal.stageHardState(op.g, h);
      m.hs = h;
      return;
    }
    case 'compact': {
      const index = c + (op.a % (last - c + 1));
      wal.stageCompact(op.g, index as LogIndex);
      m.mem.compact(index as LogIndex);
      return;
    }
    case 'snapshot':
      snapshot(wal, m, op, c, last, lastTerm);
      return;
    default:
      throw new Error(`not a staging op: ${op.kind}`);
  }
}

/** A matching snapshot compacts, a non-matching one replaces the log, an old one is metadata only. */
function snapshot(wal: Wal, m: ModelGroup, op: Op, c: number, last: number, lastTerm: number): void {
  const cTerm = m.mem.term(c as LogIndex) as number;
  let index: number;
  let term: number;
  switch (op.a % 3) {
    case 0:
      if (last === c) return;
      index = c + 1 + (op.b % (last - c));
      term = m.mem.term(index as LogIndex) as number;
      break;
    case 1:
      index = Math.max(m.snap.index, c - 1 + (op.b % 5));
      term = lastTerm + 1;
      break;
    default:
      index = m.snap.index + (op.b % (c - m.snap.index + 1));
      term = index === c ? cTerm : 1;
  }
  const meta: SnapshotMetadata = { index: index as LogIndex, term: term as Term, confState: conf(op.b) };
  wal.stageSnapshot(op.g, meta);
  m.snap = meta;
  if (index < c || (index === c && term === cTerm)) return;
  if (index > c && index <= last && m.mem.term(index as LogIndex) === term) m.mem.compact(index as LogIndex);
  else m.mem.applySnapshot({ data: EMPTY, metadata: meta });
}

function check(wal: Wal, model: Model, where: string): void {
  assert.deepEqual(wal.groupIds(), [...model.keys()].sort((x, y) => x - y), where);
  for (const [id, m] of model) {
    const s = wal.group(id)!;
    const at = `${where}, group ${id}`;
    const first = m.mem.firstIndex();
    const last = m.mem.lastIndex();
    assert.equal(s.firstIndex(), first, at);
    assert.equal(s.lastIndex(), last, at);
    for (let i = Math.max(0, first - 2); i <= last + 1; i++) {
      assert.equal(s.term(i as LogIndex), m.mem.term(i as LogIndex), `${at}, term(${i})`);
    }
    const all = s.entries(first, (last + 1) as LogIndex, 0);
    assert.deepEqual(plain(all as Entry[]), plain(m.mem.entries(first, (last + 1) as LogIndex, 0) as Entry[]), at);
    assert.equal(s.entries((first - 1) as LogIndex, (last + 1) as LogIndex, 0), 'compacted', at);
    if (last > first) {
      const lo = (first + 1) as LogIndex;
      assert.deepEqual(plain(s.entries(lo, (last + 1) as LogIndex, 120) as Entry[]),
        plain(m.mem.entries(lo, (last + 1) as LogIndex, 120) as Entry[]), `${at}, limited`);
    }
    assert.deepEqual(s.hardState(), m.hs, at);
    assert.deepEqual(s.snapshotMetadata(), m.snap, at);
    assert.deepEqual(s.initialState(), { hardState: m.hs, confState: m.snap.confState }, at);
  }
}

async function runScenario(cfg: Omit<WalOptions, 'dir' | 'syncIntervalMs'>, ops: readonly Op[]): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'shoal-wal-model-'));
  const opts: WalOptions = { dir, syncIntervalMs: 5, ...cfg };
  let wal = await Wal.open(opts);
  let model: Model = new Map();
  let durable: Model = new Map();
  try {
    for (const [k, op] of ops.entries()) {
      const where = `op ${k} (${op.kind} g${op.g} a${op.a} b${op.b})`;
      switch (op.kind) {
        case 'flush':
          await wal.flush();
          durable = cloneModel(model);
          break;
        case 'gc':
          await wal.maybeGc(); // flushes everything staged first
          durable = cloneModel(model);
          break;
        case 'reopen':
          await wal.close();
          durable = cloneModel(model);
          wal = await Wal.open(opts);
          break;
        case 'crash':
          await wal.close({ flush: false });
          model = cloneModel(durable);
          wal = await Wal.open(opts);
          break;
        default:
          stage(wal, model, op);
      }
      check(wal, model, where);
    }
    await wal.close({ flush: false });
    wal = await Wal.open(opts);
    check(wal, durable, 'final crash');
  } finally {
    await wal.close({ flush: false });
    await rm(dir, { recursive: true, force: true });
  }
}

test('WalGroupStorage matches MemoryStorage across random operations, reopens and crashes', async () => {
  await fc.assert(fc.asyncProperty(configArb, fc.array(opArb, { minLength: 10, maxLength: 150, size: 'max' }),
    (cfg, ops) => runScenario(cfg, [{ kind: 'create', g: 1, a: 0, b: 0 }, ...ops])), { numRuns: RUNS });
});
