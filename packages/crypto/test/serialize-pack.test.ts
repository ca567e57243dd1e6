import { randomInt } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { getParamSet } from '../src/params.js';
import { assertOccupancyBitmap } from '../src/serialize/block.js';
import {
  assertResiduesBelowPrimes,
  packResidues,
  packedBytes,
  packResiduesInto,
  readU32Words,
  readU32WordsPortably,
  residueBitsFor,
  unpackResidues,
  writeU32Words,
  writeU32WordsPortably,
} from '../src/serialize/pack.js';
import { ObjectKind, primeRuns, residueBits } from '../src/serialize/shape.js';
import { expectCryptoError, primeIndexOf, type ResidueKind } from './serialize-fixtures.js';

describe('residue bit packing', () => {
  it('packs values little-endian, value i at stream bits [26i, 26i + 26)', () => {
    const packed = packResidues(new Uint32Array([1, 2, 2 ** 26 - 1]), 26);
    expect([...packed]).toEqual([0x01, 0x00, 0x00, 0x08, 0x00, 0x00, 0xf0, 0xff, 0xff, 0x3f]);
  });

  it('round-trips random values at every width from 1 to 32 bits and odd counts', () => {
    for (let bits = 1; bits <= 32; bits++) {
      for (const count of [0, 1, 3, 7, 8, 31, 64, 257]) {
        const values = new Uint32Array(count);
        for (let i = 0; i < count; i++) {
          values[i] = randomInt(2 ** bits);
        }
        const packed = packResidues(values, bits);
        expect(packed.length).toBe(Math.ceil((count * bits) / 8));
        expect(unpackResidues(packed, count, bits)).toEqual(values);
      }
    }
  });

  it('unpacks from an offset inside a larger buffer without reading the neighbours into values', () => {
    const values = new Uint32Array([5, 67084288, 0, 12345]);
    const packed = packResidues(values, 26);
    const framed = new Uint8Array(3 + packed.length + 5).fill(0xff);
    framed.set(packed, 3);
    expect(unpackResidues(framed, values.length, 26, 3)).toEqual(values);
  });

  it('rejects nonzero padding bits after the last value', () => {
    const packed = packResidues(new Uint32Array([1, 2, 3]), 26); // 78 bits: 2 padding bits
    packed[packed.length - 1] = (packed[packed.length - 1] ?? 0) | 0x80;
    expectCryptoError(() => unpackResidues(packed, 3, 26), 'MALFORMED_INPUT');
  });

  it('rejects a packed range that runs past the end of the input', () => {
    const packed = packResidues(new Uint32Array(8), 26);
    expectCryptoError(() => unpackResidues(packed.subarray(0, packed.length - 1), 8, 26), 'MALFORMED_INPUT');
    expectCryptoError(() => unpackResidues(packed, 8, 26, 1), 'MALFORMED_INPUT');
  });

  it('returns values that do not alias the input buffer', () => {
    const words = readU32Words(new Uint8Array([1, 0, 0, 0, 2, 0, 0, 0]), 2);
    const source = new Uint8Array(8);
    writeU32Words(words, source, 0);
    const copy = readU32Words(source, 2);
    source.fill(0xff);
    expect([...copy]).toEqual([1, 2]);
  });

  it('writes and reads u32 words little-endian', () => {
    const out = new Uint8Array(9);
    writeU32Words(new Uint32Array([0x04030201, 0xffffffff]), out, 1);
    expect([...out]).toEqual([0, 1, 2, 3, 4, 0xff, 0xff, 0xff, 0xff]);
    expect([...readU32Words(out, 2, 1)]).toEqual([0x04030201, 0xffffffff]);
    expectCryptoError(() => readU32Words(out, 3, 1), 'MALFORMED_INPUT');
  });

  it('gives the same bytes on the portable word path big-endian hosts take', () => {
    const words = new Uint32Array([0, 1, 0x04030201, 0xffffffff, 67084288]);
    const fast = new Uint8Array(23);
    const portable = new Uint8Array(23);
    writeU32Words(words, fast, 3);
    writeU32WordsPortably(words, portable, 3);
    expect(portable).toEqual(fast);
    expect(readU32WordsPortably(fast, 5, 3)).toEqual(words);
  });

  it('refuses to truncate a value wider than the bit width or to overrun its target', () => {
    expect(() => packResidues(new Uint32Array([2 ** 26]), 26)).toThrow(RangeError);
    expect(() => packResiduesInto(new Uint32Array(4), 26, new Uint8Array(12), 0)).toThrow(RangeError);
    expect(() => writeU32Words(new Uint32Array(2), new Uint8Array(7), 0)).toThrow(RangeError);
  });

  it('rejects bit widths outside 1..32 and impossible counts as malformed', () => {
    for (const bits of [0, 33, 2.5]) {
      expectCryptoError(() => unpackResidues(new Uint8Array(8), 1, bits), 'MALFORMED_INPUT');
      expectCryptoError(() => packResidues(new Uint32Array(1), bits), 'MALFORMED_INPUT');
    }
    expectCryptoError(() => unpackResidues(new Uint8Array(8), -1, 8), 'MALFORMED_INPUT');
    expectCryptoError(() => readU32Words(new Uint8Array(8), 1.5), 'MALFORMED_INPUT');
  });

  it('gives the secret key no residue runs', () => {
    expect(primeRuns(ObjectKind.SECRET_KEY, getParamSet(1), 0)).toEqual({ repeats: 0, runWords: 0 });
  });

  it('uses 26 bits, ceil(log2 p), for both parameter sets', () => {
    expect(residueBits(getParamSet(1))).toBe(26);
    expect(residueBits(getParamSet(2))).toBe(26);
    expect(residueBitsFor([2 ** 26])).toBe(26);
    expect(residueBitsFor([2 ** 26 + 1])).toBe(27);
    expect(packedBytes(4096, 26)).toBe(13_312);
  });
});

