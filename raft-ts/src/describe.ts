/**
 * Human-readable one-line descriptions of raft-ts values, in the style of etcd's
 * describe.go. Used by the interaction tests (their expected output depends on this
 * format) and handy for simulator traces. Not for hot paths.
 */
import { confChangeToString, decodeConfChange } from './conf-change.js';
import { messageTypeName } from './message.js';
import { roleName } from './raft.js';
import type { ConfState, Entry, HardState, Message, Ready, Snapshot, SoftState } from './types.js';
import { EntryType, NO_PEER } from './types.js';

const utf8 = new TextDecoder('utf-8', { fatal: false });

/** Entry data as a quoted string (JSON escaping keeps the output on one line). */
export function describeData(b: Uint8Array): string {
  return JSON.stringify(utf8.decode(b));
}

export function describeEntry(e: Entry): string {
  if (e.type === EntryType.ConfChange) {
    return `${e.term}/${e.index} EntryConfChange ${confChangeToString(decodeConfChange(e.data))}`;
  }
  return `${e.term}/${e.index} EntryNormal ${describeData(e.data)}`;
}

export function describeEntries(ents: readonly Entry[]): string {
  return ents.map(describeEntry).join('\n');
}

export function describeConfState(cs: ConfState): string {
  let s = `Voters:[${cs.voters.join(' ')}] VotersOutgoing:[${cs.votersOutgoing.join(' ')}] `
    + `Learners:[${cs.learners.join(' ')}] LearnersNext:[${cs.learnersNext.join(' ')}]`;
  if (cs.autoLeave) s += ' AutoLeave:true';
  return s;
}

export function describeSnapshot(s: Snapshot): string {
  const m = s.metadata;
  return `Index:${m.index} Term:${m.term} ConfState:${describeConfState(m.confState)}`;
}

export function describeHardState(hs: HardState): string {
  return `Term:${hs.term}${hs.vote !== NO_PEER ? ` Vote:${hs.vote}` : ''} Commit:${hs.commit}`;
}

export function describeSoftState(ss: SoftState): string {
  return `Lead:${ss.lead} State:${roleName(ss.role)}`;
}

export function describeMessage(m: Message): string {
  let s = `${m.from}->${m.to} ${messageTypeName(m.type)} Term:${m.term} Log:${m.logTerm}/${m.index}`;
  if (m.reject) s += ` Rejected (Hint: ${m.rejectHint})`;
  if (m.commit !== 0) s += ` Commit:${m.commit}`;
  if (m.entries.length > 0) s += ` Entries:[${m.entries.map(describeEntry).join(', ')}]`;
  if (m.snapshot !== null) s += ` Snapshot: ${describeSnapshot(m.snapshot)}`;
  if (m.context.length > 0) s += ` Context:${describeData(m.context)}`;
  return s;
}

/** Multi-line description of a Ready; "<empty Ready>" if there is nothing in it. */
export function describeReady(rd: Ready): string {
  const lines: string[] = [];
  if (rd.softState !== null) lines.push(describeSoftState(rd.softState));
  if (rd.hardState !== null) lines.push(`HardState ${describeHardState(rd.hardState)}`);
  for (const rs of rd.readStates) lines.push(`ReadState Index:${rs.index} Ctx:${describeData(rs.requestCtx)}`);
  if (rd.entries.length > 0) lines.push('Entries:', ...rd.entries.map(describeEntry));
  if (rd.snapshot !== null) lines.push(`Snapshot ${describeSnapshot(rd.snapshot)}`);
  if (rd.committedEntries.length > 0) lines.push('CommittedEntries:', ...rd.committedEntries.map(describeEntry));
  if (rd.messages.length > 0) lines.push('Messages:', ...rd.messages.map(describeMessage));
  if (lines.length === 0) return '<empty Ready>';
  return [`Ready MustSync=${rd.mustSync}:`, ...lines].join('\n');
}
