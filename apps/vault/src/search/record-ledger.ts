import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { RECORD_NONCE_BYTES, assertDimension, getParamSet } from '@rune/crypto';
import { SLOTS_PER_BLOCK, idSchema } from '@rune/protocol';
import { VaultError, VaultErrorCode, invalidRequest } from '../errors.js';
import { JsonFileStore } from '../state-store.js';

const LEDGER_VERSION = 1;
/** Slots one index may allocate: the protocol's MAX_BLOCKS_PER_SEARCH blocks of 128. */
export const MAX_SLOTS_PER_INDEX = 16_384 * SLOTS_PER_BLOCK;

export const RecordStatus = { LIVE: 'live', TOMBSTONED: 'tombstoned' } as const;
export type RecordStatus = (typeof RecordStatus)[keyof typeof RecordStatus];

/** A canary's secret: what lets the Vault predict its score for any query. */
export interface CanarySecret {
  /** The unit vector, little-endian float32 bytes, base64url. SECRET: never leaves the Vault. */
  readonly vector: string;
  /** hashBytes of the serialised EncryptedVector the Vault made for it. */
  readonly ciphertextSha256: string;
  /** Set once the index's signed insert-receipt for exactly that ciphertext arrived; only then is it checked. */
  readonly isConfirmed: boolean;
}

export interface LedgerRecord {
  readonly recordId: string;
  readonly blockId: number;
  readonly slot: number;
  /**
   * SECURITY: the HKDF salt of K_r, base64url of RECORD_NONCE_BYTES. Present only while the record
   * is live and not a canary; deleting it crypto-shreds the record (K_r can never be derived again).
   */
  readonly nonce?: string;
  readonly authorMemberId: string;
  readonly status: RecordStatus;
  readonly isCanary: boolean;
  readonly canary?: CanarySecret;
  readonly createdAt: number;
  readonly tombstonedAt?: number;
}

interface LedgerState {
  readonly version: typeof LEDGER_VERSION;
  readonly indexId: string;
  readonly paramSetId: number;
  readonly dim: number;
  readonly epoch: number;
  /** Next sequential slot number n: block floor(n/128), slot n % 128. */
  readonly nextSlot: number;
  readonly records: readonly LedgerRecord[];
}

export type NewLedgerRecord = Omit<LedgerRecord, 'blockId' | 'slot' | 'status'>;

