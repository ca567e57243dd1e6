import type { Engine } from './engine.js';
import { assertEncodableVector, encodeChunk, residueOf } from './encoding.js';
import { CryptoError } from './errors.js';
import { assertSameParams } from './keys.js';
import { layoutOffset } from './layout.js';
import { mulMod } from './modarith.js';
import { chunkCount, getParamSet, QueryMode, type ParamSet } from './params.js';
import { primeTables } from './tables.js';
import type { EncryptedVector } from './types.js';

/**
 * A query prepared for block scoring, per prime, in the block layout (layout.ts), in kernel memory.
 * Plaintext mode: qf = NTT(q)·L (folded c0 scoring), qm = NTT(q)·2^32 (Montgomery, c1 scoring).
 * Encrypted mode: qf = q0·L, qm = q0·2^32, q1m = q1·2^32 for the query ciphertext (q0, q1).
 * Buffers are reused from query to query; a scorer owns one set and prepares one query at a time.
 */
export interface PreparedQuery {
  readonly paramSetId: number;
  readonly dim: number;
  readonly chunks: number;
  readonly mode: QueryMode;
  readonly perPrime: readonly {
    readonly qf: Uint32Array;
    readonly qm: Uint32Array;
    readonly q1m: Uint32Array;
  }[];
  /** Kernel-memory scratch for preparation: [poly | folded | montgomery | zero | 2^32 mod p splat]. */
  readonly scratch: Uint32Array;
}

export function createPreparedQuery(engine: Engine, paramSetId: number, dim: number): PreparedQuery {
  const params = getParamSet(paramSetId);
  const chunks = chunkCount(params, dim);
  const words = chunks * params.n;
  const encrypted = params.queryMode === QueryMode.ENCRYPTED;
  return {
    paramSetId,
    dim,
    chunks,
    mode: params.queryMode,
    perPrime: params.primes.map(() => ({
      qf: engine.kernels.allocU32(words),
      qm: engine.kernels.allocU32(words),
      q1m: engine.kernels.allocU32(encrypted ? words : 0),
    })),
    scratch: engine.kernels.allocU32(5 * params.n),
  };
}

/** Plaintext-query mode: encode the (unit) query reversed with scale Δq, NTT each chunk, fold. */
export function preparePlainQuery(engine: Engine, target: PreparedQuery, query: ArrayLike<number>): void {
  const params = getParamSet(target.paramSetId);
  if (params.queryMode !== QueryMode.PLAINTEXT) {
    throw new CryptoError('PARAM_MISMATCH', `${params.name} takes encrypted queries, not plaintext ones`);
  }
  assertEncodableVector(params, query, target.dim);
  const n = params.n;
  const { kernels } = engine;
  const poly = target.scratch.subarray(0, n);
  const folded = target.scratch.subarray(n, 2 * n);
  const mont = target.scratch.subarray(2 * n, 3 * n);
  const zero = target.scratch.subarray(3 * n, 4 * n);
  const rSplat = target.scratch.subarray(4 * n, 5 * n);
  zero.fill(0);
  params.primes.forEach((p, i) => {
    const t = primeTables(params, i);
    const bufs = target.perPrime[i];
    if (bufs === undefined) throw new RangeError('prepared query has too few primes');
    rSplat.fill(t.montR);
    for (let j = 0; j < target.chunks; j++) {
      const m = encodeChunk(params, query, j, params.deltaQ, true);
      poly.fill(0);
      for (let c = 0; c < m.length; c++) poly[c] = residueOf(m[c] ?? 0, p);
      kernels.nttForward(poly, t);
      kernels.mulAdd(folded, poly, t.fold, zero, t);
      kernels.mulAdd(mont, poly, rSplat, zero, t);
      scatterToLayout(folded, bufs.qf, j, target.chunks);
      scatterToLayout(mont, bufs.qm, j, target.chunks);
    }
  });
}

/** Copy a natural-order polynomial into chunk j of a block-layout buffer. */
function scatterToLayout(src: Uint32Array, dst: Uint32Array, j: number, chunks: number): void {
  const n = src.length;
  for (let c = 0; c < n; c += 4) {
    const o = layoutOffset(c, j, chunks);
    dst[o] = src[c] ?? 0;
    dst[o + 1] = src[c + 1] ?? 0;
    dst[o + 2] = src[c + 2] ?? 0;
    dst[o + 3] = src[c + 3] ?? 0;
  }
}

/** Encrypted-query mode: lay out the client's query ciphertexts for the cross-term kernels. */
export function prepareEncryptedQuery(target: PreparedQuery, query: EncryptedVector): void {
  const params = getParamSet(target.paramSetId);
  if (params.queryMode !== QueryMode.ENCRYPTED) {
    throw new CryptoError('PARAM_MISMATCH', `${params.name} takes plaintext queries, not encrypted ones`);
  }
  assertSameParams(params.id, query.paramSetId, 'encrypted query');
  if (query.dim !== target.dim) {
    throw new CryptoError(
      'PARAM_MISMATCH',
      `query dimension ${query.dim} differs from index dimension ${target.dim}`,
    );
  }
  layoutQueryCiphertext(params, target, query);
}

function layoutQueryCiphertext(params: ParamSet, target: PreparedQuery, query: EncryptedVector): void {
  const n = params.n;
  const primes = params.primes.length;
  for (let j = 0; j < target.chunks; j++) {
    for (let i = 0; i < primes; i++) {
      const t = primeTables(params, i);
      const bufs = target.perPrime[i];
      if (bufs === undefined) throw new RangeError('prepared query has too few primes');
      const base = (j * primes + i) * 2 * n;
      for (let c = 0; c < n; c++) {
        const q0 = query.data[base + c] ?? 0;
        const q1 = query.data[base + n + c] ?? 0;
        const o = layoutOffset(c, j, target.chunks);
        bufs.qf[o] = mulMod(q0, t.fold[c] ?? 0, t.p);
        bufs.qm[o] = mulMod(q0, t.montR, t.p);
        bufs.q1m[o] = mulMod(q1, t.montR, t.p);
      }
    }
  }
}
