// `npm start`: install and build whatever is missing, then start a local cluster with
// `shoal dev` (3 metaservers, 3 storage nodes, a RESP proxy) under ./data; extra arguments go
// to `shoal dev` (`npm start -- --nodes 5`).
//
// The cluster runs in a child process that handles SIGINT/SIGTERM itself (it stops every
// process it started, then exits 0). A terminal's Ctrl-C reaches it directly (same process
// group), so this wrapper only waits for it instead of dying first; a SIGTERM sent to this
// wrapper alone is forwarded.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ROOT, ensureBuilt, ensureInstalled } from './bootstrap.mjs';

ensureInstalled();
ensureBuilt();
const child = spawn(process.execPath, [join(ROOT, 'cli', 'dist', 'main.js'), 'dev', ...process.argv.slice(2)], {
  cwd: ROOT,
  stdio: 'inherit',
});
process.on('SIGINT', () => {});
process.on('SIGTERM', () => child.kill('SIGTERM'));
child.on('exit', (code, signal) => process.exit(code ?? (signal === null ? 1 : 128 + 15)));
