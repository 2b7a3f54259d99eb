/**
 * The linearizability search for the operations of one key (Wing & Gong, with Lowe's
 * just-in-time linearization as Porcupine does it, written anew here).
 *
 * Call and return events are laid out in time order in a doubly linked list. Walking it,
 * at a call we try to make that operation take effect now (apply the model step); if the
 * step is legal and the pair (set of operations done, register state) is new, we commit
 * to it, remove its events from the list and restart from the head. At a return whose
 * operation has not taken effect we are stuck: undo the last choice and try the next
 * call after it. The memo of visited (set, state) pairs is what keeps this from being
 * factorial: two orders reaching the same set and state have the same future.
 *
 * Intervals are closed (at equal times calls sort before returns), so operations whose
 * ends touch count as concurrent: a coarse clock can only make the check more lenient,
 * never report a false violation.
 *
 * An operation with an unknown outcome has no return event: nothing forces it to take
 * effect, so it may take effect anywhere after its start, or never (the search succeeds
 * once every `ok` operation has taken effect, whatever unknown ones remain).
 *
 * The search counts steps (one per list position visited) and gives up at `stepsMax`.
 */
import type { ModelOp, RegisterState } from './model.js';
import { byteLength, ILLEGAL, isGrowOnly, reachableByGrowth, step } from './model.js';

export interface SearchOp {
  readonly start: number;
  /** Infinity when the outcome is unknown. */
  readonly end: number;
  readonly model: ModelOp;
}

export type SearchOutcome =
  | { readonly kind: 'linearizable'; readonly steps: number }
  | { readonly kind: 'budget'; readonly steps: number }
  | {
      readonly kind: 'violation';
      readonly steps: number;
      /** Index (into the ops) of the operation that no extension could place: its return is the furthest the search got. */
      readonly blockedOp: number;
      /** Register states in which the search stood when stuck at that return (a bounded sample; may be empty). */
      readonly statesAtBlock: readonly RegisterState[];
      /**
       * True when the history up to that return is the shortest with no linearization.
       * False when a pruned branch may have died earlier than the return it was charged
       * to: the history up to it still has no linearization, but a shorter one may not either.
       */
      readonly shortest: boolean;
    };

/** How many distinct stuck states a violation keeps for its explanation. */
export const BLOCK_STATES_MAX = 6;

const HEAD = 0;
/** Distinct states a search may meet; each step makes at most one, so the step budget must stay below. */
const STATE_IDS_MAX = 2 ** 26;
/** How far past the current candidates the grow-only check looks for a read that rules a state out. */
const GROWTH_LOOKAHEAD_NODES = 64;
const NONE = -1;

