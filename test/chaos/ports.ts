/** Free port layouts for chaos clusters: other helpers' clusters may run on the same machine. */
import { createServer } from 'node:net';
import { clusterPorts } from '@shoal/cli';

/** Layouts tried before giving up. */
const BASE_PORT_ATTEMPTS_MAX = 50;

async function portsFree(ports: readonly number[]): Promise<boolean> {
  for (const port of ports) {
    const ok = await new Promise<boolean>((r) => {
      const s = createServer();
      s.once('error', () => r(false));
      s.listen(port, '127.0.0.1', () => s.close(() => r(true)));
    });
    if (!ok) return false;
  }
  return true;
}

/**
 * A base port whose whole cluster layout (clusterPorts, 3 metaservers, 3 nodes, proxy) is
 * free: random below the kernel's ephemeral range (32768+) so outgoing connections do not
 * take them, checked by binding each.
 */
export async function freeBasePort(): Promise<number> {
  for (let attempt = 0; attempt < BASE_PORT_ATTEMPTS_MAX; attempt++) {
    const base = 20_000 + 10 * Math.floor(Math.random() * 1100);
    const p = clusterPorts(base);
    const ports = [0, 1, 2].flatMap((i) => [p.metaGrpc + i, p.nodeGrpc + i, p.metaHttp + i, p.nodeHttp + i]).concat([p.proxyResp, p.proxyHttp]);
    if (await portsFree(ports)) return base;
  }
  throw new Error(`no free port range found in ${BASE_PORT_ATTEMPTS_MAX} attempts`);
}
