import { createHash } from 'node:crypto';

/**
 * Deterministic isotropic random unit vectors (Box–Muller over a SHAKE256 stream), float32, count×dim.
 * Normalised in float64, then rounded to float32; the exact scores are float64 dots of these float32s.
 */
export function randomUnitVectors(count: number, dim: number, seed: string): Float32Array {
  const out = new Float32Array(count * dim);
  const perChunk = 4096; // vectors per SHAKE call, to bound memory
  const gauss = new Float64Array(dim);
  for (let start = 0; start < count; start += perChunk) {
    const n = Math.min(perChunk, count - start);
    const bytes = createHash('shake256', { outputLength: n * dim * 8 })
      .update(`${seed}:${start}`)
      .digest();
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let v = 0; v < n; v++) {
      let sq = 0;
      for (let d = 0; d < dim; d++) {
        const o = (v * dim + d) * 8;
        const u1 = (view.getUint32(o, true) + 1) / 4294967297;
        const u2 = view.getUint32(o + 4, true) / 4294967296;
        const g = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
        gauss[d] = g;
        sq += g * g;
      }
      const inv = 1 / Math.sqrt(sq);
      const base = (start + v) * dim;
      for (let d = 0; d < dim; d++) out[base + d] = (gauss[d] ?? 0) * inv;
    }
  }
  return out;
}

/** Exact float64 dot products of one query with every vector. */
export function exactScores(
  vectors: Float32Array,
  count: number,
  dim: number,
  query: Float32Array,
): Float64Array {
  const out = new Float64Array(count);
  for (let v = 0; v < count; v++) {
    let s = 0;
    const base = v * dim;
    for (let d = 0; d < dim; d++) s += (vectors[base + d] ?? 0) * (query[d] ?? 0);
    out[v] = s;
  }
  return out;
}

/** Indices of the k largest values (ties: smaller index first). */
export function topIndices(scores: ArrayLike<number>, count: number, k: number): number[] {
  const best: number[] = [];
  for (let i = 0; i < count; i++) {
    const s = scores[i] ?? Number.NEGATIVE_INFINITY;
    if (best.length === k && s <= (scores[best[k - 1] ?? 0] ?? 0)) continue;
    let pos = best.length;
    while (pos > 0 && s > (scores[best[pos - 1] ?? 0] ?? 0)) pos--;
    best.splice(pos, 0, i);
    if (best.length > k) best.pop();
  }
  return best;
}