describe('residue range check', () => {
  const cases: [ResidueKind, ObjectKind, number, number][] = [
    ['publicKey', ObjectKind.PUBLIC_KEY, 1, 0],
    ['publicKey', ObjectKind.PUBLIC_KEY, 2, 0],
    ['vector', ObjectKind.ENCRYPTED_VECTOR, 1, 64],
    ['vector', ObjectKind.ENCRYPTED_QUERY, 2, 96],
    ['block', ObjectKind.BLOCK, 1, 64],
    ['block', ObjectKind.BLOCK, 2, 96],
    ['scores', ObjectKind.BLOCK_SCORES, 1, 0],
    ['scores', ObjectKind.BLOCK_SCORES, 2, 0],
  ];

  it.each(cases)(
    'maps every %s word to the prime types.ts gives it (kind %i, set %i, dim %i)',
    (layout, kind, paramSetId, dim) => {
      const params = getParamSet(paramSetId);
      const runs = primeRuns(kind, params, dim);
      const words = runs.repeats * params.primes.length * runs.runWords;
      const data = new Uint32Array(words);
      for (let i = 0; i < words; i++) {
        const p = params.primes[primeIndexOf(layout, params, dim, i)] ?? 0;
        data[i] = p - 1;
      }
      assertResiduesBelowPrimes(data, params.primes, runs);
      // With every word at p - 1 accepted, a word mapped to a smaller prime would already have failed; one
      // mapped to a larger prime shows up when set to its own prime. Probe run edges and a stride.
      const probes = new Set<number>([0, words - 1]);
      for (let i = 0; i < words; i += 997) probes.add(i);
      for (let r = 0; r <= runs.repeats * params.primes.length; r++) {
        probes.add(Math.min(words - 1, r * runs.runWords));
        probes.add(Math.max(0, r * runs.runWords - 1));
      }
      for (const i of probes) {
        const p = params.primes[primeIndexOf(layout, params, dim, i)] ?? 0;
        const bad = data.slice();
        bad[i] = p;
        expectCryptoError(() => {
          assertResiduesBelowPrimes(bad, params.primes, runs);
        }, 'MALFORMED_INPUT');
      }
    },
  );

  it('checks each word against its own prime, not the largest one', () => {
    const params = getParamSet(2);
    const [p1 = 0, p2 = 0, p3 = 0] = params.primes;
    expect(p1 > p2 && p2 > p3).toBe(true);
    const runs = primeRuns(ObjectKind.PUBLIC_KEY, params, 0);
    const run = 2 * params.n;
    const at = (i: number, v: number): Uint32Array => {
      const data = new Uint32Array(3 * run);
      data[i] = v;
      return data;
    };
    assertResiduesBelowPrimes(at(run - 1, p2), params.primes, runs);
    expectCryptoError(() => {
      assertResiduesBelowPrimes(at(run, p2), params.primes, runs);
    }, 'MALFORMED_INPUT');
    assertResiduesBelowPrimes(at(2 * run - 1, p3), params.primes, runs);
    expectCryptoError(() => {
      assertResiduesBelowPrimes(at(2 * run, p3), params.primes, runs);
    }, 'MALFORMED_INPUT');
  });

  it('rejects an array of the wrong length for its shape', () => {
    const params = getParamSet(1);
    const runs = primeRuns(ObjectKind.PUBLIC_KEY, params, 0);
    expectCryptoError(() => {
      assertResiduesBelowPrimes(new Uint32Array(5), params.primes, runs);
    }, 'MALFORMED_INPUT');
  });
});

describe('occupancy bitmap', () => {
  it('accepts every bit of a 128-slot bitmap', () => {
    assertOccupancyBitmap(new Uint8Array(16).fill(0xff), 128);
  });

  it('rejects an occupancy bit at or beyond the slot count', () => {
    const bitmap = new Uint8Array(13).fill(0xff);
    bitmap[12] = 0x0f; // slots 96..99
    assertOccupancyBitmap(bitmap, 100);
    bitmap[12] = 0x1f; // slot 100 does not exist
    expectCryptoError(() => {
      assertOccupancyBitmap(bitmap, 100);
    }, 'MALFORMED_INPUT');
    bitmap[12] = 0x80;
    expectCryptoError(() => {
      assertOccupancyBitmap(bitmap, 100);
    }, 'MALFORMED_INPUT');
  });

  it('rejects a bitmap of the wrong byte length', () => {
    expectCryptoError(() => {
      assertOccupancyBitmap(new Uint8Array(17), 128);
    }, 'MALFORMED_INPUT');
    expectCryptoError(() => {
      assertOccupancyBitmap(new Uint8Array(15), 128);
    }, 'MALFORMED_INPUT');
  });
});
