import type { RecallOutcome, RuneClient } from '@rune/client';
import type { MemoryContext } from './context.js';
import { MemoryError, MemoryErrorCode } from './errors.js';
import { hasFilters, matchesFilters, type RecallFilters } from './filters.js';
import { supersessionLinks } from './history-log.js';
import { rerank, successorsOf, type RankedHit } from './rerank.js';
import type { RoleCap } from './role-cap.js';
import { relevanceScores } from './scoring.js';

export interface RecallRequest {
  readonly query: string;
  readonly topk: number;
  readonly filters: RecallFilters;
}

export interface RecallResult {
  readonly hits: readonly RankedHit[];
  /** Records the Vault returned and this machine opened before filtering. */
  readonly fetched: number;
  /** How many were asked for (the over-fetch). */
  readonly asked: number;
  /** The role cap, once the Vault has told it. */
  readonly cap: number | undefined;
  /**
   * True when filters left fewer than topk and the fetch was already at the cap: more matches may
   * exist below that many non-matching records.
   */
  readonly mayBeIncomplete: boolean;
  /** Hits that could not be shown (forgotten meanwhile, unreadable). */
  readonly skipped: number;
}

/**
 * Recall with local filters and re-ranking. With filters, it over-fetches up to the role cap so
 * that up to topk matches come back when they exist among that many; without, 2 × topk, so
 * re-ranking by recency and status has candidates to promote.
 */
export async function recallMemories(ctx: MemoryContext, request: RecallRequest): Promise<RecallResult> {
  const { query, topk, filters } = request;
  const cap = ctx.session.roleCap;
  const client = await ctx.session.client();
  await cap.ask(client);
  refuseAboveCap(topk, cap);
  const isFiltered = hasFilters(filters);
  const want = (k: number) => Math.max(topk, Math.min(k, isFiltered ? k : 2 * topk));
  let asked = want(cap.ceiling);
  let outcome: RecallOutcome;
  try {
    outcome = await recallOnce(client, query, asked);
  } catch (err: unknown) {
    if (!cap.learnFrom(err)) throw err;
    refuseAboveCap(topk, cap);
    asked = want(cap.ceiling);
    outcome = await recallOnce(client, query, asked);
  }
  const config = await ctx.session.config();
  const own = await ctx.history.read().catch(() => []);
  const known = supersessionLinks(own.filter((e) => e.indexId === config.indexId));
  const successors = successorsOf(outcome.hits, known);
  const matching = outcome.hits.filter((h) => matchesFilters(h.record, filters));
  const ranked = rerank(matching, relevanceScores(client.embedder, query, matching), successors, ctx.clock());
  return {
    hits: ranked.slice(0, topk),
    fetched: outcome.hits.length,
    asked,
    cap: cap.known,
    mayBeIncomplete:
      isFiltered && matching.length < topk && outcome.hits.length + outcome.skipped.length >= asked,
    skipped: outcome.skipped.length,
  };
}

function recallOnce(client: RuneClient, query: string, k: number): Promise<RecallOutcome> {
  return client.recall(query, { k });
}

function refuseAboveCap(topk: number, cap: RoleCap): void {
  const known = cap.known;
  if (known === undefined || topk <= known) return;
  throw new MemoryError(
    MemoryErrorCode.TOP_K_ABOVE_CAP,
    `topk ${topk} is above your role's cap of ${known} results per recall; the Vault refuses more`,
    `ask for at most ${known} (topk ≤ ${known}); a Vault admin can raise the role's topKCap`,
  );
}
