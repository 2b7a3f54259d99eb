/**
 * One gRPC channel per remote address, shared by every table and call of a `Shoal`
 * client (storage nodes and metaservers alike), created on first use and closed by
 * `close()`. A grpc-js channel multiplexes concurrent calls over one HTTP/2 connection and
 * reconnects by itself; the reconnect back-off is shortened so a restarted node is found
 * again within about a second instead of grpc's default of up to two minutes.
 */
import { Client, connectivityState, credentials } from '@grpc/grpc-js';
import type { ChannelOptions } from '@grpc/grpc-js';
import { KvError } from '@shoal/common';
import type { Deadline } from './timing.js';

const DEFAULT_CHANNEL_OPTIONS: Readonly<Record<string, number>> = {
  'grpc.initial_reconnect_backoff_ms': 100,
  'grpc.min_reconnect_backoff_ms': 100,
  'grpc.max_reconnect_backoff_ms': 1000,
};

export class ChannelPool {
  private readonly clients = new Map<string, Client>();
  private closed = false;
  private readonly options: ChannelOptions;

  constructor(extra: Readonly<Record<string, string | number>>) {
    this.options = { ...DEFAULT_CHANNEL_OPTIONS, ...extra };
  }

  /** Open channels (for tests and metrics). */
  get size(): number {
    return this.clients.size;
  }

  /** The shared client of `address`, created on first use. */
  get(address: string): Client {
    if (this.closed) throw new KvError('CANCELLED', `channel to ${address}: the client is closed`);
    let c = this.clients.get(address);
    if (c === undefined) {
      c = new Client(address, credentials.createInsecure(), this.options);
      this.clients.set(address, c);
    }
    return c;
  }

  /**
   * Waits until `client`'s connection is up, so a write is only sent over a live
   * connection and a failure here proves it was never sent. Resolves undefined when
   * ready, else the error to retry with: UNAVAILABLE if the node refuses connections (the
   * channel is in TRANSIENT_FAILURE) or does not connect before `deadline`.
   */
  async ready(client: Client, deadline: Deadline, signal: AbortSignal): Promise<KvError | undefined> {
    const ch = client.getChannel();
    for (;;) {
      if (signal.aborted) return new KvError('CANCELLED', 'the client is closing');
      const state = ch.getConnectivityState(true);
      switch (state) {
        case connectivityState.READY:
          return undefined;
        case connectivityState.TRANSIENT_FAILURE:
          return new KvError('UNAVAILABLE', `node ${ch.getTarget()} is unreachable`);
        case connectivityState.SHUTDOWN:
          return new KvError('CANCELLED', `channel to ${ch.getTarget()} is closed`);
        case connectivityState.IDLE:
        case connectivityState.CONNECTING:
          break;
        default:
          return new KvError('INTERNAL', `unknown connectivity state ${String(state)}`);
      }
      if (deadline.expired()) return new KvError('UNAVAILABLE', `node ${ch.getTarget()} did not accept a connection in time`);
      await new Promise<void>((resolve) => {
        const onAbort = (): void => resolve();
        signal.addEventListener('abort', onAbort, { once: true });
        ch.watchConnectivityState(state, deadline.toDate(), () => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        });
      });
    }
  }

  /** Closes every channel; in-flight calls on them fail. Idempotent. */
  close(): void {
    this.closed = true;
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }
}
