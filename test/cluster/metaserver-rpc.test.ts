// Goal: three real metaserver processes drive fake storage nodes played by this test (NodeAdmin servers that record calls, plus register/heartbeat loops): CreateTable returns once every shard reported a leader, WatchRoutes delivers a leader change, followers answer NOT_LEADER with the leader's address, a silent node goes suspect → down and its shards get add-learner operators, DropTable leads to RemoveReplica calls, and kill -9 of the leader keeps tables.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials, Metadata, Server, ServerCredentials, status as grpcStatus } from '@grpc/grpc-js';
import type { Client, ServiceError } from '@grpc/grpc-js';
import { admin, common, meta } from '@shoal/proto';
import { CLI, freePorts, ROOT, waitUntil } from './harness.js';

const HEARTBEAT_MS = 150;

interface Member {
  readonly id: number;
  readonly address: string;
  readonly httpPort: number;
  readonly dataDir: string;
  readonly configFile: string;
  child: ChildProcess | null;
  readonly meta: meta.MetaClient;
  readonly admin: admin.AdminClient;
}

const dir = mkdtempSync(join(tmpdir(), 'shoal-meta-rpc-'));
const members = new Map<number, Member>();

function call<Req, Res>(client: Client, method: string, req: Req, timeoutMs = 3000): Promise<Res> {
  return new Promise((resolve, reject) => {
    const fn = (client as unknown as Record<string, (r: Req, m: Metadata, o: object, cb: (e: ServiceError | null, r: Res) => void) => void>)[method]!;
    fn.call(client, req, new Metadata(), { deadline: Date.now() + timeoutMs }, (e, r) => (e === null ? resolve(r) : reject(e)));
  });
}

function tail(m: Member): string {
  try {
    return readFileSync(join(m.dataDir, 'stdout.log'), 'utf8').split('\n').slice(-40).join('\n');
  } catch {
    return '';
  }
}

async function start(m: Member): Promise<void> {
  const out = openSync(join(m.dataDir, 'stdout.log'), 'a');
  const child = spawn(process.execPath, [CLI, 'metaserver', '--config', m.configFile], { cwd: ROOT, stdio: ['ignore', out, out] });
  closeSync(out);
  m.child = child;
  let exited: number | null = null;
  child.once('exit', (code) => {
    exited = code ?? -1;
  });
  await waitUntil(`member ${m.id} serving HTTP`, 20_000, async () => {
    if (exited !== null) throw new Error(`member ${m.id} exited with ${exited}:\n${tail(m)}`);
    return (await fetch(`http://127.0.0.1:${m.httpPort}/healthz`).catch(() => undefined)) !== undefined;
  });
}

async function agreedLeader(timeoutMs: number): Promise<Member> {
  return waitUntil('one leader agreed by the running members', timeoutMs, async () => {
    const running = [...members.values()].filter((m) => m.child !== null);
    const infos = await Promise.all(running.map((m) => call<object, meta.GetClusterInfoResponse>(m.meta, 'getClusterInfo', {})));
    if (new Set(infos.map((i) => i.leaderId)).size !== 1 || infos[0]!.clusterId === 0) return undefined;
    const leader = members.get(infos[0]!.leaderId);
    return leader?.child != null ? leader : undefined;
  });
}

// ---------------------------------------------------------------- fake storage nodes

/** The shards as the fake nodes see them: one descriptor per shard, led by `leaderNode`. */
interface FakeShard {
  desc: common.ShardDescriptor;
  leaderNode: number;
  term: number;
}
const shards = new Map<number, FakeShard>();
/** `shardId/peerId` of replicas a RemoveReplica destroyed. */
const destroyed = new Set<string>();

class FakeNode {
  nodeId = 0;
  alive = true;
  readonly calls: { method: string; req: unknown }[] = [];
  readonly operators: meta.Operator[] = [];
  private readonly server = new Server();
  private timer: NodeJS.Timeout | null = null;
  private target = 0;
  private clusterId = 0;
  private ticking = false;

  constructor(readonly address: string, readonly zone: string) {}

