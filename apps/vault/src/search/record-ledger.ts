import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { RECORD_NONCE_BYTES, assertDimension, getParamSet } from '@rune/crypto';
import { SLOTS_PER_BLOCK, idSchema } from '@rune/protocol';
import { VaultError, VaultErrorCode, invalidRequest } from '../errors.js';
import { JsonFileStore } from '../state-store.js';
import {
  type JournalEntry,
  LedgerJournal,
  closeForScrub,
  openForScrub,
  scrubAndClose,
} from './ledger-journal.js';
import {
  ID,
  LEDGER_VERSION,
  MAX_SLOTS_PER_INDEX,
  type LedgerRecord,
  type LedgerSnapshot,
  type NewLedgerRecord,
  RecordStatus,
  fail,
  parseLedgerRecord,
  parseLedgerSnapshot,
  slotNumber,
  text,
} from './ledger-state.js';

export {
  MAX_SLOTS_PER_INDEX,
  RecordStatus,
  parseLedgerSnapshot,
  type CanarySecret,
  type LedgerRecord,
  type LedgerSnapshot,
  type NewLedgerRecord,
} from './ledger-state.js';

/** Journal entries (records allocated, canaries confirmed) a snapshot may trail by, at least. */
export const MIN_COMPACTION_WEIGHT = 1024;

interface LedgerFiles {
  readonly snapshots: JsonFileStore<LedgerSnapshot>;
  readonly journal: LedgerJournal;
}

type LedgerShape = Pick<LedgerSnapshot, 'indexId' | 'paramSetId' | 'dim' | 'epoch'>;

/**
 * One index's record ledger: slot allocation, record nonces, authors, tombstones and canaries.
 * Persisted as a snapshot (`ledger-<id>.json`, atomic replace) plus an append-only journal
 * (`ledger-<id>.journal`), both mode 0600. Durable first, then in memory: a mutation is in the
 * fdatasynced journal before it is applied or returned, and a failed write throws STORAGE_FAILED
 * and changes nothing. The snapshot is rewritten once the journal trails it by more than
 * max(1024, records/4) entries, so a mutation costs amortised O(1) instead of O(records).
 *
 * SECURITY: a tombstone is never journalled: it rewrites the snapshot without the nonce and
 * replaces the journal (whose allocate line holds the nonce) before it returns.
 */
export class RecordLedger {
  readonly #files: LedgerFiles;
  readonly #shape: LedgerShape;
  #nextSlot: number;
  /** In allocation order; positions never change, so the maps below hold positions. */
  readonly #records: LedgerRecord[] = [];
  readonly #positionById = new Map<string, number>();
  readonly #positionBySlot = new Map<number, number>();
  #canaryCount = 0;
  /** Sequence number of the last durable journal entry (or of the snapshot when the journal is empty). */
  #journalSeq: number;
  /** Records allocated and canaries confirmed in the journal since the snapshot: what a load replays. */
  #journalWeight = 0;
  /** Set while a file on disk may still hold a shredded nonce; the next mutation compacts first. */
  #isShredPending = false;

