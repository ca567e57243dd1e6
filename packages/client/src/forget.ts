import { idSchema } from '@rune/protocol';
import { type ClientContext, indexPath } from './context.js';
import { invalidArgument, isRuneClientError } from './errors.js';
import { forgetAnswerSchema, parseAnswer } from './wire.js';

export interface ForgetOutcome {
  readonly recordId: string;
  /** False when the Vault had already forgotten it (forgetting is idempotent). */
  readonly wasLive: boolean;
}

/**
 * Deletes a record (DESIGN §3): the Vault tombstones it and destroys its nonce (K_r is gone for
 * good), then the index cancels its vector and drops its sealed bytes under the Vault's permit.
 * Retrying after a failed index step is safe: the Vault issues a fresh permit each time.
 */
export async function forgetRecord(
  ctx: ClientContext,
  recordId: string,
  /** Told the delete-permit once the index has dropped the record (a term-stats −1 is bound to it). */
  onDeleted?: (permit: Record<string, unknown>) => void,
): Promise<ForgetOutcome> {
  if (!idSchema.safeParse(recordId).success) throw invalidArgument('recordId must be 1..64 of [A-Za-z0-9_-]');
  const forgotten = parseAnswer(
    forgetAnswerSchema,
    await ctx.vault.post('/v1/records/forget', { indexId: ctx.config.indexId, recordId }),
    'vault',
    'forget',
  );
  try {
    await ctx.index.post(indexPath(ctx, '/records/delete'), { permit: forgotten.deletePermit });
  } catch (err: unknown) {
    // An earlier forget already reached the index.
    if (!(isRuneClientError(err, 'RECORD_NOT_FOUND') && err.service === 'index')) throw err;
  }
  ctx.seenIds.delete(recordId);
  onDeleted?.(forgotten.deletePermit);
  return { recordId, wasLive: forgotten.wasLive };
}
