/**
 * The wire form of a `ConfChange` (stored as the data of a ConfChange log entry) and small
 * predicates about what a change asks for.
 *
 * Format (version 1): [version=1][transition][count: varint]{[type][peerId: varint]}*
 * [contextLength: varint][context bytes]. Varints are unsigned LEB128 up to 2^53-1, written
 * with arithmetic rather than bitwise ops so ids above 2^31 survive.
 */
import { assert } from './assert.js';
import type { ConfChange, ConfChangeSingle, PeerId } from './types.js';
import { ConfChangeTransition, ConfChangeType } from './types.js';

const FORMAT_VERSION = 1;
/** Bounds decode work on corrupt input; far more than any sane change. */
const CHANGES_MAX = 1024;

export function encodeConfChange(cc: ConfChange): Uint8Array {
  assert(cc.changes.length <= CHANGES_MAX, `conf change has ${cc.changes.length} > ${CHANGES_MAX} changes`);
  const out: number[] = [FORMAT_VERSION, cc.transition];
  writeVarint(out, cc.changes.length);
  for (const ch of cc.changes) {
    out.push(ch.type);
    writeVarint(out, ch.peerId);
  }
  writeVarint(out, cc.context.length);
  const b = new Uint8Array(out.length + cc.context.length);
  b.set(out, 0);
  b.set(cc.context, out.length);
  return b;
}

/** Decodes what encodeConfChange wrote. Corrupt input is a programmer error (it came from our log). */
export function decodeConfChange(b: Uint8Array): ConfChange {
  const r = { pos: 0 };
  assert(readByte(b, r) === FORMAT_VERSION, 'conf change: unknown format version');
  const transition = readByte(b, r);
  assert(isTransition(transition), `conf change: bad transition ${transition}`);
  const n = readVarint(b, r);
  assert(n <= CHANGES_MAX, `conf change: ${n} changes exceeds ${CHANGES_MAX}`);
  const changes: ConfChangeSingle[] = [];
  for (let i = 0; i < n; i++) {
    const type = readByte(b, r);
    assert(isChangeType(type), `conf change: bad change type ${type}`);
    changes.push({ type, peerId: readVarint(b, r) as PeerId });
  }
  const ctxLen = readVarint(b, r);
  assert(r.pos + ctxLen === b.length, 'conf change: length mismatch');
  return { transition, changes, context: b.slice(r.pos, r.pos + ctxLen) };
}

/** An empty change list asks to leave the current joint configuration. */
export function isLeaveJoint(cc: ConfChange): boolean {
  return cc.changes.length === 0;
}

/**
 * Whether applying `cc` enters a joint configuration (as opposed to a one-step change).
 * Auto uses joint consensus only when several voters' roles change at once.
 */
export function entersJoint(cc: ConfChange): boolean {
  if (cc.changes.length === 0) return false;
  return cc.transition !== ConfChangeTransition.Auto || cc.changes.length > 1;
}

/** Whether a joint configuration entered by `cc` is left automatically once committed. */
export function autoLeaves(cc: ConfChange): boolean {
  return cc.transition !== ConfChangeTransition.JointExplicit;
}

export function confChangeToString(cc: ConfChange): string {
  if (cc.changes.length === 0) return 'leave-joint';
  const parts = cc.changes.map((c) => changeLetter(c.type) + String(c.peerId));
  const t = cc.transition === ConfChangeTransition.Auto ? ''
    : cc.transition === ConfChangeTransition.JointImplicit ? ' (implicit)' : ' (explicit)';
  return parts.join(' ') + t;
}

function changeLetter(t: ConfChangeType): string {
  switch (t) {
    case ConfChangeType.AddNode: return 'v';
    case ConfChangeType.RemoveNode: return 'r';
    case ConfChangeType.AddLearnerNode: return 'l';
  }
}

function isTransition(t: number): t is ConfChangeTransition {
  return t === ConfChangeTransition.Auto || t === ConfChangeTransition.JointImplicit
    || t === ConfChangeTransition.JointExplicit;
}

function isChangeType(t: number): t is ConfChangeType {
  return t === ConfChangeType.AddNode || t === ConfChangeType.RemoveNode || t === ConfChangeType.AddLearnerNode;
}

function writeVarint(out: number[], v: number): void {
  assert(Number.isSafeInteger(v) && v >= 0, `varint out of range: ${v}`);
  while (v >= 0x80) {
    out.push((v % 0x80) + 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
}

function readByte(b: Uint8Array, r: { pos: number }): number {
  const v = b[r.pos];
  assert(v !== undefined, 'conf change: truncated');
  r.pos++;
  return v;
}

function readVarint(b: Uint8Array, r: { pos: number }): number {
  let v = 0;
  let mul = 1;
  for (let i = 0; i < 8; i++) {
    const byte = readByte(b, r);
    v += (byte & 0x7f) * mul;
    if (byte < 0x80) {
      assert(Number.isSafeInteger(v), 'conf change: varint overflow');
      return v;
    }
    mul *= 0x80;
  }
  assert(false, 'conf change: varint too long');
}
