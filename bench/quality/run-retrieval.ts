import { createBm25Embedder } from '@rune/embed';
import type { RetrievalSet } from './eval-sets.js';
import { TOP_K, firstRelevantRank, rankMetrics, type RankMetrics } from './metrics.js';
import { feedTermStatsLocally, openQualityStack } from './quality-stack.js';
import { bm25Ranking, corpusAvgdl, findableRelevant, rerankTopK, statsOf } from './ranking.js';

export interface RetrievalResult {
  readonly name: string;
  readonly docs: number;
  readonly queries: number;
  /** Encrypted recall's own order (k = 10). */
  readonly encrypted: RankMetrics;
  /** Encrypted recall, then the member's exact-BM25 re-rank of the opened top 10. */
  readonly reranked: RankMetrics;
  /** Plaintext textbook BM25 over the same docs, same analysis. */
  readonly bm25: RankMetrics;
  /** Whether the bench fed the term statistics itself (see feedTermStatsLocally). */
  readonly fedTermStatsLocally: boolean;
  readonly captureSeconds: number;
  readonly recallSeconds: number;
}

/** Captures every doc of `set` into a fresh stack and recalls every query through RuneClient. */
export async function runRetrievalSet(set: RetrievalSet, dim: number): Promise<RetrievalResult> {
  const embedder = createBm25Embedder({ dim });
  const stack = await openQualityStack(embedder);
  try {
    const idOfRecord = new Map<string, string>();
    const t0 = performance.now();
    for (const doc of set.docs) {
      const outcome = await stack.client.capture({ insight: doc.text });
      idOfRecord.set(outcome.recordId, doc.id);
    }
    const captureSeconds = (performance.now() - t0) / 1000;
    const texts = set.docs.map((d) => d.text);
    const fed = await feedTermStatsLocally(stack.client, embedder, texts);
    const stats = embedder.termStats ?? statsOf(embedder, texts);

    const encrypted: (number | undefined)[] = [];
    const reranked: (number | undefined)[] = [];
    const bm25: (number | undefined)[] = [];
    const avgdl = corpusAvgdl(set);
    const textOf = (id: string) => set.docs.find((d) => d.id === id)?.text ?? '';
    const t1 = performance.now();
    for (const q of set.queries) {
      const relevant = findableRelevant(q.text, q.relevant, textOf);
      const outcome = await stack.client.recall(q.text, { k: TOP_K });
      const opened = outcome.hits.map((h) => ({
        id: idOfRecord.get(h.recordId) ?? h.recordId,
        text: h.record.insight,
      }));
      encrypted.push(
        firstRelevantRank(
          opened.map((o) => o.id),
          relevant,
        ),
      );
      reranked.push(
        firstRelevantRank(
          rerankTopK(q.text, opened, stats).map((o) => o.id),
          relevant,
        ),
      );
      bm25.push(firstRelevantRank(bm25Ranking(set, q.text, stats, avgdl), relevant));
    }
    const recallSeconds = (performance.now() - t1) / 1000;
    return {
      name: set.name,
      docs: set.docs.length,
      queries: set.queries.length,
      encrypted: rankMetrics(encrypted),
      reranked: rankMetrics(reranked),
      bm25: rankMetrics(bm25),
      fedTermStatsLocally: fed,
      captureSeconds,
      recallSeconds,
    };
  } finally {
    await stack.close();
  }
}
