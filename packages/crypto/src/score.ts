import type { Engine } from './engine.js';
import { CryptoError } from './errors.js';
import type { Kernels } from './kernels/types.js';
import { regionOffset } from './layout.js';
import { getParamSet, QueryMode } from './params.js';
import type { PreparedQuery } from './query.js';
import { primeTables, type PrimeTables } from './tables.js';
import { blockScoreWordsPerPrime, type Block } from './types.js';

/** Words of one block's encrypted scores (all primes). */
export function blockScoreWords(paramSetId: number): number {
  const params = getParamSet(paramSetId);
  return (
    params.primes.length *
    blockScoreWordsPerPrime(params.n, params.chunkSize, params.queryMode === QueryMode.ENCRYPTED)
  );
}

/** One kernel call of a block's scoring; executed here, or shipped to a worker as byte offsets. */
export type ScoringCall =
  | {
      readonly op: 'foldDot';
      readonly a: Uint32Array;
      readonly x: Uint32Array;
      readonly t: PrimeTables;
      readonly out: Uint32Array;
    }
  | {
      readonly op: 'macMont';
      readonly a: Uint32Array;
      readonly x: Uint32Array;
      readonly t: PrimeTables;
      readonly out: Uint32Array;
    }
  | {
      readonly op: 'macMont2';
      readonly a: Uint32Array;
      readonly x: Uint32Array;
      readonly b: Uint32Array;
      readonly y: Uint32Array;
      readonly t: PrimeTables;
      readonly out: Uint32Array;
    };

/**
 * The kernel calls that score one block against a prepared query into `out` (BlockScores layout,
 * types.ts). Per prime: y0 = folded c0·QF; plaintext query r1 = c1·Q; encrypted query r1 = c0·q1 + c1·q0
 * and r2 = c1·q1. Public data only: the index runs this without any key.
 */
export function planBlockScoring(block: Block, query: PreparedQuery, out: Uint32Array): ScoringCall[] {
  const params = getParamSet(block.paramSetId);
  if (query.paramSetId !== block.paramSetId || query.dim !== block.dim) {
    throw new CryptoError(
      'PARAM_MISMATCH',
      `query (set ${query.paramSetId}, dim ${query.dim}) does not match block (set ${block.paramSetId}, dim ${block.dim})`,
    );
  }
  const n = params.n;
  const groups = n / params.chunkSize;
  const chunks = query.chunks;
  const regionWords = chunks * n;
  const encrypted = query.mode === QueryMode.ENCRYPTED;
  const perPrime = blockScoreWordsPerPrime(n, params.chunkSize, encrypted);
  if (out.length < perPrime * params.primes.length) {
    throw new RangeError(`score buffer holds ${out.length} words, needs ${perPrime * params.primes.length}`);
  }
  const calls: ScoringCall[] = [];
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
    calls.push({ op: 'foldDot', a: c0, x: q.qf, t, out: y0 });
    if (encrypted) {
      calls.push({ op: 'macMont2', a: c0, x: q.q1m, b: c1, y: q.qm, t, out: r1 });
      calls.push({
        op: 'macMont',
        a: c1,
        x: q.q1m,
        t,
        out: out.subarray(base + groups + n, base + groups + 2 * n),
      });
    } else {
      calls.push({ op: 'macMont', a: c1, x: q.qm, t, out: r1 });
    }
  }
  return calls;
}

export function runScoringCalls(kernels: Kernels, calls: readonly ScoringCall[], chunks: number): void {
  for (const call of calls) {
    if (call.op === 'foldDot') kernels.foldDot(call.a, call.x, chunks, call.t, call.out);
    else if (call.op === 'macMont') kernels.macMont(call.a, call.x, chunks, call.t, call.out);
    else kernels.macMont2(call.a, call.x, call.b, call.y, chunks, call.t, call.out);
  }
}

/** Index-side scoring of one block on the calling thread. */
export function scoreBlock(engine: Engine, block: Block, query: PreparedQuery, out: Uint32Array): void {
  runScoringCalls(engine.kernels, planBlockScoring(block, query, out), query.chunks);
}
