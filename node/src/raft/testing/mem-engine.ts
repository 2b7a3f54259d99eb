/**
 * In-memory engine for scheduler tests. A command is UTF-8 `key=value` (put) or `key`
 * (delete); apply returns `{ index, previous }`. Snapshots copy the shard's map.
 */
import type { common } from '@shoal/proto';
import type { ConfState } from '@shoal/raft-ts';
import type { ApplyBatchPort, EnginePort, EngineSnapshotPort, SnapshotInstallerPort } from '../ports.js';

export interface MemShard {
  data: Map<string, string>;
  appliedIndex: number;
  appliedTerm: number;
  confState: ConfState;
  descriptor: common.ShardDescriptor;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

export class MemEngine implements EnginePort {
  readonly shards = new Map<number, MemShard>();
  commits = 0;
  /** false: the apply batch has no setDescriptor (like an engine without that API). */
  recordsDescriptors = true;

  addShard(descriptor: common.ShardDescriptor, confState: ConfState): MemShard {
    const s: MemShard = { data: new Map(), appliedIndex: 0, appliedTerm: 0, confState, descriptor };
    this.shards.set(descriptor.id, s);
    return s;
  }

  beginApply(): ApplyBatchPort {
    const pending: (() => void)[] = [];
    const view = new Map<number, Map<string, string>>();
    const dataOf = (id: number): Map<string, string> => {
      let m = view.get(id);
      if (m === undefined) {
        m = new Map(this.shards.get(id)!.data);
        view.set(id, m);
      }
      return m;
    };
    const batch: ApplyBatchPort = {
      apply: (shardId, index, term, command) => {
        const text = dec.decode(command);
        const data = dataOf(shardId);
        const eq = text.indexOf('=');
        const key = eq < 0 ? text : text.slice(0, eq);
        const previous = data.get(key);
        if (eq < 0) data.delete(key);
        else data.set(key, text.slice(eq + 1));
        pending.push(() => {
          const s = this.shards.get(shardId)!;
          s.appliedIndex = index;
          s.appliedTerm = term;
        });
        return { index, previous };
      },
      setApplied: (shardId, index, term, confState) => {
        pending.push(() => {
          const s = this.shards.get(shardId)!;
          s.appliedIndex = index;
          s.appliedTerm = term;
          if (confState !== undefined) s.confState = confState;
        });
      },
      setDescriptor: (shardId, descriptor) => {
        pending.push(() => {
          this.shards.get(shardId)!.descriptor = descriptor;
        });
      },
      commit: () => {
        for (const [id, m] of view) this.shards.get(id)!.data = m;
        for (const f of pending) f();
        this.commits++;
        return Promise.resolve();
      },
    };
    if (!this.recordsDescriptors) delete (batch as { setDescriptor?: unknown }).setDescriptor;
    return batch;
  }

  makeDurable(): Promise<void> {
    return Promise.resolve();
  }

  openSnapshot(shardId: number): EngineSnapshotPort {
    const s = this.shards.get(shardId)!;
    const copy = new Map(s.data);
    return {
      appliedIndex: s.appliedIndex, appliedTerm: s.appliedTerm, confState: s.confState, descriptor: s.descriptor,
      chunks: async function* () {
        await Promise.resolve();
        for (const [k, v] of copy) yield enc.encode(`${k}=${v}`);
      },
      close: () => Promise.resolve(),
    };
  }

  beginInstall(shardId: number): SnapshotInstallerPort {
    const staged = new Map<string, string>();
    return {
      write: (chunk) => {
        const text = dec.decode(chunk);
        const eq = text.indexOf('=');
        staged.set(text.slice(0, eq), text.slice(eq + 1));
        return Promise.resolve();
      },
      finish: (meta) => {
        const s = this.shards.get(shardId)!;
        s.data = staged;
        s.appliedIndex = meta.index;
        s.appliedTerm = meta.term;
        s.confState = meta.confState;
        s.descriptor = meta.descriptor;
        return Promise.resolve();
      },
      abort: () => Promise.resolve(),
    };
  }

  get(shardId: number, key: string): string | undefined {
    return this.shards.get(shardId)?.data.get(key);
  }
}

export function putCommand(key: string, value: string): Uint8Array {
  return enc.encode(`${key}=${value}`);
}