  async start(): Promise<void> {
    const ok = <Res>(method: string, res: Res) => (c: { request: unknown }, cb: (e: null, r: Res) => void): void => {
      this.calls.push({ method, req: c.request });
      if (method === 'createReplica') this.onCreateReplica(c.request as admin.CreateReplicaRequest);
      if (method === 'removeReplica') destroyed.add(`${(c.request as admin.RemoveReplicaRequest).shardId}/${(c.request as admin.RemoveReplicaRequest).peerId}`);
      cb(null, res);
    };
    const handlers: admin.NodeAdminServer = {
      createReplica: ok('createReplica', admin.CreateReplicaResponse.create({})),
      removeReplica: ok('removeReplica', admin.RemoveReplicaResponse.create({})),
      transferLeader: ok('transferLeader', admin.NodeTransferLeaderResponse.create({})),
      changeMembership: ok('changeMembership', admin.ChangeMembershipResponse.create({})),
      splitShard: ok('splitShard', admin.NodeSplitShardResponse.create({})),
      forceReduceReplicas: ok('forceReduceReplicas', admin.NodeForceReduceReplicasResponse.create({})),
      getShardStatus: ok('getShardStatus', admin.GetShardStatusResponse.create({})),
    };
    this.server.addService(admin.NodeAdminService, handlers);
    await new Promise<void>((res, rej) => this.server.bindAsync(this.address, ServerCredentials.createInsecure(), (e) => (e === null ? res() : rej(e))));
    this.timer = setInterval(() => void this.tick(), HEARTBEAT_MS);
  }

  /** Stops heartbeating and serving, as a crashed node would. */
  stop(): void {
    this.alive = false;
    if (this.timer !== null) clearInterval(this.timer);
    this.server.forceShutdown();
  }

  callsOf(method: string): unknown[] {
    return this.calls.filter((c) => c.method === method).map((c) => c.req);
  }

  /** A bootstrapped replica: the shard exists once any of its nodes created it; the lowest live node leads. */
  private onCreateReplica(req: admin.CreateReplicaRequest): void {
    const d = req.shard;
    if (!req.bootstrap || d === undefined || shards.has(d.id)) return;
    shards.set(d.id, { desc: d, leaderNode: 0, term: 1 });
  }

  private client(): meta.MetaClient {
    const ids = [...members.keys()].sort();
    return members.get(this.target || ids[0]!)!.meta;
  }

  /** Follows NOT_LEADER hints; on transport errors tries the next member. */
  private redirect(e: common.ErrorDetail | undefined, failed: boolean): void {
    const hinted = [...members.values()].find((m) => m.address === e?.leaderHint?.address);
    if (hinted !== undefined) this.target = hinted.id;
    else if (failed || e?.code === 'NOT_LEADER') this.target = (this.target % members.size) + 1;
  }

