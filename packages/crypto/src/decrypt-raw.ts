import { createCrt } from './crt.js';
import type { Engine } from './engine.js';
import { assertSameParams, secretKeyNtt } from './keys.js';
import { chunkCount, getParamSet } from './params.js';
import { primeTables } from './tables.js';
import type { EncryptedVector, SecretKey } from './types.js';

/**
 * Full decryption of chunk ciphertexts to centred integer coefficients ([chunk][n]).
 * INTERNAL, for tests and known-answer vectors only: it is deliberately not exported from the package
 * entry point, because the Vault must never decrypt arbitrary ciphertexts (DESIGN §1).
 */
export function decryptChunksRaw(engine: Engine, secretKey: SecretKey, ct: EncryptedVector): Float64Array[] {
  const params = getParamSet(ct.paramSetId);
  assertSameParams(params.id, secretKey.paramSetId, 'secret key');
  const { kernels } = engine;
  const n = params.n;
  const primes = params.primes.length;
  const chunks = chunkCount(params, ct.dim);
  const crt = createCrt(params);
  const residues: Uint32Array[][] = [];
  for (let i = 0; i < primes; i++) {
    const t = primeTables(params, i);
    const sHat = secretKeyNtt(engine, params, secretKey, i);
    const perChunk: Uint32Array[] = [];
    for (let j = 0; j < chunks; j++) {
      const base = (j * primes + i) * 2 * n;
      const c0 = ct.data.slice(base, base + n);
      const c1 = ct.data.slice(base + n, base + 2 * n);
      const out = new Uint32Array(n);
      kernels.mulAdd(out, c1, sHat, c0, t);
      kernels.nttInverse(out, t);
      perChunk.push(out);
    }
    sHat.fill(0);
    residues.push(perChunk);
  }
  const result: Float64Array[] = [];
  const r = new Array<number>(primes);
  for (let j = 0; j < chunks; j++) {
    const coeffs = new Float64Array(n);
    for (let c = 0; c < n; c++) {
      for (let i = 0; i < primes; i++) r[i] = residues[i]?.[j]?.[c] ?? 0;
      coeffs[c] = crt.centred(r);
    }
    result.push(coeffs);
  }
  return result;
}
