import type { Engine } from './engine.js';
import { CryptoError } from './errors.js';
import { getParamSet, type ParamSet } from './params.js';
import { RandomBytes, sampleCbd, sampleTernary, sampleUniform, toResidues } from './sampling.js';
import { primeTables } from './tables.js';
import type { PublicKey, SecretKey } from './types.js';

export interface KeyPair {
  readonly secretKey: SecretKey;
  readonly publicKey: PublicKey;
}

/**
 * RLWE key generation: ternary secret s, uniform a, CBD error e; pk = (-(a·s + e), a) in NTT form per
 * prime. Temporary buffers holding s or e are zeroed before return.
 */
export function generateKeyPair(engine: Engine, paramSetId: number): KeyPair {
  const params = getParamSet(paramSetId);
  const { kernels } = engine;
  const n = params.n;
  const rng = new RandomBytes(engine.random);

  const s = new Int8Array(n);
  sampleTernary(rng, s);
  const e = new Int8Array(n);
  sampleCbd(rng, params.eta, e);

  const pk = new Uint32Array(params.primes.length * 2 * n);
  // Plain arrays (copied into kernel scratch): key generation is rare and must not grow kernel memory.
  const sHat = new Uint32Array(n);
  const eHat = new Uint32Array(n);
  const a = new Uint32Array(n);
  const as = new Uint32Array(n);
  try {
    params.primes.forEach((p, i) => {
      const t = primeTables(params, i);
      toResidues(s, p, sHat);
      kernels.nttForward(sHat, t);
      toResidues(e, p, eHat);
      kernels.nttForward(eHat, t);
      // a is sampled directly in the NTT domain: the NTT is a bijection, so it is uniform either way.
      sampleUniform(rng, p, a);
      kernels.mulAdd(as, a, sHat, eHat, t);
      const base = i * 2 * n;
      for (let c = 0; c < n; c++) {
        const v = as[c] ?? 0;
        // -(a·s + e) mod p, branchless: v = 0 maps to 0.
        pk[base + c] = (p - v) % p;
      }
      pk.set(a, base + n);
    });
  } finally {
    sHat.fill(0);
    eHat.fill(0);
    as.fill(0);
    e.fill(0);
  }
  return {
    secretKey: { paramSetId, coeffs: s },
    publicKey: { paramSetId, data: pk },
  };
}

/** The secret key in NTT form for prime i, in a plain array (caller zeroes it after use). */
export function secretKeyNtt(
  engine: Engine,
  params: ParamSet,
  sk: SecretKey,
  primeIndex: number,
): Uint32Array {
  const p = params.primes[primeIndex];
  if (p === undefined) throw new RangeError(`prime index ${primeIndex} outside ${params.name}`);
  const out = new Uint32Array(params.n);
  toResidues(sk.coeffs, p, out);
  engine.kernels.nttForward(out, primeTables(params, primeIndex));
  return out;
}

export function assertSameParams(expected: number, actual: number, what: string): void {
  if (expected !== actual) {
    throw new CryptoError('PARAM_MISMATCH', `${what} uses parameter set ${actual}, expected ${expected}`);
  }
}
