import { EmbedError } from './errors.js';

/**
 * An L2-normalised copy of `vector`. Encrypted search assumes unit vectors (the Vault refuses a
 * query whose norm is off), so callers normalise whatever an embedder returned.
 */
export function l2Normalize(vector: ArrayLike<number>): Float32Array {
  let sq = 0;
  for (let i = 0; i < vector.length; i++) {
    const x = vector[i] ?? Number.NaN;
    if (!Number.isFinite(x)) {
      throw new EmbedError('EMBED_INVALID_VECTOR', `coordinate ${i} of the embedding is not finite`);
    }
    sq += x * x;
  }
  if (sq === 0) throw new EmbedError('EMBED_INVALID_VECTOR', 'the embedding is the zero vector');
  const inv = 1 / Math.sqrt(sq);
  return Float32Array.from({ length: vector.length }, (_, i) => (vector[i] ?? 0) * inv);
}

/**
 * A hashed feature vector scaled to unit length. Signed collisions can cancel exactly (two features,
 * opposite signs, one bucket), so a zero vector is the text's fault, not the embedder's.
 */
export function hashedToUnit(acc: Float64Array): Float32Array {
  let sq = 0;
  for (const x of acc) sq += x * x;
  if (sq === 0) {
    throw new EmbedError('EMBED_EMPTY_TEXT', 'the text hashes to a zero vector; add a few more words');
  }
  const inv = 1 / Math.sqrt(sq);
  return Float32Array.from(acc, (x) => x * inv);
}
