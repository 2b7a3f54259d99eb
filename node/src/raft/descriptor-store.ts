/**
 * Durable shard descriptors for engines that cannot record them in the apply batch.
 *
 * A membership change updates the descriptor (its replicas and their nodes, confVer).
 * The engine contract records only the ConfState when a conf change is applied, so until
 * the engine gains `ApplyBatch.setDescriptor`, the node keeps the newest descriptor of
 * each replica here — written (atomically: temp file, fsync, rename) before the log is
 * compacted past the conf change that produced it — and prefers it over the engine's at
 * restart when its epoch is newer. One small file per shard: `<dataDir>/descriptors/<id>.pb`.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { ShardDescriptor } from './descriptor.js';
import { decodeDescriptor, encodeDescriptor } from './descriptor.js';

export class DescriptorStore {
  private readonly dir: string;

  constructor(dataDir: string) {
    this.dir = join(dataDir, 'descriptors');
    mkdirSync(this.dir, { recursive: true });
  }

  save(desc: ShardDescriptor): void {
    const tmp = join(this.dir, `${desc.id}.pb.tmp`);
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, encodeDescriptor(desc));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, join(this.dir, `${desc.id}.pb`));
    const dfd = openSync(this.dir, 'r');
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  }

  loadAll(): Map<number, ShardDescriptor> {
    const out = new Map<number, ShardDescriptor>();
    for (const f of readdirSync(this.dir)) {
      if (!f.endsWith('.pb')) continue;
      const d = decodeDescriptor(readFileSync(join(this.dir, f)));
      out.set(d.id, d);
    }
    return out;
  }

  remove(shardId: number): void {
    rmSync(join(this.dir, `${shardId}.pb`), { force: true });
  }
}
