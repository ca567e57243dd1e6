import { invMod, mulModCt } from './modarith.js';
import type { ParamSet } from './params.js';

/**
 * Chinese remaindering from per-prime residues to the centred integer in (-Q/2, Q/2], as a float64.
 * Two primes: Garner's formula is exact (Q < 2^53). Three primes: the top mixed-radix digit is centred
 * and the value is exact up to float64 rounding of |x| ≤ 2^62 (relative error 2^-53, far below noise).
 */
export interface Crt {
  readonly primeCount: number;
  centred(residues: ArrayLike<number>): number;
}

export function createCrt(params: ParamSet): Crt {
  const [p1, p2, p3] = params.primes;
  if (p1 === undefined || p2 === undefined) throw new RangeError('CRT needs at least two primes');
  const inv12 = invMod(p1 % p2, p2);
  if (p3 === undefined) {
    const q = p1 * p2;
    const half = Math.floor(q / 2);
    return {
      primeCount: 2,
      centred(r: ArrayLike<number>): number {
        const a1 = r[0] ?? 0;
        const a2 = r[1] ?? 0;
        const d = a2 - (a1 % p2);
        const h = mulModCt(d + ((d >> 31) & p2), inv12, p2);
        const x = a1 + p1 * h;
        // Branchless centring: subtract Q when x > Q/2.
        return x - q * Number(x > half);
      },
    };
  }
  const p12ModP3 = (p1 * p2) % p3;
  const inv123 = invMod(p12ModP3, p3);
  const p12 = p1 * p2;
  const halfP3 = Math.floor(p3 / 2);
  return {
    primeCount: 3,
    centred(r: ArrayLike<number>): number {
      const a1 = r[0] ?? 0;
      const a2 = r[1] ?? 0;
      const a3 = r[2] ?? 0;
      const d2 = a2 - (a1 % p2);
      const h2 = mulModCt(d2 + ((d2 >> 31) & p2), inv12, p2);
      const x12 = a1 + p1 * h2; // exact, < p1·p2 < 2^52
      const x12ModP3 = x12 - Math.floor(x12 / p3) * p3;
      const d3 = a3 - x12ModP3;
      let h3 = mulModCt(d3 + ((d3 >> 31) & p3), inv123, p3);
      h3 -= p3 * Number(h3 > halfP3);
      return x12 + p12 * h3;
    },
  };
}
