import type { Embedder } from './embedder.js';
import { EmbedError } from './errors.js';
import { addHashedFeature } from './feature-hash.js';
import { hashedToUnit } from './normalize.js';
import { tokenize } from './tokenize.js';

export const DEFAULT_LEXICAL_DIM = 384;
/** Largest dimension accepted; the encrypted engine's limit (DESIGN §4). */
export const MAX_LEXICAL_DIM = 4096;
/** Adjacent-word pairs count for less than words: they add phrase sense without drowning the words. */
const BIGRAM_WEIGHT = 0.5;

export interface LexicalEmbedderOptions {
  /** Buckets of the hashed vector, 1..4096; the encrypted engine wants a multiple of 32. */
  readonly dim?: number;
}

/** The id recorded with an index; it names the algorithm, so changing the algorithm needs a new id. */
export function lexicalEmbedderId(dim: number): string {
  return `lexical-hash-v1-d${dim}`;
}

/**
 * The always-available offline embedder (DESIGN §7): no weights, deterministic, fast. Words and
 * adjacent word pairs are feature-hashed with sublinear term frequency (1 + ln tf) and the result
 * L2-normalised, so a dot product is a cosine of bag-of-words overlap. Provisional: a tuned
 * BM25-shaped embedder replaces it.
 */
export function createLexicalEmbedder(options: LexicalEmbedderOptions = {}): Embedder {
  const dim = options.dim ?? DEFAULT_LEXICAL_DIM;
  if (!Number.isSafeInteger(dim) || dim < 1 || dim > MAX_LEXICAL_DIM) {
    throw new EmbedError('EMBED_INVALID_OPTIONS', `dim must be an integer from 1 to ${MAX_LEXICAL_DIM}`);
  }
  // Queries and documents share one space: lexical overlap is symmetric. The executor turns a
  // throw into a rejection, as the async interface promises.
  const embed = (text: string): Promise<Float32Array> =>
    new Promise((resolve) => {
      resolve(embedLexical(text, dim));
    });
  return Object.freeze({ id: lexicalEmbedderId(dim), dim, embedDocument: embed, embedQuery: embed });
}

/** The synchronous core of the lexical embedder. Throws EMBED_EMPTY_TEXT when nothing is left to embed. */
export function embedLexical(text: string, dim: number): Float32Array {
  const tokens = tokenize(text);
  if (tokens.length === 0) {
    throw new EmbedError(
      'EMBED_EMPTY_TEXT',
      'the text has nothing to embed: it is empty or holds only punctuation or stopwords',
    );
  }
  const counts = new Map<string, number>();
  const count = (feature: string) => counts.set(feature, (counts.get(feature) ?? 0) + 1);
  tokens.forEach((token, i) => {
    // Prefixes keep a word and a pair that happen to share text in separate features.
    count(`w:${token}`);
    if (i > 0) count(`b:${tokens[i - 1] ?? ''} ${token}`);
  });
  const acc = new Float64Array(dim);
  for (const [feature, tf] of counts) {
    const weight = (1 + Math.log(tf)) * (feature.startsWith('b:') ? BIGRAM_WEIGHT : 1);
    addHashedFeature(acc, feature, weight);
  }
  return hashedToUnit(acc);
}
