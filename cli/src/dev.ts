/**
 * `shoal dev` (and `npm start`): a LocalCluster in the foreground. Prints the endpoints and
 * a one-line example once the cluster is ready, then waits; SIGINT / SIGTERM stop every
 * process (SIGTERM, then SIGKILL after a deadline) and exit 0. A pid file under the data
 * directory refuses a second `shoal dev` on the same data while the first one runs.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isKvError, KvError } from '@shoal/common';
import { parseCount } from './args.js';
import { LocalCluster } from './local-cluster.js';
import { BASE_PORT_MAX, LOCAL_NODES_MAX } from './local-cluster-options.js';
import type { DevFlags } from './program.js';

const PID_FILE = 'shoal-dev.pid';

function parseDevFlags(f: DevFlags): { nodes: number; metaservers: number; dataDir: string; basePort: number } {
  const metaservers = parseCount(f.metaservers, '--metaservers', 1, 3);
  if (metaservers === 2) throw new KvError('INVALID_ARGUMENT', '--metaservers: must be 1 or 3', { details: { option: '--metaservers' } });
  if (f.dataDir.trim() === '') throw new KvError('INVALID_ARGUMENT', '--data-dir: must not be empty', { details: { option: '--data-dir' } });
  return {
    nodes: parseCount(f.nodes, '--nodes', 1, LOCAL_NODES_MAX), metaservers, dataDir: f.dataDir,
    basePort: parseCount(f.basePort, '--base-port', 1744, BASE_PORT_MAX),
  };
}

/** Claims the data directory for this process; refuses if a live `shoal dev` holds it. */
function claimDataDir(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, PID_FILE);
  if (existsSync(file)) {
    const pid = Number(readFileSync(file, 'utf8').trim());
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
      throw new KvError('ALREADY_EXISTS', `--data-dir: ${dir} is in use by shoal dev (pid ${pid}); stop it first`, { details: { option: '--data-dir' } });
    }
  }
  writeFileSync(file, `${process.pid}\n`);
  return file;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function runDev(flags: DevFlags): Promise<number> {
  let cluster: LocalCluster;
  let pidFile: string;
  try {
    const f = parseDevFlags(flags);
    cluster = new LocalCluster({ ...f, s3: true });
    pidFile = claimDataDir(cluster.options.dataDir);
  } catch (e) {
    if (!isKvError(e)) throw e;
    console.error(`shoal dev: ${e.message}`);
    return 1;
  }
  let stopRequested: (signal: string) => void = () => undefined;
  const stopSignal = new Promise<string>((r) => {
    stopRequested = r;
  });
  const onSignal = (signal: NodeJS.Signals): void => stopRequested(signal);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let code = 0;
  try {
    console.log(`shoal dev: starting ${cluster.options.metaservers} metaserver(s) and ${cluster.options.nodes} storage node(s) under ${cluster.options.dataDir}…`);
    const started = await Promise.race([cluster.start().then(() => 'started' as const), stopSignal]);
    if (started === 'started') {
      printReady(cluster);
      // Children may all die (each is reported); we still wait for Ctrl-C, so keep the loop alive.
      const keepAlive = setInterval(() => undefined, 60_000);
      await stopSignal;
      clearInterval(keepAlive);
    }
    console.log('shoal dev: stopping…');
  } catch (e) {
    console.error(`shoal dev: ${isKvError(e) ? `${e.code}: ${e.message}` : String(e)}`);
    console.error('shoal dev: see the logs under the data directory; stopping what was started');
    code = 1;
  } finally {
    await cluster.stop();
    rmSync(pidFile, { force: true });
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  if (code === 0) console.log('shoal dev: stopped');
  return code;
}

function printReady(cluster: LocalCluster): void {
  const metas = cluster.metaAddresses().join(',');
  const lines = ['', 'Shoal is running. Endpoints (gRPC, HTTP /metrics and /healthz, log):', ...cluster.endpoints().map((l) => `  ${l}`)];
  if (cluster.proxySkipped !== undefined) lines.push(`  proxy  not started: ${cluster.proxySkipped}`);
  lines.push('');
  if (cluster.proxySkipped === undefined) {
    lines.push(`Try:  redis-cli -p ${cluster.ports.proxyResp} set hello world`);
  } else {
    // Runs from the repository root, where @shoal/client-sdk resolves to the workspace package.
    lines.push(`Try:  node --input-type=module -e "import { Shoal } from '@shoal/client-sdk'; const db = await Shoal.connect({ metaservers: '${metas}'.split(',') }); ` +
      `const t = db.table('default'); await t.put('hello', 'world'); console.log(await t.get('hello', { valueEncoding: 'utf8' })); await db.close()"`);
  }
  const metaFlag = cluster.options.basePort === 7100 && cluster.options.metaservers === 3 ? '' : ` --meta ${metas}`;
  lines.push(`      npx shoal cluster status${metaFlag}`, '', 'Ctrl-C stops every process; the data stays for the next start.');
  console.log(lines.join('\n'));
}
