import { randomInt } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { createCrt } from '../src/crt.js';
import { createEngine } from '../src/engine.js';
import { isCryptoError } from '../src/errors.js';
import { PARAM_SETS } from '../src/params.js';

describe('engine selection', () => {
  it('uses the WASM kernels by default and the JS reference on request', () => {
    expect(createEngine().kernels.kind).toBe('wasm');
    expect(createEngine({ kernels: 'wasm' }).kernels.kind).toBe('wasm');
    expect(createEngine({ kernels: 'js' }).kernels.kind).toBe('js');
  });

  it('falls back to JS when WebAssembly is missing, unless WASM was demanded', () => {
    vi.stubGlobal('WebAssembly', undefined);
    try {
      expect(createEngine({ kernels: 'auto' }).kernels.kind).toBe('js');
      let err: unknown;
      try {
        createEngine({ kernels: 'wasm' });
      } catch (e: unknown) {
        err = e;
      }
      expect(isCryptoError(err, 'WASM_UNAVAILABLE')).toBe(true);
    } finally {
      vi.unstubAllGlobals();
    }
  });
});

describe('CRT', () => {
  it.each(PARAM_SETS.map((s) => [s.name, s] as const))(
    'recovers centred integers exactly (%s)',
    (_name, params) => {
      const crt = createCrt(params);
      const q = params.primes.reduce((acc, p) => acc * BigInt(p), 1n);
      // Scores live far below Q/2; test the whole range the engine produces and a few extremes.
      const bound = params.primes.length === 2 ? q / 2n : 2n ** 62n;
      const samples = [0n, 1n, -1n, bound - 1n, -(bound - 1n)];
      for (let i = 0; i < 2000; i++) {
        const magnitude = BigInt(randomInt(2 ** 47)) * BigInt(randomInt(2 ** 15 - 1) + 1);
        samples.push(randomInt(2) === 0 ? magnitude % bound : -(magnitude % bound));
      }
      for (const x of samples) {
        const residues = params.primes.map((p) => Number((((x % BigInt(p)) + BigInt(p)) % BigInt(p)) % q));
        const got = crt.centred(residues);
        // Exact for two primes; within float64 rounding (|x| ≤ 2^62 → ≤ 2^10) for three.
        const tolerance = params.primes.length === 2 ? 0 : 1024;
        expect(Math.abs(got - Number(x))).toBeLessThanOrEqual(tolerance);
      }
    },
  );
});
