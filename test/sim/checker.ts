/**
 * The safety checker: it watches what every replica does (roles, appends, commits, applies,
 * snapshots, reads) and compares it against global ledgers, reporting the first breach of
 * a Raft safety property as a value. It knows nothing of raft-ts internals, so it can be
 * driven by hand-made histories in its unit tests.
 *
 * Properties (Raft paper, Figure 3, plus the host-visible ones):
 *  - election safety: at most one leader per term;
 *  - log matching: an (index, term) pair identifies one entry and one predecessor term,
 *    so logs agreeing on an entry agree on the whole prefix;
 *  - leader append-only: a leader never overwrites its own log;
 *  - leader completeness: an entry committed in term t is in the log of every leader of a
 *    later term (when that leader is elected);
 *  - state machine safety: replicas apply the same entry at each index, contiguously, and
 *    their state digests agree (applied sequences are prefixes of one another);
 *  - vote durability: a synced vote never changes within a term, a synced term never drops;
 *  - linearizable reads: a read observes every write acknowledged (applied anywhere) before
 *    the read was issued, in simulated real time.
 */
import { chainDigest, DIGEST_EMPTY } from './digest.js';

export type SafetyProperty =
  | 'election-safety'
  | 'log-matching'
  | 'leader-append-only'
  | 'leader-completeness'
  | 'state-machine-safety'
  | 'vote-durability'
  | 'linearizable-read'
  | 'snapshot-integrity'
  | 'api-contract'
  | 'config-agreement'
  | 'exception';

export interface Violation {
  readonly property: SafetyProperty;
  readonly message: string;
  readonly tick: number;
  readonly node: number;
}

/** What the checker needs to know about one log entry. */
export interface EntryFacts {
  readonly index: number;
  readonly term: number;
  /** Content identity (type and payload), see digest.ts. */
  readonly hash: number;
}

/** A read-only view of a replica's log, for the leader-completeness check. */
export interface LogView {
  /** Index of the first entry still present (entries before it were compacted). */
  readonly firstIndex: number;
  readonly lastIndex: number;
  /** Term of entry i for firstIndex <= i <= lastIndex. */
  termAt(i: number): number | undefined;
}

/** A write carried by an applied entry: `writeId` becomes the value of `key`. */
export interface WriteFacts {
  readonly key: number;
  readonly writeId: number;
}

interface LedgerEntry {
  readonly hash: number;
  readonly prevTerm: number;
  readonly node: number;
}

interface PendingRead {
  readonly key: number;
  /** Highest index applied anywhere when the read was issued: every acknowledged write. */
  readonly ackedIndex: number;
  readonly tickIssued: number;
}

const TERM_BITS = 2 ** 21;
const UNKNOWN = -1;

export class SafetyChecker {
  readonly violations: Violation[] = [];
  /** Simulated time, set by the driver; stamped on violations. */
  tick = 0;

  private readonly leaderOfTerm = new Map<number, number>();
  private readonly logLedger = new Map<number, LedgerEntry>();
  /** Per index: the committed entry's term, its content hash, and the lowest term known to have committed it. */
  private readonly committedTerm: number[] = [];
  private readonly commitEpoch: number[] = [];
  private maxCommitted = 0;
  /** Per index, the entry first applied anywhere, and the chained state digest after it. */
  private readonly appliedTerm: number[] = [];
  private readonly appliedHash: number[] = [];
  private readonly appliedDigest: number[] = [DIGEST_EMPTY];
  private maxApplied = 0;
  private readonly appliedCursor = new Map<number, number>();
  private readonly keyHistory = new Map<number, { index: number; writeId: number }[]>();
  private readonly syncedVote = new Map<number, { term: number; vote: number }>();
  private readonly reads = new Map<number, PendingRead>();
  readsServed = 0;

  get ok(): boolean {
    return this.violations.length === 0;
  }

  /** How many terms had a leader. */
  get leaderTermCount(): number {
    return this.leaderOfTerm.size;
  }

  /** Highest index applied by any replica (every write up to it was acknowledged). */
  get maxAppliedIndex(): number {
    return this.maxApplied;
  }

  fail(property: SafetyProperty, node: number, message: string): void {
    this.violations.push({ property, message, tick: this.tick, node });
  }

  // --- elections -------------------------------------------------------------------------

  onLeader(node: number, term: number, log: LogView): void {
    const prior = this.leaderOfTerm.get(term);
    if (prior !== undefined && prior !== node) {
      this.fail('election-safety', node, `two leaders in term ${term}: n${prior} and n${node}`);
      return;
    }
    this.leaderOfTerm.set(term, node);
    this.checkLeaderCompleteness(node, term, log);
  }

