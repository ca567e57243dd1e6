import type { MemoryContext } from './context.js';
import { captureMemory, type CaptureRequest, type CaptureResult } from './capture.js';

export interface DeleteResult {
  readonly mode: 'delete';
  readonly recordId: string;
  /** False when it had been forgotten already. */
  readonly wasLive: boolean;
}

export interface SupersedeResult {
  readonly mode: 'supersede';
  readonly recordId: string;
  readonly successor: CaptureResult;
}

/**
 * Delete: the Vault checks that the caller is the record's author or an admin (FORBIDDEN
 * otherwise), tombstones it and destroys its key; the index cancels its vector.
 */
export async function deleteMemory(ctx: MemoryContext, recordId: string): Promise<DeleteResult> {
  const client = await ctx.session.client();
  const config = await ctx.session.config();
  // The insight as captured lets the team's term counts drop it too; only own captures are known here.
  const own = (await ctx.history.read().catch(() => [])).find(
    (e) => e.event === 'capture' && e.recordId === recordId && e.indexId === config.indexId,
  );
  const text = own?.event === 'capture' ? own.insight : undefined;
  const outcome = await client.forget(recordId, text === undefined ? {} : { text });
  ctx.log(`forget: ${recordId} deleted (was live: ${String(outcome.wasLive)})`);
  await ctx.history.append({
    v: 1,
    event: 'forget',
    at: ctx.clock(),
    owner: await ctx.session.owner(),
    indexId: config.indexId,
    recordId,
  });
  return { mode: 'delete', recordId, wasLive: outcome.wasLive };
}

/**
 * Supersede: a successor capture that names the old record; the old one stays, ranks down in
 * recall and points to the successor. A capture, so the Vault's capture rights apply.
 */
export async function supersedeMemory(
  ctx: MemoryContext,
  recordId: string,
  successor: Omit<CaptureRequest, 'supersedes'>,
): Promise<SupersedeResult> {
  const result = await captureMemory(ctx, { ...successor, supersedes: recordId });
  return { mode: 'supersede', recordId, successor: result };
}
