// Goal: histories from a simulated linearizable store (random concurrency, failures,
// unknown outcomes) are accepted; the same histories with one certainly-illegal result are
// rejected; a pathological history answers `unknown` at the step budget instead of
// hanging; and a 10,000-operation history checks in seconds (figure in the diagnostics).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Prng } from '../../sim/prng.js';
import type { HistoryRecord } from './index.js';
import { checkHistory, formatHistory, summaryLine } from './index.js';
import { corrupt, CORRUPTIONS, randomHistory } from './random-history.js';

const SEEDS = 40;

test('random linearizable histories are accepted', () => {
  for (let seed = 1; seed <= SEEDS; seed++) {
    const records = randomHistory({ seed, ops: 300, keys: 3, clients: 6, unknownRate: 0.05, failRate: 0.05 });
    const r = checkHistory(records);
    assert.equal(r.kind, 'linearizable', `seed ${seed}: ${summaryLine(r)}`);
  }
});

test('one injected corruption is always rejected, at the corrupted key', (t) => {
  const seen = new Map<string, number>();
  for (let seed = 1; seed <= SEEDS; seed++) {
    const records = randomHistory({ seed, ops: 300, keys: 3, clients: 6, unknownRate: 0.05, failRate: 0.05 });
    for (const kind of CORRUPTIONS) {
      const bad = corrupt(records, kind, new Prng(seed, 1));
      if (bad === undefined) continue;
      seen.set(kind, (seen.get(kind) ?? 0) + 1);
      const r = checkHistory(bad.records);
      const key = (bad.records[bad.index] as HistoryRecord).key;
      assert.equal(r.kind, 'not-linearizable', `seed ${seed}, ${kind} at record ${bad.index}: ${summaryLine(r)}`);
      assert.ok(summaryLine(r).includes(`key "${key}"`), `seed ${seed}, ${kind}: ${summaryLine(r)}`);
    }
  }
  t.diagnostic(`corruptions checked: ${[...seen].map(([k, n]) => `${k} ${n}`).join(', ')}`);
  for (const kind of CORRUPTIONS) assert.ok((seen.get(kind) ?? 0) >= SEEDS / 2, `${kind} found a place in most seeds`);
});

/**
 * n puts of distinct values, all concurrent, then two reads that disagree with no write
 * between them. Every subset and order of the puts must be tried before the search can
 * give up: about n·2^(n-1) (set, state) pairs.
 */
function pathological(n: number): HistoryRecord[] {
  const records: HistoryRecord[] = [];
  for (let i = 0; i < n; i++) records.push({ client: i, key: 'k', op: 'put', args: [`v${i}`], start: 0, end: 100, result: { status: 'ok' } });
  records.push({ client: n, key: 'k', op: 'get', args: [], start: 200, end: 210, result: { status: 'ok', value: 'v0' } });
  records.push({ client: n, key: 'k', op: 'get', args: [], start: 220, end: 230, result: { status: 'ok', value: 'v1' } });
  return records;
}

test('a pathological history hits the step budget and answers unknown', (t) => {
  const small = checkHistory(pathological(8));
  assert.equal(small.kind, 'not-linearizable', 'small enough to decide');
  const t0 = performance.now();
  const r = checkHistory(pathological(40));
  const ms = performance.now() - t0;
  assert.equal(r.kind, 'unknown', summaryLine(r));
  assert.equal(summaryLine(r), 'chaos: 42 ops, unknown');
  assert.deepEqual(r.kind === 'unknown' ? r.exhaustedKeys : [], ['k']);
  t.diagnostic(`budget of ${r.keys[0]?.steps ?? 0} steps exhausted in ${ms.toFixed(0)} ms`);
  assert.equal(checkHistory(pathological(40), { stepsMaxPerKey: 1000 }).kind, 'unknown');
  assert.throws(() => checkHistory([], { stepsMaxPerKey: 0 }), /stepsMaxPerKey must be an integer in \[1, /);
});

test('with many unknown writes, a read of a value never written is still caught', () => {
  for (let seed = 1; seed <= 5; seed++) {
    const records = randomHistory({ seed, ops: 150, keys: 1, clients: 8, unknownRate: 0.1, failRate: 0.05 });
    const bad = corrupt(records, 'never-written-read', new Prng(seed, 2));
    assert.ok(bad !== undefined);
    const r = checkHistory(bad.records, { stepsMaxPerKey: 1000 });
    assert.equal(r.kind, 'not-linearizable', `seed ${seed}: ${summaryLine(r)}`);
    assert.match(summaryLine(r), /returned "never-written-\d+", but no operation on this key ever wrote/);
  }
});

test('10,000 operations over 10 keys with 10 clients check in seconds', (t) => {
  const records = randomHistory({ seed: 7, ops: 10_000, keys: 10, clients: 10, unknownRate: 0.01, failRate: 0.02 });
  const t0 = performance.now();
  const r = checkHistory(records);
  const ms = performance.now() - t0;
  assert.equal(r.kind, 'linearizable', summaryLine(r));
  const steps = r.keys.reduce((n, k) => n + k.steps, 0);
  t.diagnostic(`10,000 ops checked in ${ms.toFixed(0)} ms (${steps} search steps)`);
});

test('check-history prints one line and exits 0 only when linearizable', async () => {
  const cli = join(dirname(fileURLToPath(import.meta.url)), '..', 'check-history.js');
  const dir = await mkdtemp(join(tmpdir(), 'chaos-cli-'));
  try {
    const good = randomHistory({ seed: 3, ops: 200, keys: 3, clients: 4, unknownRate: 0.05 });
    const bad = corrupt(good, 'never-written-read', new Prng(3))?.records ?? [];
    // Unknown exits 1 like a violation (one code path); only the three exit codes are checked here.
    const run = async (name: string, text: string, ...args: string[]): Promise<{ status: number | null; out: string }> => {
      await writeFile(join(dir, name), text);
      const p = spawnSync(process.execPath, [cli, join(dir, name), ...args], { encoding: 'utf8', timeout: 60_000 });
      return { status: p.status, out: p.stdout };
    };
    assert.deepEqual(await run('good.jsonl', formatHistory(good)), { status: 0, out: 'chaos: 200 ops, linearizable\n' });
    const b = await run('bad.jsonl', formatHistory(bad));
    assert.equal(b.status, 1);
    assert.match(b.out, /^chaos: 200 ops, NOT linearizable: key "k\d": get by client \d+ at \[\d+, \d+\] returned "never-written-\d+"[^\n]*\n$/);
    assert.equal((await run('broken.jsonl', '{"client":')).status, 2);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
