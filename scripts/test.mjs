// `npm test`: install and build whatever is missing, then run every test in the repository
// with Node's built-in test runner. Unit tests sit beside the code (`<pkg>/src/**/*.test.ts`,
// compiled to `<pkg>/dist`); cluster, end-to-end, chaos and simulation tests sit under `test/`.
//
// Usage: npm test [-- <path-substring> ...]   e.g. `npm test -- raft-ts` or `npm test -- test/sim`
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ROOT, ensureBuilt, ensureInstalled } from './bootstrap.mjs';

// Every workspace: a new package's tests run without anyone remembering to list it here.
const PACKAGES = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).workspaces;

function collect(dir, out) {
  let names;
  try { names = readdirSync(dir); } catch { return; }
  for (const name of names) {
    if (name === 'node_modules') continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) collect(path, out);
    else if (name.endsWith('.test.js')) out.push(path);
  }
}

ensureInstalled();
ensureBuilt();

const filters = process.argv.slice(2);
const files = [];
for (const pkg of PACKAGES) collect(join(ROOT, pkg, 'dist'), files);
const selected = files
  .map((f) => relative(ROOT, f))
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s) || f.includes(s.replace(/\.ts$/, '.js'))))
  .sort();
if (selected.length === 0) {
  console.error(`shoal: no test files match ${filters.join(' ') || '(all)'}`);
  process.exit(1);
}

// Two cores: run two files at a time. Each file's own tests run serially unless it says
// otherwise. The per-test timeout is a backstop; tests wait on conditions with deadlines.
const args = ['--test', '--test-concurrency=2', '--test-timeout=300000', ...selected];
const result = spawnSync(process.execPath, args, { cwd: ROOT, stdio: 'inherit' });
process.exit(result.status ?? 1);
