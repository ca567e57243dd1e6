import { CJK_NGRAM_WEIGHT, analyze, isNgramTerm, type Analysis } from './analyze.js';
import type { Embedder } from './embedder.js';
import { EmbedError } from './errors.js';
import { fnv1a32, mix32 } from './feature-hash.js';
import { hashedToUnit } from './normalize.js';
import { TermStats, bm25Idf, type TermStatsView } from './term-stats.js';

/**
 * The BM25-shaped hashed embedder (recipe "emb2", docs/decisions/0008): a document stores BM25's
 * saturated term frequencies, a query its terms' IDF over the team's term statistics, both
 * signed-hashed into `dim` buckets, so dot(query, document) ranks like BM25 up to hash collisions
 * and the L2 normalisation the encrypted engine needs. Documents use no corpus statistics, so
 * stored vectors never need re-embedding as the team's memory grows.
 */

/** Default dimension; chosen in docs/decisions/0008-offline-embedder-dimension.md. */
export const DEFAULT_BM25_DIM = 1024;
/** The engine's limit for plaintext-query indexes (docs/engine.md). */
export const MAX_BM25_DIM = 2048;
/** Encrypted blocks pack 32 coordinates; other dimensions would waste slots. */
export const BM25_DIM_STEP = 32;
/** BM25 parameters; avgdl is fixed so a document's vector never depends on the others. */
export const BM25_K1 = 1.2;
export const BM25_B = 0.75;
export const BM25_AVGDL = 40;

/** The id recorded with an index; it names the algorithm (analysis, hash, weights) and the dimension. */
export function bm25EmbedderId(dim: number): string {
  return `bm25-hash-v1-d${dim}`;
}

export interface Bm25EmbedderOptions {
  /** Buckets: a multiple of 32, at most 2048. Default DEFAULT_BM25_DIM. */
  readonly dim?: number;
  /** Team-wide document frequencies read by `embedQuery`; a new, empty one when not given. */
  readonly termStats?: TermStats;
}

/**
 * A term's 32-bit hash: FNV-1a of its UTF-8 text through MurmurHash3's finaliser (FNV's low bits
 * are weak). The top bit is the sign, the rest picks the bucket. Part of the embedder id's contract.
 */
export function termHash(term: string): number {
  return mix32(fnv1a32(term));
}

/** BM25's saturated term frequency at the fixed average length (or `avgdl` when given). */
export function bm25Saturation(tf: number, length: number, avgdl = BM25_AVGDL): number {
  const norm = BM25_K1 * (1 - BM25_B + (BM25_B * length) / avgdl);
  return (tf * (BM25_K1 + 1)) / (tf + norm);
}

export function createBm25Embedder(options: Bm25EmbedderOptions = {}): Embedder {
  const dim = options.dim ?? DEFAULT_BM25_DIM;
  if (!Number.isSafeInteger(dim) || dim < BM25_DIM_STEP || dim > MAX_BM25_DIM || dim % BM25_DIM_STEP !== 0) {
    throw new EmbedError(
      'EMBED_INVALID_OPTIONS',
      `dim must be a multiple of ${BM25_DIM_STEP} from ${BM25_DIM_STEP} to ${MAX_BM25_DIM}, got ${String(dim)}`,
    );
  }
  const termStats = options.termStats ?? new TermStats();
  // The executor turns a throw into a rejection, as the async interface promises.
  const embedDocument = (text: string): Promise<Float32Array> =>
    new Promise((resolve) => {
      resolve(embedBm25Document(text, dim));
    });
  const embedQuery = (text: string): Promise<Float32Array> =>
    new Promise((resolve) => {
      resolve(embedBm25Query(text, dim, termStats));
    });
  return Object.freeze({
    id: bm25EmbedderId(dim),
    dim,
    termStats,
    embedDocument,
    embedQuery,
    documentTerms: (text: string) => documentTermHashes(text),
  });
}

/** Distinct term hashes of a text, sorted: what a capture contributes to the team's TermStats. */
export function documentTermHashes(text: string): Uint32Array {
  const hashes = new Set<number>();
  for (const term of analyze(text).terms.keys()) hashes.add(termHash(term));
  return Uint32Array.from(hashes).sort();
}

