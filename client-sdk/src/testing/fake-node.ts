/**
 * Test support: a fake storage node — a real grpc-js server on 127.0.0.1 implementing the
 * Kv service over the cluster's shared FakeStore, with the routing checks of a real node
 * (shard hosted here, exact epoch, key in range, leadership for writes and linearizable
 * reads) and injectable faults. It counts every request it receives.
 */
import { Server, ServerCredentials } from '@grpc/grpc-js';
import type { sendUnaryData, ServerUnaryCall } from '@grpc/grpc-js';
import { compareBytes, KvError, tableEnd, tableStart } from '@shoal/common';
import type { KeyRange, KvErrorCode, TableId } from '@shoal/common';
import { common, kv } from '@shoal/proto';
import type { FakeStore } from './fake-store.js';

/** What a fault hook can make the node do with one request. */
export type Fault =
  /** Answer this error detail without executing. */
  | { readonly error: KvErrorCode; readonly retryAfterMs?: number; readonly leaderHint?: common.LeaderHint; readonly withShard?: boolean }
  /** Wait, then handle the request normally. */
  | { readonly delayMs: number }
  /** Never answer (the client's deadline ends the call). */
  | { readonly hang: true }
  /** Execute, then never answer. */
  | { readonly applyThenHang: true }
  /** Execute, then shut the server down without answering (connection lost after sending). */
  | { readonly applyThenDrop: true };

/** One request as the node saw it. */
export interface SeenRequest {
  readonly method: string;
  readonly header: kv.RequestHeader | undefined;
  readonly req: unknown;
}

/** What the node needs from its cluster. */
export interface NodeCluster {
  readonly store: FakeStore;
  shard(id: number): common.ShardDescriptor | undefined;
  nodeAddress(nodeId: number): string;
}

interface MethodSpec<Req, Res> {
  readonly write: boolean;
  readonly keys: (req: Req) => readonly Uint8Array[];
  readonly exec: (req: Req, tableId: number, range: KeyRange) => Res;
  readonly fail: (error: common.ErrorDetail) => Res;
}

export class FakeNode {
  readonly seen: SeenRequest[] = [];
  /** Called for every request before the node's own checks; return a fault to inject one. */
  fault: ((r: SeenRequest) => Fault | undefined) | undefined;
  private server: Server | undefined;
  private port = 0;

  constructor(readonly id: number, private readonly cluster: NodeCluster) {}

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Requests received for `method` (e.g. 'Put'). */
  count(method: string): number {
    return this.seen.filter((s) => s.method === method).length;
  }