function fail(path: string, expected: string): never {
  throw new Error(`${path}: expected ${expected}`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function intIn(obj: Record<string, unknown>, key: string, path: string, min: number, max: number): number {
  const v = obj[key];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
    fail(`${path}.${key}`, `an integer in [${min}, ${max}]`);
  }
  return v;
}

function text(obj: Record<string, unknown>, key: string, path: string, pattern: RegExp): string {
  const v = obj[key];
  if (typeof v !== 'string' || !pattern.test(v)) fail(`${path}.${key}`, `a string matching ${pattern}`);
  return v;
}

const ID = /^[A-Za-z0-9_-]{1,64}$/;
const NONCE = /^[A-Za-z0-9_-]{43}$/;
const B64URL = /^[A-Za-z0-9_-]+$/;

function parseCanary(raw: unknown, path: string, dim: number): CanarySecret {
  if (!isObject(raw)) fail(path, 'an object');
  const vector = text(raw, 'vector', path, B64URL);
  if (Buffer.from(vector, 'base64url').byteLength !== dim * 4) fail(`${path}.vector`, `${dim} float32`);
  if (typeof raw.isConfirmed !== 'boolean') fail(`${path}.isConfirmed`, 'a boolean');
  return {
    vector,
    ciphertextSha256: text(raw, 'ciphertextSha256', path, NONCE),
    isConfirmed: raw.isConfirmed,
  };
}

/** Parse boundary of a ledger file: every field checked, every invariant re-established. */
export function parseLedgerState(raw: unknown): LedgerState {
  if (!isObject(raw)) fail('ledger', 'an object');
  if (raw.version !== LEDGER_VERSION) fail('ledger.version', String(LEDGER_VERSION));
  const paramSetId = intIn(raw, 'paramSetId', 'ledger', 1, 0xffff);
  const dim = intIn(raw, 'dim', 'ledger', 1, 4096);
  const nextSlot = intIn(raw, 'nextSlot', 'ledger', 0, MAX_SLOTS_PER_INDEX);
  if (!Array.isArray(raw.records)) fail('ledger.records', 'an array');
  const seenIds = new Set<string>();
  const seenSlots = new Set<number>();
  const records = raw.records.map((r: unknown, i): LedgerRecord => {
    const p = `ledger.records[${i}]`;
    if (!isObject(r)) fail(p, 'an object');
    const recordId = text(r, 'recordId', p, ID);
    const blockId = intIn(r, 'blockId', p, 0, MAX_SLOTS_PER_INDEX / SLOTS_PER_BLOCK);
    const slot = intIn(r, 'slot', p, 0, SLOTS_PER_BLOCK - 1);
    const n = blockId * SLOTS_PER_BLOCK + slot;
    if (n >= nextSlot) fail(`${p}.slot`, 'a slot below nextSlot');
    if (seenIds.has(recordId) || seenSlots.has(n)) fail(p, 'a unique record id and slot');
    seenIds.add(recordId);
    seenSlots.add(n);
    const status = r.status;
    if (status !== RecordStatus.LIVE && status !== RecordStatus.TOMBSTONED)
      fail(`${p}.status`, 'live/tombstoned');
    if (typeof r.isCanary !== 'boolean') fail(`${p}.isCanary`, 'a boolean');
    const isCanary = r.isCanary;
    // SECURITY: a tombstoned record or a canary must never hold a nonce (shredding must stick).
    const hasNonce = status === RecordStatus.LIVE && !isCanary;
    if (hasNonce !== (r.nonce !== undefined)) fail(`${p}.nonce`, hasNonce ? 'a nonce' : 'no nonce');
    if (isCanary !== (r.canary !== undefined)) fail(`${p}.canary`, isCanary ? 'canary data' : 'nothing');
    return {
      recordId,
      blockId,
      slot,
      ...(hasNonce ? { nonce: text(r, 'nonce', p, NONCE) } : {}),
      authorMemberId: text(r, 'authorMemberId', p, /^[A-Za-z0-9_-]{1,128}$/),
      status,
      isCanary,
      ...(isCanary ? { canary: parseCanary(r.canary, `${p}.canary`, dim) } : {}),
      createdAt: intIn(r, 'createdAt', p, 0, Number.MAX_SAFE_INTEGER),
      ...(r.tombstonedAt === undefined
        ? {}
        : { tombstonedAt: intIn(r, 'tombstonedAt', p, 0, Number.MAX_SAFE_INTEGER) }),
    };
  });
  return {
    version: LEDGER_VERSION,
    indexId: text(raw, 'indexId', 'ledger', ID),
    paramSetId,
    dim,
    epoch: intIn(raw, 'epoch', 'ledger', 0, 0xffff_ffff),
    nextSlot,
    records,
  };
}

/**
 * One index's record ledger: slot allocation, record nonces, authors, tombstones and canaries,
 * persisted as one JSON file (atomic replace, mode 0600). Durable first, then in memory: a failed
 * write throws STORAGE_FAILED and changes nothing.
 *
 * Whole-file rewrites are O(records) per capture; fine to ~100k records, a journal later.
 */
export class RecordLedger {
  readonly #store: JsonFileStore<LedgerState>;
  #state: LedgerState;
  #byId = new Map<string, LedgerRecord>();
  #bySlot = new Map<number, LedgerRecord>();

  constructor(store: JsonFileStore<LedgerState>, state: LedgerState) {
    this.#store = store;
    this.#state = state;
    this.#index();
  }

  get indexId(): string {
    return this.#state.indexId;
  }
  get paramSetId(): number {
    return this.#state.paramSetId;
  }
  get dim(): number {
    return this.#state.dim;
  }
  get epoch(): number {
    return this.#state.epoch;
  }
  get path(): string {
    return this.#store.path;
  }
  /** Blocks allocated so far: the shape every ticket fixes. */
  get blockCount(): number {
    return Math.ceil(this.#state.nextSlot / SLOTS_PER_BLOCK);
  }

  get(recordId: string): LedgerRecord | undefined {
    return this.#byId.get(recordId);
  }

  at(blockId: number, slot: number): LedgerRecord | undefined {
    return this.#bySlot.get(blockId * SLOTS_PER_BLOCK + slot);
  }

  records(): readonly LedgerRecord[] {
    return this.#state.records;
  }

  canaryCount(): number {
    return this.#state.records.filter((r) => r.isCanary).length;
  }

  /** Allocates the next sequential slots to `entries`, in one durable write. */
  allocate(entries: readonly NewLedgerRecord[]): LedgerRecord[] {
    const start = this.#state.nextSlot;
    if (start + entries.length > MAX_SLOTS_PER_INDEX) {
      throw new VaultError(VaultErrorCode.CONFLICT, `index ${this.indexId} has no free slots left`);
    }
    const added = entries.map((e, i): LedgerRecord => {
      if (this.#byId.has(e.recordId)) {
        throw new VaultError(VaultErrorCode.CONFLICT, `record id ${e.recordId} already exists`);
      }
      const n = start + i;
      return { ...e, blockId: Math.floor(n / SLOTS_PER_BLOCK), slot: n % SLOTS_PER_BLOCK, status: 'live' };
    });
    this.#commit({
      ...this.#state,
      nextSlot: start + entries.length,
      records: [...this.#state.records, ...added],
    });
    return added;
  }

  /**
   * SECURITY: crypto-shredding. The record is never returned again and its nonce is removed from
   * the durable state in the same write, so K_r can never be re-derived. Returns the record as it
   * is now; idempotent.
   */
  tombstone(recordId: string, nowMs: number): LedgerRecord {
    const current = this.#byId.get(recordId);
    if (current === undefined) throw new VaultError(VaultErrorCode.NOT_FOUND, `no record ${recordId}`);
    if (current.status === RecordStatus.TOMBSTONED) return current;
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
    this.#replace(next);
    return next;
  }

  /** Marks a canary as present at the index, so searches start checking it. */
  confirmCanary(recordId: string): LedgerRecord {
    const current = this.#byId.get(recordId);
    if (current?.canary === undefined)
      throw new VaultError(VaultErrorCode.NOT_FOUND, `no canary ${recordId}`);
    const next: LedgerRecord = { ...current, canary: { ...current.canary, isConfirmed: true } };
    this.#replace(next);
    return next;
  }

  #replace(next: LedgerRecord): void {
    this.#commit({
      ...this.#state,
      records: this.#state.records.map((r) => (r.recordId === next.recordId ? next : r)),
    });
  }

  #commit(next: LedgerState): void {
    this.#store.save(next);
    this.#state = next;
    this.#index();
  }

  #index(): void {
    this.#byId = new Map(this.#state.records.map((r) => [r.recordId, r]));
    this.#bySlot = new Map(this.#state.records.map((r) => [r.blockId * SLOTS_PER_BLOCK + r.slot, r]));
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
  #store(indexId: string): JsonFileStore<LedgerState> {
    if (!idSchema.safeParse(indexId).success)
      throw invalidRequest('indexId: expected 1..64 of [A-Za-z0-9_-]');
    return new JsonFileStore(join(this.#dir, `ledger-${indexId}.json`), parseLedgerState);
  }

  /** Ids of every registered index, from the ledger files on disk. */
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
    const store = this.#store(indexId);
    const state = store.load();
    if (state === undefined) throw new VaultError(VaultErrorCode.NOT_FOUND, `no index ${indexId}`);
    if (state.indexId !== indexId) {
      throw new VaultError(VaultErrorCode.STATE_CORRUPT, `ledger ${store.path} names index ${state.indexId}`);
    }
    const ledger = new RecordLedger(store, state);
    this.#open.set(indexId, ledger);
    return ledger;
  }

  /** Registers an index (idempotent for the same shape; CONFLICT for another). */
  register(input: { indexId: string; paramSetId: number; dim: number; epoch: number }): RecordLedger {
    const store = this.#store(input.indexId);
    assertDimensionOrRefuse(input.paramSetId, input.dim);
    const existing = store.load();
    if (existing !== undefined) {
      if (existing.dim !== input.dim || existing.paramSetId !== input.paramSetId) {
        throw new VaultError(
          VaultErrorCode.CONFLICT,
          `index ${input.indexId} is registered with dim ${existing.dim}, parameter set ${existing.paramSetId}`,
        );
      }
      return this.get(input.indexId);
    }
    const state: LedgerState = { version: LEDGER_VERSION, ...input, nextSlot: 0, records: [] };
    store.save(state);
    const ledger = new RecordLedger(store, state);
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
