import { deriveRecordKey } from '@rune/crypto';
import { type Envelope, newNonce, signEnvelope } from '@rune/protocol';
import type { Member } from '../member-registry.js';
import { Capability } from '../roles.js';
import {
  KEY_EPOCH,
  RECORD_KEY_VERSION,
  type SearchContext,
  audited,
  authorizeMember,
  newRecordId,
  takeRateLimit,
} from './context.js';
import { type LedgerRecord, type RecordLedger, decodeNonce, encodeNonce } from './record-ledger.js';

/** Permit lifetime: long enough to embed, encrypt and upload one record, short enough to be useless if leaked. */
export const PERMIT_TTL_MS = 5 * 60_000;

export interface CaptureGrant {
  /** Signed capture-permit for the index: this record, this slot, once. */
  readonly permit: Envelope<'capture-permit'>;
  readonly recordId: string;
  /** K_r, 32 bytes. SECURITY: released only to the capturing member; seal the record with it, then drop it. */
  readonly recordKey: Uint8Array;
}

/** Signs the capture-permit of one allocated record. */
export function signCapturePermit(
  ctx: SearchContext,
  ledger: RecordLedger,
  record: LedgerRecord,
  nowMs: number,
): Envelope<'capture-permit'> {
  return signEnvelope(
    'capture-permit',
    {
      v: 1,
      indexId: ledger.indexId,
      recordId: record.recordId,
      blockId: record.blockId,
      slot: record.slot,
      keyVersion: RECORD_KEY_VERSION,
      paramSetId: ledger.paramSetId,
      dim: ledger.dim,
      epoch: ledger.epoch,
      issuedAt: nowMs,
      expiresAt: nowMs + PERMIT_TTL_MS,
      nonce: newNonce(ctx.random),
    },
    ctx.keys.signer,
  );
}

/** Registers an index with the Vault (its dimension fixes every permit and ticket). Admin only. */
export async function registerIndex(
  ctx: SearchContext,
  request: { member: Member; indexId: string; dim: number },
): Promise<{ indexId: string; dim: number; paramSetId: number; epoch: number }> {
  return audited(ctx, { actor: request.member.id, action: 'index.register', target: request.indexId }, () => {
    authorizeMember(ctx, request.member, Capability.MANAGE_KEYS);
    const ledger = ctx.ledgers.register({
      indexId: request.indexId,
      paramSetId: ctx.keys.paramSetId,
      dim: request.dim,
      epoch: KEY_EPOCH,
    });
    return { indexId: ledger.indexId, dim: ledger.dim, paramSetId: ledger.paramSetId, epoch: ledger.epoch };
  });
}

/**
 * Allocates the next slot of the index to a new record, derives its K_r from a fresh nonce, and
 * signs a short-lived permit for the insert. The ledger write is durable before K_r is returned,
 * so a record key the Vault handed out can always be shredded later.
 */
export async function issueCapturePermit(
  ctx: SearchContext,
  request: { member: Member; indexId: string },
): Promise<CaptureGrant> {
  const { member, indexId } = request;
  return audited(
    ctx,
    { actor: member.id, action: 'capture.permit', target: indexId },
    () => {
      const role = authorizeMember(ctx, member, Capability.CAPTURE);
      takeRateLimit(ctx, member, role);
      const ledger = ctx.ledgers.get(indexId);
      const nowMs = ctx.clock();
      const recordId = newRecordId(ctx.random);
      const nonce = ctx.random(32);
      const [record] = ledger.allocate([
        { recordId, nonce: encodeNonce(nonce), authorMemberId: member.id, isCanary: false, createdAt: nowMs },
      ]);
      if (record?.nonce === undefined) throw new Error('ledger did not allocate the record');
      const recordKey = deriveRecordKey(ctx.keys.teamSecret, decodeNonce(record.nonce), recordId);
      nonce.fill(0);
      ctx.emit({ type: 'permit.issued' });
      return { permit: signCapturePermit(ctx, ledger, record, nowMs), recordId, recordKey };
    },
    () => 1,
  );
}