  private checkLeaderCompleteness(node: number, term: number, log: LogView): void {
    for (let i = Math.max(1, log.firstIndex); i <= this.maxCommitted; i++) {
      const epoch = this.commitEpoch[i];
      if (epoch === undefined || epoch >= term) continue;
      const want = this.committedTerm[i];
      const have = i <= log.lastIndex ? log.termAt(i) : undefined;
      if (have === undefined || (want !== undefined && want !== UNKNOWN && have !== want)) {
        this.fail('leader-completeness', node,
          `new leader n${node} of term ${term} lacks entry ${i}@${want ?? '?'} committed by term ${epoch}`
          + ` (its log: ${have === undefined ? `ends at ${log.lastIndex}` : `has ${i}@${have}`})`);
        return;
      }
    }
  }

  // --- logs ------------------------------------------------------------------------------

  /**
   * A replica wrote `entries` to its log. `prevTerm` is the term of the entry just before
   * the first one (UNKNOWN = -1 if compacted). `leaderLastIndex` is the replica's last
   * index before the write if it is currently leader, else null.
   */
  onAppend(node: number, entries: readonly EntryFacts[], prevTerm: number, leaderLastIndex: number | null): void {
    if (entries.length === 0) return;
    const first = entries[0]!;
    if (leaderLastIndex !== null && first.index <= leaderLastIndex) {
      this.fail('leader-append-only', node,
        `leader n${node} overwrote its log at ${first.index} (last index was ${leaderLastIndex})`);
      return;
    }
    let prev = prevTerm;
    for (const e of entries) {
      if (e.term >= TERM_BITS || e.index < 1) {
        this.fail('log-matching', node, `entry ${e.index}@${e.term} out of the checked range`);
        return;
      }
      const key = e.index * TERM_BITS + e.term;
      const seen = this.logLedger.get(key);
      if (seen === undefined) {
        this.logLedger.set(key, { hash: e.hash, prevTerm: prev, node });
      } else if (seen.hash !== e.hash || (prev !== UNKNOWN && seen.prevTerm !== UNKNOWN && seen.prevTerm !== prev)) {
        this.fail('log-matching', node,
          `entry ${e.index}@${e.term} on n${node} (hash ${e.hash.toString(16)}, prev term ${prev}) differs from`
          + ` n${seen.node}'s (hash ${seen.hash.toString(16)}, prev term ${seen.prevTerm})`);
        return;
      }
      prev = e.term;
    }
  }

  /**
   * Replica `node`, in term `term`, advanced its commit index over (from, to]. `termAt`
   * gives its log's term at an index, if still present.
   */
  onCommit(node: number, term: number, from: number, to: number, termAt: (i: number) => number | undefined): void {
    for (let i = from + 1; i <= to; i++) {
      const t = termAt(i) ?? UNKNOWN;
      const known = this.committedTerm[i];
      if (known === undefined || known === UNKNOWN) {
        this.committedTerm[i] = t;
      } else if (t !== UNKNOWN && t !== known) {
        this.fail('state-machine-safety', node, `n${node} committed ${i}@${t} but ${i}@${known} was committed before`);
        return;
      }
      const epoch = this.commitEpoch[i];
      if (epoch === undefined || term < epoch) this.commitEpoch[i] = term;
    }
    if (to > this.maxCommitted) this.maxCommitted = to;
  }

  onVoteSynced(node: number, term: number, vote: number): void {
    const last = this.syncedVote.get(node);
    if (last !== undefined) {
      if (term < last.term) {
        this.fail('vote-durability', node, `n${node} synced term ${term} after term ${last.term}`);
        return;
      }
      if (term === last.term && last.vote !== 0 && vote !== last.vote) {
        this.fail('vote-durability', node, `n${node} changed its vote in term ${term}: n${last.vote} then n${vote}`);
        return;
      }
    }
    this.syncedVote.set(node, { term, vote });
  }

  // --- state machines --------------------------------------------------------------------

  /** A replica (re)started, or installed a snapshot: it resumes applying after `index`. */
  onApplyReset(node: number, index: number, digest: number, fromSnapshot: boolean): void {
    const cursor = this.appliedCursor.get(node);
    if (fromSnapshot && cursor !== undefined && index < cursor) {
      this.fail('state-machine-safety', node, `n${node} installed snapshot ${index} below its applied index ${cursor}`);
      return;
    }
    this.appliedCursor.set(node, index);
    const want = this.appliedDigest[index];
    if (index > 0 && want !== undefined && want !== digest) {
      this.fail('snapshot-integrity', node,
        `n${node} state at ${index} has digest ${digest.toString(16)}, expected ${want.toString(16)}`);
    }
  }

