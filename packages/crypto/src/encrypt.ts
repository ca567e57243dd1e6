import { CryptoError } from './errors.js';
import type { Engine } from './engine.js';
import { assertEncodableVector, encodeChunk, residueOf } from './encoding.js';
import { assertSameParams } from './keys.js';
import type { Kernels } from './kernels/types.js';
import { chunkCount, getParamSet, type ParamSet } from './params.js';
import { EncryptionNoise, RandomBytes } from './sampling.js';
import { allPrimeTables } from './tables.js';
import type { EncryptedVector, PublicKey } from './types.js';

/** Encrypt a stored vector: chunk j at coefficients 0..31 of ciphertext j, scaled by Δx. */
export function encryptVector(
  engine: Engine,
  publicKey: PublicKey,
  vector: ArrayLike<number>,
): EncryptedVector {
  const params = getParamSet(publicKey.paramSetId);
  return encryptChunks(engine, params, publicKey, vector, params.deltaX, false);
}

/** Encrypt a query (encrypted-query mode): chunks reversed, scaled by Δq. */
export function encryptQuery(
  engine: Engine,
  publicKey: PublicKey,
  query: ArrayLike<number>,
): EncryptedVector {
  const params = getParamSet(publicKey.paramSetId);
  return encryptChunks(engine, params, publicKey, query, params.deltaQ, true);
}

interface Scratch {
  readonly noise: EncryptionNoise;
  readonly u: Uint32Array;
  readonly m: Uint32Array;
  readonly e1: Uint32Array;
  readonly c0: Uint32Array;
  readonly c1: Uint32Array;
  readonly pk: Uint32Array;
  /** Views of pk per prime: [pk0, pk1] (made once, so the kernels recognise them without a lookup). */
  readonly pkViews: readonly (readonly [Uint32Array, Uint32Array])[];
}

const scratchByKernels = new WeakMap<Kernels, Map<number, Scratch>>();

function scratchFor(kernels: Kernels, params: ParamSet): Scratch {
  let byParams = scratchByKernels.get(kernels);
  if (byParams === undefined) {
    byParams = new Map();
    scratchByKernels.set(kernels, byParams);
  }
  let s = byParams.get(params.id);
  if (s === undefined) {
    const n = params.n;
    const pk = kernels.allocU32(params.primes.length * 2 * n);
    s = {
      noise: new EncryptionNoise(kernels, n),
      u: kernels.allocU32(n),
      m: kernels.allocU32(n),
      e1: kernels.allocU32(n),
      c0: kernels.allocU32(n),
      c1: kernels.allocU32(n),
      pk,
      pkViews: params.primes.map((_, i) => [
        pk.subarray(2 * i * n, (2 * i + 1) * n),
        pk.subarray((2 * i + 1) * n, (2 * i + 2) * n),
      ]),
    };
    byParams.set(params.id, s);
  }
  return s;
}

/**
 * Public-key encryption of each chunk: c = (pk0·u + e0 + m, pk1·u + e1) with fresh ternary u and
 * CBD e0, e1 per chunk ciphertext; output data is [chunk][prime][poly][n] in NTT form.
 */
function encryptChunks(
  engine: Engine,
  params: ParamSet,
  publicKey: PublicKey,
  vector: ArrayLike<number>,
  delta: number,
  reversed: boolean,
): EncryptedVector {
  const dim = vector.length;
  assertEncodableVector(params, vector, dim);
  assertSameParams(params.id, publicKey.paramSetId, 'public key');
  const { kernels } = engine;
  const n = params.n;
  const primes = params.primes.length;
  const chunks = chunkCount(params, dim);
  const rng = new RandomBytes(engine.random);
  if (publicKey.data.length !== primes * 2 * n) {
    throw new CryptoError(
      'MALFORMED_INPUT',
      `public key has ${publicKey.data.length} words, expected ${primes * 2 * n}`,
    );
  }
  const scratch = scratchFor(kernels, params);
  scratch.pk.set(publicKey.data);

  const out = new Uint32Array(chunks * primes * 2 * n);
  // Noise is sampled by the kernels straight into kernel memory; the stream is consumed as the
  // reference samplers would (ternary u, CBD e0, CBD e1 per chunk), so outputs are identical.
  const { noise } = scratch;
  const tables = allPrimeTables(params);
  try {
    for (let j = 0; j < chunks; j++) {
      noise.sample(rng, params.eta);
      const m = encodeChunk(params, vector, j, delta, reversed);
      for (const [i, t] of tables.entries()) {
        const p = t.p;
        kernels.smallToResidues(noise.u, t, scratch.u);
        kernels.nttForward(scratch.u, t);
        // e0 + m: the message occupies only the chunk's first coefficients.
        kernels.smallToResidues(noise.e0, t, scratch.m);
        for (let c = 0; c < m.length; c++) scratch.m[c] = residueOf((noise.e0[c] ?? 0) + (m[c] ?? 0), p);
        kernels.nttForward(scratch.m, t);
        kernels.smallToResidues(noise.e1, t, scratch.e1);
        kernels.nttForward(scratch.e1, t);
        const [pk0 = scratch.pk, pk1 = scratch.pk] = scratch.pkViews[i] ?? [];
        kernels.mulAdd(scratch.c0, pk0, scratch.u, scratch.m, t);
        kernels.mulAdd(scratch.c1, pk1, scratch.u, scratch.e1, t);
        const base = (j * primes + i) * 2 * n;
        out.set(scratch.c0, base);
        out.set(scratch.c1, base + n);
      }
    }
  } finally {
    noise.clear();
    scratch.u.fill(0);
    scratch.m.fill(0);
    scratch.e1.fill(0);
  }
  return { paramSetId: params.id, dim, data: out };
}
