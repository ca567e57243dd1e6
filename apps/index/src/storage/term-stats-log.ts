import { createHash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { IndexError } from '../errors.js';
import { FILE_MODE, fsyncDir } from './durable-fs.js';

/**
 * One index's append-only log of sealed term-statistics deltas (`indexes/<id>/term-stats.log`).
 * The index cannot open a delta; it keeps them durable, in order, once per (kind, record).
 *
 * Entry layout (little-endian):
 *   magic u32 "RTS1" | bodyLength u32 | body | checksum 16 B = SHA-256(magic ‖ bodyLength ‖ body)[0..16]
 *   body = seq u64 | kind u8 (1 capture, 2 forget) | idLength u8 | recordId (ASCII) |
 *          sealedLength u32 | sealed
 * Sequence numbers start at 1 and increase by 1; an entry is acknowledged after its fdatasync.
 */
export const TERM_STATS_LOG_FILE = 'term-stats.log';
export const TERM_STATS_ENTRY_MAGIC = 0x31_53_54_52; // "RTS1" read as a little-endian u32
/** The client pads a delta to at most 128 KiB before sealing; the seal adds 29 bytes. */
export const MAX_SEALED_DELTA_BYTES = 128 * 1024 + 64;
const HEADER_BYTES = 8;
const CHECKSUM_BYTES = 16;
const MAX_ID_BYTES = 64;
const MAX_BODY_BYTES = 8 + 1 + 1 + MAX_ID_BYTES + 4 + MAX_SEALED_DELTA_BYTES;

export const DeltaKind = { CAPTURE: 'capture', FORGET: 'forget' } as const;
export type DeltaKind = (typeof DeltaKind)[keyof typeof DeltaKind];
const KIND_CODE: Readonly<Record<DeltaKind, number>> = { capture: 1, forget: 2 };

export interface StoredDelta {
  readonly seq: number;
  readonly kind: DeltaKind;
  readonly recordId: string;
  readonly sealed: Uint8Array;
}

export interface DeltaPage {
  readonly deltas: StoredDelta[];
  /** Highest sequence number stored. */
  readonly lastSeq: number;
}

export interface TermStatsLogLogger {
  warn(fields: Record<string, unknown>, message: string): void;
}

interface EntryRef {
  readonly offset: number;
  readonly length: number;
}

export class TermStatsLog {
  readonly #handle: FileHandle;
  readonly #entries: EntryRef[];
  /** `${kind}:${recordId}` of every stored or in-flight delta: each permit publishes at most once. */
  readonly #published: Set<string>;
  #size: number;
  #tail: Promise<unknown> = Promise.resolve();
  #failure: unknown;

  private constructor(handle: FileHandle, entries: EntryRef[], published: Set<string>, size: number) {
    this.#handle = handle;
    this.#entries = entries;
    this.#published = published;
    this.#size = size;
  }

  /**
   * Opens (creating it durably when absent) and verifies the log. A bad entry with no valid entry
   * after it is a torn tail and is cut; any other bad entry refuses the open (STORAGE_CORRUPT).
   */
  static async open(indexDir: string, logger?: TermStatsLogLogger): Promise<TermStatsLog> {
    const path = join(indexDir, TERM_STATS_LOG_FILE);
    let handle: FileHandle;
    try {
      handle = await open(path, 'r+');
    } catch (err: unknown) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      handle = await open(path, 'a+', FILE_MODE);
      await handle.close();
      await fsyncDir(indexDir);
      handle = await open(path, 'r+');
    }
    try {
      const bytes = await handle.readFile();
      const entries: EntryRef[] = [];
      const published = new Set<string>();
      let offset = 0;
      while (offset < bytes.byteLength) {
        const entry = parseEntryAt(bytes, offset);
        if (entry === undefined || entry.delta.seq !== entries.length + 1) {
          if (hasValidEntryAfter(bytes, offset + 1)) {
            throw new IndexError(
              'STORAGE_CORRUPT',
              `${path}: a bad entry at byte ${offset} precedes valid ones`,
            );
          }
          logger?.warn({ path, offset, cut: bytes.byteLength - offset }, 'cutting a torn term-stats tail');
          await handle.truncate(offset);
          await handle.sync();
          break;
        }
        entries.push({ offset, length: entry.length });
        published.add(publishedKey(entry.delta.kind, entry.delta.recordId));
        offset += entry.length;
      }
      return new TermStatsLog(handle, entries, published, offset);
    } catch (err: unknown) {
      await handle.close();
      throw err;
    }
  }

  get lastSeq(): number {
    return this.#entries.length;
  }

  /** Appends one delta durably and resolves with its sequence number; REPLAYED for a second one. */
  async append(kind: DeltaKind, recordId: string, sealed: Uint8Array): Promise<number> {
    const key = publishedKey(kind, recordId);
    if (this.#published.has(key)) {
      throw new IndexError('REPLAYED', `a ${kind} delta for ${recordId} is already stored`);
    }
    this.#published.add(key);
    const run = this.#tail.then(() => this.#write(kind, recordId, sealed));
    this.#tail = run.catch(() => undefined);
    try {
      return await run;
    } catch (err: unknown) {
      this.#published.delete(key);
      throw err;
    }
  }

  /** Deltas with seq > after, in order, at most `maxEntries` and about `maxBytes` of sealed bytes. */
  async read(after: number, maxEntries: number, maxBytes: number): Promise<DeltaPage> {
    const deltas: StoredDelta[] = [];
    const lastSeq = this.#entries.length;
    let bytes = 0;
    for (let seq = after + 1; seq <= lastSeq && deltas.length < maxEntries && bytes < maxBytes; seq++) {
      const ref = this.#entries[seq - 1];
      if (ref === undefined) break;
      const buffer = Buffer.alloc(ref.length);
      await this.#handle.read(buffer, 0, ref.length, ref.offset);
      const entry = parseEntryAt(buffer, 0);
      if (entry?.delta.seq !== seq) {
        throw new IndexError('STORAGE_CORRUPT', `term-stats entry ${seq} no longer verifies`);
      }
      deltas.push(entry.delta);
      bytes += entry.delta.sealed.byteLength;
    }
    return { deltas, lastSeq };
  }

  async close(): Promise<void> {
    await this.#tail;
    await this.#handle.close();
  }

  async #write(kind: DeltaKind, recordId: string, sealed: Uint8Array): Promise<number> {
    if (this.#failure !== undefined) {
      throw new IndexError('STORAGE_FAILED', 'the term-stats log failed earlier; restart the index', {
        cause: this.#failure,
      });
    }
    const seq = this.#entries.length + 1;
    const entry = encodeEntry({ seq, kind, recordId, sealed });
    try {
      await this.#handle.write(entry, 0, entry.byteLength, this.#size);
      await this.#handle.datasync();
    } catch (err: unknown) {
      // The file may now hold part of the entry; the next open cuts it as a torn tail.
      this.#failure = err;
      throw new IndexError('STORAGE_FAILED', 'term-stats append failed', { cause: err });
    }
    this.#entries.push({ offset: this.#size, length: entry.byteLength });
    this.#size += entry.byteLength;
    return seq;
  }
}

