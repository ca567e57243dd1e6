import { createHash } from 'node:crypto';
import {
  closeSync,
  constants,
  fdatasyncSync,
  fstatSync,
  ftruncateSync,
  openSync,
  readFileSync,
  writeSync,
} from 'node:fs';
import { OWNER_ONLY_FILE_MODE, errnoCode, writeBytesAtomicSync } from '../atomic-file.js';
import { VaultError, VaultErrorCode } from '../errors.js';
import { type LedgerRecord, intIn, isObject } from './ledger-state.js';

/** A ledger mutation as journalled. Tombstones are never journalled: they compact (crypto-shredding). */
export type JournalEntry =
  | { readonly op: 'allocate'; readonly records: readonly LedgerRecord[] }
  | { readonly op: 'confirm'; readonly recordId: string };

/** One checked journal line; `body` is raw JSON for the ledger to validate against its state. */
export interface JournalLine {
  readonly seq: number;
  /** 1-based, for error messages. */
  readonly lineNumber: number;
  readonly body: Record<string, unknown>;
}

export interface JournalContents {
  /** Lines with seq above the snapshot's journalSeq, in order, seq consecutive from journalSeq + 1. */
  readonly lines: readonly JournalLine[];
  /** Lines already folded into the snapshot: a compaction cut short before the journal was reset. */
  readonly staleLineCount: number;
  /** Bytes after the last newline: an append cut short by a crash, so never acknowledged. */
  readonly tornTailBytes: number;
}

const CHECKSUM_HEX_CHARS = 16;
/** `{"sum":"<16 hex>","entry":<body>}`: the checksum covers exactly the body's bytes. */
const LINE = /^\{"sum":"([0-9a-f]{16})","entry":(.*)\}$/s;
const NEWLINE = 0x0a;

function checksum(body: string): string {
  return createHash('sha256').update(body, 'utf8').digest('hex').slice(0, CHECKSUM_HEX_CHARS);
}

export function encodeJournalLine(seq: number, entry: JournalEntry): string {
  const body = JSON.stringify({ seq, ...entry });
  return `{"sum":"${checksum(body)}","entry":${body}}\n`;
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // Only called once the data is fdatasynced or rolled back; a failed close loses nothing.
  }
}

/**
 * The append-only half of a ledger, `ledger-<indexId>.journal` (JSON lines, mode 0600). Each
 * mutation is one line, fdatasynced before the mutation is acknowledged. A line is committed
 * once its newline is on disk: an unterminated last line is a crash mid-append and is dropped;
 * any other bad line, or a gap in the sequence, is STATE_CORRUPT (an acknowledged mutation
 * would otherwise be silently lost).
 */
export class LedgerJournal {
  readonly path: string;
  /** Set when a failed append could not be rolled back: the file's tail is unknown until a restart. */
  #isBroken = false;

  constructor(path: string) {
    this.path = path;
  }

  /** The lines after `afterSeq`; undefined when the file does not exist (a ledger from before journals). */
  read(afterSeq: number): JournalContents | undefined {
    let bytes: Buffer;
    try {
      bytes = readFileSync(this.path);
    } catch (err: unknown) {
      if (errnoCode(err) === 'ENOENT') return undefined;
      throw new VaultError(VaultErrorCode.STORAGE_FAILED, `could not read ${this.path}: ${String(err)}`, {
        cause: err,
      });
    }
    const committedBytes = bytes.lastIndexOf(NEWLINE) + 1;
    const texts = bytes.toString('utf8', 0, committedBytes).split('\n');
    texts.pop(); // the empty string after the final newline
    const lines: JournalLine[] = [];
    let staleLineCount = 0;
    let previousSeq: number | undefined;
    texts.forEach((lineText, i) => {
      const line = this.#parseLine(lineText, i + 1);
      const expectedSeq = previousSeq === undefined ? undefined : previousSeq + 1;
      if (expectedSeq !== undefined && line.seq !== expectedSeq) {
        throw this.corrupt(line.lineNumber, `sequence ${line.seq} follows ${previousSeq}`);
      }
      if (expectedSeq === undefined && line.seq > afterSeq + 1) {
        throw this.corrupt(line.lineNumber, `sequence ${line.seq}, but the snapshot ends at ${afterSeq}`);
      }
      previousSeq = line.seq;
      if (line.seq <= afterSeq) staleLineCount++;
      else lines.push(line);
    });
    return { lines, staleLineCount, tornTailBytes: bytes.byteLength - committedBytes };
  }

