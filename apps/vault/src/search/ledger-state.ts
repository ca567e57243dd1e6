import { SLOTS_PER_BLOCK } from '@rune/protocol';

/** 2 added `journalSeq`; version-1 snapshots load as journalSeq 0. Older code refuses version 2. */
export const LEDGER_VERSION = 2;
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

export type NewLedgerRecord = Omit<LedgerRecord, 'blockId' | 'slot' | 'status'>;

/** What the snapshot file `ledger-<indexId>.json` holds. */
export interface LedgerSnapshot {
  /** As loaded; always LEDGER_VERSION when written. */
  readonly version: 1 | typeof LEDGER_VERSION;
  readonly indexId: string;
  readonly paramSetId: number;
  readonly dim: number;
  readonly epoch: number;
  /** Next sequential slot number n: block floor(n/128), slot n % 128. */
  readonly nextSlot: number;
  /** Sequence number of the last journal entry folded into this snapshot; replay starts after it. */
  readonly journalSeq: number;
  readonly records: readonly LedgerRecord[];
}

export function fail(path: string, expected: string): never {
  throw new Error(`${path}: expected ${expected}`);
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function intIn(
  obj: Record<string, unknown>,
  key: string,
  path: string,
  min: number,
  max: number,
): number {
  const v = obj[key];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
    fail(`${path}.${key}`, `an integer in [${min}, ${max}]`);
  }
  return v;
}

export function text(obj: Record<string, unknown>, key: string, path: string, pattern: RegExp): string {
  const v = obj[key];
  if (typeof v !== 'string' || !pattern.test(v)) fail(`${path}.${key}`, `a string matching ${pattern}`);
  return v;
}

export const ID = /^[A-Za-z0-9_-]{1,64}$/;
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

/**
 * One record, every field checked. Slot range and uniqueness are the caller's: they depend on
 * the records around it.
 */
export function parseLedgerRecord(r: unknown, p: string, dim: number): LedgerRecord {
  if (!isObject(r)) fail(p, 'an object');
  const recordId = text(r, 'recordId', p, ID);
  const blockId = intIn(r, 'blockId', p, 0, MAX_SLOTS_PER_INDEX / SLOTS_PER_BLOCK);
  const slot = intIn(r, 'slot', p, 0, SLOTS_PER_BLOCK - 1);
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
}

/** Slot number n of a record: block floor(n/128), slot n % 128. */
export function slotNumber(record: Pick<LedgerRecord, 'blockId' | 'slot'>): number {
  return record.blockId * SLOTS_PER_BLOCK + record.slot;
}

/** Parse boundary of a ledger snapshot: every field checked, every invariant re-established. */
export function parseLedgerSnapshot(raw: unknown): LedgerSnapshot {
  if (!isObject(raw)) fail('ledger', 'an object');
  // Version 1 predates the journal: nothing was ever journalled after it.
  if (raw.version !== 1 && raw.version !== LEDGER_VERSION) fail('ledger.version', `1 or ${LEDGER_VERSION}`);
  const journalSeq = raw.version === 1 ? 0 : intIn(raw, 'journalSeq', 'ledger', 0, Number.MAX_SAFE_INTEGER);
  const paramSetId = intIn(raw, 'paramSetId', 'ledger', 1, 0xffff);
  const dim = intIn(raw, 'dim', 'ledger', 1, 4096);
  const nextSlot = intIn(raw, 'nextSlot', 'ledger', 0, MAX_SLOTS_PER_INDEX);
  if (!Array.isArray(raw.records)) fail('ledger.records', 'an array');
  const seenIds = new Set<string>();
  const seenSlots = new Set<number>();
  const records = raw.records.map((r: unknown, i): LedgerRecord => {
    const p = `ledger.records[${i}]`;
    const record = parseLedgerRecord(r, p, dim);
    const n = slotNumber(record);
    if (n >= nextSlot) fail(`${p}.slot`, 'a slot below nextSlot');
    if (seenIds.has(record.recordId) || seenSlots.has(n)) fail(p, 'a unique record id and slot');
    seenIds.add(record.recordId);
    seenSlots.add(n);
    return record;
  });
  return {
    version: raw.version,
    indexId: text(raw, 'indexId', 'ledger', ID),
    paramSetId,
    dim,
    epoch: intIn(raw, 'epoch', 'ledger', 0, 0xffff_ffff),
    nextSlot,
    journalSeq,
    records,
  };
}
