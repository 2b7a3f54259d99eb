// `node scripts/run.mjs <compiled-script.js> [args…]`: install and build whatever is missing,
// then run a compiled entry point with the remaining arguments (used by `npm run raft:sim`,
// `npm run bench:*`).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT, ensureBuilt, ensureInstalled } from './bootstrap.mjs';

const [script, ...args] = process.argv.slice(2);
if (script === undefined) {
  console.error('usage: node scripts/run.mjs <compiled-script.js> [args…]');
  process.exit(2);
}
ensureInstalled();
ensureBuilt();
const result = spawnSync(process.execPath, [join(ROOT, script), ...args], { cwd: ROOT, stdio: 'inherit' });
process.exit(result.status ?? 1);
