import type { FileHandle } from 'node:fs/promises';
import { IndexError } from '../errors.js';
import {
  ENTRY_HEADER_BYTES,
  checksumMatches,
  entryChecksum,
  isEntryKind,
  readEntryHeader,
  type EntryKind,
} from './log-format.js';

export interface ScannedEntry {
  readonly kind: EntryKind;
  /** File offset of the entry header; the payload starts ENTRY_HEADER_BYTES later. */
  readonly offset: number;
  readonly payload: Buffer;
}

export interface ScanResult {
  /** Bytes of valid entries from the start of the segment. */
  readonly validBytes: number;
  /** Why the scan stopped before the end of the file, when it did. */
  readonly stopReason?: string;
}

interface SegmentRef {
  readonly indexId: string;
  readonly segment: number;
  readonly path: string;
  readonly size: number;
  readonly salt: Uint8Array;
  readonly maxPayloadBytes: number;
}

export async function readExactly(handle: FileHandle, position: number, length: number): Promise<Buffer> {
  const out = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(out, done, length - done, position + done);
    if (bytesRead === 0) throw new Error(`unexpected end of file at ${position + done}`);
    done += bytesRead;
  }
  return out;
}

/** The entry at `offset` if it is complete and its checksum holds, else the reason it is not. */
async function readValidEntry(
  handle: FileHandle,
  ref: SegmentRef,
  offset: number,
): Promise<ScannedEntry | string> {
  if (ref.size - offset < ENTRY_HEADER_BYTES) return 'truncated entry header';
  const header = readEntryHeader(await readExactly(handle, offset, ENTRY_HEADER_BYTES));
  if (header === undefined) return 'bad entry magic';
  if (!isEntryKind(header.kind)) return `unknown entry kind ${header.kind}`;
  if (header.length > ref.maxPayloadBytes) return `entry length ${header.length} over the limit`;
  if (offset + ENTRY_HEADER_BYTES + header.length > ref.size) return 'entry runs past end of file';
  const payload = await readExactly(handle, offset + ENTRY_HEADER_BYTES, header.length);
  const expected = entryChecksum(ref.salt, ref.segment, offset, header.kind, payload);
  if (!checksumMatches(expected, header.checksum)) return 'checksum mismatch';
  return { kind: header.kind, offset, payload };
}

/** Whether any valid entry starts after `from`: if so the damage is not a torn tail. */
async function hasValidEntryAfter(handle: FileHandle, ref: SegmentRef, from: number): Promise<boolean> {
  const rest = await readExactly(handle, from, ref.size - from);
  for (let i = 1; i + ENTRY_HEADER_BYTES <= rest.length; i++) {
    if (rest[i] !== 0x52 || rest[i + 1] !== 0x4e || rest[i + 2] !== 0x4c || rest[i + 3] !== 0x31) continue;
    const entry = await readValidEntry(handle, ref, from + i);
    if (typeof entry !== 'string') return true;
  }
  return false;
}

/**
 * Reads a segment entry by entry. A bad entry followed only by bytes that hold no valid entry is a
 * torn tail: the scan stops there (the caller truncates). A bad entry anywhere else, or in a sealed
 * segment, is corruption of acknowledged data and fails with STORAGE_CORRUPT: nothing is served
 * and nothing after it is silently dropped.
 */
export async function scanSegment(
  handle: FileHandle,
  ref: SegmentRef,
  isLastSegment: boolean,
  onEntry: (entry: ScannedEntry) => void,
): Promise<ScanResult> {
  let offset = 0;
  while (offset < ref.size) {
    const entry = await readValidEntry(handle, ref, offset);
    if (typeof entry === 'string') {
      const where = `index ${ref.indexId}, ${ref.path} at offset ${offset}`;
      if (!isLastSegment || (await hasValidEntryAfter(handle, ref, offset))) {
        throw new IndexError(
          'STORAGE_CORRUPT',
          `${where}: ${entry}, and valid entries follow; refusing to open (restore from backup or repair)`,
        );
      }
      return { validBytes: offset, stopReason: entry };
    }
    onEntry(entry);
    offset += ENTRY_HEADER_BYTES + entry.payload.length;
  }
  return { validBytes: offset };
}
