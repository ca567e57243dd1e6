import { createBm25Embedder, exactBm25 } from '@rune/embed';
import type { RetrievalSet } from './eval-sets.js';
import { firstRelevantRank, poolMetrics, rankMetrics, type RankMetrics } from './metrics.js';
import {
  bm25Ranking,
  corpusAvgdl,
  dot,
  findableRelevant,
  rawDocumentVector,
  rerankTopK,
  statsOf,
  topK,
} from './ranking.js';

/**
 * Plaintext simulation of encrypted recall: float dot products of the embedder's vectors (the
 * engine's scores equal these up to its 1e-3 rounding), so a dimension sweep takes seconds
 * instead of a stack per point.
 */
export interface SimulatedSet {
  readonly name: string;
  readonly queries: number;
  /** Textbook BM25, same analysis, the corpus's own avgdl: the reference. */
  readonly bm25: RankMetrics;
  /** BM25 with the embedder's fixed avgdl 40 (what the re-rank computes). */
  readonly bm25FixedAvgdl: RankMetrics;
  readonly byDim: readonly SimulatedDim[];
}

export interface SimulatedDim {
  readonly dim: number;
  /** Hashed vectors without document L2: what the hashing alone costs. */
  readonly hashedRaw: RankMetrics;
  /** Unit document vectors, as stored in the engine. */
  readonly hashedUnit: RankMetrics;
  /** Unit vectors, then the member's exact-BM25 re-rank of the top 10. */
  readonly hashedUnitReranked: RankMetrics;
}

interface Ranks {
  bm25: (number | undefined)[];
  bm25Fixed: (number | undefined)[];
  raw: Map<number, (number | undefined)[]>;
  unit: Map<number, (number | undefined)[]>;
  reranked: Map<number, (number | undefined)[]>;
}

async function rankSet(set: RetrievalSet, dims: readonly number[]): Promise<Ranks> {
  const ids = set.docs.map((d) => d.id);
  const texts = set.docs.map((d) => d.text);
  const ranks: Ranks = { bm25: [], bm25Fixed: [], raw: new Map(), unit: new Map(), reranked: new Map() };
  const stats = statsOf(createBm25Embedder({ dim: dims[0] ?? 1024 }), texts);
  const avgdl = corpusAvgdl(set);
  const textOf = (id: string) => texts[ids.indexOf(id)] ?? '';
  const findable = new Map(set.queries.map((q) => [q.id, findableRelevant(q.text, q.relevant, textOf)]));
  const relevantOf = (q: { id: string }) => findable.get(q.id) ?? [];
  for (const q of set.queries) {
    ranks.bm25.push(firstRelevantRank(bm25Ranking(set, q.text, stats, avgdl), relevantOf(q)));
    const fixed = set.docs.map((d) => exactBm25(q.text, d.text, stats));
    ranks.bm25Fixed.push(firstRelevantRank(topK(ids, fixed, ids.length), relevantOf(q)));
  }
  for (const dim of dims) {
    const embedder = createBm25Embedder({ dim, termStats: stats });
    const unitDocs = await Promise.all(texts.map((t) => embedder.embedDocument(t)));
    const rawDocs = texts.map((t) => rawDocumentVector(t, dim));
    const raw: (number | undefined)[] = [];
    const unit: (number | undefined)[] = [];
    const reranked: (number | undefined)[] = [];
    for (const q of set.queries) {
      const qv = await embedder.embedQuery(q.text);
      raw.push(
        firstRelevantRank(
          topK(
            ids,
            rawDocs.map((d) => dot(qv, d)),
          ),
          relevantOf(q),
        ),
      );
      const top = topK(
        ids,
        unitDocs.map((d) => dot(qv, d)),
      );
      unit.push(firstRelevantRank(top, relevantOf(q)));
      const opened = top.map((id) => ({ id, text: texts[ids.indexOf(id)] ?? '' }));
      const again = rerankTopK(q.text, opened, stats).map((r) => r.id);
      reranked.push(firstRelevantRank(again, relevantOf(q)));
    }
    ranks.raw.set(dim, raw);
    ranks.unit.set(dim, unit);
    ranks.reranked.set(dim, reranked);
  }
  return ranks;
}

/**
 * Simulates `sets` (each its own store) and pools them into one line named `name`: a single
 * retrieval set, or rune's 16 one-store-per-scenario sets.
 */
export async function simulate(
  name: string,
  sets: readonly RetrievalSet[],
  dims: readonly number[],
): Promise<SimulatedSet> {
  const all = await Promise.all(sets.map((s) => rankSet(s, dims)));
  const pool = (pick: (r: Ranks) => (number | undefined)[]) =>
    poolMetrics(all.map((r) => rankMetrics(pick(r))));
  return {
    name,
    queries: all.reduce((s, r) => s + r.bm25.length, 0),
    bm25: pool((r) => r.bm25),
    bm25FixedAvgdl: pool((r) => r.bm25Fixed),
    byDim: dims.map((dim) => ({
      dim,
      hashedRaw: pool((r) => r.raw.get(dim) ?? []),
      hashedUnit: pool((r) => r.unit.get(dim) ?? []),
      hashedUnitReranked: pool((r) => r.reranked.get(dim) ?? []),
    })),
  };
}