/** A deterministic 32-bit mix (murmur3 finalizer), for Zobrist keys of op ids and state ids. */
function mix32(x: number): number {
  let h = Math.imul(x ^ 0x5bd1e995, 0x9e3779b1);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

interface EventList {
  /** Per list node (node 0 is the head sentinel): the op index, and whether it is a call. */
  readonly opOf: Int32Array;
  readonly isCall: Uint8Array;
  readonly next: Int32Array;
  readonly prev: Int32Array;
  /** Per op: its call node and its return node (NONE when unknown). */
  readonly callNode: Int32Array;
  readonly returnNode: Int32Array;
}

function buildEvents(ops: readonly SearchOp[]): EventList {
  const events: { time: number; isCall: boolean; op: number }[] = [];
  ops.forEach((o, i) => {
    events.push({ time: o.start, isCall: true, op: i });
    if (o.end !== Infinity) events.push({ time: o.end, isCall: false, op: i });
  });
  events.sort((a, b) => a.time - b.time || Number(b.isCall) - Number(a.isCall) || a.op - b.op);
  const n = events.length + 1;
  const list: EventList = {
    opOf: new Int32Array(n), isCall: new Uint8Array(n), next: new Int32Array(n), prev: new Int32Array(n),
    callNode: new Int32Array(ops.length).fill(NONE), returnNode: new Int32Array(ops.length).fill(NONE),
  };
  list.opOf[HEAD] = NONE;
  for (let node = 0; node < n; node++) {
    list.next[node] = node + 1 < n ? node + 1 : NONE;
    list.prev[node] = node - 1;
  }
  events.forEach((e, i) => {
    const node = i + 1;
    list.opOf[node] = e.op;
    list.isCall[node] = e.isCall ? 1 : 0;
    (e.isCall ? list.callNode : list.returnNode)[e.op] = node;
  });
  return list;
}

/** Dancing links: removal keeps the node's own pointers so it can be put back in LIFO order. */
function unlink(l: EventList, node: number): void {
  const p = l.prev[node] as number;
  const n = l.next[node] as number;
  l.next[p] = n;
  if (n !== NONE) l.prev[n] = p;
}

function relink(l: EventList, node: number): void {
  const p = l.prev[node] as number;
  const n = l.next[node] as number;
  l.next[p] = node;
  if (n !== NONE) l.prev[n] = node;
}

/**
 * The visited (linearized set, state) pairs. Sets are bitsets kept in one growing pool;
 * buckets are chained by a 32-bit Zobrist hash of the `ok` ops in the set (and the state)
 * and resolved by comparing bits.
 *
 * A pair is also refused when a visited one has the same ok ops and state but used a
 * subset of its unknown ops: unknown ops are optional, so the one that used fewer can do
 * everything this one can, and it failed (or is being explored above us).
 */
class Memo {
  private pool: Uint32Array;
  private readonly states: number[] = [];
  private readonly chain: number[] = [];
  private readonly buckets = new Map<number, number>();
  private size = 0;

  /** `okMask` has a bit set for every op that must take effect. */
  constructor(private readonly words: number, private readonly okMask: Uint32Array) {
    this.pool = new Uint32Array(Math.max(words, 1) * 1024);
  }

  /** Adds the pair; false if it, or a pair that dominates it, was already there. */
  add(hash: number, bits: Uint32Array, stateId: number): boolean {
    const w = this.words;
    const first = this.buckets.get(hash);
    for (let e = first ?? NONE; e !== NONE; e = this.chain[e] as number) {
      if (this.states[e] !== stateId) continue;
      let dominated = true;
      for (let i = 0, base = e * w; i < w; i++) {
        const seen = this.pool[base + i] as number;
        const now = bits[i] as number;
        if ((seen & ~now) !== 0 || ((seen ^ now) & (this.okMask[i] as number)) !== 0) { dominated = false; break; }
      }
      if (dominated) return false;
    }
    if ((this.size + 1) * w > this.pool.length) {
      const grown = new Uint32Array(this.pool.length * 2);
      grown.set(this.pool);
      this.pool = grown;
    }
    this.pool.set(bits, this.size * w);
    this.states.push(stateId);
    this.chain.push(first ?? NONE);
    this.buckets.set(hash, this.size);
    this.size++;
    return true;
  }
}

/** Interns register states as small integers, so the memo compares numbers, not strings. */
class StateIds {
  private readonly ids = new Map<RegisterState, number>();
  id(s: RegisterState): number {
    let id = this.ids.get(s);
    if (id === undefined) {
      id = this.ids.size;
      this.ids.set(s, id);
    }
    return id;
  }
}

/**
 * For each unknown op, the previous unknown op (in call order) with an identical model —
 * e.g. two timed-out `increment by 1`s — or NONE. Once both have started they are
 * interchangeable, so the search uses them in call order only: any linearization using
 * the later one first stays valid with the two swapped.
 */
function earlierTwins(ops: readonly SearchOp[], list: EventList): Int32Array {
  const twin = new Int32Array(ops.length).fill(NONE);
  const lastOfClass = new Map<string, number>();
  for (let node = list.next[HEAD] as number; node !== NONE; node = list.next[node] as number) {
    const op = list.opOf[node] as number;
    if (list.isCall[node] !== 1 || (ops[op] as SearchOp).end !== Infinity) continue;
    const cls = JSON.stringify((ops[op] as SearchOp).model, (_, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
    twin[op] = lastOfClass.get(cls) ?? NONE;
    lastOfClass.set(cls, op);
  }
  return twin;
}

/**
 * Searches for a linearization of `ops`, starting from `initial` (absent for a fresh key).
 *
 * Among the calls that may take effect next, `ok` operations are tried before unknown
 * ones (pass 0, then pass 1), so unknown writes are placed only where something needs
 * them. And an unknown operation u is never followed by an operation o that gives the
 * same result whether or not u ran (same next state, or illegal both ways): dropping u
 * from such a linearization leaves a valid one, which the search explores anyway. That
 * rule makes the options after u depend on the state before u, so the memo key holds it.
 */
export function searchLinearization(ops: readonly SearchOp[], stepsMax: number, initial: RegisterState = undefined): SearchOutcome {
  if (stepsMax >= STATE_IDS_MAX) throw new Error(`search: stepsMax ${stepsMax} must be below ${STATE_IDS_MAX}`);
  return new KeySearch(ops, stepsMax, initial).run();
}

/** One search's mutable state; `run` once. */
class KeySearch {
  private readonly list: EventList;
  private readonly bits: Uint32Array;
  private readonly zobrist: Uint32Array;
  private readonly unknown: Uint8Array;
  private readonly twin: Int32Array;
  private readonly memo: Memo;
  private readonly stateIds = new StateIds();
  private readonly stack: { node: number; state: RegisterState; pass: number }[] = [];
  /** True when every op is a get or an append: the value only grows (see strandsAnOp). */
  private readonly growOnly: boolean;
  /** Ok ops not yet placed; the search succeeds at zero. */
  private required: number;
  private state: RegisterState;
  private hash = 0;
  private steps = 0;
  private node: number;
  private pass = 0;
  /** The furthest return any dead branch reached, and what the explanation needs of it. */
  private furthest = NONE;
  private blockStates: RegisterState[] = [];
  private shortest = true;

  constructor(private readonly ops: readonly SearchOp[], private readonly stepsMax: number, initial: RegisterState) {
    this.list = buildEvents(ops);
    const words = Math.ceil(ops.length / 32);
    this.bits = new Uint32Array(words);
    // Unknown ops stay out of the hash so that pairs differing only in them share a bucket.
    this.zobrist = Uint32Array.from(ops, (o, i) => (o.end === Infinity ? 0 : mix32(i + 1)));
    this.unknown = Uint8Array.from(ops, (o) => (o.end === Infinity ? 1 : 0));
    this.twin = earlierTwins(ops, this.list);
    const okMask = new Uint32Array(words);
    ops.forEach((o, i) => { if (o.end !== Infinity) okMask[i >>> 5] = (okMask[i >>> 5] as number) | (1 << (i & 31)); });
    this.memo = new Memo(words, okMask);
    this.growOnly = ops.every((o) => isGrowOnly(o.model));
    this.required = ops.reduce((n, o) => n + (o.end === Infinity ? 0 : 1), 0);
    this.state = initial;
    this.node = this.list.next[HEAD] as number;
  }

  run(): SearchOutcome {
    const l = this.list;
    while (this.required > 0) {
      if (++this.steps > this.stepsMax) return { kind: 'budget', steps: this.steps };
      // An ok op's return stays in the list until it takes effect, and no pass walks past one.
      if (this.node === NONE) throw new Error('search: walked off the event list with operations still required');
      if (l.isCall[this.node] === 1) {
        if (!this.tryPlace(l.opOf[this.node] as number)) this.node = l.next[this.node] as number;
      } else if (this.pass === 0) {
        // The first return of an op that has not taken effect ends a pass.
        this.pass = 1;
        this.node = l.next[HEAD] as number;
      } else if (!this.backtrack()) {
        const blockedOp = l.opOf[this.furthest] as number;
        return { kind: 'violation', steps: this.steps, blockedOp, statesAtBlock: this.blockStates, shortest: this.shortest };
      }
    }
    return { kind: 'linearizable', steps: this.steps };
  }

  /** Makes `op` take effect now if the rules allow and the result is new; true if it did. */
  private tryPlace(op: number): boolean {
    const o = this.ops[op] as SearchOp;
    const isUnknown = this.unknown[op] === 1;
    const tw = this.twin[op] as number;
    if (isUnknown !== (this.pass === 1) || (tw !== NONE && !this.isPlaced(tw))) return false;
    const after = step(this.state, o.model);
    if (after === ILLEGAL || (isUnknown && after === this.state)) return false;
    const top = this.stack[this.stack.length - 1];
    if (top !== undefined && this.unknown[this.list.opOf[top.node] as number] === 1 && step(top.state, o.model) === after) return false;
    if (this.growOnly && this.strandsAnOp(after, op)) return false;
    this.toggle(op);
    // Pairs of state ids, each below STATE_IDS_MAX, fit a safe integer.
    const sid = this.stateIds.id(after) * STATE_IDS_MAX + (isUnknown ? this.stateIds.id(this.state) + 1 : 0);
    if (!this.memo.add((this.hash ^ mix32(sid % STATE_IDS_MAX) ^ mix32(Math.floor(sid / STATE_IDS_MAX) + 0x7f4a7c15)) >>> 0, this.bits, sid)) {
      this.toggle(op);
      return false;
    }
    this.stack.push({ node: this.node, state: this.state, pass: this.pass });
    this.state = after;
    unlink(this.list, this.node);
    const ret = this.list.returnNode[op] as number;
    if (ret !== NONE) { unlink(this.list, ret); this.required--; }
    this.node = this.list.next[HEAD] as number;
    this.pass = 0;
    return true;
  }

  /** Nothing that may go next works: undo the last placement. False when there is none. */
  private backtrack(): boolean {
    this.noteBlock(this.node, { state: this.state });
    const top = this.stack.pop();
    if (top === undefined) return false;
    const undone = this.list.opOf[top.node] as number;
    const ret = this.list.returnNode[undone] as number;
    if (ret !== NONE) { relink(this.list, ret); this.required++; }
    relink(this.list, top.node);
    this.toggle(undone);
    this.state = top.state;
    this.node = this.list.next[top.node] as number;
    this.pass = top.pass;
    return true;
  }

  /** Records a dead branch stuck at return `at`; `stuck` is omitted for branches cut before getting there. */
  private noteBlock(at: number, stuck: { state: RegisterState } | undefined): void {
    if (at > this.furthest) { this.furthest = at; this.blockStates = []; this.shortest = stuck !== undefined; }
    if (at !== this.furthest || stuck === undefined) return;
    // A real branch got exactly this far, so no branch could get further: the prefix is the shortest.
    this.shortest = true;
    if (this.blockStates.length < BLOCK_STATES_MAX && !this.blockStates.includes(stuck.state)) this.blockStates.push(stuck.state);
  }

  /**
   * In a key that only grows (gets and appends), every later state extends `after`; if an
   * ok op still to be placed cannot succeed from any extension, this branch is dead now.
   * Looks at the calls that may go next and on to the first read beyond them (at most
   * GROWTH_LOOKAHEAD_NODES list nodes): a read pins the value most tightly.
   */
  private strandsAnOp(after: RegisterState, placing: number): boolean {
    const l = this.list;
    const afterBytes = after === undefined ? 0 : byteLength(after);
    let pastWindow = false;
    let n = l.next[HEAD] as number;
    for (let seen = 0; n !== NONE && seen < GROWTH_LOOKAHEAD_NODES; n = l.next[n] as number, seen++) {
      if (l.isCall[n] !== 1) { pastWindow = true; continue; }
      const other = l.opOf[n] as number;
      if (other === placing || this.unknown[other] === 1) continue;
      const m = (this.ops[other] as SearchOp).model;
      if (!reachableByGrowth(after, afterBytes, m)) {
        // This branch can never pass that op's return; charge it there (at most that far).
        this.noteBlock(l.returnNode[other] as number, undefined);
        return true;
      }
      if (pastWindow && m.kind === 'get') return false;
    }
    return false;
  }

  private isPlaced(op: number): boolean {
    return ((this.bits[op >>> 5] as number) & (1 << (op & 31))) !== 0;
  }

  private toggle(op: number): void {
    this.bits[op >>> 5] = (this.bits[op >>> 5] as number) ^ (1 << (op & 31));
    this.hash = (this.hash ^ (this.zobrist[op] as number)) >>> 0;
  }
}
