import { randomBytes } from 'node:crypto';
import { open, readFile, readdir, rename, rm, mkdir, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { getParamSet, HEADER_BYTES, ObjectKind, payloadBytes } from '@rune/crypto';
import { IndexError } from '../errors.js';
import { DIR_MODE, createEmptyFile, ensureDir, fsyncDir, writeFileAtomic } from './durable-fs.js';
import type {
  AppendRecordInput,
  CreateIndexInput,
  IndexDescriptor,
  IndexStats,
  IndexStore,
  LiveRecord,
  RecordPlacement,
} from './index-store.js';
import {
  ENTRY_HEADER_BYTES,
  EntryKind,
  decodeRecordPayload,
  decodeTombstonePayload,
  digestOf,
  encodeEntry,
  encodeRecordPayload,
  encodeTombstonePayload,
  checksumMatches,
} from './log-format.js';
import { readExactly, scanSegment, type ScannedEntry } from './segment-scan.js';
import {
  DEFAULT_MAX_SEALED_BYTES,
  MAX_IDS_PER_FETCH,
  assertId,
  validateAppend,
  validateCreateIndex,
} from './validate.js';

/** pino-compatible subset, so the app's logger can be passed straight in. */
export interface StorageLogger {
  warn(fields: Record<string, unknown>, message: string): void;
}

export interface EmbeddedStoreOptions {
  readonly dataDir: string;
  readonly logger?: StorageLogger;
  readonly now?: () => Date;
  readonly maxSealedBytes?: number;
  /** A segment is closed and a new one started once it would grow past this. */
  readonly segmentMaxBytes?: number;
}

/** A torn tail cut off during recovery. */
export interface RecoveryEvent {
  readonly indexId: string;
  readonly segment: number;
  readonly offset: number;
  readonly discardedBytes: number;
  readonly reason: string;
}

const META_FILE = 'meta.json';
const META_VERSION = 1;
const SALT_BYTES = 16;
const STAGING_PREFIX = '.staging-';
const SEGMENT_PATTERN = /^log-(\d{8})\.seg$/;
const DEFAULT_SEGMENT_MAX_BYTES = 256 * 1024 * 1024;

const stderrLogger: StorageLogger = {
  warn(fields, message) {
    process.stderr.write(`${JSON.stringify({ level: 'warn', ...fields, msg: message })}\n`);
  },
};

interface Segment {
  readonly number: number;
  readonly path: string;
  readonly handle: FileHandle;
  size: number;
}

/** A live record's bytes in the log, with digests to re-verify every read. */
interface RecordLocation {
  readonly blockId: number;
  readonly slot: number;
  readonly segment: Segment;
  readonly sealedPos: number;
  readonly sealedLength: number;
  readonly sealedDigest: Buffer;
  readonly vectorPos: number;
  readonly vectorLength: number;
  readonly vectorDigest: Buffer;
}

interface PendingWrite {
  readonly kind: EntryKind;
  readonly payload: Buffer;
  readonly apply: (segment: Segment, entryOffset: number) => void;
  readonly release: () => void;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

interface IndexState {
  readonly descriptor: IndexDescriptor;
  readonly dir: string;
  readonly salt: Buffer;
  readonly segments: Segment[];
  /** Live records; Map order is append order. */
  readonly records: Map<string, RecordLocation>;
  readonly deleted: Set<string>;
  /** (block, slot) → record id of the live record there. */
  readonly slots: Map<number, string>;
  readonly pendingIds: Set<string>;
  readonly pendingSlots: Set<number>;
  readonly pendingDeletes: Set<string>;
  queue: PendingWrite[];
  flushing: Promise<void> | undefined;
  /** Set after a failed write or fsync: what reached the disk is unknown until reopen. */
  failure: IndexError | undefined;
  vectorBytes: number;
  sealedBytes: number;
}

function slotKey(blockId: number, slot: number): number {
  return blockId * 256 + slot;
}

function segmentName(n: number): string {
  return `log-${String(n).padStart(8, '0')}.seg`;
}

function maxPayloadBytes(descriptor: IndexDescriptor, maxSealedBytes: number): number {
  const params = getParamSet(descriptor.paramSetId);
  const vector = HEADER_BYTES + payloadBytes(ObjectKind.ENCRYPTED_VECTOR, params, descriptor.dim, false);
  return 1 + 64 + 4 + 1 + 4 + maxSealedBytes + 4 + vector;
}

function parseMeta(text: string, dirName: string): { descriptor: IndexDescriptor; salt: Buffer } {
  const bad = (why: string): IndexError =>
    new IndexError('STORAGE_CORRUPT', `index ${dirName}: ${META_FILE} ${why}`);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err: unknown) {
    throw new IndexError('STORAGE_CORRUPT', `index ${dirName}: ${META_FILE} is not JSON`, { cause: err });
  }
  if (typeof raw !== 'object' || raw === null) throw bad('is not an object');
  const m = raw as Record<string, unknown>;
  if (m['formatVersion'] !== META_VERSION) throw bad(`has unknown format version`);
  const salt = typeof m['salt'] === 'string' ? Buffer.from(m['salt'], 'base64') : Buffer.alloc(0);
  if (salt.length !== SALT_BYTES) throw bad('has a bad salt');
  if (typeof m['createdAt'] !== 'string' || Number.isNaN(Date.parse(m['createdAt']))) {
    throw bad('has a bad creation time');
  }
  const descriptor = {
    id: m['id'],
    paramSetId: m['paramSetId'],
    dim: m['dim'],
    queryMode: m['queryMode'],
    embedderId: m['embedderId'],
    createdAt: m['createdAt'],
  } as IndexDescriptor;
  try {
    validateCreateIndex(descriptor);
  } catch (err: unknown) {
    throw new IndexError('STORAGE_CORRUPT', `index ${dirName}: ${META_FILE} is invalid`, { cause: err });
  }
  if (descriptor.id !== dirName) throw bad('names another index');
  return { descriptor: Object.freeze(descriptor), salt };
}

/**
 * The default IndexStore: one directory per index under `<dataDir>/indexes`, holding `meta.json`
 * (written atomically) and append-only log segments. One process at a time may open a data dir.
 */
export class EmbeddedStore implements IndexStore {
  readonly #indexesDir: string;
  readonly #logger: StorageLogger;
  readonly #now: () => Date;
  readonly #maxSealedBytes: number;
  readonly #segmentMaxBytes: number;
  readonly #indexes = new Map<string, IndexState>();
  readonly #creating = new Set<string>();
  readonly #recoveryEvents: RecoveryEvent[] = [];
  #isClosed = false;

  private constructor(options: EmbeddedStoreOptions) {
    this.#indexesDir = join(options.dataDir, 'indexes');
    this.#logger = options.logger ?? stderrLogger;
    this.#now = options.now ?? (() => new Date());
    this.#maxSealedBytes = options.maxSealedBytes ?? DEFAULT_MAX_SEALED_BYTES;
    this.#segmentMaxBytes = options.segmentMaxBytes ?? DEFAULT_SEGMENT_MAX_BYTES;
  }

  /** Opens (creating if needed) the store and recovers every index; torn tails are cut and logged. */
  static async open(options: EmbeddedStoreOptions): Promise<EmbeddedStore> {
    const store = new EmbeddedStore(options);
    await ensureDir(options.dataDir);
    await ensureDir(store.#indexesDir);
    try {
      for (const name of (await readdir(store.#indexesDir)).sort()) {
        if (name.startsWith(STAGING_PREFIX)) {
          // An index creation interrupted before its rename: it was never acknowledged.
          await rm(join(store.#indexesDir, name), { recursive: true, force: true });
          continue;
        }
        await store.#loadIndex(name);
      }
    } catch (err: unknown) {
      await store.close();
      throw err;
    }
    return store;
  }

  /** Torn tails cut off while opening, for tests and health reporting. */
  get recoveryEvents(): readonly RecoveryEvent[] {
    return this.#recoveryEvents;
  }

  async createIndex(input: CreateIndexInput): Promise<IndexDescriptor> {
    this.#assertOpen();
    validateCreateIndex(input);
    if (this.#indexes.has(input.id) || this.#creating.has(input.id)) {
      throw new IndexError('INDEX_EXISTS', `index ${input.id} already exists`);
    }
    const descriptor: IndexDescriptor = Object.freeze({
      id: input.id,
      paramSetId: input.paramSetId,
      dim: input.dim,
      queryMode: input.queryMode,
      embedderId: input.embedderId,
      createdAt: this.#now().toISOString(),
    });
    const salt = randomBytes(SALT_BYTES);
    const staging = join(this.#indexesDir, `${STAGING_PREFIX}${input.id}-${randomBytes(4).toString('hex')}`);
    const finalDir = join(this.#indexesDir, input.id);
    this.#creating.add(input.id);
    try {
      await mkdir(staging, { mode: DIR_MODE });
      const meta = { formatVersion: META_VERSION, ...descriptor, salt: salt.toString('base64') };
      await writeFileAtomic(join(staging, META_FILE), Buffer.from(`${JSON.stringify(meta, null, 2)}\n`));
      await createEmptyFile(join(staging, segmentName(1)));
      try {
        // rename(2) onto a non-empty directory fails, so an index is never overwritten.
        await rename(staging, finalDir);
      } catch (err: unknown) {
        await rm(staging, { recursive: true, force: true });
        throw new IndexError('INDEX_EXISTS', `index ${input.id} already exists`, { cause: err });
      }
      await fsyncDir(this.#indexesDir);
      const path = join(finalDir, segmentName(1));
      const segment: Segment = { number: 1, path, handle: await open(path, 'r+'), size: 0 };
      this.#indexes.set(input.id, newState(descriptor, finalDir, salt, [segment]));
      return descriptor;
    } finally {
      this.#creating.delete(input.id);
    }
  }

  describeIndex(indexId: string): Promise<IndexDescriptor> {
    return Promise.resolve().then(() => this.#index(indexId).descriptor);
  }

  listIndexes(): Promise<readonly IndexDescriptor[]> {
    return Promise.resolve().then(() => {
      this.#assertOpen();
      return [...this.#indexes.values()].map((s) => s.descriptor);
    });
  }

  appendRecord(input: AppendRecordInput): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const state = this.#writableIndex(input.indexId);
      validateAppend(input, state.descriptor, this.#maxSealedBytes);
      const { recordId, blockId, slot } = input;
      if (state.records.has(recordId) || state.pendingIds.has(recordId) || state.deleted.has(recordId)) {
        throw new IndexError('DUPLICATE_RECORD', `record ${recordId} exists or existed in this index`);
      }
      const key = slotKey(blockId, slot);
      if (state.slots.has(key) || state.pendingSlots.has(key)) {
        throw new IndexError('SLOT_OCCUPIED', `slot ${slot} of block ${blockId} holds a live record`);
      }
      // Copied now: the caller may reuse its buffers as soon as this returns.
      const payload = encodeRecordPayload(recordId, blockId, slot, input.sealed, input.vector);
      state.pendingIds.add(recordId);
      state.pendingSlots.add(key);
      this.#enqueue(state, {
        kind: EntryKind.RECORD,
        payload,
        apply: (segment, entryOffset) => {
          const decoded = decodeRecordPayload(payload);
          if (decoded === undefined) throw new Error('unreachable: record payload we encoded');
          addRecord(state, segment, entryOffset, payload, decoded);
        },
        release: () => {
          state.pendingIds.delete(recordId);
          state.pendingSlots.delete(key);
        },
        resolve,
        reject,
      });
    });
  }

  deleteRecord(indexId: string, recordId: string): Promise<RecordPlacement> {
    return new Promise<RecordPlacement>((resolve, reject) => {
      const state = this.#writableIndex(indexId);
      assertId('record', recordId);
      const location = state.records.get(recordId);
      if (location === undefined || state.pendingDeletes.has(recordId)) {
        throw new IndexError('RECORD_NOT_FOUND', `no live record ${recordId} in index ${indexId}`);
      }
      state.pendingDeletes.add(recordId);
      this.#enqueue(state, {
        kind: EntryKind.TOMBSTONE,
        payload: encodeTombstonePayload(recordId),
        apply: () => {
          removeRecord(state, recordId);
        },
        release: () => state.pendingDeletes.delete(recordId),
        resolve: () => {
          resolve({ recordId, blockId: location.blockId, slot: location.slot });
        },
        reject,
      });
    });
  }

  async getSealed(indexId: string, recordIds: readonly string[]): Promise<ReadonlyMap<string, Uint8Array>> {
    const state = this.#index(indexId);
    if (recordIds.length > MAX_IDS_PER_FETCH) {
      throw new IndexError('PAYLOAD_TOO_LARGE', `at most ${MAX_IDS_PER_FETCH} record ids per fetch`);
    }
    for (const id of recordIds) assertId('record', id);
    const out = new Map<string, Uint8Array>();
    for (const id of recordIds) {
      const loc = state.records.get(id);
      if (loc === undefined || out.has(id)) continue;
      out.set(id, await readVerified(state, loc.segment, loc.sealedPos, loc.sealedLength, loc.sealedDigest));
    }
    return out;
  }

  async getVector(indexId: string, recordId: string): Promise<Uint8Array> {
    const state = this.#index(indexId);
    assertId('record', recordId);
    const loc = state.records.get(recordId);
    if (loc === undefined) {
      throw new IndexError('RECORD_NOT_FOUND', `no live record ${recordId} in index ${indexId}`);
    }
    return readVerified(state, loc.segment, loc.vectorPos, loc.vectorLength, loc.vectorDigest);
  }

  async *liveRecords(indexId: string): AsyncIterable<LiveRecord> {
    const state = this.#index(indexId);
    const snapshot = [...state.records];
    for (const [recordId, loc] of snapshot) {
      if (state.records.get(recordId) !== loc) continue;
      const vector = await readVerified(
        state,
        loc.segment,
        loc.vectorPos,
        loc.vectorLength,
        loc.vectorDigest,
      );
      yield { recordId, blockId: loc.blockId, slot: loc.slot, vector };
    }
  }

  stats(indexId: string): Promise<IndexStats> {
    return Promise.resolve().then(() => {
      const state = this.#index(indexId);
      return {
        recordCount: state.records.size,
        deletedCount: state.deleted.size,
        logBytes: state.segments.reduce((sum, s) => sum + s.size, 0),
        vectorBytes: state.vectorBytes,
        sealedBytes: state.sealedBytes,
      };
    });
  }

  /** Waits for queued writes, then closes every file. Idempotent. */
  async close(): Promise<void> {
    this.#isClosed = true;
    for (const state of this.#indexes.values()) {
      while (state.flushing !== undefined) await state.flushing;
      for (const segment of state.segments) await segment.handle.close();
    }
    this.#indexes.clear();
  }

  #assertOpen(): void {
    if (this.#isClosed) throw new IndexError('STORE_CLOSED', 'the store is closed');
  }

  #index(indexId: string): IndexState {
    this.#assertOpen();
    assertId('index', indexId);
    const state = this.#indexes.get(indexId);
    if (state === undefined) throw new IndexError('INDEX_NOT_FOUND', `no index ${indexId}`);
    return state;
  }

  #writableIndex(indexId: string): IndexState {
    const state = this.#index(indexId);
    if (state.failure !== undefined) throw state.failure;
    return state;
  }

  #enqueue(state: IndexState, write: PendingWrite): void {
    state.queue.push(write);
    state.flushing ??= this.#flush(state);
  }

  /**
   * Group commit: every write queued while the previous fsync ran goes out in one write and one
   * fsync. State changes only after the fsync, so readers never see an unacknowledged record.
   */
  async #flush(state: IndexState): Promise<void> {
    // Let the appends issued in this same tick join the first batch.
    await Promise.resolve();
    while (state.queue.length > 0) {
      const batch = state.queue;
      state.queue = [];
      try {
        let segment = state.segments[state.segments.length - 1];
        if (segment === undefined) throw new Error('index has no segment');
        const batchBytes = batch.reduce((sum, w) => sum + ENTRY_HEADER_BYTES + w.payload.length, 0);
        if (segment.size > 0 && segment.size + batchBytes > this.#segmentMaxBytes) {
          segment = await startSegment(state, segment.number + 1);
        }
        const offsets: number[] = [];
        let position = segment.size;
        const entries = batch.map((w) => {
          const entry = encodeEntry(state.salt, segment.number, position, w.kind, w.payload);
          offsets.push(position);
          position += entry.length;
          return entry;
        });
        await writeAll(segment.handle, Buffer.concat(entries), segment.size);
        await segment.handle.datasync();
        segment.size = position;
        batch.forEach((w, i) => {
          w.release();
          w.apply(segment, offsets[i] ?? 0);
          w.resolve();
        });
      } catch (err: unknown) {
        // After a failed write or fsync the file's content is unknown (and Linux may drop the dirty
        // pages): refuse writes until a reopen has recovered from what the disk really holds.
        state.failure = new IndexError(
          'STORAGE_FAILED',
          `index ${state.descriptor.id}: a log write failed; reopen the store`,
          { cause: err },
        );
        this.#logger.warn({ indexId: state.descriptor.id, err: String(err) }, 'log write failed');
        for (const w of [...batch, ...state.queue]) {
          w.release();
          w.reject(state.failure);
        }
        state.queue = [];
      }
    }
    // Cleared in the same tick as the empty-queue check, so a later enqueue starts a new flush.
    state.flushing = undefined;
  }

  async #loadIndex(name: string): Promise<void> {
    const dir = join(this.#indexesDir, name);
    let metaText: string;
    try {
      metaText = await readFile(join(dir, META_FILE), 'utf8');
    } catch (err: unknown) {
      throw new IndexError('STORAGE_CORRUPT', `index directory ${name} has no readable ${META_FILE}`, {
        cause: err,
      });
    }
    const { descriptor, salt } = parseMeta(metaText, name);
    const files = await readdir(dir);
    for (const f of files) if (f.startsWith('.tmp-')) await rm(join(dir, f), { force: true });
    const numbers = files
      .map((f) => SEGMENT_PATTERN.exec(f)?.[1])
      .filter((n): n is string => n !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
    if (numbers.length === 0 || numbers.some((n, i) => n !== i + 1)) {
      throw new IndexError('STORAGE_CORRUPT', `index ${name}: log segments missing or not contiguous`);
    }
    const state = newState(descriptor, dir, salt, []);
    this.#indexes.set(name, state);
    const maxPayload = maxPayloadBytes(descriptor, this.#maxSealedBytes);
    for (const n of numbers) {
      const path = join(dir, segmentName(n));
      const handle = await open(path, 'r+');
      const segment: Segment = { number: n, path, handle, size: (await handle.stat()).size };
      state.segments.push(segment);
      const isLast = n === numbers.length;
      const ref = { indexId: name, segment: n, path, size: segment.size, salt, maxPayloadBytes: maxPayload };
      const result = await scanSegment(handle, ref, isLast, (entry) => {
        replayEntry(state, segment, entry);
      });
      if (result.validBytes < segment.size) {
        const event: RecoveryEvent = {
          indexId: name,
          segment: n,
          offset: result.validBytes,
          discardedBytes: segment.size - result.validBytes,
          reason: result.stopReason ?? 'torn tail',
        };
        this.#logger.warn({ ...event }, 'truncated a torn log tail (an unacknowledged write)');
        await handle.truncate(result.validBytes);
        await handle.sync();
        segment.size = result.validBytes;
        this.#recoveryEvents.push(event);
      }
    }
  }
}

export function openEmbeddedStore(options: EmbeddedStoreOptions): Promise<EmbeddedStore> {
  return EmbeddedStore.open(options);
}

function newState(descriptor: IndexDescriptor, dir: string, salt: Buffer, segments: Segment[]): IndexState {
  return {
    descriptor,
    dir,
    salt,
    segments,
    records: new Map(),
    deleted: new Set(),
    slots: new Map(),
    pendingIds: new Set(),
    pendingSlots: new Set(),
    pendingDeletes: new Set(),
    queue: [],
    flushing: undefined,
    failure: undefined,
    vectorBytes: 0,
    sealedBytes: 0,
  };
}

function addRecord(
  state: IndexState,
  segment: Segment,
  entryOffset: number,
  payload: Buffer,
  r: NonNullable<ReturnType<typeof decodeRecordPayload>>,
): void {
  const base = entryOffset + ENTRY_HEADER_BYTES;
  state.records.set(r.recordId, {
    blockId: r.blockId,
    slot: r.slot,
    segment,
    sealedPos: base + r.sealedOffset,
    sealedLength: r.sealedLength,
    sealedDigest: digestOf(payload.subarray(r.sealedOffset, r.sealedOffset + r.sealedLength)),
    vectorPos: base + r.vectorOffset,
    vectorLength: r.vectorLength,
    vectorDigest: digestOf(payload.subarray(r.vectorOffset, r.vectorOffset + r.vectorLength)),
  });
  state.slots.set(slotKey(r.blockId, r.slot), r.recordId);
  state.vectorBytes += r.vectorLength;
  state.sealedBytes += r.sealedLength;
}

function removeRecord(state: IndexState, recordId: string): void {
  const loc = state.records.get(recordId);
  if (loc === undefined) return;
  state.records.delete(recordId);
  state.slots.delete(slotKey(loc.blockId, loc.slot));
  state.deleted.add(recordId);
  state.vectorBytes -= loc.vectorLength;
  state.sealedBytes -= loc.sealedLength;
}

/** Applies a checksum-valid entry; one that breaks the store's own rules means a bug or tampering. */
function replayEntry(state: IndexState, segment: Segment, entry: ScannedEntry): void {
  const corrupt = (why: string): IndexError =>
    new IndexError(
      'STORAGE_CORRUPT',
      `index ${state.descriptor.id}, ${segment.path} at offset ${entry.offset}: ${why}`,
    );
  if (entry.kind === EntryKind.RECORD) {
    const r = decodeRecordPayload(entry.payload);
    if (r === undefined) throw corrupt('malformed record entry');
    if (state.records.has(r.recordId) || state.deleted.has(r.recordId)) throw corrupt('duplicate record id');
    if (state.slots.has(slotKey(r.blockId, r.slot))) throw corrupt('record in an occupied slot');
    addRecord(state, segment, entry.offset, entry.payload, r);
  } else {
    const id = decodeTombstonePayload(entry.payload);
    if (id === undefined) throw corrupt('malformed tombstone entry');
    if (!state.records.has(id)) throw corrupt('tombstone for no live record');
    removeRecord(state, id);
  }
}

async function startSegment(state: IndexState, n: number): Promise<Segment> {
  const path = join(state.dir, segmentName(n));
  // createEmptyFile fsyncs the directory: the new segment's name is durable before any ack.
  await createEmptyFile(path);
  const segment: Segment = { number: n, path, handle: await open(path, 'r+'), size: 0 };
  state.segments.push(segment);
  return segment;
}

async function writeAll(handle: FileHandle, data: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < data.length) {
    const { bytesWritten } = await handle.write(data, done, data.length - done, position + done);
    done += bytesWritten;
  }
}

/** Reads a field and checks it against the digest taken when its entry's checksum was verified. */
async function readVerified(
  state: IndexState,
  segment: Segment,
  position: number,
  length: number,
  digest: Buffer,
): Promise<Uint8Array> {
  const bytes = await readExactly(segment.handle, position, length);
  if (!checksumMatches(digest, digestOf(bytes))) {
    throw new IndexError(
      'STORAGE_CORRUPT',
      `index ${state.descriptor.id}, ${segment.path} at offset ${position}: data changed on disk; not served`,
    );
  }
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
