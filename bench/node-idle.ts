/**
 * Idle cost of a storage node hosting many shard replicas (issue #4: a node with 10,000 idle
 * shard replicas stays under 5% of one core, thanks to hibernation).
 *
 * Three nodes, `--shards` (default 10,000) three-replica shards: node 1 runs inside this
 * process so its CPU is measured with process.cpuUsage(); nodes 2 and 3 are child processes
 * measured through their /metrics (shoal_process_cpu_seconds_total). After every group has
 * elected a leader and fallen asleep, nothing happens for `--seconds` (default 20) and the
 * CPU used in that window is printed as a percentage of one core. Figures only, no
 * assertion (STYLE.md rule 12).
 *
 * Run with `npm run bench:node-idle [-- --shards 10000 --seconds 20 --warmup-seconds 15 --settle-seconds-max 600]`.
 */
import { loadConfig } from '@shoal/common';
import { nodeConfigSchema, NodeServer } from '@shoal/node';
import { argNumber, BenchCluster, hashShards, waitFor } from './node-cluster.js';

const SHARDS = argNumber('shards', 10_000);
const SECONDS = argNumber('seconds', 20);
const WARMUP_SECONDS = argNumber('warmup-seconds', 15);
const SETTLE_SECONDS_MAX = argNumber('settle-seconds-max', 600);
/**
 * Thousands of groups electing at once on one small machine (three nodes sharing its cores)
 * need more than the default 1 s election timeout: with it, round trips under the start-up
 * load exceed the timeout and check-quorum deposes leaders faster than they are elected.
 * A node with many groups would use such a setting in production too (TiKV's default
 * election timeout is 10 s). Override with --election-timeout-ticks / --heartbeat-ticks.
 */
const ELECTION_TICKS = argNumber('election-timeout-ticks', 30);
const HEARTBEAT_TICKS = argNumber('heartbeat-ticks', 3);

async function main(): Promise<void> {
  const started = Date.now();
  const cluster = await BenchCluster.create(3, {
    tables: [{ id: 1, name: 'idle', partition: 'hash' }],
    shards: hashShards(SHARDS, [1, 2, 3]),
  }, { raftElectionTimeoutTicks: ELECTION_TICKS, raftHeartbeatIntervalTicks: HEARTBEAT_TICKS });
  const config = loadConfig(nodeConfigSchema, { env: {}, argv: ['--config', cluster.nodes[0]!.configFile] });
  let server: NodeServer | null = null;
  try {
    const [, s] = await Promise.all([cluster.start([2, 3], 600_000), NodeServer.start(config)]);
    server = s;
    const sched = s.replicas;
    console.log(`tick ${config.raftTickIntervalMs} ms, heartbeat ${HEARTBEAT_TICKS} ticks, election timeout ${ELECTION_TICKS} ticks`);
    console.log(`${SHARDS} shards × 3 replicas started in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    let lastReport = 0;
    await waitFor('every group to elect a leader and hibernate', SETTLE_SECONDS_MAX * 1000, async () => {
      const [h2, h3] = await Promise.all([cluster.metric(2, 'shoal_replicas_hibernating'), cluster.metric(3, 'shoal_replicas_hibernating')]);
      const h1 = SHARDS - sched.awakeCount;
      if (Date.now() - lastReport > 5000) {
        lastReport = Date.now();
        console.log(`  t=${((Date.now() - started) / 1000).toFixed(0)} s: hibernating ${h1} / ${h2} / ${h3}`);
      }
      return h1 === SHARDS && h2 === SHARDS && h3 === SHARDS;
    });
    const leaders = [0, 0, 0];
    for (const r of sched.allReplicas()) if (r.isLeader) leaders[0]!++;
    leaders[1] = await cluster.metric(2, 'shoal_replicas_leading');
    leaders[2] = await cluster.metric(3, 'shoal_replicas_leading');
    console.log(`all groups hibernating after ${((Date.now() - started) / 1000).toFixed(1)} s; leaders per node: ${leaders.join(' / ')}`);
    await new Promise((r) => setTimeout(r, WARMUP_SECONDS * 1000));

    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const child0 = await Promise.all([2, 3].map((n) => cluster.metric(n, 'shoal_process_cpu_seconds_total')));
    const msgs0 = await Promise.all([2, 3].map((n) => cluster.metric(n, 'shoal_raft_transport_messages_sent_total')));
    const ticks0 = sched.stats.groupTicks;
    await new Promise((r) => setTimeout(r, SECONDS * 1000));
    const cpu = process.cpuUsage(cpu0);
    const elapsedS = (performance.now() - t0) / 1000;
    const child1 = await Promise.all([2, 3].map((n) => cluster.metric(n, 'shoal_process_cpu_seconds_total')));
    const msgs1 = await Promise.all([2, 3].map((n) => cluster.metric(n, 'shoal_raft_transport_messages_sent_total')));
    const pct = (seconds: number) => `${((seconds / elapsedS) * 100).toFixed(2)}%`;
    console.log(`\nidle window: ${elapsedS.toFixed(1)} s, ${SHARDS} replicas per node`);
    console.log(`node 1 (in-process, process.cpuUsage): ${pct((cpu.user + cpu.system) / 1e6)} of one core `
      + `(user ${(cpu.user / 1e3).toFixed(0)} ms, system ${(cpu.system / 1e3).toFixed(0)} ms); group ticks: ${sched.stats.groupTicks - ticks0}`);
    for (const [i, n] of [2, 3].entries()) {
      console.log(`node ${n} (child, /metrics):             ${pct(child1[i]! - child0[i]!)} of one core; raft messages sent: ${msgs1[i]! - msgs0[i]!}`);
    }
    console.log(`still hibernating: node 1 ${SHARDS - sched.awakeCount}/${SHARDS}`);
  } finally {
    await server?.stop();
    await cluster.stop();
  }
}

await main();