  /** A replica applied entry `e`; `digest` is its state digest afterwards. */
  onApply(node: number, e: EntryFacts, digest: number, write: WriteFacts | null): void {
    const cursor = this.appliedCursor.get(node) ?? 0;
    if (e.index !== cursor + 1) {
      this.fail('state-machine-safety', node, `n${node} applied ${e.index} after ${cursor} (not contiguous)`);
      return;
    }
    this.appliedCursor.set(node, e.index);
    const term = this.appliedTerm[e.index];
    if (term === undefined) {
      this.recordFirstApply(node, e, write);
    } else if (term !== e.term || this.appliedHash[e.index] !== e.hash) {
      this.fail('state-machine-safety', node,
        `n${node} applied ${e.index}@${e.term} (hash ${e.hash.toString(16)}) but ${e.index}@${term}`
        + ` (hash ${(this.appliedHash[e.index] ?? 0).toString(16)}) was applied elsewhere`);
      return;
    }
    const want = this.appliedDigest[e.index];
    if (want !== undefined && want !== digest) {
      this.fail('state-machine-safety', node,
        `n${node} state digest at ${e.index} is ${digest.toString(16)}, expected ${want.toString(16)}`);
    }
  }

  private recordFirstApply(node: number, e: EntryFacts, write: WriteFacts | null): void {
    if (e.index !== this.maxApplied + 1) {
      this.fail('state-machine-safety', node,
        `n${node} applied ${e.index} though no replica applied ${this.maxApplied + 1} yet`);
      return;
    }
    this.appliedTerm[e.index] = e.term;
    this.appliedHash[e.index] = e.hash;
    const prev = this.appliedDigest[e.index - 1] ?? DIGEST_EMPTY;
    this.appliedDigest[e.index] = chainDigest(prev, e.index, e.term, e.hash);
    this.maxApplied = e.index;
    if (write !== null) {
      let h = this.keyHistory.get(write.key);
      if (h === undefined) {
        h = [];
        this.keyHistory.set(write.key, h);
      }
      h.push({ index: e.index, writeId: write.writeId });
    }
  }

  /** The value of `key` after applying every entry up to `index` (0 = never written). */
  valueAt(key: number, index: number): number {
    const h = this.keyHistory.get(key);
    if (h === undefined) return 0;
    for (let i = h.length - 1; i >= 0; i--) {
      const w = h[i]!;
      if (w.index <= index) return w.writeId;
    }
    return 0;
  }

  // --- reads -----------------------------------------------------------------------------

  onReadIssued(readId: number, key: number): void {
    this.reads.set(readId, { key, ackedIndex: this.maxApplied, tickIssued: this.tick });
  }

  /** Forget a read that will never be served (lost request, replica crashed). */
  onReadAbandoned(readId: number): void {
    this.reads.delete(readId);
  }

  /**
   * A read was served on `node` once its applied index reached `servedIndex` >= the
   * ReadState's `readIndex`, observing `observed` as the key's value.
   */
  onReadServed(readId: number, node: number, readIndex: number, servedIndex: number, observed: number): void {
    const r = this.reads.get(readId);
    if (r === undefined) {
      this.fail('api-contract', node, `read ${readId} served but never issued (or served twice)`);
      return;
    }
    this.reads.delete(readId);
    this.readsServed++;
    if (servedIndex < readIndex) {
      this.fail('api-contract', node, `read ${readId} served at applied ${servedIndex} < ReadState.index ${readIndex}`);
      return;
    }
    if (readIndex < r.ackedIndex) {
      this.fail('linearizable-read', node,
        `read ${readId} of key ${r.key} issued at t=${r.tickIssued} got ReadState.index ${readIndex}, but index`
        + ` ${r.ackedIndex} was already applied (acknowledged) then`);
      return;
    }
    const want = this.valueAt(r.key, servedIndex);
    if (observed !== want) {
      const acked = this.valueAt(r.key, r.ackedIndex);
      this.fail('linearizable-read', node,
        `read ${readId} of key ${r.key} on n${node} at applied ${servedIndex} observed write ${observed},`
        + ` expected ${want} (latest acknowledged at issue: ${acked})`);
    }
  }

  get pendingReads(): number {
    return this.reads.size;
  }
}
