/**
 * Node id → gRPC address, for the Raft transport, leader hints and NodeAdmin checks. They
 * read it synchronously (`addressOf`), so the map lives in memory and is updated in place:
 *
 * - static mode: filled once from the config's `nodes`;
 * - dynamic mode: loaded from Meta.GetNodes at start, reloaded every
 *   `refreshIntervalMs`, and on a miss (a lookup of an unknown id schedules a reload, at
 *   most one per MISS_REFRESH_INTERVAL_MS so a stream of messages from an unknown node does
 *   not turn into a stream of RPCs). `ensureKnown` reloads and waits, for callers that can
 *   wait (CreateReplica naming a node that joined a moment ago).
 *
 * This node's own address is pinned: the metaserver's copy may lag a restart on a new port.
 */
import type { Logger } from '@shoal/common';
import { meta } from '@shoal/proto';
import type { MetaClient } from './meta-client.js';

/** Nodes remembered; a cluster has far fewer. */
const NODE_ADDRESSES_MAX = 100_000;
/** Shortest gap between two reloads triggered by lookups of unknown ids. */
const MISS_REFRESH_INTERVAL_MS = 1000;

export interface NodeDirectoryOptions {
  readonly logger: Logger;
  /** Null in static mode (nothing to reload from). */
  readonly meta: MetaClient | null;
  readonly refreshIntervalMs: number;
}

export class NodeDirectory {
  private readonly addresses = new Map<number, string>();
  private selfId = 0;
  private inflight: Promise<void> | null = null;
  private lastMissRefreshMs = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly o: NodeDirectoryOptions) {}

  /** The synchronous lookup handed to the transport, scheduler and admin service. */
  readonly addressOf = (nodeId: number): string | undefined => {
    const a = this.addresses.get(nodeId);
    if (a === undefined && this.o.meta !== null && nodeId !== 0) this.onMiss();
    return a;
  };

  /** Sets one address (static layout, or this node's own, which reloads never overwrite). */
  set(nodeId: number, address: string, self = false): void {
    if (self) this.selfId = nodeId;
    if (!this.addresses.has(nodeId) && this.addresses.size >= NODE_ADDRESSES_MAX) return;
    this.addresses.set(nodeId, address);
  }

  get size(): number {
    return this.addresses.size;
  }

  /** Reloads every node's address from the metaserver; concurrent callers share one call. */
  refresh(): Promise<void> {
    if (this.o.meta === null) return Promise.resolve();
    const client = this.o.meta;
    this.inflight ??= (async () => {
      try {
        const res = await client.call(meta.MetaService.getNodes, meta.GetNodesRequest.create());
        for (const n of res.nodes) {
          if (n.id === this.selfId || n.address === '') continue;
          this.set(n.id, n.address);
        }
      } finally {
        this.inflight = null;
      }
    })();
    return this.inflight;
  }

  /** Makes sure every id has an address, reloading once if some are missing; returns the ids still unknown. */
  async ensureKnown(nodeIds: readonly number[]): Promise<number[]> {
    const missing = (): number[] => nodeIds.filter((id) => !this.addresses.has(id));
    if (missing().length === 0) return [];
    await this.refresh().catch((e: unknown) => this.o.logger.warn({ err: e }, 'reloading node addresses failed'));
    return missing();
  }

  /** Starts the periodic reload (dynamic mode). */
  start(): void {
    if (this.o.meta === null || this.timer !== null) return;
    this.timer = setInterval(() => {
      this.refresh().catch((e: unknown) => this.o.logger.debug({ err: e }, 'periodic node address reload failed'));
    }, this.o.refreshIntervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  private onMiss(): void {
    const now = Date.now();
    if (this.inflight !== null || now - this.lastMissRefreshMs < MISS_REFRESH_INTERVAL_MS) return;
    this.lastMissRefreshMs = now;
    this.refresh().catch((e: unknown) => this.o.logger.debug({ err: e }, 'node address reload after a miss failed'));
  }
}
