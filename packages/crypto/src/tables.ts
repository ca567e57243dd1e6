import type { ParamSet } from './params.js';
import {
  bitReverse,
  invMod,
  minimalPrimitiveRoot2n,
  montgomeryNegInv,
  montgomeryR,
  mulMod,
  powMod,
  shoupOf,
} from './modarith.js';

/**
 * Public, per-prime constants shared by the JS and WASM kernels.
 *
 * NTT convention (Longa–Naehrig): forward is Cooley–Tukey, natural order in, bit-reversed order out,
 * so slot c holds f(ω_c) with ω_c = ψ^(2·br(c)+1). The inverse is Gentleman–Sande and includes 1/n.
 */
export interface PrimeTables {
  readonly p: number;
  readonly n: number;
  /** ψ^br(k), k < n. */
  readonly psiRev: Uint32Array;
  readonly psiRevShoup: Uint32Array;
  /** ψ^-br(k), k < n. */
  readonly psiInvRev: Uint32Array;
  readonly psiInvRevShoup: Uint32Array;
  readonly nInv: number;
  readonly nInvShoup: number;
  /** Tables of the 128-point negacyclic transform over ψ128 = ψ^32 (primitive 256th root). */
  readonly psi128Rev: Uint32Array;
  readonly psi128RevShoup: Uint32Array;
  readonly psi128InvRev: Uint32Array;
  readonly psi128InvRevShoup: Uint32Array;
  readonly n128Inv: number;
  readonly n128InvShoup: number;
  /**
   * Score-extraction functional ("folded" extraction): L[c] = ω_c^-31 / 32. For any NTT-domain X,
   * coefficient 32g+31 of INTT(X) equals intt128(Y)[g] with Y[a] = Σ_{i<32} L[32a+i]·X[32a+i].
   */
  readonly fold: Uint32Array;
  /** NTT(X^(32k)) is constant on each aligned group a of 32 slots: shift[k·128 + a] = ψ128^(k·(2·br7(a)+1)). */
  readonly shift: Uint32Array;
  /** -p^-1 mod 2^32 and 2^32 mod p, for Montgomery reduction. */
  readonly montNegInv: number;
  readonly montR: number;
}

const cache = new Map<string, PrimeTables>();

export function primeTables(params: ParamSet, primeIndex: number): PrimeTables {
  const p = params.primes[primeIndex];
  if (p === undefined) throw new RangeError(`prime index ${primeIndex} outside ${params.name}`);
  const key = `${params.n}:${p}`;
  let tables = cache.get(key);
  if (tables === undefined) {
    tables = Object.freeze(buildTables(params.n, p, params.chunkSize));
    cache.set(key, tables);
  }
  return tables;
}

export function allPrimeTables(params: ParamSet): readonly PrimeTables[] {
  return params.primes.map((_, i) => primeTables(params, i));
}

function buildTables(n: number, p: number, chunkSize: number): PrimeTables {
  const logN = Math.log2(n);
  const groups = n / chunkSize;
  const logGroups = Math.log2(groups);
  const psi = minimalPrimitiveRoot2n(n, p);
  const psiInv = invMod(psi, p);

  const psiRev = new Uint32Array(n);
  const psiInvRev = new Uint32Array(n);
  for (let k = 0; k < n; k++) {
    const e = bitReverse(k, logN);
    psiRev[k] = powMod(psi, e, p);
    psiInvRev[k] = powMod(psiInv, e, p);
  }

  const psi128 = powMod(psi, chunkSize, p);
  const psi128Inv = invMod(psi128, p);
  const psi128Rev = new Uint32Array(groups);
  const psi128InvRev = new Uint32Array(groups);
  for (let k = 0; k < groups; k++) {
    const e = bitReverse(k, logGroups);
    psi128Rev[k] = powMod(psi128, e, p);
    psi128InvRev[k] = powMod(psi128Inv, e, p);
  }

  const invChunk = invMod(chunkSize, p);
  const fold = new Uint32Array(n);
  for (let c = 0; c < n; c++) {
    const omegaExp = 2 * bitReverse(c, logN) + 1;
    // ω_c^-(chunkSize-1) = ψ^-(omegaExp·(chunkSize-1))
    const w = powMod(psiInv, (omegaExp * (chunkSize - 1)) % (2 * n), p);
    fold[c] = mulMod(w, invChunk, p);
  }

  const shift = new Uint32Array(groups * groups);
  for (let a = 0; a < groups; a++) {
    const root = powMod(psi128, 2 * bitReverse(a, logGroups) + 1, p);
    let cur = 1;
    for (let k = 0; k < groups; k++) {
      shift[k * groups + a] = cur;
      cur = mulMod(cur, root, p);
    }
  }

  const nInv = invMod(n, p);
  const n128Inv = invMod(groups, p);
  return {
    p,
    n,
    psiRev,
    psiRevShoup: psiRev.map((w) => shoupOf(w, p)),
    psiInvRev,
    psiInvRevShoup: psiInvRev.map((w) => shoupOf(w, p)),
    nInv,
    nInvShoup: shoupOf(nInv, p),
    psi128Rev,
    psi128RevShoup: psi128Rev.map((w) => shoupOf(w, p)),
    psi128InvRev,
    psi128InvRevShoup: psi128InvRev.map((w) => shoupOf(w, p)),
    n128Inv,
    n128InvShoup: shoupOf(n128Inv, p),
    fold,
    shift,
    montNegInv: montgomeryNegInv(p),
    montR: montgomeryR(p),
  };
}