  async start(): Promise<void> {
    const server = new Server();
    const s = this.cluster.store;
    server.addService(kv.KvService, {
      get: this.handler<kv.GetRequest, kv.GetResponse>('Get', {
        write: false, keys: (r) => [r.key], fail: (error) => kv.GetResponse.create({ error }),
        exec: (r, t) => {
          const e = s.getEntry(t, r.key);
          return kv.GetResponse.create({ found: e !== undefined, value: e?.value, expireAtUnixMs: e?.expireAtUnixMs });
        },
      }),
      batchGet: this.handler<kv.BatchGetRequest, kv.BatchGetResponse>('BatchGet', {
        write: false, keys: (r) => r.keys, fail: (error) => kv.BatchGetResponse.create({ error }),
        exec: (r, t) => kv.BatchGetResponse.create({
          results: r.keys.map((k) => {
            const e = s.getEntry(t, k);
            return kv.GetResult.create({ found: e !== undefined, value: e?.value, expireAtUnixMs: e?.expireAtUnixMs });
          }),
        }),
      }),
      put: this.handler<kv.PutRequest, kv.PutResponse>('Put', {
        write: true, keys: (r) => [r.key], fail: (error) => kv.PutResponse.create({ error }), exec: (r, t) => s.put(t, r),
      }),
      delete: this.handler<kv.DeleteRequest, kv.DeleteResponse>('Delete', {
        write: true, keys: (r) => [r.key], fail: (error) => kv.DeleteResponse.create({ error }),
        exec: (r, t) => kv.DeleteResponse.create({ deleted: s.del(t, r.key) }),
      }),
      compareAndSwap: this.handler<kv.CompareAndSwapRequest, kv.CompareAndSwapResponse>('CompareAndSwap', {
        write: true, keys: (r) => [r.key], fail: (error) => kv.CompareAndSwapResponse.create({ error }), exec: (r, t) => s.cas(t, r),
      }),
      incr: this.handler<kv.IncrRequest, kv.IncrResponse>('Incr', {
        write: true, keys: (r) => [r.key], fail: (error) => kv.IncrResponse.create({ error }), exec: (r, t) => s.incr(t, r),
      }),
      batchWrite: this.handler<kv.BatchWriteRequest, kv.BatchWriteResponse>('BatchWrite', {
        write: true, keys: (r) => r.ops.map((o) => o.key), fail: (error) => kv.BatchWriteResponse.create({ error }),
        exec: (r, t) => {
          for (const o of r.ops) {
            if (o.type === kv.WriteOpType.PUT) s.set(t, o.key, o.value, o.ttlMs);
            else s.del(t, o.key);
          }
          return kv.BatchWriteResponse.create();
        },
      }),
      scan: this.handler<kv.ScanRequest, kv.ScanResponse>('Scan', {
        write: false, keys: () => [], fail: (error) => kv.ScanResponse.create({ error }), exec: (r, t, range) => s.scan(t, range, r),
      }),
      exec: this.handler<kv.ExecRequest, kv.ExecResponse>('Exec', {
        // A tiny Redis: GET, SET, INCR on args[1] (enough to test RedisExec's routing and retries).
        write: true, keys: (r) => r.args.slice(1, 2), fail: (error) => kv.ExecResponse.create({ error }),
        exec: (r, t) => kv.ExecResponse.create({ reply: fakeRedis(s, t, r.args) }),
      }),
      deleteRange: this.handler<kv.DeleteRangeRequest, kv.DeleteRangeResponse>('DeleteRange', {
        write: true, keys: () => [], fail: (error) => kv.DeleteRangeResponse.create({ error }),
        exec: (r, t, range) => kv.DeleteRangeResponse.create({ deletedCount: s.deleteRange(t, range, r) }),
      }),
    });
    this.port = await new Promise<number>((resolve, reject) => {
      server.bindAsync(`127.0.0.1:${this.port}`, ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p)));
    });
    this.server = server;
  }

  /** Kills the server and every connection to it (calls in flight are lost). */
  stop(): void {
    this.server?.forceShutdown();
    this.server = undefined;
  }

  /** Starts again on the same port. */
  async restart(): Promise<void> {
    this.stop();
    await this.start();
  }

  private handler<Req extends { readonly header?: kv.RequestHeader | undefined }, Res>(method: string, spec: MethodSpec<Req, Res>) {
    return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>): void => {
      const seen: SeenRequest = { method, header: call.request.header, req: call.request };
      this.seen.push(seen);
      const fault = this.fault?.(seen);
      const run = (): Res => {
        try {
          return this.serve(call.request, spec);
        } catch (e) {
          const ke = e instanceof KvError ? e : new KvError('INTERNAL', String(e));
          return spec.fail(common.ErrorDetail.create({ code: ke.code, message: ke.message }));
        }
      };
      if (fault === undefined) return callback(null, run());
      if ('error' in fault) {
        const shard = fault.withShard === true ? this.cluster.shard(call.request.header?.shardId ?? 0) : undefined;
        return callback(null, spec.fail(common.ErrorDetail.create({
          code: fault.error, message: `injected ${fault.error}`, retryAfterMs: fault.retryAfterMs ?? 0, leaderHint: fault.leaderHint, currentShard: shard,
        })));
      }
      if ('delayMs' in fault) {
        setTimeout(() => callback(null, run()), fault.delayMs);
        return;
      }
      if ('applyThenHang' in fault) run();
      if ('applyThenDrop' in fault) {
        run();
        this.stop();
      }
      // hang / applyThenHang / applyThenDrop: never answer.
    };
  }

  /** The node's checks, then the operation. */
  private serve<Req extends { readonly header?: kv.RequestHeader | undefined }, Res>(req: Req, spec: MethodSpec<Req, Res>): Res {
    const h = req.header ?? kv.RequestHeader.create();
    const d = this.cluster.shard(h.shardId);
    const detail = (code: KvErrorCode, extra: Partial<common.ErrorDetail> = {}): Res =>
      spec.fail(common.ErrorDetail.create({ code, message: `${code} from node ${this.id}`, ...extra }));
    if (d === undefined || !d.replicas.some((r) => r.nodeId === this.id)) return detail('SHARD_NOT_FOUND');
    const e = d.epoch ?? common.Epoch.create();
    if (h.tableId !== d.tableId || h.epoch?.version !== e.version || h.epoch.confVer !== e.confVer) {
      return detail('EPOCH_NOT_MATCH', { currentShard: d });
    }
    const range = shardRange(d);
    const store = this.cluster.store;
    for (const k of spec.keys(req)) {
      const sk = store.dataKey(d.tableId, k);
      if (compareBytes(sk, range.start) < 0 || compareBytes(sk, range.end) >= 0) return detail('KEY_NOT_IN_SHARD', { currentShard: d });
    }
    if (spec.write || h.consistency === common.ReadConsistency.LINEARIZABLE) {
      const leader = d.replicas.find((r) => r.peerId === d.leaderPeerId);
      if (leader === undefined || leader.nodeId !== this.id) {
        const leaderHint = leader === undefined ? undefined
          : common.LeaderHint.create({ nodeId: leader.nodeId, peerId: leader.peerId, address: this.cluster.nodeAddress(leader.nodeId) });
        return detail('NOT_LEADER', { leaderHint });
      }
    }
    return spec.exec(req, d.tableId, range);
  }
}

function fakeRedis(s: FakeStore, tableId: number, args: readonly Uint8Array[]): kv.RedisReply {
  const T = kv.RedisReplyType;
  const name = new TextDecoder().decode(args[0] ?? new Uint8Array(0)).toLowerCase();
  const key = args[1] ?? new Uint8Array(0);
  switch (name) {
    case 'get': {
      const e = s.getEntry(tableId, key);
      return e === undefined ? kv.RedisReply.create({ type: T.NIL }) : kv.RedisReply.create({ type: T.BULK_STRING, str: e.value });
    }
    case 'set':
      s.set(tableId, key, args[2] ?? new Uint8Array(0), undefined);
      return kv.RedisReply.create({ type: T.SIMPLE_STRING, str: new TextEncoder().encode('OK') });
    case 'incr':
      return kv.RedisReply.create({ type: T.INTEGER, integer: s.incr(tableId, kv.IncrRequest.create({ key, delta: 1n })).value });
    default:
      return kv.RedisReply.create({ type: T.ERROR, str: new TextEncoder().encode(`ERR unknown command '${name}'`) });
  }
}

export function shardRange(d: common.ShardDescriptor): KeyRange {
  return {
    start: d.startKey.length === 0 ? tableStart(d.tableId as TableId) : d.startKey,
    end: d.endKey.length === 0 ? tableEnd(d.tableId as TableId) : d.endKey,
  };
}
