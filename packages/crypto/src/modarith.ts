/**
 * Scalar modular arithmetic for primes p < 2^26. Residues are integers in [0, p); a product of two
 * residues is < 2^52 and therefore exact in a float64, which is what makes the JS reference path exact.
 */

export function mulMod(a: number, b: number, p: number): number {
  return (a * b) % p;
}

export function addMod(a: number, b: number, p: number): number {
  const s = a + b;
  return s >= p ? s - p : s;
}

export function subMod(a: number, b: number, p: number): number {
  const d = a - b;
  return d < 0 ? d + p : d;
}

export function powMod(base: number, exp: number, p: number): number {
  let result = 1;
  let b = base % p;
  let e = exp;
  while (e > 0) {
    if (e % 2 === 1) result = mulMod(result, b, p);
    b = mulMod(b, b, p);
    e = Math.floor(e / 2);
  }
  return result;
}

/** Inverse modulo a prime (Fermat). */
export function invMod(a: number, p: number): number {
  return powMod(a, p - 2, p);
}

/** Reduce any safe integer (possibly negative) into [0, p). */
export function reduceSigned(x: number, p: number): number {
  const r = x % p;
  return r < 0 ? r + p : r;
}

/** Shoup precomputation floor(w · 2^32 / p), as an unsigned 32-bit integer. */
export function shoupOf(w: number, p: number): number {
  return Number((BigInt(w) << 32n) / BigInt(p));
}

/** -p^{-1} mod 2^32, for Montgomery reduction with R = 2^32. */
export function montgomeryNegInv(p: number): number {
  const m = 1n << 32n;
  let inv = 1n;
  const pb = BigInt(p);
  // Newton iteration doubles the number of correct low bits each step.
  for (let i = 0; i < 5; i++) inv = (inv * (2n - pb * inv)) % m;
  return Number((m - (((inv % m) + m) % m)) % m);
}

/** 2^32 mod p. */
export function montgomeryR(p: number): number {
  return Number((1n << 32n) % BigInt(p));
}

/** Bit-reverse the low `bits` bits of x. */
export function bitReverse(x: number, bits: number): number {
  let r = 0;
  for (let i = 0; i < bits; i++) r |= ((x >>> i) & 1) << (bits - 1 - i);
  return r >>> 0;
}

/** The smallest primitive 2n-th root of unity modulo p (deterministic, so known answers are stable). */
export function minimalPrimitiveRoot2n(n: number, p: number): number {
  const order = 2 * n;
  if ((p - 1) % order !== 0) throw new RangeError(`${p} is not 1 mod ${order}`);
  for (let g = 2; g < p; g++) {
    const candidate = powMod(g, (p - 1) / order, p);
    if (powMod(candidate, n, p) !== p - 1) continue;
    // candidate is a primitive 2n-th root; the others are its odd powers.
    let best = candidate;
    const sq = mulMod(candidate, candidate, p);
    let cur = candidate;
    for (let k = 1; k < n; k++) {
      cur = mulMod(cur, sq, p);
      if (cur < best) best = cur;
    }
    return best;
  }
  throw new RangeError(`no primitive root found for ${p}`);
}

/**
 * a·b mod p without `%` (V8 lowers a float `%` to fmod, whose running time depends on the operands).
 * a·b < 2^52 is exact; the float quotient is within ±1 of the true one and the branchless
 * corrections bring r into [0, p). Used wherever secret-dependent values are multiplied in JS.
 */
export function mulModCt(a: number, b: number, p: number): number {
  const x = a * b;
  let r = (x - Math.floor(x / p) * p) | 0;
  r += (r >> 31) & p;
  r -= p;
  r += (r >> 31) & p;
  return r;
}
