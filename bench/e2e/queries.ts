import { createHash } from 'node:crypto';
import { randomUnitVectors } from '../engine/data.js';

export interface NoisyQueries {
  /** Row-major, count×dim; query j is a noisy copy of stored vector sources[j]. */
  readonly vectors: Float32Array;
  readonly sources: readonly number[];
}

/**
 * Deterministic queries that are noisy copies of stored vectors: source + noiseNorm × a random unit
 * vector (cosine to the source ≈ 1/√(1+noiseNorm²), ≈ 0.89 at 0.5), so the top hit is known. Random
 * unit vectors at D=384 rarely exceed cosine 0.25 with each other, far below that.
 */
export function noisyQueries(options: {
  readonly stored: Float32Array;
  readonly storedCount: number;
  readonly count: number;
  readonly dim: number;
  readonly noiseNorm: number;
  readonly seed: string;
}): NoisyQueries {
  const { stored, storedCount, count, dim, noiseNorm } = options;
  const noise = randomUnitVectors(count, dim, `${options.seed}:noise`);
  const picks = createHash('shake256', { outputLength: count * 4 })
    .update(`${options.seed}:sources`)
    .digest();
  const vectors = new Float32Array(count * dim);
  const sources: number[] = [];
  for (let j = 0; j < count; j++) {
    const source = picks.readUInt32LE(j * 4) % storedCount;
    sources.push(source);
    for (let d = 0; d < dim; d++) {
      vectors[j * dim + d] = (stored[source * dim + d] ?? 0) + noiseNorm * (noise[j * dim + d] ?? 0);
    }
  }
  return { vectors, sources };
}
