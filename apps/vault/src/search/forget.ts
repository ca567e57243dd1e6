import { type Envelope, newNonce, signEnvelope } from '@rune/protocol';
import { VaultError, VaultErrorCode } from '../errors.js';
import type { Member } from '../member-registry.js';
import { Capability, hasCapability } from '../roles.js';
import { PERMIT_TTL_MS } from './capture.js';
import { type SearchContext, audited, authorizeMember } from './context.js';
import { RecordStatus } from './record-ledger.js';

export interface ForgetOutcome {
  readonly recordId: string;
  /** Where the index must cancel the record's vector (subtract its ciphertext) and drop its sealed bytes. */
  readonly blockId: number;
  readonly slot: number;
  /** False when the record was already forgotten (forgetting is idempotent). */
  readonly wasLive: boolean;
  /** Signed authorisation for the index to cancel the vector and drop the sealed bytes. */
  readonly deletePermit: Envelope<'delete-permit'>;
}

/**
 * Deletes a record: tombstones it (never returned by a search again) and destroys its nonce in
 * the same durable write, so K_r can never be derived again (crypto-shredding). Only the record's
 * author or a member who manages the team may do it. Cancelling the vector at the index is the
 * transport layer's next step, with the returned block and slot.
 */
export async function forgetRecord(
  ctx: SearchContext,
  request: { member: Member; indexId: string; recordId: string },
): Promise<ForgetOutcome> {
  const { member, indexId, recordId } = request;
  return audited(ctx, { actor: member.id, action: 'forget', target: `${indexId}:${recordId}` }, () => {
    // Admins hold every capability; a non-admin author captured the record, so needs capture too.
    const role = authorizeMember(ctx, member, Capability.CAPTURE);
    const ledger = ctx.ledgers.get(indexId);
    const record = ledger.get(recordId);
    // SECURITY: canaries answer exactly like unknown ids, so no member can find or remove one.
    if (record === undefined || record.isCanary) {
      throw new VaultError(VaultErrorCode.NOT_FOUND, `no record ${recordId}`, { reason: 'unknown record' });
    }
    const isAuthor = record.authorMemberId === member.id;
    if (!isAuthor && !hasCapability(role, Capability.MANAGE_MEMBERS)) {
      throw new VaultError(VaultErrorCode.FORBIDDEN, 'forbidden', {
        reason: 'only the author or an admin may forget a record',
        memberId: member.id,
      });
    }
    const wasLive = record.status === RecordStatus.LIVE;
    const nowMs = ctx.clock();
    const after = ledger.tombstone(recordId, nowMs);
    // Re-issued on every call, so a member whose first index delete failed can retry.
    const deletePermit = signEnvelope(
      'delete-permit',
      {
        v: 1,
        indexId: ledger.indexId,
        recordId,
        epoch: ledger.epoch,
        issuedAt: nowMs,
        expiresAt: nowMs + PERMIT_TTL_MS,
        nonce: newNonce(ctx.random),
      },
      ctx.keys.signer,
    );
    return { recordId, blockId: after.blockId, slot: after.slot, wasLive, deletePermit };
  });
}
