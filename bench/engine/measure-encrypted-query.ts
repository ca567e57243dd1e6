import {
  addToBlock,
  createBlock,
  createPreparedQuery,
  encryptQuery,
  encryptVector,
  generateKeyPair,
  prepareEncryptedQuery,
  scoreBlocks,
  serializeEncryptedQuery,
  blockScoreWords,
  ScoreDecryptor,
  type Block,
  type Engine,
} from '../../packages/crypto/src/index.js';
import { exactScores } from './data.js';
import { median } from './stats.js';

export interface EncryptedQueryResult {
  readonly vpsPerCore: number;
  readonly msPerSearchMedian: number;
  readonly maxAbsError: number;
  readonly rmsError: number;
  readonly realVectors: number;
  readonly scoredVectors: number;
  readonly queryUploadBytes: number;
}

/**
 * Encrypted-query mode (three primes): accuracy on `realCount` really inserted vectors; throughput on
 * `totalBlocks` blocks made of copies of those real ciphertext blocks (the kernels' work does not
 * depend on the values, and building 100 k more real inserts would not fit the time budget).
 */
export function measureEncryptedQuery(options: {
  readonly engine: Engine;
  readonly vectors: Float32Array;
  readonly realCount: number;
  readonly totalBlocks: number;
  readonly dim: number;
  readonly queries: Float32Array;
  readonly qCount: number;
  readonly repeats: number;
}): EncryptedQueryResult {
  const { engine, dim } = options;
  const paramSetId = 2;
  const keys = generateKeyPair(engine, paramSetId);
  const real: Block[] = [];
  for (let v = 0; v < options.realCount; v++) {
    const block = (real[v >> 7] ??= createBlock(engine, paramSetId, dim, v >> 7));
    addToBlock(
      engine,
      block,
      encryptVector(engine, keys.publicKey, options.vectors.subarray(v * dim, (v + 1) * dim)),
      v & 127,
    );
  }
  const blocks: Block[] = [...real];
  for (let b = real.length; b < options.totalBlocks; b++) {
    const copy = createBlock(engine, paramSetId, dim, b);
    const source = real[b % real.length];
    if (source !== undefined) {
      copy.data.set(source.data);
      copy.occupied.set(source.occupied);
    }
    blocks.push(copy);
  }
  const outs = blocks.map(() => engine.kernels.allocU32(blockScoreWords(paramSetId)));
  const prepared = createPreparedQuery(engine, paramSetId, dim);
  const decryptor = ScoreDecryptor.create(engine, keys.secretKey);
  const decrypted = new Float64Array(128);
  let maxAbs = 0;
  let sumSq = 0;
  let compared = 0;
  const times: number[] = [];
  let uploadBytes = 0;
  for (let i = -1; i < options.repeats; i++) {
    const q = (i + options.qCount) % options.qCount;
    const query = options.queries.subarray(q * dim, (q + 1) * dim);
    const ct = encryptQuery(engine, keys.publicKey, query);
    uploadBytes = serializeEncryptedQuery(ct).length;
    const start = performance.now();
    prepareEncryptedQuery(prepared, ct);
    scoreBlocks(engine, blocks, prepared, outs);
    if (i >= 0) times.push(performance.now() - start);
    const exact = exactScores(options.vectors, options.realCount, dim, query);
    real.forEach((block, b) => {
      const out = outs[b];
      if (out === undefined) return;
      decryptor.decryptBlock({ paramSetId, blockId: block.blockId, data: out }, decrypted);
      for (let s = 0; s < 128 && b * 128 + s < options.realCount; s++) {
        const err = (decrypted[s] ?? 0) - (exact[b * 128 + s] ?? 0);
        maxAbs = Math.max(maxAbs, Math.abs(err));
        sumSq += err * err;
        compared++;
      }
    });
  }
  decryptor.destroy();
  const ms = median(times);
  const scored = options.totalBlocks * 128;
  return {
    vpsPerCore: scored / (ms / 1000),
    msPerSearchMedian: ms,
    maxAbsError: maxAbs,
    rmsError: Math.sqrt(sumSq / compared),
    realVectors: options.realCount,
    scoredVectors: scored,
    queryUploadBytes: uploadBytes,
  };
}
