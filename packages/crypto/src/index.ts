export { CryptoError, CryptoErrorCode, isCryptoError } from './errors.js';
export {
  PARAM_SETS,
  DEFAULT_PARAM_SET_ID,
  QueryMode,
  getParamSet,
  chunkCount,
  assertDimension,
  type ParamSet,
} from './params.js';
export { createEngine, type Engine, type KernelChoice } from './engine.js';
export { systemRandom, deterministicRandom, type RandomSource } from './random.js';
export type { Kernels } from './kernels/types.js';
export type { PublicKey, SecretKey, EncryptedVector, Block, BlockScores } from './types.js';
export { generateKeyPair, type KeyPair } from './keys.js';
export { encryptVector, encryptQuery } from './encrypt.js';
export { MAX_VECTOR_NORM } from './encoding.js';
export {
  createBlock,
  addToBlock,
  subtractFromBlock,
  isSlotOccupied,
  occupiedCount,
  firstFreeSlot,
} from './block.js';
export {
  createPreparedQuery,
  preparePlainQuery,
  prepareEncryptedQuery,
  type PreparedQuery,
} from './query.js';
export { scoreBlock, scoreBlocks, blockScoreWords } from './score.js';
export { ScoreDecryptor } from './score-decryptor.js';
export { SCORE_LIMIT, assertScoresInRange, roundScore, TopK, type RankedItem } from './ranking.js';
export { decryptTopK, type ScoredSlot, type DecryptTopKOptions } from './vault-ops.js';
export * from './sealing/index.js';
export * from './serialize/index.js';
export { ScoringPool } from './wasm/scoring-pool.js';
export { createWasmKernels } from './wasm/wasm-kernels.js';
