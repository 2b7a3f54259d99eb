/**
 * The nemesis: faults on a schedule drawn from the run's seed, against a LocalCluster.
 * Each event injects one fault, holds it, then heals it before the next; `healAll` undoes
 * whatever is still in force (failpoints cleared, paused processes continued, killed ones
 * restarted) before the final reads.
 *
 * Kinds:
 *   kill       kill -9 of a storage node, a metaserver or the proxy, restarted after a while
 *   pause      SIGSTOP of a storage node or metaserver for longer than the election timeout, then SIGCONT
 *   partition  node failpoints (node/src/failpoints.ts): the node leading the most shards cut
 *              from both others (minority side of a 1|2 split), or one-way loss between two nodes
 *   skew       one node's wall clock jumps ±(2–30) s (clock-skew-ms failpoint)
 *   split      Admin SplitShard of a random shard of table `default`
 *   transfer   Admin TransferLeader of a random shard to a random follower
 */
import { admin, meta } from '@shoal/proto';
import type { LocalCluster } from '@shoal/cli';
import { Prng } from '../sim/prng.js';

export const NEMESIS_KINDS = ['kill', 'pause', 'partition', 'skew', 'split', 'transfer'] as const;
export type NemesisKind = (typeof NEMESIS_KINDS)[number];

/** A fault is held this long (ms, drawn uniformly). Above the default 1 s election timeout. */
const HOLD_MS: readonly [number, number] = [2000, 6000];
/** Quiet time between two faults (ms). */
const GAP_MS: readonly [number, number] = [1000, 4000];
/** Deadline of one failpoint HTTP call. */
const FAILPOINT_HTTP_TIMEOUT_MS = 5000;

export interface NemesisEvent {
  readonly atMs: number;
  readonly kind: NemesisKind;
  readonly what: string;
  healedAtMs?: number;
  error?: string;
}

export class Nemesis {
  readonly events: NemesisEvent[] = [];
  private readonly rng: Prng;
  private readonly paused = new Set<string>();
  private readonly killed = new Set<string>();
  private readonly failpointed = new Set<string>();

  constructor(
    private readonly cluster: LocalCluster, private readonly kinds: readonly NemesisKind[], seed: number,
    private readonly now: () => number, private readonly withProxy: boolean,
    private readonly onEvent: (e: NemesisEvent) => void = () => undefined,
  ) {
    this.rng = new Prng(seed, 7);
  }

  /** Runs events until `stop` resolves (the event in progress is healed first). */
  async run(stop: Promise<void>): Promise<void> {
    let stopped = false;
    void stop.then(() => {
      stopped = true;
    });
    const sleep = (ms: number) => Promise.race([new Promise((r) => setTimeout(r, ms)), stop]);
    await sleep(this.rng.between(GAP_MS[0], GAP_MS[1]));
    while (!stopped && this.kinds.length > 0) {
      const kind = this.kinds[this.rng.intn(this.kinds.length)]!;
      const hold = this.rng.between(HOLD_MS[0], HOLD_MS[1]);
      const event: NemesisEvent = { atMs: Math.round(this.now()), kind, what: '' };
      this.events.push(event);
      try {
        const heal = await this.inject(kind, event);
        this.onEvent(event);
        await sleep(hold);
        await heal();
        event.healedAtMs = Math.round(this.now());
      } catch (e) {
        // A refused admin call (e.g. a split while another runs) is an event that did not happen, not a test failure.
        event.error = (e as Error).message.split('\n')[0];
      }
      await sleep(this.rng.between(GAP_MS[0], GAP_MS[1]));
    }
  }

  /** Undoes every fault still in force. */
  async healAll(): Promise<void> {
    for (const name of this.paused) this.signal(name, 'SIGCONT');
    this.paused.clear();
    for (const name of this.failpointed) await this.failpoints(name, '');
    this.failpointed.clear();
    for (const name of this.killed) await this.cluster.restart(name);
    this.killed.clear();
  }

