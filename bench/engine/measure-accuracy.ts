import {
  blockScoreWords,
  createPreparedQuery,
  preparePlainQuery,
  scoreBlocks,
  type Block,
  type Engine,
  type ScoreDecryptor,
} from '../../packages/crypto/src/index.js';
import { exactScores, topIndices } from './data.js';

export interface AccuracyResult {
  readonly maxAbsError: number;
  readonly rmsError: number;
  readonly top10Match: number;
  /** Largest exact-score gap between an item wrongly in and one wrongly out of a top-10 (0 if none). */
  readonly top10MismatchMaxGap: number;
  readonly queries: number;
  readonly scoresCompared: number;
}

/**
 * Decrypted encrypted scores against float64 dot products of the same float32 vectors, over every
 * vector of every query; and top-10 set agreement with float64's top-10.
 */
export function measureAccuracy(options: {
  readonly engine: Engine;
  readonly blocks: readonly Block[];
  readonly outs: readonly Uint32Array[];
  readonly decryptor: ScoreDecryptor;
  readonly vectors: Float32Array;
  readonly count: number;
  readonly dim: number;
  readonly queries: Float32Array;
  readonly qCount: number;
  readonly onQuery?: (q: number) => void;
}): AccuracyResult {
  const { engine, blocks, outs, decryptor, vectors, count, dim } = options;
  const paramSetId = blocks[0]?.paramSetId ?? 1;
  const prepared = createPreparedQuery(engine, paramSetId, dim);
  const decrypted = new Float64Array(blocks.length * 128);
  let maxAbs = 0;
  let sumSq = 0;
  let compared = 0;
  let matches = 0;
  let worstGap = 0;
  for (let q = 0; q < options.qCount; q++) {
    const query = options.queries.subarray(q * dim, (q + 1) * dim);
    preparePlainQuery(engine, prepared, query);
    scoreBlocks(engine, blocks, prepared, outs);
    blocks.forEach((block, b) => {
      const out = outs[b] ?? new Uint32Array(blockScoreWords(paramSetId));
      decryptor.decryptBlock(
        { paramSetId, blockId: block.blockId, data: out },
        decrypted.subarray(b * 128, (b + 1) * 128),
      );
    });
    const exact = exactScores(vectors, count, dim, query);
    for (let v = 0; v < count; v++) {
      const err = (decrypted[v] ?? 0) - (exact[v] ?? 0);
      maxAbs = Math.max(maxAbs, Math.abs(err));
      sumSq += err * err;
    }
    compared += count;
    const encTop = new Set(topIndices(decrypted, count, 10));
    const exactTop = new Set(topIndices(exact, count, 10));
    const intruders = [...encTop].filter((v) => !exactTop.has(v));
    const missing = [...exactTop].filter((v) => !encTop.has(v));
    if (intruders.length === 0) {
      matches++;
    } else {
      const lowestIntruder = Math.min(...intruders.map((v) => exact[v] ?? 0));
      const highestMissing = Math.max(...missing.map((v) => exact[v] ?? 0));
      worstGap = Math.max(worstGap, highestMissing - lowestIntruder);
    }
    options.onQuery?.(q);
  }
  return {
    maxAbsError: maxAbs,
    rmsError: Math.sqrt(sumSq / compared),
    top10Match: matches / options.qCount,
    top10MismatchMaxGap: worstGap,
    queries: options.qCount,
    scoresCompared: compared,
  };
}
