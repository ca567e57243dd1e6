import type { RecallHit, RecordStatus } from '@rune/client';

/** Weights of the final order; relevance dominates, the rest breaks near-ties and demotes. */
export const RANK_WEIGHTS = Object.freeze({
  /** Added for a brand-new record, decaying with RECENCY_HALF_LIFE_DAYS. */
  recency: 0.1,
  /** Status adjustments. */
  status: Object.freeze({ accepted: 0.05, proposed: 0, rejected: -0.15 } satisfies Record<
    RecordStatus,
    number
  >),
  /** A record another one supersedes sinks below every live match of similar relevance. */
  superseded: -0.5,
});
export const RECENCY_HALF_LIFE_DAYS = 90;
const DAY_MS = 86_400_000;

export interface RankedHit extends RecallHit {
  /** Relevance in about [0, 1] (exact local score, or the Vault's). */
  readonly relevance: number;
  /** What the order is by. */
  readonly rank: number;
  /** The record that supersedes this one, when known. */
  readonly supersededBy?: string;
}

/**
 * Orders hits by relevance, recency and status; a superseded record ranks down and names its
 * successor. `successors` maps a record id to the id that supersedes it.
 */
export function rerank(
  hits: readonly RecallHit[],
  relevance: readonly number[],
  successors: ReadonlyMap<string, string>,
  nowMs: number,
): RankedHit[] {
  const ranked = hits.map((hit, i): RankedHit => {
    const rel = relevance[i] ?? 0;
    const ageDays = Math.max(0, nowMs - hit.record.createdAt) / DAY_MS;
    const recency = RANK_WEIGHTS.recency * 0.5 ** (ageDays / RECENCY_HALF_LIFE_DAYS);
    const status = hit.record.status === undefined ? 0 : RANK_WEIGHTS.status[hit.record.status];
    const successor = successors.get(hit.recordId);
    const rank = rel + recency + status + (successor === undefined ? 0 : RANK_WEIGHTS.superseded);
    return { ...hit, relevance: rel, rank, ...(successor === undefined ? {} : { supersededBy: successor }) };
  });
  return ranked.sort((a, b) => b.rank - a.rank || b.score - a.score);
}

/** Successor links among opened records: `supersedes` names the older record. */
export function successorsOf(
  hits: readonly RecallHit[],
  known: ReadonlyMap<string, string> = new Map(),
): Map<string, string> {
  const out = new Map(known);
  for (const hit of hits) {
    if (hit.record.supersedes !== undefined) out.set(hit.record.supersedes, hit.recordId);
  }
  return out;
}
