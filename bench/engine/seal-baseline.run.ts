/**
 * Stand-alone run of the SEAL baseline on random unit vectors:
 *   npx tsx bench/engine/seal-baseline.run.ts [count] [dim]
 */
import { measureSealColumnPacking } from './seal-baseline.js';

/** Seeded xorshift32 → uniform (0, 1), so runs are reproducible. */
function uniform(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return (state + 0.5) / 2 ** 32;
  };
}

/** Gaussian directions (Box–Muller), normalised: uniformly random unit vectors. */
function randomUnitVectors(count: number, dim: number, seed: number): Float32Array {
  const next = uniform(seed);
  const out = new Float32Array(count * dim);
  const row = new Float64Array(dim);
  for (let v = 0; v < count; v++) {
    let norm = 0;
    for (let d = 0; d < dim; d++) {
      const g = Math.sqrt(-2 * Math.log(next())) * Math.cos(2 * Math.PI * next());
      row[d] = g;
      norm += g * g;
    }
    norm = Math.sqrt(norm);
    for (let d = 0; d < dim; d++) out[v * dim + d] = (row[d] ?? 0) / norm;
  }
  return out;
}

const count = Number(process.argv[2] ?? 8192);
const dim = Number(process.argv[3] ?? 384);
const qCount = 6;
const started = performance.now();
const result = await measureSealColumnPacking({
  vectors: randomUnitVectors(count, dim, 1),
  dim,
  count,
  queries: randomUnitVectors(qCount, dim, 2),
  qCount,
});
console.log(JSON.stringify(result, null, 2));
console.log(`total ${((performance.now() - started) / 1000).toFixed(1)} s`);
