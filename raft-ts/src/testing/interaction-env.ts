/**
 * A deterministic in-memory cluster driven by the interaction test scripts
 * (testdata/*.txt): nodes with MemoryStorage, a global message queue, an optional
 * network partition, and an output buffer that also collects the nodes' log lines.
 * Each node applies committed entries to a trivial state machine (a list of strings)
 * and snapshots it after every Ready, so compaction is always covered by a snapshot.
 */
import type { Config } from '../config.js';
import { decodeConfChange } from '../conf-change.js';
import { describeMessage, describeReady } from '../describe.js';
import { RawNode } from '../raw-node.js';
import { MemoryStorage } from '../storage-memory.js';
import type { ConfState, LogIndex, Logger, Message, PeerId, Ready, Snapshot, Term } from '../types.js';
import { EntryType } from '../types.js';

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'none'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface EnvNode {
  readonly id: PeerId;
  readonly storage: MemoryStorage;
  raw: RawNode;
  readonly config: Config;
  /** Index of the last entry applied to `sm`. */
  applied: LogIndex;
  /** Membership as of `applied`. */
  confState: ConfState;
  /** The state machine: data of every applied non-empty Normal entry. */
  sm: string[];
  /** Whether the node snapshots its state machine after every Ready (default true). */
  readonly appSnapshots: boolean;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const STABILIZE_ROUNDS_MAX = 200;

export class InteractionEnv {
  readonly nodes: EnvNode[] = [];
  /** Messages sent but not yet delivered, in send order. */
  queue: Message[] = [];
  /** Partition groups (node ids); empty = fully connected. */
  partition: PeerId[][] = [];
  logLevel: LogLevel = 'info';
  private out: string[] = [];
  private indent = '';

  /** Appends a line (or lines) to the output at the current indentation. */
  print(s: string): void {
    for (const line of s.split('\n')) this.out.push(this.indent + line);
  }

  /** Returns and clears the output collected for one command. */
  takeOutput(): string {
    const s = this.out.join('\n');
    this.out = [];
    this.indent = '';
    return s === '' ? 'ok' : s;
  }

  loggerFor(): Logger {
    const emit = (level: LogLevel, tag: string) => (msg: string): void => {
      if (LOG_LEVELS.indexOf(level) >= LOG_LEVELS.indexOf(this.logLevel)) this.print(`${tag} ${msg}`);
    };
    return { debug: emit('debug', 'DEBUG'), info: emit('info', 'INFO'), warn: emit('warn', 'WARN'), error: emit('error', 'ERROR') };
  }

  node(id: number): EnvNode {
    const n = this.nodes[id - 1];
    if (n === undefined) throw new Error(`no node ${id}`);
    return n;
  }

  addNode(config: Config, storage: MemoryStorage, confState: ConfState, applied: LogIndex, sm: string[],
    appSnapshots: boolean): void {
    const raw = new RawNode(config);
    this.nodes.push({ id: config.id, storage, raw, config, applied, confState, sm, appSnapshots });
  }

  /** Rebuilds a node's RawNode from its storage, as after a crash (everything is persisted per Ready). */
  restart(id: number): void {
    const n = this.node(id);
    n.raw = new RawNode({ ...n.config, applied: n.applied });
  }

  connected(a: PeerId, b: PeerId): boolean {
    if (this.partition.length === 0) return true;
    const ga = this.partition.findIndex((g) => g.includes(a));
    const gb = this.partition.findIndex((g) => g.includes(b));
    return ga >= 0 && ga === gb;
  }

  /** Handles one Ready of node `id`: persist, send, apply, advance. Returns false if none. */
  processReady(id: number): boolean {
    const n = this.node(id);
    if (!n.raw.hasReady()) return false;
    const rd = n.raw.ready();
    this.print(`> ${id} handling Ready`);
    this.withIndent(() => {
      this.print(describeReady(rd));
      this.persist(n, rd);
      this.queue.push(...rd.messages);
      this.apply(n, rd);
      n.raw.advance();
    });
    return true;
  }

  private persist(n: EnvNode, rd: Ready): void {
    if (rd.snapshot !== null) n.storage.applySnapshot(rd.snapshot);
    n.storage.append(rd.entries);
    if (rd.hardState !== null) n.storage.setHardState(rd.hardState);
  }

  private apply(n: EnvNode, rd: Ready): void {
    if (rd.snapshot !== null) this.installSnapshot(n, rd.snapshot);
    for (const e of rd.committedEntries) {
      if (e.type === EntryType.ConfChange) {
        n.confState = n.raw.applyConfChange(decodeConfChange(e.data));
      } else if (e.data.length > 0) {
        n.sm.push(decoder.decode(e.data));
      }
      n.applied = e.index;
    }
    if (!n.appSnapshots) return;
    const snap = n.storage.snapshot();
    const snapIndex = snap === 'temporarily-unavailable' ? 0 : snap.metadata.index;
    if (n.applied > snapIndex) {
      n.storage.createSnapshot(n.applied, n.confState, encoder.encode(JSON.stringify(n.sm)));
    }
  }

  private installSnapshot(n: EnvNode, s: Snapshot): void {
    n.sm = s.data.length === 0 ? [] : (JSON.parse(decoder.decode(s.data)) as string[]);
    n.applied = s.metadata.index;
    n.confState = s.metadata.confState;
  }

  /**
   * Delivers queued messages addressed to `ids` (all nodes if empty). Messages to nodes
   * in `drop`, or across the partition, are discarded. Returns whether any message was taken.
   */
  deliverMsgs(ids: readonly number[], drop: ReadonlySet<number>, typeName: string | null): boolean {
    const targets = ids.length > 0 ? ids : this.nodes.map((n) => n.id);
    let any = false;
    for (const id of [...targets].sort((a, b) => a - b)) {
      const mine = this.queue.filter((m) => m.to === id && (typeName === null || describeMessage(m).includes(` ${typeName} `)));
      if (mine.length === 0) continue;
      any = true;
      const taken = new Set(mine);
      this.queue = this.queue.filter((m) => !taken.has(m));
      this.deliverTo(id, mine, drop.has(id));
    }
    return any;
  }

  private deliverTo(id: number, msgs: readonly Message[], dropAll: boolean): void {
    if (dropAll) {
      for (const m of msgs) this.print(`dropped: ${describeMessage(m)}`);
      return;
    }
    this.print(`> ${id} receiving messages`);
    this.withIndent(() => {
      for (const m of msgs) {
        if (!this.connected(m.from, m.to)) {
          this.print(`dropped (partition): ${describeMessage(m)}`);
          continue;
        }
        this.print(describeMessage(m));
        const res = this.node(id).raw.step(m);
        if (!res.ok) this.print(`${res.code}: ${res.reason}`);
      }
    });
  }

  /** Processes Readies and delivers messages among `ids` until nothing is left to do. */
  stabilize(ids: readonly number[]): void {
    const set = ids.length > 0 ? [...ids].sort((a, b) => a - b) : this.nodes.map((n) => n.id);
    for (let round = 0; round < STABILIZE_ROUNDS_MAX; round++) {
      let progressed = false;
      for (const id of set) if (this.processReady(id)) progressed = true;
      if (this.deliverMsgs(set, new Set(), null)) progressed = true;
      if (!progressed) return;
    }
    throw new Error(`stabilize did not converge within ${STABILIZE_ROUNDS_MAX} rounds`);
  }

  withIndent(f: () => void): void {
    const saved = this.indent;
    this.indent += '  ';
    try {
      f();
    } finally {
      this.indent = saved;
    }
  }

  static snapshotFor(index: LogIndex, confState: ConfState, content: string[]): Snapshot {
    return {
      data: encoder.encode(JSON.stringify(content)),
      metadata: { index, term: (index > 0 ? 1 : 0) as Term, confState },
    };
  }
}
