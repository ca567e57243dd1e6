import { TermStats, analyze, bm25Saturation, exactBm25, termHash, type Embedder } from '@rune/embed';
import type { RetrievalSet } from './eval-sets.js';
import { TOP_K } from './metrics.js';

/** A recalled (opened) record: its id and its text. */
export interface OpenedRecord {
  readonly id: string;
  readonly text: string;
}

/** The team's term statistics over `texts`, as every member's published deltas would build them. */
export function statsOf(embedder: Embedder, texts: readonly string[]): TermStats {
  const stats = new TermStats();
  if (embedder.documentTerms === undefined) throw new Error(`${embedder.id} publishes no document terms`);
  for (const text of texts) stats.apply({ documents: 1, terms: embedder.documentTerms(text) });
  return stats;
}

/**
 * The member-side re-rank: the top-k a recall returned, re-scored with exact BM25 over the opened
 * records (the same analysis, no hashing, no normalisation); ties keep the recall's order.
 */
export function rerankTopK(query: string, hits: readonly OpenedRecord[], stats: TermStats): OpenedRecord[] {
  return hits
    .map((hit, i) => ({ hit, i, score: exactBm25(query, hit.text, stats) }))
    .sort((a, b) => b.score - a.score || a.i - b.i)
    .map((x) => x.hit);
}

/** Mean document length (words after stop words) of a set: textbook BM25's avgdl. */
export function corpusAvgdl(set: RetrievalSet): number {
  return set.docs.reduce((s, d) => s + analyze(d.text).length, 0) / set.docs.length;
}

/**
 * Plaintext BM25 ranking of a whole set with the same analysis and the corpus's own avgdl: the
 * reference the embedder is measured against. Docs scoring 0 (no shared term) are not retrieved.
 */
export function bm25Ranking(set: RetrievalSet, query: string, stats: TermStats, avgdl: number): string[] {
  return set.docs
    .map((d, i) => ({ id: d.id, i, score: exactBm25(query, d.text, stats, { avgdl }) }))
    .filter((x) => x.score > 0)
    .sort((a, b) => b.score - a.score || a.i - b.i)
    .map((x) => x.id);
}

/**
 * Document vector before the L2 normalisation the engine needs: BM25-saturated tf hashed into
 * `dim` signed buckets, exactly as the embedder does (its bucket/sign rule, copied for the
 * "what does L2 cost" column).
 */
export function rawDocumentVector(text: string, dim: number): Float64Array {
  const analysis = analyze(text);
  const acc = new Float64Array(dim);
  for (const [term, tf] of analysis.terms) {
    const hash = termHash(term);
    const bucket = (hash & 0x7fffffff) % dim;
    acc[bucket] = (acc[bucket] ?? 0) + (hash >>> 31 === 0 ? 1 : -1) * bm25Saturation(tf, analysis.length);
  }
  return acc;
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] ?? 0) * (b[i] ?? 0);
  return s;
}

/** Ids of `docs` ordered by score, best first, ties by doc order; the top `k` only. */
export function topK(ids: readonly string[], scores: readonly number[], k = TOP_K): string[] {
  return ids
    .map((id, i) => ({ id, i, s: scores[i] ?? Number.NEGATIVE_INFINITY }))
    .sort((a, b) => b.s - a.s || a.i - b.i)
    .slice(0, k)
    .map((x) => x.id);
}

/**
 * The relevant docs a lexical method can find at all: those sharing a term with the query. A
 * relevant doc sharing none sits among the zero-score ties, where its rank is luck (store order
 * in a simulation, random in the engine), so every method counts it as not found.
 */
export function findableRelevant(
  query: string,
  relevant: readonly string[],
  textOf: (id: string) => string,
): string[] {
  const queryTerms = analyze(query).terms;
  return relevant.filter((id) => [...analyze(textOf(id)).terms.keys()].some((t) => queryTerms.has(t)));
}
