/**
 * Helpers shared by the WAL's tests (not a test file itself: the runner only picks up
 * `*.test.js`). Not exported from index.ts.
 */
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConfState, Entry, HardState, LogIndex, PeerId, SnapshotMetadata, Term } from '@shoal/raft-ts';
import type { WalGroupStorage } from './group-storage.js';
import type { WalLogger, WalOptions } from './options.js';
import { Wal } from './wal.js';

export const CONF: ConfState = { voters: [1 as PeerId, 2 as PeerId, 3 as PeerId], learners: [4 as PeerId],
  votersOutgoing: [], learnersNext: [], autoLeave: false };

export function ent(index: number, term: number, data: string | Uint8Array = `e${index}t${term}`): Entry {
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  return { index: index as LogIndex, term: term as Term, type: 0, data: bytes };
}

/** Entries lo..hi (inclusive) of one term. */
export function ents(lo: number, hi: number, term: number, dataBytes?: number): Entry[] {
  const out: Entry[] = [];
  for (let i = lo; i <= hi; i++) out.push(ent(i, term, dataBytes === undefined ? undefined : new Uint8Array(dataBytes).fill(i & 0xff)));
  return out;
}

export function hs(term: number, vote: number, commit: number): HardState {
  return { term: term as Term, vote: vote as PeerId, commit: commit as LogIndex };
}

export function snap(index: number, term: number, confState: ConfState = CONF): SnapshotMetadata {
  return { index: index as LogIndex, term: term as Term, confState };
}

export async function tempDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'shoal-wal-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Collects warnings so tests can check that a repair was logged. */
export class RecordingLogger implements WalLogger {
  readonly warnings: { o: object; m?: string }[] = [];
  info(): void {}
  warn(o: object, m?: string): void {
    this.warnings.push({ o, m });
  }
  error(): void {}
}

export function options(dir: string, extra: Partial<WalOptions> = {}): WalOptions {
  return { dir, segmentBytes: 64 * 1024, sync: 'always', syncIntervalMs: 10, entryCacheBytesMax: 1 << 20, ...extra };
}

export async function openWal(dir: string, extra: Partial<WalOptions> = {}): Promise<Wal> {
  return Wal.open(options(dir, extra));
}

/** The group's entries [lo, hi] read through raft-ts's Storage interface. */
export function readAll(s: WalGroupStorage, lo: number = s.firstIndex(), hi: number = s.lastIndex()): Entry[] {
  if (hi < lo) return [];
  const r = s.entries(lo as LogIndex, (hi + 1) as LogIndex, 0);
  if (!Array.isArray(r)) throw new Error(`entries(${lo}, ${hi + 1}) failed: ${String(r)}`);
  return r as Entry[];
}

/** Comparable form of entries (plain arrays, no Buffer/Uint8Array distinction). */
export function plain(es: readonly Entry[]): { index: number; term: number; type: number; data: number[] }[] {
  return es.map((e) => ({ index: e.index, term: e.term, type: e.type, data: [...e.data] }));
}

export async function segmentFiles(dir: string): Promise<{ name: string; bytes: number }[]> {
  const names = (await readdir(dir)).filter((n) => n.endsWith('.wal')).sort();
  return Promise.all(names.map(async (name) => ({ name, bytes: (await stat(join(dir, name))).size })));
}