  private async inject(kind: NemesisKind, event: { what: string }): Promise<() => Promise<void>> {
    const nodes = this.cluster.processes().filter((p) => p.kind === 'node').map((p) => p.name);
    const metas = this.cluster.processes().filter((p) => p.kind === 'metaserver').map((p) => p.name);
    const pick = <T>(xs: readonly T[]): T => xs[this.rng.intn(xs.length)]!;
    switch (kind) {
      case 'kill': {
        const name = pick([...nodes, ...nodes, ...metas, ...(this.withProxy ? ['proxy'] : [])]);
        event.what = `kill -9 ${name}`;
        this.killed.add(name);
        await this.cluster.kill(name, 'SIGKILL');
        return async () => {
          await this.cluster.restart(name);
          this.killed.delete(name);
        };
      }
      case 'pause': {
        const name = pick([...nodes, ...nodes, ...metas]);
        event.what = `SIGSTOP ${name}`;
        this.paused.add(name);
        this.signal(name, 'SIGSTOP');
        return () => {
          this.signal(name, 'SIGCONT');
          this.paused.delete(name);
          return Promise.resolve();
        };
      }
      case 'partition': {
        const ids = await this.nodeIds();
        const isolate = this.rng.chance(0.6);
        // Isolating the node that leads the most shards is the interesting case: it keeps
        // getting client requests while a new leader is elected on the other side.
        const victim = isolate ? await this.busiestLeader(ids, pick(nodes)) : pick(nodes);
        const others = nodes.filter((n) => n !== victim);
        const label = (n: string): string => `${n} (id ${ids.get(n)})`;
        if (isolate) {
          const otherIds = others.map((n) => ids.get(n)!).join('+');
          event.what = `isolate ${label(victim)} from ${others.map(label).join(', ')}`;
          await this.setFailpoints(victim, `drop-to=${otherIds},drop-from=${otherIds}`);
          for (const o of others) await this.setFailpoints(o, `drop-to=${ids.get(victim)},drop-from=${ids.get(victim)}`);
        } else {
          const to = pick(others);
          event.what = `one-way loss ${label(victim)} → ${label(to)}`;
          await this.setFailpoints(victim, `drop-to=${ids.get(to)}`);
        }
        return () => this.clearFailpoints();
      }
      case 'skew': {
        const name = pick(nodes);
        const skew = (this.rng.chance(0.5) ? 1 : -1) * this.rng.between(2000, 30_000);
        event.what = `clock of ${name} ${skew > 0 ? '+' : ''}${skew} ms`;
        await this.setFailpoints(name, `clock-skew-ms=${skew}`);
        return () => this.clearFailpoints();
      }
      case 'split': {
        const shard = pick(await this.shards());
        event.what = `split shard ${shard.id}`;
        const res = await this.cluster.adminClient().admin('splitShard', admin.SplitShardRequest.create({ shardId: shard.id }));
        event.what += ` (operator ${res.operatorId})`;
        return () => Promise.resolve();
      }
      case 'transfer': {
        const shard = pick(await this.shards());
        const followers = shard.replicas.filter((r) => r.peerId !== shard.leaderPeerId);
        const to = pick(followers.length > 0 ? followers : shard.replicas);
        event.what = `transfer leader of shard ${shard.id} to peer ${to.peerId} (node ${to.nodeId})`;
        await this.cluster.adminClient().admin('transferLeader', admin.TransferLeaderRequest.create({ shardId: shard.id, toPeerId: to.peerId }));
        return () => Promise.resolve();
      }
    }
  }

  private signal(name: string, signal: 'SIGSTOP' | 'SIGCONT'): void {
    const pid = this.cluster.process(name).child?.pid;
    if (pid !== undefined) {
      try {
        process.kill(pid, signal);
      } catch {
        // Already gone: nothing to pause or continue.
      }
    }
  }

  private async setFailpoints(name: string, spec: string): Promise<void> {
    this.failpointed.add(name);
    await this.failpoints(name, spec);
  }

  private async clearFailpoints(): Promise<void> {
    for (const name of this.failpointed) await this.failpoints(name, '');
    this.failpointed.clear();
  }

  private async failpoints(name: string, spec: string): Promise<void> {
    const p = this.cluster.process(name);
    if (p.child === undefined || p.exit !== undefined) return;
    const res = await fetch(`http://${p.httpAddress}/failpoints?set=${encodeURIComponent(spec)}`, { signal: AbortSignal.timeout(FAILPOINT_HTTP_TIMEOUT_MS) });
    if (!res.ok) throw new Error(`failpoints ${name} "${spec}": HTTP ${res.status} ${await res.text()}`);
  }

  /** Node process name → node id (dynamic mode: allocated by the metaserver). */
  private async nodeIds(): Promise<Map<string, number>> {
    const res = await this.cluster.adminClient().admin('listNodes', admin.ListNodesRequest.create());
    const byAddress = new Map(res.nodes.map((n) => [n.address, Number(n.id)]));
    const out = new Map<string, number>();
    for (const p of this.cluster.processes()) {
      const id = byAddress.get(p.address);
      if (p.kind === 'node' && id !== undefined) out.set(p.name, id);
    }
    return out;
  }

  /** The node process leading the most shards of `default` (`fallback` when no leader is known). */
  private async busiestLeader(ids: Map<string, number>, fallback: string): Promise<string> {
    const led = new Map<number, number>();
    for (const s of await this.shards()) {
      const leader = s.replicas.find((r) => r.peerId === s.leaderPeerId);
      if (leader !== undefined) led.set(leader.nodeId, (led.get(leader.nodeId) ?? 0) + 1);
    }
    let best = fallback;
    let most = 0;
    for (const [name, id] of ids) {
      const n = led.get(id) ?? 0;
      if (n > most) [best, most] = [name, n];
    }
    return best;
  }

  private async shards(): Promise<{ id: number; leaderPeerId: number; replicas: { peerId: number; nodeId: number }[] }[]> {
    const r = await this.cluster.adminClient().meta('getRoutes', meta.GetRoutesRequest.create({ tableName: 'default' }));
    return r.shards.filter((s) => s.shard !== undefined && s.shard !== null).map((s) => ({
      id: Number(s.shard!.id),
      leaderPeerId: Number(s.shard!.leaderPeerId),
      replicas: s.shard!.replicas.map((x) => ({ peerId: Number(x.peerId), nodeId: Number(x.nodeId) })),
    }));
  }
}
