import {
  RECORD_SEAL_OVERHEAD,
  RECORD_SEAL_VERSION,
  encryptVector,
  serializeEncryptedVector,
} from '@rune/crypto';
import { type Envelope, hashBytes, verifyEnvelope } from '@rune/protocol';
import { VaultErrorCode, invalidRequest } from '../errors.js';
import { VAULT_ACTOR, type SearchContext, audited, newRecordId, refuse } from './context.js';
import { signCapturePermit } from './capture.js';
import type { RandomBytes } from '../tokens.js';

/** Most canaries one call plants (one per block of a full 16k-block index is the ceiling anyway). */
export const MAX_CANARIES_PER_CALL = 256;
/**
 * Largest score deviation a canary may show: decryption noise and quantisation stay below 1e-4
 * (DESIGN §4: max abs error ≤ 5e-5); a swapped or forged ciphertext misses by ~0.1 or more.
 */
export const CANARY_TOLERANCE = 2e-3;

export interface PlantedCanary {
  readonly permit: Envelope<'capture-permit'>;
  readonly recordId: string;
  /** Serialised EncryptedVector, inserted like any record's. */
  readonly encryptedVector: Uint8Array;
  /** Random bytes shaped like a sealed record (version byte, then noise), so the index cannot tell. */
  readonly sealed: Uint8Array;
}

/** A uniformly random unit vector (Gaussian coordinates, normalised), from CSPRNG bytes. */
export function randomUnitVector(dim: number, random: RandomBytes): Float32Array {
  const bytes = random(dim * 8);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const g = new Float64Array(dim);
  let sq = 0;
  for (let d = 0; d < dim; d++) {
    const u1 = (view.getUint32(d * 8, true) + 1) / 4294967297;
    const u2 = view.getUint32(d * 8 + 4, true) / 4294967296;
    const x = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    g[d] = x;
    sq += x * x;
  }
  const inv = 1 / Math.sqrt(sq);
  return Float32Array.from(g, (x) => x * inv);
}

export function float32ToBytes(vector: Float32Array): Uint8Array {
  const out = new Uint8Array(vector.length * 4);
  const view = new DataView(out.buffer);
  vector.forEach((x, i) => {
    view.setFloat32(i * 4, x, true);
  });
  return out;
}

export function bytesToFloat32(bytes: Uint8Array): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Float32Array.from({ length: bytes.byteLength / 4 }, (_, i) => view.getFloat32(i * 4, true));
}

/** Canaries the index still needs to reach about one per block. */
export function canaryDeficit(ctx: SearchContext, indexId: string): number {
  const ledger = ctx.ledgers.get(indexId);
  return Math.max(0, Math.max(1, ledger.blockCount) - ledger.canaryCount());
}

/**
 * Plants secret canary records: random unit vectors only the Vault knows, encrypted with the
 * public key and inserted at the index like any record. Every search then checks that each
 * confirmed canary scores exactly as its vector predicts, so an index that drops, swaps or
 * fabricates ciphertexts is caught. The transport layer inserts each one and hands the index's
 * receipt to confirmCanaryInsert.
 *
 * SECURITY: the canary vectors are kept only in the ledger (mode 0600); a canary is
 * indistinguishable from a record to the index (random id, real ciphertext, sealed-looking bytes).
 */
export async function plantCanaries(
  ctx: SearchContext,
  request: { indexId: string; count?: number },
): Promise<PlantedCanary[]> {
  return audited(
    ctx,
    { actor: VAULT_ACTOR, action: 'canary.plant', target: request.indexId },
    () => {
      const ledger = ctx.ledgers.get(request.indexId);
      const count = request.count ?? canaryDeficit(ctx, request.indexId);
      if (!Number.isSafeInteger(count) || count < 0 || count > MAX_CANARIES_PER_CALL) {
        throw invalidRequest(`count: expected an integer from 0 to ${MAX_CANARIES_PER_CALL}`);
      }
      const nowMs = ctx.clock();
      const made = Array.from({ length: count }, () => {
        const vector = randomUnitVector(ledger.dim, ctx.random);
        const encryptedVector = serializeEncryptedVector(
          encryptVector(ctx.engine, ctx.keys.publicKey, vector),
        );
        return { recordId: newRecordId(ctx.random), vector, encryptedVector };
      });
      const records = ledger.allocate(
        made.map((m) => ({
          recordId: m.recordId,
          authorMemberId: VAULT_ACTOR,
          isCanary: true,
          canary: {
            vector: Buffer.from(float32ToBytes(m.vector)).toString('base64url'),
            ciphertextSha256: hashBytes(m.encryptedVector),
            isConfirmed: false,
          },
          createdAt: nowMs,
        })),
      );
      return records.map((record, i) => ({
        permit: signCapturePermit(ctx, ledger, record, nowMs),
        recordId: record.recordId,
        encryptedVector: made[i]?.encryptedVector ?? new Uint8Array(0),
        sealed: fakeSealedRecord(ctx.random),
      }));
    },
    (planted) => planted.length,
  );
}

