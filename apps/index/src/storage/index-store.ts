import type { QueryMode } from '@rune/crypto';

/** What an index is: fixed at creation, never changed. */
export interface IndexDescriptor {
  readonly id: string;
  readonly paramSetId: number;
  readonly dim: number;
  readonly queryMode: QueryMode;
  readonly embedderId: string;
  /** ISO-8601 creation time. */
  readonly createdAt: string;
}

export type CreateIndexInput = Omit<IndexDescriptor, 'createdAt'>;

export interface AppendRecordInput {
  readonly indexId: string;
  readonly recordId: string;
  readonly blockId: number;
  readonly slot: number;
  /** A serialised EncryptedVector (`serializeEncryptedVector`) of the index's parameter set and dim. */
  readonly vector: Uint8Array;
  /** The AES-GCM-sealed record; opaque to the index. */
  readonly sealed: Uint8Array;
}

/** Where a live record's vector sits in the encrypted blocks. */
export interface RecordPlacement {
  readonly recordId: string;
  readonly blockId: number;
  readonly slot: number;
}

export interface LiveRecord extends RecordPlacement {
  /** The serialised EncryptedVector, checksum-verified. */
  readonly vector: Uint8Array;
}

export interface IndexStats {
  readonly recordCount: number;
  readonly deletedCount: number;
  /** Bytes of log on disk, tombstoned records included until compaction. */
  readonly logBytes: number;
  readonly vectorBytes: number;
  readonly sealedBytes: number;
}

/**
 * The index's storage, transport- and engine-neutral, so a PostgreSQL store can stand beside the
 * embedded one. Every mutating call resolves only once its effect is durable; a rejected call
 * changed nothing that later reads can see. Reads never return bytes that fail their checksum.
 */
export interface IndexStore {
  createIndex(input: CreateIndexInput): Promise<IndexDescriptor>;
  describeIndex(indexId: string): Promise<IndexDescriptor>;
  listIndexes(): Promise<readonly IndexDescriptor[]>;
  /** Resolves after the record is durable (fsync); record ids are never reused, even after delete. */
  appendRecord(input: AppendRecordInput): Promise<void>;
  /**
   * Durable tombstone. Read the vector with `getVector` first: the caller cancels its contribution
   * with `subtractFromBlock` at the returned placement once this resolves.
   */
  deleteRecord(indexId: string, recordId: string): Promise<RecordPlacement>;
  /** Sealed records of the ids that are live; unknown or deleted ids are absent from the map. */
  getSealed(indexId: string, recordIds: readonly string[]): Promise<ReadonlyMap<string, Uint8Array>>;
  /** The serialised vector of a live record (RECORD_NOT_FOUND otherwise). */
  getVector(indexId: string, recordId: string): Promise<Uint8Array>;
  /** Live records in append order, with their vectors; a snapshot taken when iteration starts. */
  liveRecords(indexId: string): AsyncIterable<LiveRecord>;
  stats(indexId: string): Promise<IndexStats>;
  close(): Promise<void>;
}
