/**
 * Test support: waiting on conditions with a deadline (never a fixed sleep), connecting a
 * client to a fake cluster, and small byte helpers.
 */
import { KvError } from '@shoal/common';
import type { KvErrorCode } from '@shoal/common';
import type { ConnectOptions } from '../options.js';
import { Shoal } from '../shoal.js';
import type { FakeCluster } from './fake-cluster.js';

/** Polls `cond` until it holds; fails after `timeoutMs` naming `what`. */
export async function waitFor(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A client of the fake cluster, with a fast back-off so tests run quickly. */
export function connect(c: FakeCluster, o: Partial<ConnectOptions> = {}): Promise<Shoal> {
  return Shoal.connect({ metaservers: c.metaAddresses(), backoffBaseMs: 2, backoffMaxMs: 50, timeoutMs: 3000, ...o });
}

/** The KvError code a promise rejects with; fails if it resolves or rejects with something else. */
export async function codeOf(p: Promise<unknown>): Promise<KvErrorCode> {
  try {
    await p;
  } catch (e) {
    if (e instanceof KvError) return e.code;
    throw e;
  }
  throw new Error('expected a KvError, but the call succeeded');
}

export const text = (s: string): Uint8Array => new TextEncoder().encode(s);
export const str = (b: Uint8Array): string => new TextDecoder().decode(b);
