import {
  createPreparedQuery,
  preparePlainQuery,
  scoreBlocks,
  type Block,
  type Engine,
} from '../../packages/crypto/src/index.js';
import type { ScoringPool } from '../../packages/crypto/src/wasm/scoring-pool.js';
import { median } from './stats.js';

/** One single-threaded plaintext-query search of every block, query preparation included (ms). */
export function timeSingleThreadSearch(
  engine: Engine,
  blocks: readonly Block[],
  outs: readonly Uint32Array[],
  prepared: ReturnType<typeof createPreparedQuery>,
  query: Float32Array,
): number {
  const start = performance.now();
  preparePlainQuery(engine, prepared, query);
  scoreBlocks(engine, blocks, prepared, outs);
  return performance.now() - start;
}

export interface PairResult {
  readonly encryptedMsMedian: number;
  readonly plaintextMsMedian: number;
  /** Median over pairs of (encrypted time / plaintext time). */
  readonly ratioMedian: number;
  readonly pairs: number;
}

/**
 * Interleaved pairs on one thread: encrypted search of all blocks, then float32 WASM brute force over
 * the same vectors, so both see the same machine conditions.
 */
export function measureInterleavedPairs(options: {
  readonly engine: Engine;
  readonly blocks: readonly Block[];
  readonly outs: readonly Uint32Array[];
  readonly plainDb: Float32Array;
  readonly plainOut: Float32Array;
  readonly plainQuery: Float32Array;
  readonly count: number;
  readonly dim: number;
  readonly queries: Float32Array;
  readonly qCount: number;
  readonly pairs: number;
}): PairResult {
  const { engine, dim } = options;
  const prepared = createPreparedQuery(engine, options.blocks[0]?.paramSetId ?? 1, dim);
  const enc: number[] = [];
  const plain: number[] = [];
  const ratios: number[] = [];
  // One warm-up of each path.
  for (let i = -1; i < options.pairs; i++) {
    const q = options.queries.subarray(
      ((i + options.qCount) % options.qCount) * dim,
      (((i + options.qCount) % options.qCount) + 1) * dim,
    );
    const e = timeSingleThreadSearch(engine, options.blocks, options.outs, prepared, q);
    options.plainQuery.set(q);
    const start = performance.now();
    engine.kernels.dotF32(options.plainDb, options.plainQuery, dim, options.count, options.plainOut);
    const p = performance.now() - start;
    if (i >= 0) {
      enc.push(e);
      plain.push(p);
      ratios.push(e / p);
    }
  }
  return {
    encryptedMsMedian: median(enc),
    plaintextMsMedian: median(plain),
    ratioMedian: median(ratios),
    pairs: options.pairs,
  };
}

/** Wall time of parallel searches on the pool (query preparation on the main thread included), median ms. */
export async function measureParallel(options: {
  readonly engine: Engine;
  readonly pool: ScoringPool;
  readonly blocks: readonly Block[];
  readonly outs: readonly Uint32Array[];
  readonly dim: number;
  readonly queries: Float32Array;
  readonly qCount: number;
  readonly repeats: number;
}): Promise<number> {
  const { engine, dim } = options;
  const prepared = createPreparedQuery(engine, options.blocks[0]?.paramSetId ?? 1, dim);
  const times: number[] = [];
  for (let i = -1; i < options.repeats; i++) {
    const q = (i + options.qCount) % options.qCount;
    const start = performance.now();
    preparePlainQuery(engine, prepared, options.queries.subarray(q * dim, (q + 1) * dim));
    await options.pool.scoreBlocks(options.blocks, prepared, options.outs);
    if (i >= 0) times.push(performance.now() - start);
  }
  return median(times);
}
