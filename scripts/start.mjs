// `npm start`: install and build whatever is missing, then start a local cluster with
// `shoal dev` (3 metaservers, 3 storage nodes, a RESP proxy, local S3) under ./data.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT, ensureBuilt, ensureInstalled } from './bootstrap.mjs';

ensureInstalled();
ensureBuilt();
const result = spawnSync(process.execPath, [join(ROOT, 'cli', 'dist', 'main.js'), 'dev', ...process.argv.slice(2)], {
  cwd: ROOT,
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