  private constructor(files: LedgerFiles, snapshot: LedgerSnapshot) {
    this.#files = files;
    this.#shape = {
      indexId: snapshot.indexId,
      paramSetId: snapshot.paramSetId,
      dim: snapshot.dim,
      epoch: snapshot.epoch,
    };
    this.#nextSlot = snapshot.nextSlot;
    this.#journalSeq = snapshot.journalSeq;
    for (const record of snapshot.records) this.#applyAllocated(record);
  }

  /** Snapshot, then the journal's newer lines; undefined when the index is not registered. */
  static open(files: LedgerFiles, indexId: string): RecordLedger | undefined {
    const snapshot = files.snapshots.load();
    if (snapshot === undefined) return undefined;
    if (snapshot.indexId !== indexId) {
      throw new VaultError(
        VaultErrorCode.STATE_CORRUPT,
        `ledger ${files.snapshots.path} names index ${snapshot.indexId}`,
      );
    }
    const ledger = new RecordLedger(files, snapshot);
    ledger.#replay(snapshot.version);
    return ledger;
  }

  /** A new, empty ledger: the journal first, so a crash leaves no snapshot facing a stale journal. */
  static create(files: LedgerFiles, shape: LedgerShape): RecordLedger {
    const snapshot: LedgerSnapshot = {
      version: LEDGER_VERSION,
      ...shape,
      nextSlot: 0,
      journalSeq: 0,
      records: [],
    };
    files.journal.reset();
    files.snapshots.save(snapshot);
    return new RecordLedger(files, snapshot);
  }

  get indexId(): string {
    return this.#shape.indexId;
  }
  get paramSetId(): number {
    return this.#shape.paramSetId;
  }
  get dim(): number {
    return this.#shape.dim;
  }
  get epoch(): number {
    return this.#shape.epoch;
  }
  /** The snapshot file. */
  get path(): string {
    return this.#files.snapshots.path;
  }
  get journalPath(): string {
    return this.#files.journal.path;
  }
  /** Blocks allocated so far: the shape every ticket fixes. */
  get blockCount(): number {
    return Math.ceil(this.#nextSlot / SLOTS_PER_BLOCK);
  }

  get(recordId: string): LedgerRecord | undefined {
    const position = this.#positionById.get(recordId);
    return position === undefined ? undefined : this.#records[position];
  }

  at(blockId: number, slot: number): LedgerRecord | undefined {
    const position = this.#positionBySlot.get(blockId * SLOTS_PER_BLOCK + slot);
    return position === undefined ? undefined : this.#records[position];
  }

  records(): readonly LedgerRecord[] {
    return this.#records;
  }

  /** Live canaries (confirmed or still awaiting their receipt); abandoned ones are tombstoned. */
  canaryCount(): number {
    return this.#canaryCount;
  }

  /** Allocates the next sequential slots to `entries`, in one durable journal line. */
  allocate(entries: readonly NewLedgerRecord[]): LedgerRecord[] {
    const start = this.#nextSlot;
    if (start + entries.length > MAX_SLOTS_PER_INDEX) {
      throw new VaultError(VaultErrorCode.CONFLICT, `index ${this.indexId} has no free slots left`);
    }
    const batchIds = new Set<string>();
    const added = entries.map((e, i): LedgerRecord => {
      if (this.#positionById.has(e.recordId) || batchIds.has(e.recordId)) {
        throw new VaultError(VaultErrorCode.CONFLICT, `record id ${e.recordId} already exists`);
      }
      batchIds.add(e.recordId);
      const n = start + i;
      const record = {
        ...e,
        blockId: Math.floor(n / SLOTS_PER_BLOCK),
        slot: n % SLOTS_PER_BLOCK,
        status: 'live',
      };
      // What is journalled must load again: a record the parser refuses would brick the ledger.
      return parseLedgerRecord(record, `new record ${e.recordId}`, this.dim);
    });
    if (added.length === 0) return added;
    this.#append({ op: 'allocate', records: added }, added.length);
    for (const record of added) this.#applyAllocated(record);
    this.#compactIfDue();
    return added;
  }

  /**
   * SECURITY: crypto-shredding. The record is never returned again and its nonce is gone from
   * every ledger file before this returns: the snapshot is rewritten without it, then the journal
   * (whose allocate line holds it) is replaced by an empty one, and the replaced files are
   * overwritten with zeros (best effort). Returns the record as it is now; idempotent, and a
   * repeat finishes a shred an earlier failure left pending.
   */
  tombstone(recordId: string, nowMs: number): LedgerRecord {
    const current = this.get(recordId);
    if (current === undefined) throw new VaultError(VaultErrorCode.NOT_FOUND, `no record ${recordId}`);
    if (current.status === RecordStatus.TOMBSTONED) {
      if (this.#isShredPending) this.#compact();
      return current;
    }
    const next: LedgerRecord = {
      recordId: current.recordId,
      blockId: current.blockId,
      slot: current.slot,
      authorMemberId: current.authorMemberId,
      status: RecordStatus.TOMBSTONED,
      isCanary: current.isCanary,
      ...(current.canary === undefined ? {} : { canary: current.canary }),
      createdAt: current.createdAt,
      tombstonedAt: nowMs,
    };
    this.#compact(next);
    if (next.isCanary) this.#canaryCount--;
    return next;
  }

  /** Marks a canary as present at the index, so searches start checking it. */
  confirmCanary(recordId: string): LedgerRecord {
    const current = this.get(recordId);
    if (current?.canary === undefined)
      throw new VaultError(VaultErrorCode.NOT_FOUND, `no canary ${recordId}`);
    if (current.canary.isConfirmed) return current;
    const next: LedgerRecord = { ...current, canary: { ...current.canary, isConfirmed: true } };
    this.#append({ op: 'confirm', recordId }, 1);
    this.#applyReplaced(next);
    this.#compactIfDue();
    return next;
  }

  #append(entry: JournalEntry, weight: number): void {
    // A shred left pending by a failed write is finished before anything new is acknowledged.
    if (this.#isShredPending) this.#compact();
    const seq = this.#journalSeq + 1;
    this.#files.journal.append(seq, entry);
    this.#journalSeq = seq;
    this.#journalWeight += weight;
  }

  #compactIfDue(): void {
    if (this.#journalWeight <= Math.max(MIN_COMPACTION_WEIGHT, Math.floor(this.#records.length / 4))) return;
    try {
      this.#compact();
    } catch {
      // The mutation is already durable in the journal; compaction is retried after the next one.
    }
  }

  /**
   * Rewrites the snapshot from memory (with `replacement` swapped in, which is applied only once
   * the snapshot is durable), then replaces the journal with an empty one. A crash between the
   * two leaves journal lines at or below the snapshot's journalSeq, which a load skips.
   */
  #compact(replacement?: LedgerRecord): void {
    let records: readonly LedgerRecord[] = this.#records;
    if (replacement !== undefined) {
      const copy = this.#records.slice();
      copy[this.#positionOf(replacement.recordId)] = replacement;
      records = copy;
    }
    const isShredding = this.#isShredPending || replacement !== undefined;
    const { snapshots, journal } = this.#files;
    const replaced = isShredding ? [openForScrub(snapshots.path), openForScrub(journal.path)] : [];
    try {
      snapshots.save({
        version: LEDGER_VERSION,
        ...this.#shape,
        nextSlot: this.#nextSlot,
        journalSeq: this.#journalSeq,
        records,
      });
      if (replacement !== undefined) this.#applyReplaced(replacement);
      this.#journalWeight = 0;
      // SECURITY: until the journal is replaced, its lines may still hold the shredded nonce.
      if (isShredding) this.#isShredPending = true;
      journal.reset();
    } catch (err: unknown) {
      replaced.forEach(closeForScrub);
      throw err;
    }
    this.#isShredPending = false;
    replaced.forEach(scrubAndClose);
  }

  #replay(snapshotVersion: LedgerSnapshot['version']): void {
    const { journal } = this.#files;
    const contents = journal.read(this.#journalSeq);
    if (contents === undefined) {
      // The journal is created before a version-2 snapshot and only ever replaced by rename, so
      // only a ledger from before journals lacks one; otherwise acknowledged entries are lost.
      if (snapshotVersion !== 1) throw journal.corrupt(undefined, 'the journal is missing');
      journal.reset();
      return;
    }
    for (const line of contents.lines) {
      try {
        this.#applyEntry(line.body);
      } catch (err: unknown) {
        if (err instanceof VaultError) throw err;
        throw journal.corrupt(line.lineNumber, err instanceof Error ? err.message : String(err), err);
      }
      this.#journalSeq = line.seq;
    }
    if (contents.staleLineCount > 0 || contents.tornTailBytes > 0) {
      // A compaction or an append was cut short: stale lines may hold nonces shredded since, and
      // a partial line must not sit in front of the next append.
      this.#isShredPending = true;
      this.#compact();
    }
  }

  /** Applies one journalled mutation, checked as strictly as the snapshot's records. */
  #applyEntry(body: Record<string, unknown>): void {
    switch (body.op) {
      case 'allocate': {
        const raw = body.records;
        if (!Array.isArray(raw) || raw.length === 0) fail('entry.records', 'a non-empty array');
        if (this.#nextSlot + raw.length > MAX_SLOTS_PER_INDEX) fail('entry.records', 'free slots');
        const records = raw.map((r: unknown, i) => {
          const p = `entry.records[${i}]`;
          const record = parseLedgerRecord(r, p, this.dim);
          if (slotNumber(record) !== this.#nextSlot + i)
            fail(`${p}.slot`, `slot number ${this.#nextSlot + i}`);
          if (record.status !== RecordStatus.LIVE || record.tombstonedAt !== undefined) {
            fail(`${p}.status`, 'a live record');
          }
          if (this.#positionById.has(record.recordId)) fail(p, 'a unique record id');
          return record;
        });
        if (new Set(records.map((r) => r.recordId)).size !== records.length) {
          fail('entry.records', 'unique record ids');
        }
        for (const record of records) this.#applyAllocated(record);
        this.#journalWeight += records.length;
        return;
      }
      case 'confirm': {
        const recordId = text(body, 'recordId', 'entry', ID);
        const current = this.get(recordId);
        if (current?.canary === undefined) fail('entry.recordId', 'a canary');
        this.#applyReplaced({ ...current, canary: { ...current.canary, isConfirmed: true } });
        this.#journalWeight += 1;
        return;
      }
      default:
        fail('entry.op', 'allocate or confirm');
    }
  }

  #applyAllocated(record: LedgerRecord): void {
    const position = this.#records.push(record) - 1;
    this.#positionById.set(record.recordId, position);
    this.#positionBySlot.set(slotNumber(record), position);
    this.#nextSlot = Math.max(this.#nextSlot, slotNumber(record) + 1);
    if (record.isCanary && record.status === RecordStatus.LIVE) this.#canaryCount++;
  }

  #applyReplaced(record: LedgerRecord): void {
    this.#records[this.#positionOf(record.recordId)] = record;
  }

  #positionOf(recordId: string): number {
    const position = this.#positionById.get(recordId);
    if (position === undefined) throw new Error(`ledger has no record ${recordId}`);
    return position;
  }
}

