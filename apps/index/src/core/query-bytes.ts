import { MAX_QUERY_BYTES } from '@rune/protocol';
import { IndexError } from '../errors.js';

/** Bytes of one float32 coordinate on the wire. */
const F32_BYTES = 4;

export function assertQuerySize(query: unknown): asserts query is Uint8Array {
  if (!(query instanceof Uint8Array) || query.byteLength === 0) {
    throw new IndexError('INVALID_INPUT', 'query must be non-empty bytes');
  }
  if (query.byteLength > MAX_QUERY_BYTES) {
    throw new IndexError('PAYLOAD_TOO_LARGE', `query exceeds ${MAX_QUERY_BYTES} bytes`);
  }
}

/**
 * A plaintext query: `dim` little-endian float32 values, all finite. Read through a DataView so
 * an unaligned or big-endian host gets the same numbers the ticket's hash was taken over.
 */
export function parsePlainQuery(bytes: Uint8Array, dim: number): Float32Array {
  if (bytes.byteLength !== dim * F32_BYTES) {
    throw new IndexError(
      'INVALID_INPUT',
      `plaintext query must be ${dim * F32_BYTES} bytes (${dim} float32), got ${bytes.byteLength}`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(dim);
  for (let i = 0; i < dim; i++) {
    const x = view.getFloat32(i * F32_BYTES, true);
    if (!Number.isFinite(x)) throw new IndexError('INVALID_INPUT', `query coordinate ${i} is not finite`);
    out[i] = x;
  }
  return out;
}

/** The wire form of a plaintext query, as a client sends it and hashes it for its ticket. */
export function plainQueryBytes(query: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(query.length * F32_BYTES);
  const view = new DataView(out.buffer);
  for (let i = 0; i < query.length; i++) view.setFloat32(i * F32_BYTES, query[i] ?? 0, true);
  return out;
}
