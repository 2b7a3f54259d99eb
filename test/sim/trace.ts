/**
 * The event trace of a simulated run: a bounded ring of the most recent events (printed when
 * a seed fails), or every event when verbose. Events keep references to immutable messages
 * and are formatted only when printed, so tracing costs little on the passing path.
 */
import { MessageType } from '@shoal/raft-ts';
import type { Message } from '@shoal/raft-ts';

export const TRACE_EVENTS_MAX = 200;

export type TraceKind = 'send' | 'recv' | 'drop' | 'note';

interface TraceEvent {
  readonly tick: number;
  readonly kind: TraceKind;
  readonly node: number;
  readonly msg: Message | null;
  readonly note: string;
}

const MESSAGE_NAMES: Record<MessageType, string> = {
  [MessageType.Hup]: 'Hup', [MessageType.Beat]: 'Beat', [MessageType.Prop]: 'Prop',
  [MessageType.App]: 'App', [MessageType.AppResp]: 'AppResp', [MessageType.Vote]: 'Vote',
  [MessageType.VoteResp]: 'VoteResp', [MessageType.Snap]: 'Snap', [MessageType.Heartbeat]: 'Heartbeat',
  [MessageType.HeartbeatResp]: 'HeartbeatResp', [MessageType.Unreachable]: 'Unreachable',
  [MessageType.SnapStatus]: 'SnapStatus', [MessageType.CheckQuorum]: 'CheckQuorum',
  [MessageType.TransferLeader]: 'TransferLeader', [MessageType.TimeoutNow]: 'TimeoutNow',
  [MessageType.ReadIndex]: 'ReadIndex', [MessageType.ReadIndexResp]: 'ReadIndexResp',
  [MessageType.PreVote]: 'PreVote', [MessageType.PreVoteResp]: 'PreVoteResp',
};

export function describeMessage(m: Message): string {
  const name = MESSAGE_NAMES[m.type] ?? `type${String(m.type)}`;
  let s = `${name} ${m.from}->${m.to} t${m.term}`;
  if (m.type === MessageType.App || m.type === MessageType.Vote || m.type === MessageType.PreVote) {
    s += ` log=${m.logTerm}/${m.index}`;
  } else if (m.index !== 0) {
    s += ` i${m.index}`;
  }
  if (m.entries.length > 0) {
    const first = m.entries[0]!;
    const last = m.entries[m.entries.length - 1]!;
    s += ` ents=[${first.index}..${last.index}]@${last.term}`;
  }
  if (m.commit !== 0) s += ` c${m.commit}`;
  if (m.reject) s += ` REJECT hint=${m.rejectHint}`;
  if (m.snapshot !== null) s += ` snap=${m.snapshot.metadata.index}@${m.snapshot.metadata.term}`;
  return s;
}

export class Trace {
  private readonly ring: (TraceEvent | undefined)[];
  private next = 0;
  private total = 0;
  private readonly all: TraceEvent[] | null;

  constructor(readonly keepAll: boolean, readonly ringSize = TRACE_EVENTS_MAX) {
    this.ring = new Array<TraceEvent | undefined>(ringSize);
    this.all = keepAll ? [] : null;
  }

  message(tick: number, kind: 'send' | 'recv' | 'drop', node: number, msg: Message, note = ''): void {
    this.push({ tick, kind, node, msg, note });
  }

  note(tick: number, node: number, note: string): void {
    this.push({ tick, kind: 'note', node, msg: null, note });
  }

  get eventCount(): number {
    return this.total;
  }

  /** The retained events, oldest first, one per line. */
  format(): string[] {
    const events = this.all ?? this.ringEvents();
    return events.map(formatEvent);
  }

  private push(e: TraceEvent): void {
    this.total++;
    if (this.all !== null) {
      this.all.push(e);
      return;
    }
    this.ring[this.next] = e;
    this.next = (this.next + 1) % this.ringSize;
  }

  private ringEvents(): TraceEvent[] {
    const out: TraceEvent[] = [];
    for (let i = 0; i < this.ringSize; i++) {
      const e = this.ring[(this.next + i) % this.ringSize];
      if (e !== undefined) out.push(e);
    }
    return out;
  }
}

function formatEvent(e: TraceEvent): string {
  const head = `t=${String(e.tick).padStart(5)} n${e.node}`;
  if (e.msg === null) return `${head} ${e.note}`;
  const note = e.note === '' ? '' : ` (${e.note})`;
  return `${head} ${e.kind.padEnd(4)} ${describeMessage(e.msg)}${note}`;
}
