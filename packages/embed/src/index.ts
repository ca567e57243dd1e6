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
export {
  BM25_AVGDL,
  BM25_B,
  BM25_DIM_STEP,
  BM25_K1,
  DEFAULT_BM25_DIM,
  MAX_BM25_DIM,
  bm25EmbedderId,
  bm25Saturation,
  createBm25Embedder,
  documentTermHashes,
  exactBm25,
  similarity,
  termHash,
  type Bm25EmbedderOptions,
} from './bm25.js';
export { BM25_STOPWORDS, CJK_NGRAM_WEIGHT, analyze, analyzeTerms, type Analysis } from './analyze.js';
export {
  NOVELTY_THRESHOLDS,
  classifyNovelty,
  noveltyThresholdsFor,
  type NoveltyClass,
  type NoveltyThresholds,
} from './novelty.js';
export { fnv1a32 } from './feature-hash.js';
export { l2Normalize } from './normalize.js';
export {
  TermStats,
  bm25Idf,
  type TermStatsDelta,
  type TermStatsJson,
  type TermStatsView,
} from './term-stats.js';
export {
  DEFAULT_DOWNLOAD_TIMEOUT_MS,
  DEFAULT_MODEL_DTYPE,
  DEFAULT_REMOTE_HOST,
  createTransformersEmbedder,
  transformersEmbedderId,
  type ModelEmbedder,
  type TransformersEmbedderOptions,
} from './transformers-embedder.js';
export {
  DEFAULT_OPENAI_TIMEOUT_MS,
  createOpenAiEmbedder,
  openAiEmbedderId,
  type OpenAiEmbedderOptions,
} from './openai-embedder.js';
export {
  MODEL_DTYPES,
  defaultModelDir,
  isOfflineEnv,
  isValidModelId,
  type ModelDtype,
  type ModelEnvironment,
} from './models/model-settings.js';
export { isModelEmbedder } from './models/model-embedder.js';
