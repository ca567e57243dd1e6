import { describe, expect, it } from 'vitest';
import { createJsKernels } from '../src/kernels/js-kernels.js';
import { bitReverse, mulMod, powMod } from '../src/modarith.js';
import { PARAM_SETS } from '../src/params.js';
import { negacyclicMultiply } from '../src/poly.js';
import { primeTables } from '../src/tables.js';
import { randomResidues, sha256Hex } from './helpers.js';

const kernels = createJsKernels();

/** Evaluate a coefficient-domain polynomial at x by Horner's rule. */
function evaluate(f: Uint32Array, x: number, p: number): number {
  let acc = 0;
  for (let k = f.length - 1; k >= 0; k--) acc = (mulMod(acc, x, p) + (f[k] ?? 0)) % p;
  return acc;
}

function schoolbookNegacyclic(a: Uint32Array, b: Uint32Array, p: number): Uint32Array {
  const n = a.length;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const prod = mulMod(a[i] ?? 0, b[j] ?? 0, p);
      const k = i + j;
      if (k < n) out[k] = ((out[k] ?? 0) + prod) % p;
      else out[k - n] = ((out[k - n] ?? 0) - prod + p) % p;
    }
  }
  return Uint32Array.from(out);
}

const allPrimes = [...new Set(PARAM_SETS.flatMap((s) => s.primes.map((_, i) => primeTables(s, i))))];

describe('negacyclic NTT', () => {
  it.each(allPrimes.map((t) => [t.p, t] as const))('slot c of NTT(f) mod %i is f(ψ^(2·br(c)+1))', (_p, t) => {
    const f = randomResidues(t.n, t.p);
    const hat = Uint32Array.from(f);
    kernels.nttForward(hat, t);
    const psi = t.psiRev[t.n / 2] ?? 0; // psiRev[n/2] = ψ^br(n/2) = ψ^1
    for (const c of [0, 1, 2, 31, 32, 1000, 4095]) {
      const omega = powMod(psi, 2 * bitReverse(c, 12) + 1, t.p);
      expect(hat[c]).toBe(evaluate(f, omega, t.p));
    }
  });

  it.each(allPrimes.map((t) => [t.p, t] as const))('uses a primitive 2n-th root of unity mod %i', (_p, t) => {
    const psi = t.psiRev[t.n / 2] ?? 0;
    expect(powMod(psi, t.n, t.p)).toBe(t.p - 1);
    expect(mulMod(psi, t.psiInvRev[t.n / 2] ?? 0, t.p)).toBe(1);
  });

  it.each(allPrimes.map((t) => [t.p, t] as const))('inverse NTT undoes the forward NTT mod %i', (_p, t) => {
    const f = randomResidues(t.n, t.p);
    const g = Uint32Array.from(f);
    kernels.nttForward(g, t);
    expect(g).not.toEqual(f);
    kernels.nttInverse(g, t);
    expect(g).toEqual(f);
  });

  it('matches known-answer vectors for the first prime', () => {
    const t = primeTables(PARAM_SETS[0]!, 0);
    const f = new Uint32Array(t.n);
    for (let i = 0; i < t.n; i++) f[i] = (i * 7919 + 13) % t.p;
    kernels.nttForward(f, t);
    // Fixed outputs of this implementation; any change of convention (root choice, ordering) fails here.
    expect(t.psiRev[2048]).toBe(KNOWN.psi);
    expect(Array.from(f.subarray(0, 4))).toEqual(KNOWN.first4);
    expect(sha256Hex(f)).toBe(KNOWN.sha256);
  });

  it('picks the smallest primitive 2n-th root of unity', () => {
    const t = primeTables(PARAM_SETS[0]!, 0);
    const psi = t.psiRev[t.n / 2] ?? 0;
    // A primitive 2n-th root x satisfies x^n = -1; no smaller residue may.
    for (let x = 2; x < psi; x++) expect(powMod(x, t.n, t.p)).not.toBe(t.p - 1);
  });

  it('multiplies polynomials negacyclically (X^(n-1) · X = -1)', () => {
    const t = primeTables(PARAM_SETS[0]!, 1);
    const a = new Uint32Array(t.n);
    const b = new Uint32Array(t.n);
    a[t.n - 1] = 1;
    b[1] = 1;
    const prod = negacyclicMultiply(a, b, t, kernels);
    expect(prod[0]).toBe(t.p - 1);
    expect(prod.slice(1).every((v) => v === 0)).toBe(true);
  });

  it('agrees with schoolbook negacyclic multiplication on random polynomials', () => {
    const t = primeTables(PARAM_SETS[1]!, 2);
    const a = randomResidues(t.n, t.p);
    const b = randomResidues(t.n, t.p);
    expect(negacyclicMultiply(a, b, t, kernels)).toEqual(schoolbookNegacyclic(a, b, t.p));
  });
});

describe('score extraction tables', () => {
  it.each(allPrimes.map((t) => [t.p, t] as const))(
    'folded extraction equals coefficient 32g+31 of the full inverse NTT mod %i',
    (_p, t) => {
      const x = randomResidues(t.n, t.p);
      const full = Uint32Array.from(x);
      kernels.nttInverse(full, t);
      const y = new Uint32Array(t.n / 32);
      kernels.foldAccumulate(new Uint32Array(t.n / 32), x, t.fold, t, y);
      kernels.intt128(y, t);
      for (let g = 0; g < t.n / 32; g++) expect(y[g]).toBe(full[32 * g + 31]);
    },
  );

  it.each(allPrimes.map((t) => [t.p, t] as const))('shift table row k is NTT(X^(32k)) mod %i', (_p, t) => {
    for (const k of [0, 1, 5, 127]) {
      const mono = new Uint32Array(t.n);
      mono[32 * k] = 1;
      kernels.nttForward(mono, t);
      for (let c = 0; c < t.n; c++) expect(mono[c]).toBe(t.shift[k * 128 + (c >>> 5)]);
    }
  });
});

const KNOWN = {
  psi: 78068,
  first4: [17963306, 31773616, 52502478, 2050557],
  sha256: '20bf9179ef2d79d3565156a2b87c74dbdd56a6291866c9cb65a747ac651c652f',
};
