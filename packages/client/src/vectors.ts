import { isEmbedError, l2Normalize } from '@rune/embed';
import { invalidArgument } from './errors.js';

/**
 * A unit-length float32 copy of `vector`, checked against the index dimension. Encrypted search
 * assumes unit vectors (scores are cosines; the Vault refuses a query whose norm is off), so
 * whatever an embedder returned is normalised here rather than trusted.
 */
export function unitVector(vector: ArrayLike<number>, dim: number, what: string): Float32Array {
  if (vector.length !== dim) {
    throw invalidArgument(`${what} has ${vector.length} coordinates; this index uses ${dim}`);
  }
  try {
    return l2Normalize(vector);
  } catch (err: unknown) {
    if (isEmbedError(err)) throw invalidArgument(`${what}: ${err.message}`, err);
    throw err;
  }
}

/** Little-endian float32 bytes: the plaintext query's wire form, which the ticket hashes. */
export function float32ToLeBytes(vector: Float32Array): Uint8Array {
  const out = new Uint8Array(vector.length * 4);
  const view = new DataView(out.buffer);
  vector.forEach((x, i) => {
    view.setFloat32(i * 4, x, true);
  });
  return out;
}
