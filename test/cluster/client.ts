/**
 * A small routed KV client for cluster tests, over the generated KvClient: routes a key to
 * its shard with the static layout, remembers each shard's leader, follows NOT_LEADER
 * hints and retries retryable errors and unreachable nodes until its deadline. Also raw
 * per-node calls (no routing, no retry) for tests that assert exact error codes.
 */
import { credentials } from '@grpc/grpc-js';
import type { ServiceError } from '@grpc/grpc-js';
import { keySlot, KV_ERRORS, isKvErrorCode } from '@shoal/common';
import { descriptorOf } from '@shoal/node';
import type { ShardConfig, TableConfig } from '@shoal/node';
import { admin, common, kv } from '@shoal/proto';
import type { Cluster } from './harness.js';

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
export const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

const ROUTE_ERRORS = new Set(['EPOCH_NOT_MATCH', 'KEY_NOT_IN_SHARD', 'SHARD_NOT_FOUND']);

type Unary<Req, Res> = (req: Req, md: import('@grpc/grpc-js').Metadata, opts: Partial<import('@grpc/grpc-js').CallOptions>,
  cb: (e: ServiceError | null, res: Res) => void) => unknown;

/** Error responses surface as this, with the proto ErrorDetail. */
export class KvCallError extends Error {
  constructor(readonly detail: common.ErrorDetail) {
    super(`${detail.code}: ${detail.message}`);
  }
  get code(): string {
    return this.detail.code;
  }
}

interface HasError {
  readonly error?: common.ErrorDetail | undefined;
}

export class TestClient {
  private readonly kvClients = new Map<number, kv.KvClient>();
  private readonly adminClients = new Map<number, admin.NodeAdminClient>();
  private readonly leaders = new Map<number, number>();
  private readonly tables: Map<number, TableConfig>;

  constructor(private readonly cluster: Cluster) {
    this.tables = new Map(cluster.tables.map((t) => [t.id, t]));
  }

  close(): void {
    for (const c of this.kvClients.values()) c.close();
    for (const c of this.adminClients.values()) c.close();
  }

  kvOf(node: number): kv.KvClient {
    let c = this.kvClients.get(node);
    if (c === undefined) {
      c = new kv.KvClient(this.cluster.node(node).address, credentials.createInsecure());
      this.kvClients.set(node, c);
    }
    return c;
  }

  adminOf(node: number): admin.NodeAdminClient {
    let c = this.adminClients.get(node);
    if (c === undefined) {
      c = new admin.NodeAdminClient(this.cluster.node(node).address, credentials.createInsecure());
      this.adminClients.set(node, c);
    }
    return c;
  }

  /** The shard of `key` in `tableId` (static layout). */
  shardOf(tableId: number, key: string): ShardConfig {
    const table = this.tables.get(tableId)!;
    const k = enc(key);
    for (const s of this.cluster.shards) {
      if (s.tableId !== tableId) continue;
      if (table.partition === 'hash') {
        const [lo, hi] = s.slots ?? [0, 16384];
        const slot = keySlot(k);
        if (slot >= lo && slot < hi) return s;
      } else if ((s.startKey === undefined || key >= s.startKey) && (s.endKey === undefined || key < s.endKey)) {
        return s;
      }
    }
    throw new Error(`no shard for ${key} in table ${tableId}`);
  }

  /** The request header for a shard, at the layout's epoch (or `epoch`). */
  header(shard: ShardConfig, extra: Partial<kv.RequestHeader> = {}): kv.RequestHeader {
    const d = descriptorOf(shard, this.tables.get(shard.tableId)!);
    return kv.RequestHeader.create({ tableId: shard.tableId, shardId: shard.id, epoch: d.epoch, ...extra });
  }

  /** One call to one node; an error response throws KvCallError (gRPC failures throw ServiceError). */
  async call<Req, Res extends HasError>(node: number, method: keyof kv.KvClient & string, req: Req, timeoutMs = 10_000): Promise<Res> {
    const client = this.kvOf(node) as unknown as Record<string, Unary<Req, Res>>;
    const fn = client[method]!.bind(client);
    const { Metadata } = await import('@grpc/grpc-js');
    const res = await new Promise<Res>((resolve, reject) => {
      fn(req, new Metadata(), { deadline: Date.now() + timeoutMs }, (e, r) => (e === null ? resolve(r) : reject(e)));
    });
    if (res.error !== undefined) throw new KvCallError(res.error);
    return res;
  }