/** Every index's ledger under `<dataDir>/search/`, loaded on first use. */
export class LedgerSet {
  readonly #dir: string;
  readonly #open = new Map<string, RecordLedger>();

  constructor(dataDir: string) {
    this.#dir = join(dataDir, 'search');
  }

  /**
   * SECURITY: the index id becomes a file name; it is checked against the protocol's id pattern
   * ([A-Za-z0-9_-]{1,64}) first, so no path separator or ".." can reach join().
   */
  #files(indexId: string): LedgerFiles {
    if (!idSchema.safeParse(indexId).success)
      throw invalidRequest('indexId: expected 1..64 of [A-Za-z0-9_-]');
    return {
      snapshots: new JsonFileStore(join(this.#dir, `ledger-${indexId}.json`), parseLedgerSnapshot, {
        isCompact: true,
      }),
      journal: new LedgerJournal(join(this.#dir, `ledger-${indexId}.journal`)),
    };
  }

  /** Ids of every registered index, from the ledger snapshots on disk. */
  indexIds(): string[] {
    let names: string[];
    try {
      names = readdirSync(this.#dir);
    } catch (err: unknown) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    return names
      .map((name) => /^ledger-([A-Za-z0-9_-]{1,64})\.json$/.exec(name)?.[1])
      .filter((id): id is string => id !== undefined)
      .sort();
  }

  /** The ledger of a registered index; NOT_FOUND otherwise. */
  get(indexId: string): RecordLedger {
    const cached = this.#open.get(indexId);
    if (cached !== undefined) return cached;
    const ledger = RecordLedger.open(this.#files(indexId), indexId);
    if (ledger === undefined) throw new VaultError(VaultErrorCode.NOT_FOUND, `no index ${indexId}`);
    this.#open.set(indexId, ledger);
    return ledger;
  }

  /** Registers an index (idempotent for the same shape; CONFLICT for another). */
  register(input: { indexId: string; paramSetId: number; dim: number; epoch: number }): RecordLedger {
    const files = this.#files(input.indexId);
    assertDimensionOrRefuse(input.paramSetId, input.dim);
    const existing = files.snapshots.load();
    if (existing !== undefined) {
      if (existing.dim !== input.dim || existing.paramSetId !== input.paramSetId) {
        throw new VaultError(
          VaultErrorCode.CONFLICT,
          `index ${input.indexId} is registered with dim ${existing.dim}, parameter set ${existing.paramSetId}`,
        );
      }
      return this.get(input.indexId);
    }
    const ledger = RecordLedger.create(files, input);
    this.#open.set(input.indexId, ledger);
    return ledger;
  }
}

function assertDimensionOrRefuse(paramSetId: number, dim: number): void {
  try {
    assertDimension(getParamSet(paramSetId), dim);
  } catch (err: unknown) {
    throw invalidRequest(`dim: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Decodes a stored nonce; a wrong length means the ledger was edited. */
export function decodeNonce(nonce: string): Uint8Array {
  const bytes = new Uint8Array(Buffer.from(nonce, 'base64url'));
  if (bytes.byteLength !== RECORD_NONCE_BYTES) {
    throw new VaultError(VaultErrorCode.STATE_CORRUPT, 'a record nonce has the wrong length');
  }
  return bytes;
}

export function encodeNonce(nonce: Uint8Array): string {
  return Buffer.from(nonce).toString('base64url');
}
