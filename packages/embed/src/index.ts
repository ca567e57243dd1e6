export type { Embedder } from './embedder.js';
export { EmbedError, EmbedErrorCode, isEmbedError } from './errors.js';
export {
  DEFAULT_LEXICAL_DIM,
  MAX_LEXICAL_DIM,
  createLexicalEmbedder,
  embedLexical,
  lexicalEmbedderId,
  type LexicalEmbedderOptions,
} from './lexical.js';
export { ENGLISH_STOPWORDS, tokenize } from './tokenize.js';
export { fnv1a32 } from './feature-hash.js';
export { l2Normalize } from './normalize.js';
export {
  TermStats,
  bm25Idf,
  type TermStatsDelta,
  type TermStatsJson,
  type TermStatsView,
} from './term-stats.js';
