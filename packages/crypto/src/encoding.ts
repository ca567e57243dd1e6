import { CryptoError } from './errors.js';
import { assertDimension, type ParamSet } from './params.js';

/** Largest accepted L2 norm: scores stay in [-1.01, 1.01] only for (near-)unit vectors. */
export const MAX_VECTOR_NORM = 1.001;

/** Check a vector for encoding: right length, finite coordinates, L2 norm ≤ MAX_VECTOR_NORM. */
export function assertEncodableVector(params: ParamSet, vector: ArrayLike<number>, dim: number): void {
  assertDimension(params, dim);
  if (vector.length !== dim) {
    throw new CryptoError('INVALID_VECTOR', `vector has ${vector.length} coordinates, expected ${dim}`);
  }
  let sq = 0;
  for (let i = 0; i < dim; i++) {
    const x = vector[i] ?? Number.NaN;
    if (!Number.isFinite(x)) {
      throw new CryptoError('INVALID_VECTOR', `coordinate ${i} is not a finite number`);
    }
    sq += x * x;
  }
  if (Math.sqrt(sq) > MAX_VECTOR_NORM) {
    throw new CryptoError(
      'INVALID_VECTOR',
      `vector norm ${Math.sqrt(sq).toFixed(4)} exceeds ${MAX_VECTOR_NORM}; L2-normalise embeddings before encrypting`,
    );
  }
}

/**
 * Integer coefficients of chunk `j`: coordinate 32j+i scaled by `delta` and rounded, at coefficient i
 * (stored vectors) or 31-i (queries, "reversed", so the product's coefficient 31 is the inner product).
 * Returns chunkSize signed integers as float64 (|value| ≤ 1.001·delta < 2^53).
 */
export function encodeChunk(
  params: ParamSet,
  vector: ArrayLike<number>,
  j: number,
  delta: number,
  reversed: boolean,
): Float64Array {
  const r = params.chunkSize;
  const out = new Float64Array(r);
  for (let i = 0; i < r; i++) {
    const v = Math.round((vector[j * r + i] ?? 0) * delta);
    out[reversed ? r - 1 - i : i] = v;
  }
  return out;
}

/** Reduce a signed integer-valued float64 (|x| < 2^53) into [0, p) without a data-dependent branch. */
export function residueOf(x: number, p: number): number {
  return x - Math.floor(x / p) * p;
}
