import type { RecallHit } from '@rune/client';
import {
  NOVELTY_THRESHOLDS,
  TermStats,
  classifyNovelty,
  exactBm25,
  noveltyThresholdsFor,
  similarity,
  type Embedder,
  type NoveltyClass,
  type NoveltyThresholds,
  type TermStatsView,
} from '@rune/embed';

/**
 * `similarity` works on the opened texts, not on the embedder's vectors, so its calibrated
 * thresholds hold for any embedder without its own; the BM25 family's are that default.
 */
const DEFAULT_THRESHOLDS: NoveltyThresholds = NOVELTY_THRESHOLDS['bm25-hash-v1'] ?? {
  nearDuplicate: 0.6,
  evolution: 0.3,
  related: 0.15,
};

export function thresholdsFor(embedder: Embedder): NoveltyThresholds {
  return noveltyThresholdsFor(embedder.id) ?? DEFAULT_THRESHOLDS;
}

/** The team's term statistics when the embedder keeps them; uniform IDF otherwise. */
export function statsOf(embedder: Embedder): TermStatsView {
  return embedder.termStats ?? new TermStats();
}

/** Similarity of a new insight to a stored record's text, in [0, 1]. */
export function textSimilarity(embedder: Embedder, insight: string, stored: string): number {
  return similarity(insight, stored, statsOf(embedder));
}

export function classify(embedder: Embedder, score: number): NoveltyClass {
  return classifyNovelty(score, thresholdsFor(embedder));
}

function isBm25(embedder: Embedder): boolean {
  return embedder.id.startsWith('bm25-hash-');
}

/**
 * Relevance of an opened hit, scaled to about [0, 1]: exact BM25 (no hashing collisions, no
 * rounding) when the embedder is the BM25-shaped one, else the Vault's cosine score.
 */
export function relevanceScores(embedder: Embedder, query: string, hits: readonly RecallHit[]): number[] {
  if (!isBm25(embedder)) return hits.map((h) => Math.max(0, h.score));
  const stats = statsOf(embedder);
  const raw = hits.map((h) => exactBm25(query, searchableText(h.record), stats));
  const top = Math.max(0, ...raw);
  return raw.map((s) => (top === 0 ? 0 : s / top));
}

/** The text a record is found by: its insight (the only embedded field) and title. */
export function searchableText(record: RecallHit['record']): string {
  return record.title === undefined ? record.insight : `${record.title}\n${record.insight}`;
}
