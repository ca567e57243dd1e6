import { randomInt } from 'node:crypto';
import { expect } from 'vitest';
import { CryptoError, type CryptoErrorCode } from '../src/errors.js';
import { getParamSet, type ParamSet } from '../src/params.js';
import type { Block, BlockScores, EncryptedVector, PublicKey, SecretKey } from '../src/types.js';

/**
 * Test data for the serialisation tests: random residues drawn with crypto.randomInt(p), where the
 * prime of each word is derived here independently of src/serialize from the layouts in types.ts.
 */

export type ResidueKind = 'publicKey' | 'vector' | 'block' | 'scores';

/** Index of the prime that word i belongs to, straight from the layout comments of types.ts. */
export function primeIndexOf(kind: ResidueKind, params: ParamSet, dim: number, i: number): number {
  const n = params.n;
  const primes = params.primes.length;
  switch (kind) {
    case 'publicKey': // [prime][poly 0..1][n]
      return Math.floor(i / (2 * n));
    case 'vector': // [chunk][prime][poly][n]
      return Math.floor(i / (2 * n)) % primes;
    case 'block': // [prime][poly][chunks·n]
      return Math.floor(i / (2 * (dim / params.chunkSize) * n));
    case 'scores': // [prime][n/32 + n or 2n]
      return Math.floor(i / scoreWordsPerPrime(params));
  }
}

export function scoreWordsPerPrime(params: ParamSet): number {
  return params.n / 32 + (params.queryMode === 'encrypted' ? 2 : 1) * params.n;
}

export function wordCount(kind: ResidueKind, params: ParamSet, dim: number): number {
  const primes = params.primes.length;
  switch (kind) {
    case 'publicKey':
      return primes * 2 * params.n;
    case 'vector':
    case 'block':
      return (dim / 32) * primes * 2 * params.n;
    case 'scores':
      return primes * scoreWordsPerPrime(params);
  }
}

export function primeOf(kind: ResidueKind, params: ParamSet, dim: number, i: number): number {
  const p = params.primes[primeIndexOf(kind, params, dim, i)];
  if (p === undefined) {
    throw new Error(`word ${i} outside the ${kind} layout`);
  }
  return p;
}

const cache = new Map<string, Uint32Array>();

/** Random residues for a kind; cached per shape so packed and unpacked runs share one draw. */
export function randomResidues(kind: ResidueKind, paramSetId: number, dim = 0): Uint32Array {
  const key = `${kind}/${paramSetId}/${dim}`;
  let data = cache.get(key);
  if (data === undefined) {
    const params = getParamSet(paramSetId);
    data = new Uint32Array(wordCount(kind, params, dim));
    // One randomInt per run of equal primes keeps the per-word lookup out of the loop.
    let i = 0;
    while (i < data.length) {
      const p = primeOf(kind, params, dim, i);
      while (i < data.length && primeOf(kind, params, dim, i) === p) {
        data[i] = randomInt(p);
        i++;
      }
    }
    cache.set(key, data);
  }
  return data.slice();
}

/** True iff every word is below the prime its layout position gives it. */
export function residuesAreValid(
  kind: ResidueKind,
  params: ParamSet,
  dim: number,
  data: Uint32Array,
): boolean {
  if (data.length !== wordCount(kind, params, dim)) {
    return false;
  }
  return data.every((v, i) => v < primeOf(kind, params, dim, i));
}

export function randomPublicKey(paramSetId: number): PublicKey {
  return { paramSetId, data: randomResidues('publicKey', paramSetId) };
}

export function randomSecretKey(paramSetId: number): SecretKey {
  const coeffs = new Int8Array(getParamSet(paramSetId).n);
  for (let i = 0; i < coeffs.length; i++) {
    coeffs[i] = randomInt(3) - 1;
  }
  return { paramSetId, coeffs };
}

export function randomVector(paramSetId: number, dim: number): EncryptedVector {
  return { paramSetId, dim, data: randomResidues('vector', paramSetId, dim) };
}

export function randomBlock(paramSetId: number, dim: number, blockId: number): Block {
  const params = getParamSet(paramSetId);
  const occupied = new Uint8Array(params.itemsPerBlock / 8);
  for (let i = 0; i < occupied.length; i++) {
    occupied[i] = randomInt(256);
  }
  return { paramSetId, dim, blockId, occupied, data: randomResidues('block', paramSetId, dim) };
}

export function randomScores(paramSetId: number, blockId: number): BlockScores {
  return { paramSetId, blockId, data: randomResidues('scores', paramSetId) };
}

/** Asserts that `fn` throws a CryptoError with `code`. */
export function expectCryptoError(fn: () => unknown, code: CryptoErrorCode): void {
  let caught: unknown;
  try {
    fn();
  } catch (err: unknown) {
    caught = err;
  }
  expect(caught, `expected CryptoError ${code}`).toBeInstanceOf(CryptoError);
  expect((caught as CryptoError).code).toBe(code);
}

/** The CryptoError code `fn` throws, undefined if it returns; any other error type fails the test. */
export function cryptoErrorCodeOf(fn: () => unknown): CryptoErrorCode | undefined {
  try {
    fn();
    return undefined;
  } catch (err: unknown) {
    if (err instanceof CryptoError) {
      return err.code;
    }
    throw err;
  }
}

/** A copy of `bytes` with bit `bit` of byte `byteIndex` flipped. */
export function flipBit(bytes: Uint8Array, byteIndex: number, bit: number): Uint8Array {
  const copy = bytes.slice();
  copy[byteIndex] = (copy[byteIndex] ?? 0) ^ (1 << bit);
  return copy;
}

/** A copy of `bytes` with a little-endian field overwritten. */
export function withField(bytes: Uint8Array, offset: number, size: 1 | 2 | 4, value: number): Uint8Array {
  const copy = bytes.slice();
  const view = new DataView(copy.buffer);
  if (size === 1) {
    view.setUint8(offset, value);
  } else if (size === 2) {
    view.setUint16(offset, value, true);
  } else {
    view.setUint32(offset, value, true);
  }
  return copy;
}

/** Deterministic PRNG (mulberry32) so a failing fuzz case can be replayed from its seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type EngineObject = Readonly<Record<string, number | Uint8Array | Int8Array | Uint32Array>>;

/**
 * Asserts two engine objects are equal field by field, comparing typed arrays as bytes (toEqual walks
 * a million-word block element by element, which takes seconds).
 */
export function expectSameObject(actual: object, expected: object): void {
  const a = actual as EngineObject;
  const e = expected as EngineObject;
  expect(Object.keys(a).sort()).toEqual(Object.keys(e).sort());
  for (const [key, value] of Object.entries(e)) {
    const got = a[key];
    if (typeof value === 'number') {
      expect(got, key).toBe(value);
    } else {
      expect(got, key).toBeInstanceOf(value.constructor);
      const gotBytes = got instanceof Object && ArrayBuffer.isView(got) ? got : new Uint8Array(0);
      expect(gotBytes.length, `${key}.length`).toBe(value.length);
      const same = Buffer.from(gotBytes.buffer, gotBytes.byteOffset, gotBytes.byteLength).equals(
        Buffer.from(value.buffer, value.byteOffset, value.byteLength),
      );
      expect(same, `${key} contents`).toBe(true);
    }
  }
}
