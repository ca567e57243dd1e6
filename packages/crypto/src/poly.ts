import type { Kernels } from './kernels/types.js';
import type { PrimeTables } from './tables.js';

/**
 * Negacyclic product a·b mod (X^n + 1, p) of two coefficient-domain polynomials, through the NTT.
 * Used by tests (cross-checked against an independent implementation) and by encrypted-query decryption.
 */
export function negacyclicMultiply(
  a: Uint32Array,
  b: Uint32Array,
  t: PrimeTables,
  kernels: Kernels,
): Uint32Array {
  const fa = new Uint32Array(t.n);
  const fb = new Uint32Array(t.n);
  fa.set(a);
  fb.set(b);
  kernels.nttForward(fa, t);
  kernels.nttForward(fb, t);
  const zero = new Uint32Array(t.n);
  const out = new Uint32Array(t.n);
  kernels.mulAdd(out, fa, fb, zero, t);
  kernels.nttInverse(out, t);
  return out;
}
