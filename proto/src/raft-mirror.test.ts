// Goal: raft.proto mirrors raft-ts exactly — the same enum numbers and the same Message,
// Entry, Snapshot and ConfState fields — read from raft-ts's source so drift fails here.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { meta, raft } from './index.js';
import { PACKAGE_DIR } from './test-helpers.js';

const RAFT_SRC = join(PACKAGE_DIR, '..', 'raft-ts', 'src');

/** The `{ Name: number }` entries of `export const <name> = { ... }` in a raft-ts file. */
function sourceEnum(file: string, name: string): Map<string, number> {
  const text = readFileSync(join(RAFT_SRC, file), 'utf8');
  const block = new RegExp(`export const ${name} = \\{([\\s\\S]*?)\\}`).exec(text)?.[1];
  assert.ok(block !== undefined, `${name} not found in raft-ts/src/${file}`);
  const lines = block.split('\n').map((l) => l.replace(/\/\/.*$|\/\*.*?\*\/|^\s*\*.*$/g, '')).join('\n');
  return new Map([...lines.matchAll(/(\w+):\s*(\d+)/g)].map((m) => [m[1]!, Number(m[2])]));
}

/** Field names of `export interface <name> { ... }` in raft-ts/src/types.ts. */
function sourceFields(name: string): string[] {
  const text = readFileSync(join(RAFT_SRC, 'types.ts'), 'utf8');
  const block = new RegExp(`export interface ${name} \\{([\\s\\S]*?)\\n\\}`).exec(text)?.[1];
  assert.ok(block !== undefined, `interface ${name} not found in raft-ts/src/types.ts`);
  return [...block.matchAll(/readonly (\w+):/g)].map((m) => m[1]!).sort();
}

/** PascalCase raft-ts name -> the stripped UPPER_SNAKE name of the generated enum. */
function upperSnake(s: string): string {
  return s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

function assertSameEnum(ours: Record<string, number>, file: string, name: string): void {
  const theirs = sourceEnum(file, name);
  assert.ok(theirs.size > 0);
  const expected = Object.fromEntries([...theirs].map(([k, v]) => [upperSnake(k), v]));
  assert.deepEqual({ ...ours }, expected, `${name} differs from raft-ts/src/${file}`);
}

test('enum numbers equal raft-ts', () => {
  assertSameEnum(raft.MessageType, 'types.ts', 'MessageType');
  assertSameEnum(raft.EntryType, 'types.ts', 'EntryType');
  assertSameEnum(raft.RaftRole, 'types.ts', 'StateRole');
  assertSameEnum(meta.ProgressState, 'progress.ts', 'ProgressState');
});

test('message fields equal raft-ts', () => {
  const cases: [string, object][] = [
    ['Message', raft.Message.create()],
    ['Entry', raft.Entry.create()],
    ['Snapshot', raft.Snapshot.create()],
    ['SnapshotMetadata', raft.SnapshotMetadata.create()],
    ['ConfState', raft.ConfState.create()],
  ];
  for (const [name, created] of cases) assert.deepEqual(Object.keys(created).sort(), sourceFields(name), name);
});
