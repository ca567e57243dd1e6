import type { TermStats } from './term-stats.js';

/**
 * What every embedder provides (DESIGN §7). Asynchronous so model-based embedders (transformers.js,
 * an OpenAI-compatible endpoint) fit the same shape as the offline lexical one.
 */
export interface Embedder {
  /** Stable id stored with the index; vectors of different ids are not comparable. */
  readonly id: string;
  /** Coordinates of every vector it returns. */
  readonly dim: number;
  /** Vector of a text to be stored; L2-normalised. */
  embedDocument(text: string): Promise<Float32Array>;
  /** Vector of a search query; L2-normalised. */
  embedQuery(text: string): Promise<Float32Array>;
  /**
   * Present on embedders whose query side needs team-wide document frequencies (the BM25-shaped
   * one): the client keeps these counts current (applies every member's sealed deltas) before it
   * embeds a query, and publishes `documentTerms` of every document it captures.
   */
  readonly termStats?: TermStats;
  /** Distinct term hashes of a document, for its TermStatsDelta; present with `termStats`. */
  documentTerms?(text: string): Uint32Array;
}