/** The document side: BM25-saturated tf per term, hashed, L2-normalised. */
export function embedBm25Document(text: string, dim: number): Float32Array {
  const analysis = analyzeOrThrow(text);
  const acc = new Float64Array(dim);
  for (const [term, tf] of analysis.terms) {
    addHashed(acc, termHash(term), bm25Saturation(tf, analysis.length));
  }
  return hashedToUnit(acc);
}

/**
 * The query side: each distinct term weighs its IDF (times its analysis weight: an n-gram counts
 * 0.3), hashed, L2-normalised. With no statistics yet (N = 0) every term weighs the same, which
 * is what BM25's IDF gives when nothing is known.
 */
export function embedBm25Query(text: string, dim: number, stats: TermStatsView): Float32Array {
  const analysis = analyzeOrThrow(text);
  const acc = new Float64Array(dim);
  for (const [hash, weight] of queryWeights(analysis, stats)) addHashed(acc, hash, weight);
  return hashedToUnit(acc);
}

/**
 * Exact BM25 of `doc` for `query` with the same analysis and weights as the vectors, without
 * hashing or normalisation: for re-ranking records a member has opened. `avgdl` defaults to the
 * embedder's fixed 40; pass the corpus average for textbook BM25.
 */
export function exactBm25(
  query: string,
  doc: string,
  stats: TermStatsView,
  options: { readonly avgdl?: number } = {},
): number {
  const q = analyze(query);
  const d = analyze(doc);
  const docTf = new Map<number, number>();
  for (const [term, tf] of d.terms) docTf.set(termHash(term), tf);
  let score = 0;
  for (const [hash, weight] of queryWeights(q, stats)) {
    const tf = docTf.get(hash);
    if (tf !== undefined) score += weight * bm25Saturation(tf, d.length, options.avgdl);
  }
  return score;
}

/**
 * Symmetric similarity of two texts for novelty and de-duplication: both sides weigh
 * saturated tf × IDF, L2-normalised, cosine over exact terms (no hashing). In [0, 1]; 0 when
 * either text has no terms.
 */
export function similarity(a: string, b: string, stats: TermStatsView): number {
  const va = symmetricVector(analyze(a), stats);
  const vb = symmetricVector(analyze(b), stats);
  let dot = 0;
  for (const [hash, x] of va.weights) {
    const y = vb.weights.get(hash);
    if (y !== undefined) dot += x * y;
  }
  if (va.norm === 0 || vb.norm === 0) return 0;
  return Math.min(1, dot / (va.norm * vb.norm));
}

function symmetricVector(analysis: Analysis, stats: TermStatsView) {
  const weights = new Map<number, number>();
  let sq = 0;
  for (const [term, tf] of analysis.terms) {
    const hash = termHash(term);
    const w = bm25Saturation(tf, analysis.length) * idfOrUniform(stats, hash);
    weights.set(hash, (weights.get(hash) ?? 0) + w);
  }
  for (const w of weights.values()) sq += w * w;
  return { weights, norm: Math.sqrt(sq) };
}

/** Query-term weights: hash → analysis weight (1 for a word, 0.3 for an n-gram) × IDF. */
function queryWeights(analysis: Analysis, stats: TermStatsView): Map<number, number> {
  const weights = new Map<number, number>();
  for (const term of analysis.terms.keys()) {
    // A repeated word in a query counts once; an n-gram keeps its lower weight.
    const hash = termHash(term);
    const w = (isNgramTerm(term) ? CJK_NGRAM_WEIGHT : 1) * idfOrUniform(stats, hash);
    weights.set(hash, Math.max(weights.get(hash) ?? 0, w));
  }
  return weights;
}

function idfOrUniform(stats: TermStatsView, hash: number): number {
  return stats.documentCount === 0 ? 1 : bm25Idf(stats, hash);
}

function addHashed(acc: Float64Array, hash: number, weight: number): void {
  const bucket = (hash & 0x7fffffff) % acc.length;
  acc[bucket] = (acc[bucket] ?? 0) + (hash >>> 31 === 0 ? weight : -weight);
}

function analyzeOrThrow(text: string): Analysis {
  const analysis = analyze(text);
  if (analysis.terms.size === 0) {
    throw new EmbedError(
      'EMBED_EMPTY_TEXT',
      'the text has nothing to embed: it is empty or holds only punctuation or stop words',
    );
  }
  return analysis;
}
