/**
 * Message construction and classification. Every message is built by `newMessage` so all
 * messages share one object shape (fast property access in V8) and no field is left unset.
 */
import type { Entry, Message, PeerId, Term } from './types.js';
import { MessageType } from './types.js';
import type { LogIndex } from './types.js';

/** A message under construction inside raft-ts; handed out as the readonly `Message`. */
export type MutableMessage = { -readonly [K in keyof Message]: Message[K] };

/** Why a peer campaigns: pre-vote round, real election, or leadership transfer. */
export const CampaignType = { PreElection: 0, Election: 1, Transfer: 2 } as const;
export type CampaignType = (typeof CampaignType)[keyof typeof CampaignType];

export const EMPTY_BYTES = new Uint8Array(0);
export const EMPTY_ENTRIES: readonly Entry[] = Object.freeze([]);

/**
 * Marks a Vote sent because of a leadership transfer: voters grant it even while they
 * believe a leader holds the lease, since the leader itself asked for the transfer.
 */
export const CAMPAIGN_TRANSFER_CONTEXT = new Uint8Array([0x43, 0x54]); // "CT"

export function newMessage(type: MessageType, to: PeerId, from: PeerId, term: Term): MutableMessage {
  return {
    type, to, from, term,
    logTerm: 0 as Term,
    index: 0 as LogIndex,
    entries: EMPTY_ENTRIES,
    commit: 0 as LogIndex,
    snapshot: null,
    reject: false,
    rejectHint: 0 as LogIndex,
    context: EMPTY_BYTES,
  };
}

/** Messages a node generates for itself; peers must never send them (RawNode.step rejects them). */
export function isLocalMsg(t: MessageType): boolean {
  return t === MessageType.Hup || t === MessageType.Beat || t === MessageType.Unreachable
    || t === MessageType.SnapStatus || t === MessageType.CheckQuorum;
}

/** Responses are only meaningful from peers the leader tracks. */
export function isResponseMsg(t: MessageType): boolean {
  return t === MessageType.AppResp || t === MessageType.VoteResp || t === MessageType.HeartbeatResp
    || t === MessageType.Unreachable || t === MessageType.ReadIndexResp || t === MessageType.PreVoteResp;
}

export function voteRespType(t: MessageType): MessageType {
  return t === MessageType.PreVote ? MessageType.PreVoteResp : MessageType.VoteResp;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const TYPE_NAMES: readonly string[] = (() => {
  const names: string[] = [];
  for (const [k, v] of Object.entries(MessageType)) names[v] = 'Msg' + k;
  return names;
})();

export function messageTypeName(t: MessageType): string {
  return TYPE_NAMES[t] ?? `MsgUnknown(${t})`;
}