  /**
   * A routed call: tries the cached leader (else each replica), follows NOT_LEADER hints and
   * retries retryable codes and unreachable nodes until `timeoutMs`. `nodes`: restrict to
   * these nodes (follower/stale reads on a given replica).
   */
  async routed<Req, Res extends HasError>(
    shard: ShardConfig, method: keyof kv.KvClient & string, req: Req, timeoutMs = 15_000,
  ): Promise<Res> {
    const end = Date.now() + timeoutMs;
    const replicas = shard.replicas.map((r) => r.nodeId);
    let i = 0;
    let last: unknown;
    while (Date.now() < end) {
      const node = this.leaders.get(shard.id) ?? replicas[i++ % replicas.length]!;
      try {
        const res = await this.call<Req, Res>(node, method, req, Math.max(500, Math.min(5000, end - Date.now())));
        this.leaders.set(shard.id, node);
        return res;
      } catch (e) {
        last = e;
        this.leaders.delete(shard.id);
        if (e instanceof KvCallError) {
          const code = e.code;
          // Routing errors need a new route, which a static layout cannot give: surface them.
          if (!isKvErrorCode(code) || !KV_ERRORS[code].retryable || ROUTE_ERRORS.has(code)) throw e;
          const hint = e.detail.leaderHint;
          if (code === 'NOT_LEADER' && hint !== undefined && hint.nodeId !== 0 && hint.nodeId !== node) {
            this.leaders.set(shard.id, hint.nodeId);
            continue;
          }
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    throw new Error(`routed ${method} on shard ${shard.id} failed until the deadline: ${String(last)}`);
  }

  // ---- conveniences -------------------------------------------------------------------------

  async put(tableId: number, key: string, value: string | Uint8Array, extra: Partial<kv.PutRequest> = {}): Promise<kv.PutResponse> {
    const s = this.shardOf(tableId, key);
    return this.routed(s, 'put', kv.PutRequest.create({ header: this.header(s), key: enc(key), value: typeof value === 'string' ? enc(value) : value, ...extra }));
  }

  async get(tableId: number, key: string, header: Partial<kv.RequestHeader> = {}): Promise<kv.GetResponse> {
    const s = this.shardOf(tableId, key);
    return this.routed(s, 'get', kv.GetRequest.create({ header: this.header(s, header), key: enc(key) }));
  }

  /** Get served by one given node (follower / stale reads), retrying retryable errors. */
  async getOn(node: number, tableId: number, key: string, header: Partial<kv.RequestHeader>, timeoutMs = 10_000): Promise<kv.GetResponse> {
    const s = this.shardOf(tableId, key);
    const end = Date.now() + timeoutMs;
    for (;;) {
      try {
        return await this.call<kv.GetRequest, kv.GetResponse>(node, 'get', kv.GetRequest.create({ header: this.header(s, header), key: enc(key) }));
      } catch (e) {
        const retry = e instanceof KvCallError ? isKvErrorCode(e.code) && KV_ERRORS[e.code].retryable : true;
        if (!retry || Date.now() > end) throw e;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  async adminCall<Req, Res extends HasError>(node: number, method: keyof admin.NodeAdminClient & string, req: Req, timeoutMs = 15_000): Promise<Res> {
    const client = this.adminOf(node) as unknown as Record<string, Unary<Req, Res>>;
    const fn = client[method]!.bind(client);
    const { Metadata } = await import('@grpc/grpc-js');
    const res = await new Promise<Res>((resolve, reject) => {
      fn(req, new Metadata(), { deadline: Date.now() + timeoutMs }, (e, r) => (e === null ? resolve(r) : reject(e)));
    });
    if (res.error !== undefined) throw new KvCallError(res.error);
    return res;
  }

  async shardStatus(node: number, shardId: number): Promise<admin.ShardStatus | undefined> {
    const res = await this.adminCall<admin.GetShardStatusRequest, admin.GetShardStatusResponse>(node, 'getShardStatus',
      admin.GetShardStatusRequest.create({ shardIds: [shardId] }));
    return res.shards[0];
  }

  /** The node currently leading the shard (asks every replica's status). */
  async leaderNode(shard: ShardConfig): Promise<number | undefined> {
    for (const r of shard.replicas) {
      const st = await this.shardStatus(r.nodeId, shard.id).catch(() => undefined);
      if (st !== undefined && st.leaderPeerId === st.peerId) return r.nodeId;
    }
    return undefined;
  }
}
