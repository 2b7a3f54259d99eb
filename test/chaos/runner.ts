/**
 * One chaos run: start a LocalCluster (3 metaservers, 3 storage nodes with failpoints
 * enabled, a proxy when the client is RESP) in `dir`, run the workload and the nemesis for
 * `durationMs`, heal everything, read every key ever used once more (linearizable reads,
 * retried until they succeed, recorded as client "final": every acknowledged write must
 * explain the final value), then check the history (history.jsonl under `dir`).
 *
 * Caller's obligations: a free `basePort` layout (clusterPorts) and a fresh `dir`.
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { KvError } from '@shoal/common';
import { LocalCluster } from '@shoal/cli';
import type { UnexpectedExit } from '@shoal/cli';
import type { ReadConsistency } from '@shoal/client-sdk';
import { checkHistory, HistoryWriter, readHistoryFile, summaryLine } from './checker/index.js';
import type { CheckResult, HistoryRecord } from './checker/index.js';
import { Nemesis } from './nemesis.js';
import type { NemesisEvent, NemesisKind } from './nemesis.js';
import { RespClient, runWorkload, SdkClient } from './workload.js';
import type { KvClient, WorkloadCounts } from './workload.js';

export type ClientKind = 'sdk' | 'resp';

export interface ChaosOptions {
  readonly dir: string;
  readonly basePort: number;
  readonly seed: number;
  readonly durationMs: number;
  readonly nemesis: readonly NemesisKind[];
  readonly client: ClientKind;
  /** Concurrent workload clients; default 8. */
  readonly clients?: number;
  /** Operations before the workload moves to fresh keys; default 300. */
  readonly rotateOps?: number;
  /** Read consistency of the SDK workload clients (default linearizable; final reads always are). */
  readonly reads?: ReadConsistency;
  /** Progress lines (nemesis events as they happen); default none. */
  readonly log?: (line: string) => void;
}

export interface ChaosReport {
  readonly counts: WorkloadCounts;
  readonly events: readonly NemesisEvent[];
  readonly unexpectedExits: readonly string[];
  readonly historyFile: string;
  readonly result: CheckResult;
  readonly summary: string;
}

/** How long the final reads of one key are retried after healing. */
const FINAL_READ_DEADLINE_MS = 90_000;
const FINAL_READ_RETRY_MS = 500;

/** Node settings of a chaos cluster: failpoints on (testing only; node/src/failpoints.ts). */
export const CHAOS_NODE_CONFIG = { failpointsEnabled: true, logLevel: 'info' } as const;

export async function runChaos(o: ChaosOptions): Promise<ChaosReport> {
  const log = o.log ?? (() => undefined);
  const unexpected: string[] = [];
  const cluster = new LocalCluster({
    dataDir: join(o.dir, 'cluster'), basePort: o.basePort, metaservers: 3, nodes: 3, proxy: o.client === 'resp',
    readyTimeoutMs: 120_000, stopTimeoutMs: 10_000, nodeConfig: CHAOS_NODE_CONFIG,
    onUnexpectedExit: (e: UnexpectedExit) => {
      unexpected.push(`${e.process.name} exited (${e.signal ?? `code ${e.code}`}) at ${(now() / 1000).toFixed(1)}s; log ${e.process.logFile}\n${e.logTail}`);
      log(`unexpected exit: ${e.process.name} (${e.signal ?? `code ${e.code}`})\n${e.logTail}`);
    },
  });
  const historyFile = join(o.dir, 'history.jsonl');
  const history = await HistoryWriter.create(historyFile);
  const t0 = performance.now();
  const now = (): number => Math.round((performance.now() - t0) * 1000) / 1000;
  const clients: KvClient[] = [];
  try {
    await cluster.start();
    if (o.client === 'resp' && cluster.proxySkipped !== undefined) throw new KvError('UNAVAILABLE', `--client resp: ${cluster.proxySkipped}`);
    for (let i = 0; i < (o.clients ?? 8); i++) {
      clients.push(o.client === 'sdk' ? await SdkClient.connect(cluster.metaAddresses(), o.reads) : await RespClient.connect(cluster.process('proxy').address));
    }
    const finalClient = await SdkClient.connect(cluster.metaAddresses(), 'linearizable');
    clients.push(finalClient);
    log(`cluster up in ${o.dir}; workload ${clients.length - 1} ${o.client} clients for ${o.durationMs} ms, nemesis ${o.nemesis.join(',') || 'none'}`);
    const stop = new Promise<void>((r) => setTimeout(r, o.durationMs));
    const nemesis = new Nemesis(cluster, o.nemesis, o.seed, now, o.client === 'resp', (e) => log(`  ${(e.atMs / 1000).toFixed(1)}s ${e.kind}: ${e.what}`));
    const nemesisRun = nemesis.run(stop).then(() => undefined, (e: unknown) => log(`nemesis stopped: ${String(e)}`));
    const { counts, keys } = await runWorkload({ clients: clients.slice(0, -1), history, seed: o.seed, now, rotateOps: o.rotateOps ?? 300, stop });
    await nemesisRun;
    await nemesis.healAll();
    // A process that died on its own (a crash: reported) is restarted too, so the final reads can run.
    for (const p of cluster.processes()) if (p.child !== undefined && p.exit !== undefined && !p.stopping) await cluster.restart(p.name);
    log(`healed at ${(now() / 1000).toFixed(1)}s; final reads of ${keys.length} keys`);
    for (const key of keys) history.record(await finalRead(finalClient, key, now));
    await history.close();
    const records: HistoryRecord[] = await readHistoryFile(historyFile);
    const result = checkHistory(records);
    return { counts, events: nemesis.events, unexpectedExits: unexpected, historyFile, result, summary: summaryLine(result) };
  } finally {
    await history.close().catch(() => undefined);
    for (const c of clients) await c.close().catch(() => undefined);
    await cluster.stop();
  }
}

/** A linearizable read after healing, retried until it answers (a failed read says nothing). */
async function finalRead(client: KvClient, key: string, now: () => number): Promise<HistoryRecord> {
  const deadline = Date.now() + FINAL_READ_DEADLINE_MS;
  for (;;) {
    const start = now();
    try {
      const value = await client.get(key);
      return { client: 'final', key, op: 'get', args: [], start, end: now(), result: { status: 'ok', value } };
    } catch (e) {
      if (Date.now() > deadline) throw new KvError('TIMEOUT', `final read of ${key} still failing after ${FINAL_READ_DEADLINE_MS} ms: ${String(e)}`);
      await new Promise((r) => setTimeout(r, FINAL_READ_RETRY_MS));
    }
  }
}
