/**
 * Calls to the metaserver group. Any member answers; one that is not the leader answers
 * NOT_LEADER with the leader's address, which is tried next. Members that fail are
 * skipped for the rest of the round; between rounds the client backs off. Every Meta call
 * the SDK makes is a read, so retrying one is always safe.
 *
 * The member that last answered is tried first next time (and hosts the watch stream).
 */
import { KvError } from '@shoal/common';
import { meta } from '@shoal/proto';
import type { MethodDefinition } from '@grpc/grpc-js';
import type { ChannelPool } from './channel-pool.js';
import type { ResolvedOptions } from './options.js';
import { fromDetail, unary } from './rpc.js';
import type { RpcOutcome, WithError } from './rpc.js';
import { backoffMs, sleep } from './timing.js';
import type { Deadline } from './timing.js';

/** Most members the SDK remembers (configured plus learned from hints and GetClusterInfo). */
const META_ADDRESSES_MAX = 64;

export class MetaClient {
  private readonly addresses: string[];

  constructor(seeds: readonly string[], private readonly pool: ChannelPool, private readonly o: ResolvedOptions) {
    this.addresses = [...seeds];
  }

  /** The member to try first: the one that answered last, else the first configured. */
  preferred(): string {
    return this.addresses[0]!;
  }

  /** Members known so far, preferred first. */
  known(): readonly string[] {
    return [...this.addresses];
  }

  /** Routes and table info of one table, by name or id. */
  getRoutes(sel: { readonly name?: string; readonly id?: number }, deadline: Deadline, signal: AbortSignal): Promise<meta.GetRoutesResponse> {
    const req = meta.GetRoutesRequest.create({ tableName: sel.name ?? '', tableId: sel.id ?? 0 });
    return this.call(meta.MetaService.getRoutes, req, deadline, signal);
  }

  /**
   * Cluster membership: learns every member's address and prefers the leader. A
   * metaserver without this RPC yet (UNIMPLEMENTED) still counts as reachable.
   */
  async discover(deadline: Deadline, signal: AbortSignal): Promise<void> {
    let info: meta.GetClusterInfoResponse;
    try {
      info = await this.call(meta.MetaService.getClusterInfo, meta.GetClusterInfoRequest.create(), deadline, signal);
    } catch (e) {
      if (e instanceof KvError && e.code === 'NOT_SUPPORTED') return;
      throw e;
    }
    for (const m of info.members) if (m.address !== '') this.learn(m.address, m.isLeader);
  }

  /** Remembers a member; `first` makes it the one tried next. */
  learn(address: string, first: boolean): void {
    const i = this.addresses.indexOf(address);
    if (i >= 0) this.addresses.splice(i, 1);
    else if (this.addresses.length >= META_ADDRESSES_MAX) return;
    if (first) this.addresses.unshift(address);
    else this.addresses.splice(i >= 0 ? i : this.addresses.length, 0, address);
  }

  /** One Meta RPC, following leader hints and failing over between members until `deadline`. */
  async call<Req, Res extends WithError>(
    method: MethodDefinition<Req, Res>, req: Req, deadline: Deadline, signal: AbortSignal,
  ): Promise<Res> {
    let last: KvError | undefined;
    for (let round = 0; ; round++) {
      const tried = new Set<string>();
      let next: string | undefined = this.preferred();
      while (next !== undefined && !tried.has(next)) {
        const address: string = next;
        tried.add(address);
        if (deadline.expired()) break;
        const out: RpcOutcome<Res> = await unary(this.pool.get(address), method, req, deadline, signal);
        if (out.ok && out.res.error === undefined) {
          this.learn(address, true);
          return out.res;
        }
        const err: KvError = out.ok ? fromDetail(out.res.error!) : out.error;
        // A member's own answer that is not retryable (TABLE_NOT_FOUND…) is final; a transport
        // failure of one member is not, unless it is ours (CANCELLED) or the RPC is missing.
        const final = out.ok ? !err.retryable : err.code === 'CANCELLED' || err.code === 'NOT_SUPPORTED';
        if (final) throw err;
        last = err;
        const hint: string | undefined = err.code === 'NOT_LEADER' ? err.details?.leaderHint?.address : undefined;
        if (hint !== undefined && hint !== '') this.learn(hint, false);
        next = hint !== undefined && hint !== '' && !tried.has(hint)
          ? hint
          : this.addresses.find((a) => !tried.has(a));
      }
      const wait = backoffMs(round, this.o.backoffBaseMs, this.o.backoffMaxMs, this.o.random);
      if (wait >= deadline.remainingMs()) {
        throw new KvError('UNAVAILABLE', `no metaserver of ${this.addresses.join(', ')} answered ${method.path} in time` +
          (last === undefined ? '' : ` (last error: ${last.code}: ${last.message})`), { cause: last });
      }
      await sleep(wait, signal);
    }
  }
}
