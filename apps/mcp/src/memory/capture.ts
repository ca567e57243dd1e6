import type { RecordStatus } from '@rune/client';
import type { NoveltyClass } from '@rune/embed';
import type { MemoryContext } from './context.js';
import { redactText, mergeCounts, type RedactionCounts } from './redact.js';
import { classify, searchableText, textSimilarity } from './scoring.js';

export interface CaptureRequest {
  readonly insight: string;
  readonly context?: string;
  readonly title?: string;
  readonly tags?: readonly string[];
  readonly domain?: string;
  readonly status?: RecordStatus;
  readonly supersedes?: string;
}

export interface Neighbour {
  readonly recordId: string;
  /** Text similarity to the new insight, in [0, 1]. */
  readonly similarity: number;
  readonly title?: string;
}

export interface CaptureResult {
  /** 'near-duplicate': nothing was stored; `duplicateOf` names the existing record. */
  readonly outcome: 'captured' | 'near-duplicate';
  readonly recordId?: string;
  readonly duplicateOf?: string;
  readonly novelty: NoveltyClass;
  /** Best similarity among the top 3 recalled (0 for an empty memory). */
  readonly similarity: number;
  /** The top-3 neighbours, best first: the records this one relates to or evolves. */
  readonly neighbours: readonly Neighbour[];
  /** What was redacted, by kind (never the secret). */
  readonly redacted: RedactionCounts;
  readonly supersedes?: string;
}

/** Records consulted for novelty (DESIGN §3). */
export const NOVELTY_NEIGHBOURS = 3;

/**
 * Capture with the memory semantics: redact every field, check novelty against the top 3, store
 * unless it is a near-duplicate (of a record other than the one it explicitly supersedes), log it.
 */
export async function captureMemory(ctx: MemoryContext, request: CaptureRequest): Promise<CaptureResult> {
  const { fields, redacted } = redactRequest(request, ctx.allowEmails);
  const client = await ctx.session.client();
  const config = await ctx.session.config();

  const { hits } = await client.recall(fields.insight, { k: NOVELTY_NEIGHBOURS });
  const neighbours: Neighbour[] = hits
    .map((hit) => ({
      recordId: hit.recordId,
      similarity: round3(textSimilarity(client.embedder, fields.insight, searchableText(hit.record))),
      ...(hit.record.title === undefined ? {} : { title: hit.record.title }),
    }))
    .sort((a, b) => b.similarity - a.similarity);
  // A successor may say nearly what it replaces: its predecessor does not count against it.
  const rivals = neighbours.filter((n) => n.recordId !== fields.supersedes);
  const best = rivals[0];
  const similarity = best?.similarity ?? 0;
  const novelty = classify(client.embedder, similarity);
  const common = { novelty, similarity, neighbours, redacted };
  if (novelty === 'near-duplicate' && best !== undefined) {
    ctx.log(`capture: near-duplicate of ${best.recordId} (similarity ${similarity}); not stored`);
    return { outcome: 'near-duplicate', duplicateOf: best.recordId, ...common };
  }

  const stored = await client.capture(fields);
  ctx.log(`capture: stored ${stored.recordId} (${novelty}, ${stored.timings.totalMs.toFixed(0)} ms)`);
  await ctx.history.append({
    v: 1,
    event: 'capture',
    at: ctx.clock(),
    owner: await ctx.session.owner(),
    indexId: config.indexId,
    recordId: stored.recordId,
    insight: fields.insight,
    ...(fields.title === undefined ? {} : { title: fields.title }),
    ...(fields.domain === undefined ? {} : { domain: fields.domain }),
    ...(fields.status === undefined ? {} : { status: fields.status }),
    ...(fields.tags === undefined ? {} : { tags: fields.tags }),
    ...(fields.supersedes === undefined ? {} : { supersedes: fields.supersedes }),
    novelty,
  });
  return {
    outcome: 'captured',
    recordId: stored.recordId,
    ...common,
    ...(fields.supersedes === undefined ? {} : { supersedes: fields.supersedes }),
  };
}

/** Every text field redacted; counts summed over fields. */
export function redactRequest(
  request: CaptureRequest,
  allowEmails: boolean,
): { fields: CaptureRequest; redacted: RedactionCounts } {
  const redacted: RedactionCounts = {};
  const clean = (text: string): string => {
    const out = redactText(text, { allowEmails });
    mergeCounts(redacted, out.counts);
    return out.text;
  };
  const fields: CaptureRequest = {
    insight: clean(request.insight),
    ...(request.context === undefined ? {} : { context: clean(request.context) }),
    ...(request.title === undefined ? {} : { title: clean(request.title) }),
    ...(request.tags === undefined ? {} : { tags: request.tags.map(clean) }),
    ...(request.domain === undefined ? {} : { domain: clean(request.domain) }),
    ...(request.status === undefined ? {} : { status: request.status }),
    ...(request.supersedes === undefined ? {} : { supersedes: request.supersedes }),
  };
  return { fields, redacted };
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
