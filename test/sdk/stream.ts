/**
 * A stream of SDK calls for the fault tests: writers put fresh keys one after another,
 * readers read back keys already acknowledged (linearizable, so they must see them).
 * Every outcome is recorded; `verify` then reads every acknowledged write back.
 */
import assert from 'node:assert/strict';
import { isKvError } from '@shoal/client-sdk';
import type { Table } from '@shoal/client-sdk';

/** Keys per getMany when verifying (the SDK splits per shard anyway). */
const VERIFY_BATCH_KEYS = 200;

export interface Failure {
  readonly op: 'put' | 'get';
  readonly key: string;
  readonly code: string;
  readonly message: string;
  readonly startedAt: number;
  readonly endedAt: number;
}

export class CallStream {
  /** Acknowledged writes, key → value. */
  readonly acked = new Map<string, string>();
  readonly failures: Failure[] = [];
  reads = 0;
  maxLatencyMs = 0;
  private stopped = false;
  private readonly loops: Promise<void>[] = [];
  private readonly ackedKeys: string[] = [];

  constructor(private readonly t: Table, private readonly prefix: string, writers: number, readers: number) {
    for (let w = 0; w < writers; w++) this.loops.push(this.writer(w));
    // Half the readers read from any replica (follower reads are linearizable too).
    for (let r = 0; r < readers; r++) this.loops.push(this.reader(r % 2 === 0 ? 'linearizable' : 'follower'));
  }

  get writes(): number {
    return this.acked.size;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.loops);
  }

  /** Every acknowledged write reads back with its value (linearizable getMany). */
  async verify(): Promise<void> {
    const keys = [...this.acked.keys()];
    for (let i = 0; i < keys.length; i += VERIFY_BATCH_KEYS) {
      const part = keys.slice(i, i + VERIFY_BATCH_KEYS);
      const values = await this.t.getMany(part, { valueEncoding: 'utf8' });
      part.forEach((k, j) => assert.equal(values[j], this.acked.get(k), `acknowledged write ${k} is not readable`));
    }
  }

  /** A full scan of the table returns exactly the acknowledged keys of this stream, once each. */
  async verifyScan(): Promise<void> {
    const seen: string[] = [];
    for await (const e of this.t.scan({ keyEncoding: 'utf8', valueEncoding: 'utf8' })) {
      if (!e.key.startsWith(`${this.prefix}:`)) continue;
      seen.push(e.key);
      assert.equal(e.value, this.acked.get(e.key), `scanned ${e.key}`);
    }
    assert.equal(new Set(seen).size, seen.length, 'a key scanned twice');
    assert.deepEqual(new Set(seen), new Set(this.acked.keys()));
  }

  private async writer(w: number): Promise<void> {
    for (let i = 0; !this.stopped; i++) {
      const key = `${this.prefix}:${w}:${i}`;
      const value = `${w}/${i}`;
      await this.timed('put', key, async () => {
        const r = await this.t.put(key, value);
        assert.equal(r.applied, true);
        this.acked.set(key, value);
        this.ackedKeys.push(key);
      });
    }
  }

  private async reader(consistency: 'linearizable' | 'follower'): Promise<void> {
    while (!this.stopped) {
      if (this.ackedKeys.length === 0) {
        await new Promise((r) => setTimeout(r, 10));
        continue;
      }
      const key = this.ackedKeys[Math.floor(Math.random() * this.ackedKeys.length)]!;
      await this.timed('get', key, async () => {
        const v = await this.t.get(key, { valueEncoding: 'utf8', consistency });
        assert.equal(v, this.acked.get(key), `${consistency} read of acknowledged ${key}`);
        this.reads++;
      });
    }
  }

  private async timed(op: 'put' | 'get', key: string, f: () => Promise<void>): Promise<void> {
    const startedAt = Date.now();
    try {
      await f();
    } catch (e) {
      const code = isKvError(e) ? e.code : 'ASSERTION';
      this.failures.push({ op, key, code, message: String(e), startedAt, endedAt: Date.now() });
      // Keep the stream going, but without spinning on a persistent failure.
      await new Promise((r) => setTimeout(r, 50));
    } finally {
      this.maxLatencyMs = Math.max(this.maxLatencyMs, Date.now() - startedAt);
    }
  }
}
