/**
 * The one error type of the index. Callers branch on `code`, never on message text; each code is
 * documented in apps/index/README.md (to be merged into docs/errors.md).
 */
export const IndexErrorCode = {
  /** A malformed argument: bad id, slot, block id, dimension, query mode or serialised vector. */
  INVALID_INPUT: 'INVALID_INPUT',
  /** A vector, sealed record or id list larger than the configured limit. */
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  /** No index with this id. */
  INDEX_NOT_FOUND: 'INDEX_NOT_FOUND',
  /** An index with this id already exists. */
  INDEX_EXISTS: 'INDEX_EXISTS',
  /** The record id is live, being written, or was deleted: record ids are never reused. */
  DUPLICATE_RECORD: 'DUPLICATE_RECORD',
  /** Another live record already holds this (block, slot). */
  SLOT_OCCUPIED: 'SLOT_OCCUPIED',
  /** No live record with this id. */
  RECORD_NOT_FOUND: 'RECORD_NOT_FOUND',
  /** Stored data failed its checksum or is malformed somewhere other than a torn tail; it is never served. */
  STORAGE_CORRUPT: 'STORAGE_CORRUPT',
  /** A write or fsync failed; the store refuses further writes until it is reopened (and recovered). */
  STORAGE_FAILED: 'STORAGE_FAILED',
  /** The store was closed. */
  STORE_CLOSED: 'STORE_CLOSED',
  /**
   * A permit or ticket does not verify: malformed, wrong kind, untrusted key, bad signature, or
   * outside its validity window. The protocol reason is the `cause`; clients learn only this code.
   */
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  /**
   * A verified permit or ticket that does not authorise this request: another index, epoch,
   * parameter set, dimension or query, or more record ids than the ticket allows.
   */
  FORBIDDEN: 'FORBIDDEN',
  /** A single-use ticket was presented again, or was issued before this index process started. */
  REPLAYED: 'REPLAYED',
  /**
   * The ticket's expected result shape disagrees with the index: it holds live records in blocks
   * at or beyond `blockCount` (its state is ahead of the ticket), or the words per block differ.
   */
  SHAPE_MISMATCH: 'SHAPE_MISMATCH',
  /** The index refuses for now rather than weaken a guarantee (its replay guard is full). */
  OVERLOADED: 'OVERLOADED',
  /** The service was closed. */
  SERVICE_CLOSED: 'SERVICE_CLOSED',
} as const;

export type IndexErrorCode = (typeof IndexErrorCode)[keyof typeof IndexErrorCode];

export class IndexError extends Error {
  override readonly name = 'IndexError';
  readonly code: IndexErrorCode;

  constructor(code: IndexErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

export function isIndexError(err: unknown, code?: IndexErrorCode): err is IndexError {
  return err instanceof IndexError && (code === undefined || err.code === code);
}
