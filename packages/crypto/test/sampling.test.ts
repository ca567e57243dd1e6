import { describe, expect, it } from 'vitest';
import { createJsKernels } from '../src/kernels/js-kernels.js';
import { deterministicRandom, systemRandom, type RandomSource } from '../src/random.js';
import {
  EncryptionNoise,
  popcount,
  RandomBytes,
  sampleCbd,
  sampleTernary,
  sampleUniform,
  toResidues,
} from '../src/sampling.js';
import { createWasmKernels } from '../src/wasm/wasm-kernels.js';

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

/** A deterministic stream where the byte 255 is common (`every` in 256 bytes on average are made 255). */
function rejectionHeavy(seed: string, every: number): RandomSource {
  const inner = deterministicRandom(seed);
  const marks = deterministicRandom(`${seed}/marks`);
  return {
    fill(bytes: Uint8Array): void {
      inner.fill(bytes);
      const m = new Uint8Array(bytes.length);
      marks.fill(m);
      for (let i = 0; i < bytes.length; i++) if ((m[i] ?? 0) < every) bytes[i] = 255;
    },
  };
}

describe('EncryptionNoise', () => {
  const n = 4096;
  const eta = 21;
  for (const kind of ['js', 'wasm'] as const) {
    it(`samples what sampleTernary, sampleCbd, sampleCbd sample and leaves the stream where they do (${kind})`, () => {
      const kernels = kind === 'js' ? createJsKernels() : createWasmKernels();
      const noise = new EncryptionNoise(kernels, n);
      // 0: the usual 1/256; more 255s force second and later ternary batches of odd lengths.
      for (const [seed, every] of [
        ['plain', 0],
        ['often', 3],
        ['very often', 6],
        ['a quarter', 60],
        ['most bytes', 160], // many batches: the buffer compacts
      ] as const) {
        const mine = new RandomBytes(rejectionHeavy(seed, every));
        const ref = new RandomBytes(rejectionHeavy(seed, every));
        for (let chunk = 0; chunk < 3; chunk++) {
          noise.sample(mine, eta);
          const u = new Int8Array(n);
          const e0 = new Int8Array(n);
          const e1 = new Int8Array(n);
          sampleTernary(ref, u);
          sampleCbd(ref, eta, e0);
          sampleCbd(ref, eta, e1);
          const context = `${seed} chunk ${chunk}`;
          expect(Array.from(noise.u), context).toEqual(Array.from(u));
          expect(Array.from(noise.e0), context).toEqual(Array.from(e0));
          expect(Array.from(noise.e1), context).toEqual(Array.from(e1));
        }
        // The next bytes of both streams agree: nothing was drawn ahead and left unused.
        expect(Array.from(mine.bytes(64)), seed).toEqual(Array.from(ref.bytes(64)));
      }
      noise.clear();
      expect(noise.u.every((v) => v === 0) && noise.e0.every((v) => v === 0)).toBe(true);
      expect(noise.e1.every((v) => v === 0)).toBe(true);
    });
  }
});
