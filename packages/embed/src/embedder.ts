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
}
