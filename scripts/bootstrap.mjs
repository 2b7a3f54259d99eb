// Shared first-run set-up for `npm test` and `npm start`: install dependencies when they are
// missing or older than the lockfile, then build every package (tsc -b is incremental, so
// this is cheap when nothing changed). Uses only Node built-ins: it runs before any install.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

function run(cmd, args, what) {
  const result = spawnSync(cmd, args, { cwd: ROOT, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`shoal: ${what} failed (${cmd} ${args.join(' ')} exited ${result.status ?? result.signal})`);
    process.exit(result.status ?? 1);
  }
}

function needsInstall() {
  const marker = join(ROOT, 'node_modules', '.package-lock.json');
  if (!existsSync(marker)) return true;
  return statSync(join(ROOT, 'package-lock.json')).mtimeMs > statSync(marker).mtimeMs;
}

export function ensureInstalled() {
  if (!needsInstall()) return;
  console.error('shoal: installing dependencies (npm ci)…');
  run('npm', ['ci', '--no-audit', '--no-fund'], 'dependency install');
}

export function ensureBuilt() {
  run(join(ROOT, 'node_modules', '.bin', 'tsc'), ['-b'], 'build');
}