  /** One tick at a time, as a real node's heartbeat loop (overlapping RegisterNode calls would register twice). */
  private async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      await this.beat();
    } finally {
      this.ticking = false;
    }
  }

  private async beat(): Promise<void> {
    try {
      if (this.nodeId === 0) {
        const r = await call<meta.RegisterNodeRequest, meta.RegisterNodeResponse>(this.client(), 'registerNode', meta.RegisterNodeRequest.create({
          address: this.address, pool: 'default', zone: this.zone, capacityBytes: 1 << 30, version: 'fake',
        }));
        if (r.error !== undefined) return this.redirect(r.error, false);
        this.nodeId = r.nodeId;
        this.clusterId = r.clusterId;
        return;
      }
      const hb = await call<meta.NodeHeartbeatRequest, meta.NodeHeartbeatResponse>(this.client(), 'nodeHeartbeat', meta.NodeHeartbeatRequest.create({
        clusterId: this.clusterId, nodeId: this.nodeId, stats: meta.NodeStats.create({ capacityBytes: 1 << 30, availableBytes: 1 << 30 }),
      }));
      if (hb.error !== undefined) return this.redirect(hb.error, false);
      for (const s of shards.values()) await this.shardHeartbeat(s);
    } catch {
      this.redirect(undefined, true);
    }
  }

  private async shardHeartbeat(s: FakeShard): Promise<void> {
    if (!this.alive) return;
    const mine = s.desc.replicas.find((r) => r.nodeId === this.nodeId);
    const liveLeader = nodes.find((n) => n.nodeId === s.leaderNode)?.alive === true;
    if (mine === undefined || destroyed.has(`${s.desc.id}/${mine.peerId}`)) return;
    if (!liveLeader) {
      // The shard elects the live replica with the lowest node id.
      const next = s.desc.replicas.map((r) => r.nodeId).filter((id) => nodes.some((n) => n.nodeId === id && n.alive)).sort((a, b) => a - b)[0];
      if (next !== this.nodeId) return;
      s.leaderNode = this.nodeId;
      s.term++;
    }
    if (s.leaderNode !== this.nodeId) return;
    const desc = common.ShardDescriptor.create({ ...s.desc, leaderPeerId: mine.peerId });
    const progress = s.desc.replicas.map((r) => meta.ReplicaProgress.create({ peerId: r.peerId, matchIndex: 10, nextIndex: 11, state: meta.ProgressState.REPLICATE, recentActive: true }));
    const r = await call<meta.ShardHeartbeatRequest, meta.ShardHeartbeatResponse>(this.client(), 'shardHeartbeat', meta.ShardHeartbeatRequest.create({
      clusterId: this.clusterId, nodeId: this.nodeId, shard: desc, stats: meta.ShardStats.create({ term: s.term, commitIndex: 10, appliedIndex: 10 }), progress,
    }));
    if (r.error !== undefined) return this.redirect(r.error, false);
    if (r.operator !== undefined) this.operators.push(r.operator);
  }
}

const nodes: FakeNode[] = [];
/** Address of a fifth node that joins late. */
let lateAddress = '';

before(async () => {
  const ports = await freePorts(11);
  const list = [1, 2, 3].map((id) => `${id}=127.0.0.1:${ports[id - 1]!}`);
  for (const id of [1, 2, 3]) {
    const dataDir = join(dir, `m${id}`);
    mkdirSync(dataDir, { recursive: true });
    const address = `127.0.0.1:${ports[id - 1]!}`;
    const httpPort = ports[id + 2]!;
    const configFile = join(dir, `m${id}.json`);
    writeFileSync(configFile, JSON.stringify({
      id, dataDir, listen: address, httpListen: `127.0.0.1:${httpPort}`, members: list, logLevel: 'info',
      raftTickIntervalMs: 50, raftElectionTimeoutTicks: 10, raftHeartbeatIntervalTicks: 2,
      nodeHeartbeatIntervalMs: HEARTBEAT_MS, nodeSuspectAfterMs: 1000, nodeDownAfterMs: 2000, createTableTimeoutMs: 15_000,
      schedule: { scheduleIntervalMs: 200, replicaBalanceEnabled: false, leaderBalanceEnabled: false, splitEnabled: false },
    }, null, 2));
    members.set(id, {
      id, address, httpPort, dataDir, configFile, child: null,
      meta: new meta.MetaClient(address, credentials.createInsecure()), admin: new admin.AdminClient(address, credentials.createInsecure()),
    });
  }
  await Promise.all([...members.values()].map(start));
  for (let i = 0; i < 4; i++) nodes.push(new FakeNode(`127.0.0.1:${ports[6 + i]!}`, `z${i + 1}`));
  await Promise.all(nodes.map((n) => n.start()));
  lateAddress = `127.0.0.1:${ports[10]!}`;
});

