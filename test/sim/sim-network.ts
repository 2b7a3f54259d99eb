/**
 * The simulated network: every message gets a delivery tick drawn from the seeded PRNG
 * (so messages are delayed and reordered), may be dropped or duplicated, and is lost if
 * its link is cut when it arrives. Links are directed, so partitions may be symmetric
 * (both directions cut) or one-way.
 *
 * The network never delivers anything itself: the cluster asks for the messages due at
 * the current tick and steps them into the replicas, so the whole run stays one thread of
 * deterministic control flow.
 */
import type { Message } from '@shoal/raft-ts';
import type { Prng } from './prng.js';

/** Bound on messages in flight; exceeding it means the harness leaks messages. */
export const NETWORK_IN_FLIGHT_MAX = 200_000;

export interface InFlight {
  readonly msg: Message;
  /**
   * The replica whose Ready carried the message. Usually `msg.from`, but a forwarded
   * proposal or read request keeps its origin in `from` (so the leader answers the origin).
   */
  readonly sender: number;
  readonly deliverTick: number;
  /** Copies made by duplication do not report snapshot status (the original does). */
  readonly duplicate: boolean;
  /** Dropped by the network: reaches the cluster only to be accounted for at its tick. */
  readonly lost: boolean;
  /** Sender incarnation, so status reports never reach a restarted sender. */
  readonly senderEpoch: number;
}

export interface NetworkFaults {
  dropRate: number;
  duplicateRate: number;
  delayTicksMax: number;
}

export class SimNetwork {
  /** Buckets of in-flight messages keyed by delivery tick. */
  private readonly buckets = new Map<number, InFlight[]>();
  private inFlight = 0;
  /** Cut directed links, as `from * LINK_KEY + to`. */
  private readonly cut = new Set<number>();
  readonly faults: NetworkFaults;
  sent = 0;
  dropped = 0;
  duplicated = 0;

  constructor(private readonly rng: Prng, faults: NetworkFaults) {
    this.faults = { ...faults };
  }

  /**
   * Queues `msg` (sent at `now`). A dropped message is still queued, marked `lost`, so the
   * sender learns of the loss (snapshot status) at a later tick, never inside its Ready.
   */
  send(msg: Message, sender: number, now: number, senderEpoch: number): void {
    this.sent++;
    const lost = this.rng.chance(this.faults.dropRate);
    if (lost) this.dropped++;
    this.enqueue({ msg, sender, deliverTick: now + this.delay(), duplicate: false, lost, senderEpoch });
    if (!lost && this.rng.chance(this.faults.duplicateRate)) {
      this.duplicated++;
      this.enqueue({ msg, sender, deliverTick: now + this.delay(), duplicate: true, lost: false, senderEpoch });
    }
  }

  /** Removes and returns the messages due at or before `now`, in a random order. */
  takeDue(now: number): InFlight[] {
    const due: InFlight[] = [];
    for (const [tick, bucket] of this.buckets) {
      if (tick > now) continue;
      for (const m of bucket) due.push(m);
      this.buckets.delete(tick);
    }
    this.inFlight -= due.length;
    return this.rng.shuffle(due);
  }

  get inFlightCount(): number {
    return this.inFlight;
  }

  /** Whether a message from `from` to `to` would be delivered now. */
  linkUp(from: number, to: number): boolean {
    return !this.cut.has(linkKey(from, to));
  }

  cutLink(from: number, to: number): void {
    this.cut.add(linkKey(from, to));
  }

  /** Cuts every link between the two sides, both directions. */
  partition(sideA: readonly number[], sideB: readonly number[]): void {
    for (const a of sideA) {
      for (const b of sideB) {
        this.cutLink(a, b);
        this.cutLink(b, a);
      }
    }
  }

  healAll(): void {
    this.cut.clear();
  }

  get cutLinks(): number {
    return this.cut.size;
  }

  describeCuts(): string {
    const parts: string[] = [];
    for (const k of this.cut) parts.push(`${Math.floor(k / LINK_KEY)}->${k % LINK_KEY}`);
    return parts.join(' ');
  }

  private delay(): number {
    const max = this.faults.delayTicksMax;
    if (max <= 0) return 0;
    // Skewed towards short delays, with a tail up to max: reorders without stalling.
    return this.rng.chance(0.5) ? this.rng.intn(2) : this.rng.intn(max + 1);
  }

  private enqueue(f: InFlight): void {
    if (this.inFlight >= NETWORK_IN_FLIGHT_MAX) {
      throw new Error(`sim-network: more than ${NETWORK_IN_FLIGHT_MAX} messages in flight`);
    }
    let bucket = this.buckets.get(f.deliverTick);
    if (bucket === undefined) {
      bucket = [];
      this.buckets.set(f.deliverTick, bucket);
    }
    bucket.push(f);
    this.inFlight++;
  }
}

const LINK_KEY = 1024;

function linkKey(from: number, to: number): number {
  return from * LINK_KEY + to;
}