function publishedKey(kind: DeltaKind, recordId: string): string {
  return `${kind}:${recordId}`;
}

export function encodeEntry(delta: StoredDelta): Buffer {
  const id = Buffer.from(delta.recordId, 'ascii');
  if (id.byteLength === 0 || id.byteLength > MAX_ID_BYTES)
    throw new TypeError('record id must be 1..64 bytes');
  const bodyLength = 8 + 1 + 1 + id.byteLength + 4 + delta.sealed.byteLength;
  const out = Buffer.alloc(HEADER_BYTES + bodyLength + CHECKSUM_BYTES);
  out.writeUInt32LE(TERM_STATS_ENTRY_MAGIC, 0);
  out.writeUInt32LE(bodyLength, 4);
  let at = HEADER_BYTES;
  out.writeBigUInt64LE(BigInt(delta.seq), at);
  at += 8;
  out.writeUInt8(KIND_CODE[delta.kind], at++);
  out.writeUInt8(id.byteLength, at++);
  id.copy(out, at);
  at += id.byteLength;
  out.writeUInt32LE(delta.sealed.byteLength, at);
  at += 4;
  out.set(delta.sealed, at);
  at += delta.sealed.byteLength;
  checksum(out.subarray(0, at)).copy(out, at);
  return out;
}

function checksum(bytes: Uint8Array): Buffer {
  return createHash('sha256').update(bytes).digest().subarray(0, CHECKSUM_BYTES);
}

/** The entry at `offset` and its total length, or undefined when it is incomplete or fails its checksum. */
function parseEntryAt(bytes: Buffer, offset: number): { delta: StoredDelta; length: number } | undefined {
  if (bytes.byteLength - offset < HEADER_BYTES) return undefined;
  if (bytes.readUInt32LE(offset) !== TERM_STATS_ENTRY_MAGIC) return undefined;
  const bodyLength = bytes.readUInt32LE(offset + 4);
  if (bodyLength < 8 + 1 + 1 + 1 + 4 || bodyLength > MAX_BODY_BYTES) return undefined;
  const length = HEADER_BYTES + bodyLength + CHECKSUM_BYTES;
  if (bytes.byteLength - offset < length) return undefined;
  const bodyEnd = offset + HEADER_BYTES + bodyLength;
  if (!checksum(bytes.subarray(offset, bodyEnd)).equals(bytes.subarray(bodyEnd, bodyEnd + CHECKSUM_BYTES))) {
    return undefined;
  }
  let at = offset + HEADER_BYTES;
  const seq = Number(bytes.readBigUInt64LE(at));
  at += 8;
  const kindCode = bytes.readUInt8(at++);
  const kind = kindCode === 1 ? DeltaKind.CAPTURE : kindCode === 2 ? DeltaKind.FORGET : undefined;
  const idLength = bytes.readUInt8(at++);
  if (kind === undefined || idLength === 0 || idLength > MAX_ID_BYTES || !Number.isSafeInteger(seq)) {
    return undefined;
  }
  const recordId = bytes.subarray(at, at + idLength).toString('ascii');
  at += idLength;
  if (at + 4 > bodyEnd) return undefined;
  const sealedLength = bytes.readUInt32LE(at);
  at += 4;
  if (at + sealedLength !== bodyEnd) return undefined;
  const sealed = new Uint8Array(bytes.subarray(at, bodyEnd));
  return { delta: { seq, kind, recordId, sealed }, length };
}

/** Whether any offset at or past `from` starts a checksum-valid entry (a torn tail has none). */
function hasValidEntryAfter(bytes: Buffer, from: number): boolean {
  const magic = Buffer.alloc(4);
  magic.writeUInt32LE(TERM_STATS_ENTRY_MAGIC, 0);
  for (let at = bytes.indexOf(magic, from); at !== -1; at = bytes.indexOf(magic, at + 1)) {
    if (parseEntryAt(bytes, at) !== undefined) return true;
  }
  return false;
}
