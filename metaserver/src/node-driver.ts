/**
 * The leader's NodeAdmin client: the calls `pendingNodeActions` and heartbeat
 * prerequisites ask for, made on storage nodes over gRPC.
 *
 * - One channel per node address (a pool of at most NODE_CLIENTS_MAX; the oldest is
 *   closed when a new address needs room).
 * - Every call has a deadline (`nodeAdminTimeoutMs`); at most `nodeAdminConcurrencyMax`
 *   calls are in flight; an action already in flight is not started twice (a second
 *   caller waits for the first call's outcome).
 * - Failures are logged and left for the next round: every NodeAdmin call is idempotent
 *   and the actions are derived again from the replicated state each time.
 * - A successful RemoveReplica of garbage is acknowledged by proposing
 *   AckDestroyedReplicas, which ends that action for good.
 */
import { credentials, Metadata } from '@grpc/grpc-js';
import type { ServiceError } from '@grpc/grpc-js';
import { KvError, kvErrorFromCode } from '@shoal/common';
import type { Logger, PeerId, ShardId } from '@shoal/common';
import { admin } from '@shoal/proto';
import type { common } from '@shoal/proto';
import type { MetaRaft } from './meta-raft.js';
import type { NodeAction } from './schedule/index.js';
import { commands } from './state/index.js';

/** Channels kept open to storage nodes. */
const NODE_CLIENTS_MAX = 1024;
/**
 * Reconnect backoff of the NodeAdmin channels. grpc-js defaults grow to 120 s: a node that
 * restarted would refuse our calls (creating replicas, destroying garbage) for minutes.
 * Every call is retried next scheduling round anyway, so a short cap costs little.
 */
export const NODE_RECONNECT_BACKOFF_INITIAL_MS = 200;
export const NODE_RECONNECT_BACKOFF_MAX_MS = 2_000;
/** Channel options of every NodeAdmin client (exported for the test). */
export const NODE_CHANNEL_OPTIONS = {
  'grpc.initial_reconnect_backoff_ms': NODE_RECONNECT_BACKOFF_INITIAL_MS,
  'grpc.min_reconnect_backoff_ms': NODE_RECONNECT_BACKOFF_INITIAL_MS,
  'grpc.max_reconnect_backoff_ms': NODE_RECONNECT_BACKOFF_MAX_MS,
} as const;

export interface NodeDriverOptions {
  readonly timeoutMs: number;
  readonly concurrencyMax: number;
  readonly logger: Logger;
  /** Counts each finished call (metrics). */
  readonly onResult?: (kind: NodeAction['kind'], ok: boolean) => void;
}

type Unary<Req, Res> = (req: Req, md: Metadata, opts: { deadline: number }, cb: (e: ServiceError | null, res: Res) => void) => unknown;

function actionKey(a: NodeAction): string {
  switch (a.kind) {
    case 'create-replica': return `create/${a.nodeId}/${a.request.shard?.id ?? 0}/${a.request.peerId}/${a.request.bootstrap}`;
    case 'force-reduce': return `force/${a.nodeId}/${a.request.shardId}/${a.operatorId}`;
    case 'destroy-replica': return `destroy/${a.nodeId}/${a.request.shardId}/${a.request.peerId}`;
  }
}

export class NodeDriver {
  private readonly clients = new Map<string, admin.NodeAdminClient>();
  private readonly inFlight = new Map<string, Promise<void>>();
  /** Actions waiting for a call slot: bounded by the distinct actions in flight (`inFlight` de-duplicates, a round lists at most NODE_ACTIONS_MAX). */
  private waiting: (() => void)[] = [];
  private running = 0;
  private closed = false;

  constructor(private readonly raft: MetaRaft, private readonly o: NodeDriverOptions) {}

  /** Starts every action not already in flight; resolves when those calls ended (failures logged). */
  async runAll(actions: readonly NodeAction[]): Promise<void> {
    await Promise.all(actions.map((a) => this.run(a).catch((e: unknown) => {
      this.o.logger.info({ err: e, action: actionKey(a), address: a.address }, 'NodeAdmin call failed; retried next round');
    })));
  }

  /** One action; rejects with the node's error. A duplicate of an action in flight shares its outcome. */
  run(a: NodeAction): Promise<void> {
    if (this.closed) return Promise.reject(new KvError('UNAVAILABLE', 'metaserver is stopping'));
    const key = actionKey(a);
    const running = this.inFlight.get(key);
    if (running !== undefined) return running;
    const p = this.runNow(a).finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, p);
    return p;
  }

  private async runNow(a: NodeAction): Promise<void> {
    await this.slot();
    try {
      if (this.closed) throw new KvError('UNAVAILABLE', 'metaserver is stopping');
      await this.execute(a);
      this.o.onResult?.(a.kind, true);
    } catch (e) {
      this.o.onResult?.(a.kind, false);
      throw e;
    } finally {
      this.release();
    }
  }

  /** Closes every channel; later runs do nothing. */
  close(): void {
    this.closed = true;
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
    for (const w of this.waiting.splice(0)) w();
  }

  private async execute(a: NodeAction): Promise<void> {
    if (a.address === '') throw new KvError('UNAVAILABLE', `node ${a.nodeId} has no address`);
    const client = this.client(a.address);
    switch (a.kind) {
      case 'create-replica':
        await this.call(client.createReplica.bind(client) as Unary<admin.CreateReplicaRequest, admin.CreateReplicaResponse>, a.request);
        return;
      case 'force-reduce':
        await this.call(client.forceReduceReplicas.bind(client) as Unary<admin.NodeForceReduceReplicasRequest, admin.NodeForceReduceReplicasResponse>, a.request);
        return;
      case 'destroy-replica': {
        await this.call(client.removeReplica.bind(client) as Unary<admin.RemoveReplicaRequest, admin.RemoveReplicaResponse>, a.request);
        const replica = { shardId: a.request.shardId as ShardId, peerId: a.request.peerId as PeerId };
        await this.raft.propose(commands.ackDestroyedReplicas(a.nodeId, [replica]));
        return;
      }
    }
  }

  private call<Req, Res extends { error?: common.ErrorDetail | undefined }>(fn: Unary<Req, Res>, req: Req): Promise<Res> {
    return new Promise((resolve, reject) => {
      fn(req, new Metadata(), { deadline: Date.now() + this.o.timeoutMs }, (e, res) => {
        if (e !== null) reject(new KvError('UNAVAILABLE', `NodeAdmin: gRPC ${e.code}: ${e.details}`, { cause: e }));
        else if (res.error !== undefined && res.error.code !== '') reject(kvErrorFromCode(res.error.code, res.error.message));
        else resolve(res);
      });
    });
  }

  private client(address: string): admin.NodeAdminClient {
    let c = this.clients.get(address);
    if (c !== undefined) return c;
    if (this.clients.size >= NODE_CLIENTS_MAX) {
      const [oldest, old] = this.clients.entries().next().value as [string, admin.NodeAdminClient];
      old.close();
      this.clients.delete(oldest);
    }
    c = new admin.NodeAdminClient(address, credentials.createInsecure(), NODE_CHANNEL_OPTIONS);
    this.clients.set(address, c);
    return c;
  }

  private slot(): Promise<void> {
    if (this.running < this.o.concurrencyMax) {
      this.running++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(() => {
      this.running++;
      resolve();
    }));
  }

  private release(): void {
    this.running--;
    const next = this.waiting.shift();
    if (next !== undefined) next();
  }
}
