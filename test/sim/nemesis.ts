/**
 * The fault injector: crashes replicas (and schedules their restart), and cuts links —
 * isolating a replica, splitting the group in two, leaving one replica as a bridge between
 * two sides, or cutting one direction only (a replica that can hear but not be heard, or
 * the reverse). Every decision is drawn from the seeded PRNG with the scenario's named rates.
 */
import type { Prng } from './prng.js';
import type { FaultRates } from './scenario.js';
import type { SimNetwork } from './sim-network.js';
import type { SimNode } from './sim-node.js';

export type PartitionKind = 'isolate' | 'split' | 'bridge' | 'deaf' | 'mute';
const PARTITION_KINDS: readonly PartitionKind[] = ['isolate', 'split', 'bridge', 'deaf', 'mute'];

export interface NemesisTarget {
  /** Replicas that are running and not decommissioned. */
  upNodes(): SimNode[];
  /** Every replica ever started and not decommissioned, running or not. */
  liveIds(): number[];
  note(node: number, text: string): void;
}

export interface NemesisStats {
  crashes: number;
  partitions: number;
  heals: number;
}

export class Nemesis {
  readonly stats: NemesisStats = { crashes: 0, partitions: 0, heals: 0 };

  constructor(private readonly r: Prng, private readonly rates: FaultRates, private readonly network: SimNetwork) {}

  /** Downtime for a replica that crashes now. */
  downTicks(): number {
    return this.r.between(this.rates.downTicksMin, this.rates.downTicksMax);
  }

  /** Whether to crash at a point inside Ready handling. */
  crashAt(point: 'before-fsync' | 'before-send'): boolean {
    return this.r.chance(point === 'before-fsync' ? this.rates.crashBeforeFsyncRate : this.rates.crashBeforeSendRate);
  }

  step(t: NemesisTarget): void {
    if (this.r.chance(this.rates.crashRatePerTick)) {
      const up = t.upNodes();
      if (up.length > 0) {
        this.stats.crashes++;
        this.r.pick(up).crash('fault injected');
      }
    }
    if (this.network.cutLinks > 0 && this.r.chance(this.rates.partitionHealRatePerTick)) {
      this.stats.heals++;
      this.network.healAll();
      t.note(0, 'network healed');
    }
    if (this.r.chance(this.rates.partitionRatePerTick)) this.partition(t);
  }

  private partition(t: NemesisTarget): void {
    const ids = t.liveIds();
    if (ids.length < 2) return;
    const kind = this.r.pick(PARTITION_KINDS);
    const victim = this.r.pick(ids);
    const others = ids.filter((id) => id !== victim);
    switch (kind) {
      case 'isolate':
        this.network.partition([victim], others);
        break;
      case 'split': {
        const shuffled = this.r.shuffle([...ids]);
        const cut = this.r.between(1, shuffled.length - 1);
        this.network.partition(shuffled.slice(0, cut), shuffled.slice(cut));
        break;
      }
      case 'bridge': {
        // `victim` still talks to both sides, which cannot talk to each other.
        const shuffled = this.r.shuffle([...others]);
        const cut = this.r.between(1, Math.max(1, shuffled.length - 1));
        this.network.partition(shuffled.slice(0, cut), shuffled.slice(cut));
        break;
      }
      case 'deaf':
        for (const o of others) this.network.cutLink(o, victim);
        break;
      case 'mute':
        for (const o of others) this.network.cutLink(victim, o);
        break;
      default: {
        const never: never = kind;
        throw new Error(`nemesis: unknown partition ${String(never)}`);
      }
    }
    this.stats.partitions++;
    t.note(victim, `partition ${kind}: cut ${this.network.describeCuts()}`);
  }
}
