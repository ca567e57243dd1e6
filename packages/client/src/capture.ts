import { encryptVector, sealRecord, serializeEncryptedVector } from '@rune/crypto';
import {
  encodeBase64url,
  envelopeSchema,
  hashBytes,
  insertReceiptSchema,
  verifyEnvelope,
  type CapturePermit,
  type InsertReceipt,
} from '@rune/protocol';
import { type ClientContext, indexPath, verifyFromVault } from './context.js';
import { RuneClientError } from './errors.js';
import { encodeRecordPayload, type RecordPayload } from './record-payload.js';
import { unitVector } from './vectors.js';
import { decodeField, insertAnswerSchema, parseAnswer, permitGrantSchema, responseInvalid } from './wire.js';

const RECORD_KEY_BYTES = 32;

export interface CaptureTimings {
  readonly embedMs: number;
  /** Vault: allocate the record, derive K_r, sign the permit. */
  readonly permitMs: number;
  /** Local: encrypt the vector and seal the record. */
  readonly encryptMs: number;
  /** Index: durable insert and receipt. */
  readonly insertMs: number;
  readonly totalMs: number;
}

export interface CaptureOutcome {
  readonly recordId: string;
  /** The index's receipt: the insert is durable. */
  readonly receipt: InsertReceipt;
  /** False when the config pins no index key: the receipt was checked for shape and binding only. */
  readonly isReceiptVerified: boolean;
  readonly timings: CaptureTimings;
}

/**
 * Stores one memory (DESIGN §3, capture): permit and K_r from the Vault, the vector encrypted
 * under the pinned EncKey, the record sealed under K_r with AAD (index, record, key version),
 * both uploaded to the index, and its receipt checked against what was sent.
 *
 * SECURITY: K_r and the plaintext are zeroed before this returns, on every path.
 */
export async function captureVector(
  ctx: ClientContext,
  vector: ArrayLike<number>,
  record: RecordPayload,
  embedMs = 0,
  /** Told the Vault's permit once the insert is acknowledged (the term-stats delta is bound to it). */
  onInserted?: (permit: Record<string, unknown>) => void,
): Promise<CaptureOutcome> {
  const started = ctx.monotonicMs();
  const unit = unitVector(vector, ctx.embedder.dim, 'vector');
  const plaintext = encodeRecordPayload(record);
  let recordKey: Uint8Array | undefined;
  try {
    const grant = parseAnswer(
      permitGrantSchema,
      await ctx.vault.post('/v1/permits', { indexId: ctx.config.indexId }),
      'vault',
      'capture permit',
    );
    recordKey = decodeField('vault', grant.recordKey, 'recordKey');
    const permitted = ctx.monotonicMs();
    const permit = verifyFromVault(ctx, 'capture-permit', grant.permit);
    checkPermit(ctx, permit, grant.recordId, recordKey, unit.length);

    const vectorBytes = serializeEncryptedVector(encryptVector(ctx.engine(), ctx.publicKey, unit));
    const sealed = sealRecord({
      key: recordKey,
      indexId: permit.indexId,
      recordId: permit.recordId,
      keyVersion: permit.keyVersion,
      plaintext,
    });
    const encrypted = ctx.monotonicMs();

    const answer = parseAnswer(
      insertAnswerSchema,
      await ctx.index.post(indexPath(ctx, '/records'), {
        permit: grant.permit,
        vector: encodeBase64url(vectorBytes),
        sealed: encodeBase64url(sealed),
      }),
      'index',
      'insert',
    );
    const receipt = checkReceipt(ctx, answer.receipt, permit, hashBytes(vectorBytes));
    ctx.seenIds.add(permit.recordId);
    onInserted?.(grant.permit);
    const done = ctx.monotonicMs();
    return {
      recordId: permit.recordId,
      receipt,
      isReceiptVerified: ctx.indexKey !== undefined,
      timings: {
        embedMs,
        permitMs: permitted - started,
        encryptMs: encrypted - permitted,
        insertMs: done - encrypted,
        totalMs: done - started + embedMs,
      },
    };
  } finally {
    recordKey?.fill(0);
    plaintext.fill(0);
  }
}

function checkPermit(
  ctx: ClientContext,
  permit: CapturePermit,
  recordId: string,
  recordKey: Uint8Array,
  dim: number,
): void {
  if (permit.indexId !== ctx.config.indexId || permit.recordId !== recordId) {
    throw responseInvalid('vault', 'the capture permit names another index or record');
  }
  if (recordKey.byteLength !== RECORD_KEY_BYTES) {
    throw responseInvalid(
      'vault',
      `recordKey is ${recordKey.byteLength} bytes, expected ${RECORD_KEY_BYTES}`,
    );
  }
  if (permit.dim !== dim) {
    throw new RuneClientError(
      'EMBEDDER_MISMATCH',
      `the index stores ${permit.dim}-dimensional vectors; this client's embedder (${ctx.embedder.id}) makes ${dim}`,
      { hint: 'set embedder in your member config to the one the index was created with' },
    );
  }
}

/**
 * The receipt must be the index's (when its key is pinned) and must name exactly the record, slot
 * and ciphertext uploaded: an index that acknowledges something else has not stored this capture.
 */
function checkReceipt(
  ctx: ClientContext,
  envelope: unknown,
  permit: CapturePermit,
  ciphertextSha256: string,
): InsertReceipt {
  let receipt: InsertReceipt;
  try {
    if (ctx.indexKey !== undefined) {
      receipt = verifyEnvelope('insert-receipt', envelope, ctx.indexKey, { now: ctx.clock() });
    } else {
      const outer = envelopeSchema.parse(envelope);
      if (outer.kind !== 'insert-receipt') throw new TypeError(`a ${outer.kind}, not an insert-receipt`);
      receipt = insertReceiptSchema.parse(outer.payload);
    }
  } catch (err: unknown) {
    throw receiptInvalid(`it does not verify (${err instanceof Error ? err.message : String(err)})`, err);
  }
  if (
    receipt.indexId !== permit.indexId ||
    receipt.recordId !== permit.recordId ||
    receipt.blockId !== permit.blockId ||
    receipt.slot !== permit.slot ||
    receipt.epoch !== permit.epoch
  ) {
    throw receiptInvalid('it names another index, record, slot or epoch than the permit');
  }
  if (receipt.ciphertextSha256 !== ciphertextSha256) {
    throw receiptInvalid('it acknowledges other ciphertext bytes than were uploaded');
  }
  return receipt;
}

function receiptInvalid(detail: string, cause?: unknown): RuneClientError {
  return new RuneClientError('RECEIPT_INVALID', `the index's insert receipt is refused: ${detail}`, {
    service: 'index',
    hint: 'the capture may not be stored; retry, and tell your Vault admin if it persists',
    ...(cause === undefined ? {} : { cause }),
  });
}
