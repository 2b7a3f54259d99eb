// Proves that `npm run lint` forbids I/O, clocks, timers, global randomness, `process` and
// Promises inside raft-ts/src, and that the same code is allowed elsewhere in the repository.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
// Stored as .txt so the fixture is neither compiled nor linted as part of the repository.
const FIXTURE = readFileSync(join(ROOT, 'test', 'lint', 'fixtures', 'raft-impure.txt'), 'utf8');
const PURITY = 'raft-ts must stay pure and deterministic';

async function purityMessages(code: string, relPath: string): Promise<{ line: number; text: string }[]> {
  const eslint = new ESLint({ cwd: ROOT });
  const [result] = await eslint.lintText(code, { filePath: join(ROOT, relPath) });
  assert.ok(result, 'eslint returned no result');
  return result.messages
    .filter((m) => m.message.includes(PURITY))
    .map((m) => ({ line: m.line, text: m.message }));
}

test('every kind of impurity inside raft-ts/src is reported', async () => {
  const found = await purityMessages(FIXTURE, 'raft-ts/src/impure-probe.ts');
  const expectedLines: Record<string, number> = {
    'node:fs import': 2,
    'built-in module import': 3,
    'Date': 6,
    'Math.random': 7,
    'setTimeout': 8,
    'setInterval': 9,
    'process': 10,
    'Promise': 11,
    'async function': 17,
    'await': 18,
  };
  for (const [what, line] of Object.entries(expectedLines)) {
    assert.ok(found.some((m) => m.line === line), `no purity error for ${what} on line ${line}: ${JSON.stringify(found)}`);
  }
});

test('the purity rule does not apply outside raft-ts/src', async () => {
  const found = await purityMessages(FIXTURE, 'node/src/impure-probe.ts');
  assert.deepEqual(found, []);
});

test('pure code inside raft-ts/src passes', async () => {
  const pure = 'export function add(a: number, b: number): number {\n  return a + b;\n}\n';
  const found = await purityMessages(pure, 'raft-ts/src/pure-probe.ts');
  assert.deepEqual(found, []);
});

test('the real raft-ts sources are clean', async () => {
  const eslint = new ESLint({ cwd: ROOT });
  const results = await eslint.lintFiles([join(ROOT, 'raft-ts', 'src')]);
  const purity = results.flatMap((r) => r.messages.filter((m) => m.message.includes(PURITY)).map((m) => `${r.filePath}:${m.line} ${m.message}`));
  assert.deepEqual(purity, []);
  assert.ok(results.length > 0, 'no raft-ts sources were linted');
});

test('no raft-ts library file switches the purity rules off', () => {
  const offenders: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith('.ts') && !name.endsWith('.test.ts') && /eslint-disable/.test(readFileSync(path, 'utf8'))) offenders.push(path);
    }
  };
  walk(join(ROOT, 'raft-ts', 'src'));
  assert.deepEqual(offenders, []);
});

test('test files beside raft-ts code may use Node (they are not the library)', async () => {
  const found = await purityMessages("import { test } from 'node:test';\nvoid test;\n", 'raft-ts/src/probe.test.ts');
  assert.deepEqual(found, []);
});
