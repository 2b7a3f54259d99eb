/**
 * Opening the WAL: read every segment in order, verify every record, repair a torn tail of
 * the last segment, refuse anything else that is damaged, and rebuild the groups.
 *
 * - Last segment: the first record that is partial or fails its CRC ends the log. It and
 *   everything after it are cut off (ftruncate + fdatasync) and a warning names the file,
 *   offset and bytes dropped. This is what a crash during a write leaves behind; it cannot
 *   lose an acknowledged write in `always` mode, since every write that was acknowledged
 *   was fdatasynced before the next one started.
 * - Any other segment: the same damage is `CORRUPTION` naming file and offset. Segments
 *   are fdatasynced before the log rotates away from them, so they are never torn.
 * - A record with a valid CRC whose payload does not decode is `CORRUPTION` anywhere.
 * - Segment ids must be contiguous (GC deletes prefixes only).
 */
import { mkdir, open, readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { KvError } from '@shoal/common';
import { DecodeError } from './binary.js';
import type { GroupState } from './group.js';
import type { ResolvedWalOptions } from './options.js';
import { FORMAT_VERSION, readSegmentHeader } from './payload.js';
import { parseRecord, RecordType } from './record.js';
import { Replayer } from './replay.js';
import { createSegment, encodeSegmentHeader, listSegmentIds, segmentFileName, SegmentFile } from './segment.js';
import type { WalIo } from './segment.js';

export interface RecoveredLog {
  /** Ascending by id, handles open; the last one is where appends continue. */
  readonly segments: SegmentFile[];
  readonly groups: Map<number, GroupState>;
  /** Highest record sequence number used by replay. */
  readonly recordSeq: number;
  readonly tornBytes: number;
}

function corruption(file: string, offset: number, reason: string, cause?: unknown): KvError {
  return new KvError('CORRUPTION', `WAL segment ${file} at offset ${offset}: ${reason}`, { cause });
}

export async function recoverLog(opts: ResolvedWalOptions, io: WalIo): Promise<RecoveredLog> {
  await createDirDurably(opts.dir, io);
  const ids = await listSegmentIds(opts.dir);
  for (let k = 1; k < ids.length; k++) {
    if (ids[k] !== ids[k - 1]! + 1) {
      throw new KvError('CORRUPTION', `WAL segment ${segmentFileName(ids[k - 1]! + 1)} is missing in ${opts.dir}`);
    }
  }
  const replayer = new Replayer();
  const segments: SegmentFile[] = [];
  let tornBytes = 0;
  try {
    for (let k = 0; k < ids.length; k++) {
      const id = ids[k]!;
      const path = SegmentFile.path(opts.dir, id);
      const buf = await readFile(path);
      const isLast = k === ids.length - 1;
      const { validEnd, reason } = scanSegment(buf, id, isLast, replayer);
      const handle = await open(path, 'r+');
      segments.push(new SegmentFile(id, path, handle, buf.length));
      if (validEnd < buf.length) {
        tornBytes = buf.length - validEnd;
        opts.logger.warn({ file: path, offset: validEnd, droppedBytes: tornBytes, reason },
          'WAL: truncating the torn tail of the last segment');
        await io.truncate(handle, validEnd);
        await io.datasync(handle);
        segments[k]!.size = validEnd;
      }
    }
    await ensureActiveSegment(opts, io, segments);
  } catch (e) {
    await Promise.allSettled(segments.map((s) => s.handle.close()));
    throw e;
  }
  const problems = replayer.finish();
  if (problems.length > 0) {
    await Promise.allSettled(segments.map((s) => s.handle.close()));
    throw new KvError('CORRUPTION', `WAL replay in ${opts.dir}: ${problems.slice(0, 5).join('; ')}`);
  }
  return { segments, groups: replayer.groups, recordSeq: replayer.recordSeq, tornBytes };
}

/** Creates `dir` (and missing parents), fsyncing each new directory's parent. */
async function createDirDurably(dir: string, io: WalIo): Promise<void> {
  const created = await mkdir(dir, { recursive: true });
  if (created === undefined) return;
  const first = resolve(created);
  for (let d = resolve(dir); ; d = dirname(d)) {
    await io.syncDir(dirname(d));
    if (d === first || dirname(d) === d) break;
  }
}

/** A fresh directory gets segment 1; a last segment cut back to nothing gets its header again. */
async function ensureActiveSegment(opts: ResolvedWalOptions, io: WalIo, segments: SegmentFile[]): Promise<void> {
  const last = segments[segments.length - 1];
  if (last === undefined) {
    segments.push(await createSegment(opts.dir, 1, io));
  } else if (last.size === 0) {
    const header = encodeSegmentHeader(last.id);
    await io.writeAll(last.handle, [header], 0);
    await io.datasync(last.handle);
    last.size = header.length;
  }
}

/**
 * Replays one segment. Returns where its valid records end (short of the file's end only
 * for a torn last segment) and why.
 */
function scanSegment(
  buf: Buffer, id: number, isLast: boolean, replayer: Replayer,
): { validEnd: number; reason: string } {
  const file = segmentFileName(id);
  if (buf.length === 0 && !isLast) throw corruption(file, 0, 'empty segment');
  let pos = 0;
  while (pos < buf.length) {
    const r = parseRecord(buf, pos, buf.length);
    if (!r.ok) {
      if (isLast) return { validEnd: pos, reason: r.reason };
      throw corruption(file, pos, r.reason);
    }
    try {
      if (pos === 0) {
        checkHeader(file, id, r.type, buf, r.payloadStart, r.end);
      } else {
        replayer.apply(r.type, r.groupId, buf, r.payloadStart, r.end, { segment: id, offset: pos, length: r.end - pos });
      }
    } catch (e) {
      if (e instanceof DecodeError) throw corruption(file, pos, e.message, e);
      throw e;
    }
    pos = r.end;
  }
  return { validEnd: pos, reason: '' };
}

function checkHeader(file: string, id: number, type: RecordType, buf: Buffer, start: number, end: number): void {
  if (type !== RecordType.SegmentHeader) throw new DecodeError(`first record has type ${type}, not a segment header`);
  const h = readSegmentHeader(buf, start, end);
  if (h.version !== FORMAT_VERSION) {
    throw new KvError('INCOMPATIBLE_VERSION', `WAL segment ${file} has format version ${h.version}, `
      + `this build reads ${FORMAT_VERSION}`);
  }
  if (h.segmentId !== id) throw new DecodeError(`header names segment ${h.segmentId}`);
}
