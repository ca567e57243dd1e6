import type { Engine } from './engine.js';
import { CryptoError } from './errors.js';
import { regionOffset } from './layout.js';
import { getParamSet, QueryMode } from './params.js';
import type { PreparedQuery } from './query.js';
import { primeTables } from './tables.js';
import { blockScoreWordsPerPrime, type Block } from './types.js';

/** Words of one block's encrypted scores (all primes). */
export function blockScoreWords(paramSetId: number): number {
  const params = getParamSet(paramSetId);
  return (
    params.primes.length *
    blockScoreWordsPerPrime(params.n, params.chunkSize, params.queryMode === QueryMode.ENCRYPTED)
  );
}

/**
 * Index-side scoring of one block against a prepared query, writing the block's encrypted scores
 * (layout in types.ts BlockScores) into `out`. Uses public data only; runs on any thread whose kernels
 * share the engine's memory.
 */
export function scoreBlock(engine: Engine, block: Block, query: PreparedQuery, out: Uint32Array): void {
  const params = getParamSet(block.paramSetId);
  if (query.paramSetId !== block.paramSetId || query.dim !== block.dim) {
    throw new CryptoError(
      'PARAM_MISMATCH',
      `query (set ${query.paramSetId}, dim ${query.dim}) does not match block (set ${block.paramSetId}, dim ${block.dim})`,
    );
  }
  const { kernels } = engine;
  const n = params.n;
  const groups = n / params.chunkSize;
  const chunks = query.chunks;
  const regionWords = chunks * n;
  const encrypted = query.mode === QueryMode.ENCRYPTED;
  const perPrime = blockScoreWordsPerPrime(n, params.chunkSize, encrypted);
  if (out.length < perPrime * params.primes.length) {
    throw new RangeError(`score buffer holds ${out.length} words, needs ${perPrime * params.primes.length}`);
  }
  for (let i = 0; i < params.primes.length; i++) {
    const t = primeTables(params, i);
    const q = query.perPrime[i];
    if (q === undefined) throw new RangeError('prepared query has too few primes');
    const c0Start = regionOffset(i, 0, chunks, n);
    const c1Start = regionOffset(i, 1, chunks, n);
    const c0 = block.data.subarray(c0Start, c0Start + regionWords);
    const c1 = block.data.subarray(c1Start, c1Start + regionWords);
    const base = i * perPrime;
    const y0 = out.subarray(base, base + groups);
    const r1 = out.subarray(base + groups, base + groups + n);
    kernels.foldDot(c0, q.qf, chunks, t, y0);
    if (encrypted) {
      kernels.macMont2(c0, q.q1m, c1, q.qm, chunks, t, r1);
      kernels.macMont(c1, q.q1m, chunks, t, out.subarray(base + groups + n, base + groups + 2 * n));
    } else {
      kernels.macMont(c1, q.qm, chunks, t, r1);
    }
  }
}