after(async () => {
  for (const n of nodes) n.stop();
  for (const m of members.values()) {
    m.meta.close();
    m.admin.close();
    const child = m.child;
    if (child !== null && child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
  }
  // SHOAL_KEEP_TEST_DIR=1 keeps the members' data and logs for a post-mortem.
  if (process.env.SHOAL_KEEP_TEST_DIR === undefined) rmSync(dir, { recursive: true, force: true });
  else console.log(`kept ${dir}`);
});

async function createTable(m: Member, name: string): Promise<admin.CreateTableResponse> {
  return call(m.admin, 'createTable', admin.CreateTableRequest.create({
    name, pool: 'default', options: meta.TableOptions.create({ partition: meta.PartitionKind.HASH, shardCount: 4, replicaCount: 3 }),
  }), 20_000);
}

test('metaserver leader drives fake storage nodes through tables, failures, drops and a leader kill', async () => {
  let leader = await agreedLeader(15_000);
  await waitUntil('four nodes registered and up', 10_000, async () => {
    const r = await call<admin.ListNodesRequest, admin.ListNodesResponse>(leader.admin, 'listNodes', admin.ListNodesRequest.create({}));
    return r.nodes.length === 4 && r.nodes.every((n) => n.state === meta.NodeState.UP);
  });

  // CreateTable returns once every shard has a leader; the bootstrap replicas were created on the nodes.
  const created = await createTable(leader, 'users');
  assert.equal(created.error, undefined, JSON.stringify(created.error));
  assert.equal(created.table?.state, meta.TableState.ACTIVE);
  const routes = await call<meta.GetRoutesRequest, meta.GetRoutesResponse>(leader.meta, 'getRoutes', meta.GetRoutesRequest.create({ tableName: 'users' }));
  assert.equal(routes.shards.length, 4);
  assert.ok(routes.shards.every((s) => s.leaderAddress !== ''), 'every shard has a leader address');
  const bootstraps = nodes.flatMap((n) => n.callsOf('createReplica') as admin.CreateReplicaRequest[]).filter((r) => r.bootstrap);
  assert.equal(new Set(bootstraps.map((r) => `${r.shard?.id}/${r.peerId}`)).size, 12, 'one bootstrap CreateReplica per replica');

  // A follower refuses admin and node calls with NOT_LEADER and the leader's address.
  const follower = [...members.values()].find((m) => m.id !== leader.id)!;
  const refused = await call<admin.ListNodesRequest, admin.ListNodesResponse>(follower.admin, 'listNodes', admin.ListNodesRequest.create({}));
  assert.equal(refused.error?.code, 'NOT_LEADER');
  assert.equal(refused.error?.leaderHint?.address, leader.address);
  const refusedCreate = await createTable(follower, 'nope');
  assert.equal(refusedCreate.error?.code, 'NOT_LEADER');
  const refusedIds = await call<meta.AllocateIdsRequest, meta.AllocateIdsResponse>(follower.meta, 'allocateIds', meta.AllocateIdsRequest.create({ kind: meta.IdKind.TABLE, count: 1 }));
  assert.equal(refusedIds.error?.code, 'NOT_LEADER');
  const followerWatch = follower.meta.watchRoutes(meta.WatchRoutesRequest.create({}));
  followerWatch.on('data', () => undefined);
  const ended = await new Promise<ServiceError>((resolve) => followerWatch.on('error', resolve));
  assert.equal(ended.code, grpcStatus.UNAVAILABLE);
  assert.match(ended.details, /^NOT_LEADER/);
  assert.equal(ended.metadata.get('shoal-leader-address')[0], leader.address);
  const ids = await call<meta.AllocateIdsRequest, meta.AllocateIdsResponse>(leader.meta, 'allocateIds', meta.AllocateIdsRequest.create({ kind: meta.IdKind.OPERATOR, count: 5 }));
  assert.equal(ids.count, 5);
  assert.ok(ids.firstId > 0);

  // WatchRoutes delivers a leader change: stop the node leading shard 1; another replica takes over.
  const first = routes.shards[0]!.shard!;
  const events: meta.RouteEvent[] = [];
  const stream = leader.meta.watchRoutes(meta.WatchRoutesRequest.create({ tableIds: [created.table!.id], fromVersion: routes.routeVersion }));
  stream.on('data', (ev: meta.RouteEvent) => events.push(ev));
  stream.on('error', () => undefined);
  const victim = nodes.find((n) => n.nodeId === shards.get(first.id)!.leaderNode)!;
  victim.stop();
  const moved = await waitUntil('a route event with a new leader for the first shard', 5000, () => events.flatMap((e) => e.updated).find(
    (u) => u.shard?.id === first.id && u.shard.leaderPeerId !== first.leaderPeerId && u.leaderAddress !== victim.address,
  ));
  assert.notEqual(moved.leaderAddress, '');
  stream.cancel();

  // The silent node goes suspect, then down; its shards get add-learner operators on other nodes.
  const nodeState = async (): Promise<meta.NodeState | undefined> => {
    const r = await call<admin.ListNodesRequest, admin.ListNodesResponse>(leader.admin, 'listNodes', admin.ListNodesRequest.create({}));
    return r.nodes.find((n) => n.id === victim.nodeId)?.state;
  };
  await waitUntil('the silent node is suspect', 5000, async () => (await nodeState()) === meta.NodeState.SUSPECT || (await nodeState()) === meta.NodeState.DOWN);
  await waitUntil('the silent node is down', 5000, async () => (await nodeState()) === meta.NodeState.DOWN);
  const victimShards = [...shards.values()].filter((s) => s.desc.replicas.some((r) => r.nodeId === victim.nodeId)).map((s) => s.desc.id);
  assert.ok(victimShards.length > 0);
  await waitUntil('add-learner operators for every shard of the down node', 10_000, () => victimShards.every((id) => nodes.some(
    (n) => n.operators.some((op) => op.shardId === id && op.kind?.$case === 'addLearner' && op.kind.addLearner.replica?.nodeId !== victim.nodeId),
  )));
  const learnerCreates = nodes.flatMap((n) => n.callsOf('createReplica') as admin.CreateReplicaRequest[]).filter((r) => !r.bootstrap);
  assert.ok(victimShards.every((id) => learnerCreates.some((r) => r.shard?.id === id)), 'the learner replicas were created before the operators went out');
  const ops = await call<admin.ListOperatorsRequest, admin.ListOperatorsResponse>(leader.admin, 'listOperators', admin.ListOperatorsRequest.create({}));
  assert.ok(ops.operators.length >= victimShards.length, JSON.stringify(ops.operators.map((o) => o.operator?.reason)));

  // A second table to outlive the leader; then drop the first: its replicas are removed from the live nodes.
  const kept = await createTable(leader, 'kept');
  assert.equal(kept.error, undefined, JSON.stringify(kept.error));
  const usersShards = routes.shards.map((s) => s.shard!.id);
  const dropped = await call<admin.DropTableRequest, admin.DropTableResponse>(leader.admin, 'dropTable', admin.DropTableRequest.create({ name: 'users' }));
  assert.equal(dropped.error, undefined);
  await waitUntil('RemoveReplica for every live replica of the dropped table', 10_000, () => usersShards.every((id) => {
    const live = shards.get(id)!.desc.replicas.filter((r) => r.nodeId !== victim.nodeId);
    return live.every((r) => nodes.find((n) => n.nodeId === r.nodeId)!.callsOf('removeReplica').some(
      (q) => (q as admin.RemoveReplicaRequest).shardId === id && (q as admin.RemoveReplicaRequest).peerId === r.peerId,
    ));
  }));

  // Admin operators on the kept table: transfer (then cancelled), move (placement chooses the node that joined), split.
  const late = new FakeNode(lateAddress, 'z5');
  nodes.push(late);
  await late.start();
  await waitUntil('the late node registered', 5000, () => late.nodeId !== 0);
  const keptRoutes = await call<meta.GetRoutesRequest, meta.GetRoutesResponse>(leader.meta, 'getRoutes', meta.GetRoutesRequest.create({ tableName: 'kept' }));
  const [k0, k1] = keptRoutes.shards.map((r) => r.shard!);
  const follower0 = k0!.replicas.find((r) => r.peerId !== k0!.leaderPeerId)!;
  const transfer = await call<admin.TransferLeaderRequest, admin.ScheduleResponse>(leader.admin, 'transferLeader', admin.TransferLeaderRequest.create({ shardId: k0!.id, toPeerId: follower0.peerId }));
  assert.equal(transfer.error, undefined, JSON.stringify(transfer.error));
  await waitUntil('the transfer handed to the shard leader', 5000, () => nodes.some((n) => n.operators.some((op) => op.id === transfer.operatorId && op.kind?.$case === 'transferLeader')));
  const busy = await call<admin.SplitShardRequest, admin.ScheduleResponse>(leader.admin, 'splitShard', admin.SplitShardRequest.create({ shardId: k0!.id }));
  assert.equal(busy.error?.code, 'CONDITION_FAILED', 'one operator per shard');
  const cancelled = await call<admin.CancelOperatorRequest, admin.CancelOperatorResponse>(leader.admin, 'cancelOperator', admin.CancelOperatorRequest.create({ operatorId: transfer.operatorId }));
  assert.equal(cancelled.error, undefined, JSON.stringify(cancelled.error));
  const move = await call<admin.MoveReplicaRequest, admin.ScheduleResponse>(leader.admin, 'moveReplica', admin.MoveReplicaRequest.create({ shardId: k0!.id, fromNodeId: follower0.nodeId }));
  assert.equal(move.error, undefined, JSON.stringify(move.error));
  await waitUntil('the move\'s learner created on the late node, its add-learner handed out', 5000, () => nodes.some((n) => n.operators.some(
    (op) => op.id === move.operatorId && op.kind?.$case === 'addLearner' && op.kind.addLearner.replica?.nodeId === late.nodeId,
  )) && (late.callsOf('createReplica') as admin.CreateReplicaRequest[]).some((r) => r.shard?.id === k0!.id && !r.bootstrap));
  const badMove = await call<admin.MoveReplicaRequest, admin.ScheduleResponse>(leader.admin, 'moveReplica', admin.MoveReplicaRequest.create({ shardId: k1!.id, fromNodeId: victim.nodeId }));
  assert.equal(badMove.error?.option, 'fromNodeId');
  const split = await call<admin.SplitShardRequest, admin.ScheduleResponse>(leader.admin, 'splitShard', admin.SplitShardRequest.create({ shardId: k1!.id }));
  assert.equal(split.error, undefined, JSON.stringify(split.error));
  await waitUntil('the split handed to the shard leader', 5000, () => nodes.some((n) => n.operators.some((op) => op.shardId === k1!.id && op.kind?.$case === 'split')));
  const listed = await call<admin.ListOperatorsRequest, admin.ListOperatorsResponse>(leader.admin, 'listOperators', admin.ListOperatorsRequest.create({ includeFinished: true }));
  const states = new Map(listed.operators.map((o) => [o.operator!.id, o.status?.state]));
  assert.equal(states.get(transfer.operatorId), meta.OperatorState.CANCELLED);
  assert.equal(states.get(split.operatorId), meta.OperatorState.RUNNING);

  // kill -9 the leader: the new leader has the kept table, active, and answers admin calls.
  const old = leader;
  const child = old.child!;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
  old.child = null;
  leader = await agreedLeader(10_000);
  assert.notEqual(leader.id, old.id);
  const table = await waitUntil('the kept table on the new leader', 10_000, async () => {
    const r = await call<meta.GetTableRequest, meta.GetTableResponse>(leader.meta, 'getTable', meta.GetTableRequest.create({ name: 'kept' }));
    return r.error === undefined ? r.table : undefined;
  });
  assert.equal(table?.state, meta.TableState.ACTIVE);
  const gone = await call<meta.GetTableRequest, meta.GetTableResponse>(leader.meta, 'getTable', meta.GetTableRequest.create({ name: 'users' }));
  assert.equal(gone.error?.code, 'TABLE_NOT_FOUND');
  const status = await waitUntil('ClusterStatus on the new leader', 5000, async () => {
    const r = await call<admin.ClusterStatusRequest, admin.ClusterStatusResponse>(leader.admin, 'clusterStatus', admin.ClusterStatusRequest.create({}));
    return r.error === undefined ? r : undefined;
  });
  assert.equal(status.tableCount, 1);
  assert.equal(status.shardCount, 4);
  const metrics = await (await fetch(`http://127.0.0.1:${leader.httpPort}/metrics`)).text();
  assert.match(metrics, /shoal_metaserver_schedule_round_duration_seconds_count/);
  assert.match(metrics, /shoal_metaserver_nodes\{[^}]*state="down"[^}]*\} 1/);
});
