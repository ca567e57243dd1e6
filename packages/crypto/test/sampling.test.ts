import { describe, expect, it } from 'vitest';
import { deterministicRandom, systemRandom } from '../src/random.js';
import {
  popcount,
  RandomBytes,
  sampleCbd,
  sampleTernary,
  sampleUniform,
  toResidues,
} from '../src/sampling.js';

/** Chi-square statistic of observed counts against equal expected counts. */
function chiSquare(counts: number[]): number {
  const total = counts.reduce((a, b) => a + b, 0);
  const expected = total / counts.length;
  return counts.reduce((acc, c) => acc + (c - expected) ** 2 / expected, 0);
}

describe('samplers', () => {
  it('computes floor(b/3) exactly with the multiply-shift for every byte', () => {
    for (let b = 0; b < 256; b++) expect((b * 171) >> 9).toBe(Math.floor(b / 3));
  });

  it('counts bits like the naive popcount', () => {
    for (const x of [0, 1, 0xffffffff, 0x80000000, 0x1fffff, 0x12345678, 0xdeadbeef]) {
      expect(popcount(x)).toBe(
        x
          .toString(2)
          .split('')
          .filter((c) => c === '1').length,
      );
    }
  });

  it('draws ternary coefficients uniformly from {-1, 0, 1}', () => {
    const out = new Int8Array(300_000);
    sampleTernary(new RandomBytes(systemRandom), out);
    const counts = [0, 0, 0];
    for (const v of out) counts[v + 1] = (counts[v + 1] ?? 0) + 1;
    expect(counts.reduce((a, b) => a + b, 0)).toBe(out.length); // nothing outside {-1,0,1}
    // 2 degrees of freedom: P(χ² > 18.4) ≈ 1e-4.
    expect(chiSquare(counts)).toBeLessThan(18.4);
  });

  it('rejects the byte 255 so that ternary sampling is unbiased', () => {
    // A source of only 0xff bytes followed by 0x01 bytes must skip every 0xff.
    let calls = 0;
    const source = {
      fill(bytes: Uint8Array): void {
        bytes.fill(calls++ === 0 ? 0xff : 0x01);
      },
    };
    const out = new Int8Array(4);
    sampleTernary(new RandomBytes(source), out);
    expect(Array.from(out)).toEqual([0, 0, 0, 0]); // 1 mod 3 - 1 = 0
  });

  it('draws centred-binomial errors with mean 0, variance η/2 and support [-η, η]', () => {
    const eta = 21;
    const out = new Int8Array(400_000);
    sampleCbd(new RandomBytes(systemRandom), eta, out);
    let sum = 0;
    let sq = 0;
    let min = 0;
    let max = 0;
    for (const v of out) {
      sum += v;
      sq += v * v;
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    const mean = sum / out.length;
    const variance = sq / out.length - mean * mean;
    expect(Math.abs(mean)).toBeLessThan(0.05); // σ/√n ≈ 0.005; 10σ margin
    expect(Math.abs(variance - eta / 2)).toBeLessThan(0.25);
    expect(min).toBeGreaterThanOrEqual(-eta);
    expect(max).toBeLessThanOrEqual(eta);
  });

  it('matches the binomial probability of zero for CBD(21)', () => {
    const out = new Int8Array(400_000);
    sampleCbd(new RandomBytes(systemRandom), 21, out);
    const zeros = out.filter((v) => v === 0).length / out.length;
    // P(X = 0) = C(42, 21) / 2^42 ≈ 0.12230
    expect(Math.abs(zeros - 0.1223)).toBeLessThan(0.005);
  });

  it('draws uniform residues below p with no bucket bias', () => {
    const p = 67084289;
    const out = new Uint32Array(320_000);
    sampleUniform(new RandomBytes(systemRandom), p, out);
    const buckets = new Array<number>(32).fill(0);
    let max = 0;
    for (const v of out) {
      max = Math.max(max, v);
      const b = Math.floor((v / p) * 32);
      buckets[b] = (buckets[b] ?? 0) + 1;
    }
    expect(max).toBeLessThan(p);
    // 31 degrees of freedom: P(χ² > 70) ≈ 1e-4.
    expect(chiSquare(buckets)).toBeLessThan(70);
  });

  it('maps signed coefficients into [0, p) without changing their residue', () => {
    const p = 67043329;
    const out = new Uint32Array(5);
    toResidues(Int8Array.from([-21, -1, 0, 1, 21]), p, out);
    expect(Array.from(out)).toEqual([p - 21, p - 1, 0, 1, 21]);
  });

  it('gives the same stream for the same seed and a different one for another seed', () => {
    const a = new Uint8Array(100_000);
    const b = new Uint8Array(100_000);
    const c = new Uint8Array(100_000);
    deterministicRandom('seed-1').fill(a);
    deterministicRandom('seed-1').fill(b);
    deterministicRandom('seed-2').fill(c);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });
});