  #parseLine(lineText: string, lineNumber: number): JournalLine {
    const match = LINE.exec(lineText);
    const [, sum, body] = match ?? [];
    if (sum === undefined || body === undefined) throw this.corrupt(lineNumber, 'not a journal line');
    if (checksum(body) !== sum) throw this.corrupt(lineNumber, 'checksum mismatch');
    let raw: unknown;
    try {
      raw = JSON.parse(body);
    } catch (err: unknown) {
      throw this.corrupt(lineNumber, 'not valid JSON', err);
    }
    if (!isObject(raw)) throw this.corrupt(lineNumber, 'entry is not an object');
    try {
      return { seq: intIn(raw, 'seq', 'entry', 1, Number.MAX_SAFE_INTEGER), lineNumber, body: raw };
    } catch (err: unknown) {
      throw this.corrupt(lineNumber, err instanceof Error ? err.message : String(err), err);
    }
  }

  /**
   * Appends one entry and fdatasyncs it. On failure the file is cut back to its previous length,
   * so a partial line can never sit in front of the next one; if even that fails, every later
   * append is refused until a restart (whose load drops or keeps that line whole).
   */
  append(seq: number, entry: JournalEntry): void {
    if (this.#isBroken) {
      throw new VaultError(
        VaultErrorCode.STORAGE_FAILED,
        `${this.path} could not be rolled back after a failed write; restart the Vault`,
      );
    }
    const bytes = Buffer.from(encodeJournalLine(seq, entry), 'utf8');
    let fd: number;
    try {
      // No O_CREAT: the journal is created with the ledger, and the directory entry fsynced then.
      fd = openSync(this.path, constants.O_WRONLY | constants.O_APPEND);
    } catch (err: unknown) {
      throw this.#storageFailed(err);
    }
    let sizeBefore: number | undefined;
    try {
      sizeBefore = fstatSync(fd).size;
      let offset = 0;
      while (offset < bytes.length) offset += writeSync(fd, bytes, offset);
      fdatasyncSync(fd);
    } catch (err: unknown) {
      if (sizeBefore !== undefined) this.#rollBack(fd, sizeBefore);
      throw this.#storageFailed(err);
    } finally {
      closeQuietly(fd);
    }
  }

  #rollBack(fd: number, sizeBytes: number): void {
    try {
      ftruncateSync(fd, sizeBytes);
      fdatasyncSync(fd);
    } catch {
      this.#isBroken = true;
    }
  }

  /** Atomically replaces the journal with an empty file (after a snapshot has taken in its lines). */
  reset(): void {
    writeBytesAtomicSync(this.path, new Uint8Array(0), { overwrite: true, mode: OWNER_ONLY_FILE_MODE });
    this.#isBroken = false;
  }

  /** STATE_CORRUPT for the journal, at a 1-based line when there is one. */
  corrupt(lineNumber: number | undefined, detail: string, cause?: unknown): VaultError {
    const where = lineNumber === undefined ? '' : ` at line ${lineNumber}`;
    return new VaultError(
      VaultErrorCode.STATE_CORRUPT,
      `ledger journal ${this.path} is corrupt${where}: ${detail}. Refusing to start; ` +
        'restore the ledger from a backup (moving the journal aside loses acknowledged captures).',
      { reason: detail, cause },
    );
  }

  #storageFailed(err: unknown): VaultError {
    return new VaultError(VaultErrorCode.STORAGE_FAILED, `could not append to ${this.path}: ${String(err)}`, {
      cause: err,
    });
  }
}

/**
 * Opens a file about to be replaced by rename, so its old inode can be scrubbed afterwards.
 * Undefined when it does not exist or cannot be opened (scrubbing is best effort).
 */
export function openForScrub(path: string): number | undefined {
  try {
    return openSync(path, 'r+');
  } catch {
    return undefined;
  }
}

const SCRUB_CHUNK_BYTES = 1 << 20;

/**
 * SECURITY: best effort only. Overwrites a replaced (now unlinked) file with zeros before its
 * blocks are freed, so a shredded nonce does not linger in free space. On copy-on-write file
 * systems and SSDs the old blocks may survive anyway; the path-level guarantee (no live file
 * holds the nonce) does not depend on this.
 */
export function scrubAndClose(fd: number | undefined): void {
  if (fd === undefined) return;
  try {
    const { size: sizeBytes, nlink } = fstatSync(fd);
    // Only an inode that was replaced: zeroing a file still in place would destroy the ledger.
    if (nlink !== 0) return;
    const zeros = Buffer.alloc(Math.min(sizeBytes, SCRUB_CHUNK_BYTES));
    for (let position = 0; position < sizeBytes;) {
      position += writeSync(fd, zeros, 0, Math.min(zeros.length, sizeBytes - position), position);
    }
    fdatasyncSync(fd);
  } catch {
    // Best effort, see above.
  } finally {
    closeQuietly(fd);
  }
}

export function closeForScrub(fd: number | undefined): void {
  if (fd !== undefined) closeQuietly(fd);
}
