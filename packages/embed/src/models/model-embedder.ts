import type { Embedder } from '../embedder.js';

/** An embedder backed by a model that must be loaded (or reached) before it can embed. */
export interface ModelEmbedder extends Embedder {
  /** Loads (or probes) the model now, e.g. for a status check; embedding loads on first use otherwise. */
  load(): Promise<void>;
  /** Whether the model is loaded (transformers.js) or has answered once (an endpoint). */
  readonly isLoaded: boolean;
  /** Embeds many documents, batched. */
  embedDocuments(texts: readonly string[]): Promise<Float32Array[]>;
}

/** Whether an embedder has a model to load (so a status check can call `load()`). */
export function isModelEmbedder(embedder: Embedder): embedder is ModelEmbedder {
  return 'load' in embedder && typeof embedder.load === 'function';
}