/** Members pad sealed plaintexts to multiples of this (packages/client record-payload.ts). */
const RECORD_PAD_BYTES = 512;

/**
 * Version byte, then noise of a typical record's padded length (1 to 4 pad buckets): what a
 * sealed record looks like from outside.
 */
function fakeSealedRecord(random: RandomBytes): Uint8Array {
  const plaintextBytes = RECORD_PAD_BYTES * (1 + ((random(1)[0] ?? 0) % 4));
  const out = new Uint8Array(random(RECORD_SEAL_OVERHEAD + plaintextBytes));
  out[0] = RECORD_SEAL_VERSION;
  return out;
}

/**
 * Accepts the index's signed insert-receipt for a canary. Only a receipt for exactly the
 * ciphertext the Vault made, in the slot it allocated, arms the canary.
 */
export async function confirmCanaryInsert(
  ctx: SearchContext,
  request: { indexId: string; receipt: unknown },
): Promise<void> {
  await audited(ctx, { actor: VAULT_ACTOR, action: 'canary.confirm', target: request.indexId }, () => {
    let receipt;
    try {
      receipt = verifyEnvelope('insert-receipt', request.receipt, ctx.indexVerifyKeys, { now: ctx.clock() });
    } catch (err: unknown) {
      throw refuse(VaultErrorCode.RESULT_REJECTED, 'insert receipt refused', describe(err), err);
    }
    const ledger = ctx.ledgers.get(request.indexId);
    const record = ledger.get(receipt.recordId);
    const canary = record?.canary;
    if (
      record === undefined ||
      canary === undefined ||
      receipt.indexId !== ledger.indexId ||
      receipt.epoch !== ledger.epoch ||
      receipt.blockId !== record.blockId ||
      receipt.slot !== record.slot ||
      receipt.ciphertextSha256 !== canary.ciphertextSha256
    ) {
      throw refuse(
        VaultErrorCode.RESULT_REJECTED,
        'insert receipt refused',
        'receipt does not match a planted canary',
      );
    }
    ledger.confirmCanary(record.recordId);
  });
}

export function describe(err: unknown): string {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string') {
    return `${err.code}: ${err instanceof Error ? err.message : ''}`;
  }
  return err instanceof Error ? err.message : String(err);
}

/**
 * Tombstones canaries planted more than `olderThanMs` ago whose receipt never came (the index was
 * down, or the answer was lost): they are never checked, and the deficit lets a fresh one take
 * their place. Their slot stays used; a ciphertext that did land there is never scored as a record.
 */
export async function abandonStaleCanaries(
  ctx: SearchContext,
  request: { indexId: string; olderThanMs: number },
): Promise<number> {
  const ledger = ctx.ledgers.get(request.indexId);
  const cutoff = ctx.clock() - request.olderThanMs;
  const stale = ledger
    .records()
    .filter(
      (r) => r.isCanary && r.status === 'live' && r.canary?.isConfirmed === false && r.createdAt < cutoff,
    );
  if (stale.length === 0) return 0;
  return audited(
    ctx,
    { actor: VAULT_ACTOR, action: 'canary.abandon', target: request.indexId },
    () => {
      for (const record of stale) ledger.tombstone(record.recordId, ctx.clock());
      return stale.length;
    },
    (n) => n,
  );
}
