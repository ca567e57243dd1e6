import sealFactory from 'node-seal';
import { beforeAll, describe, expect, it } from 'vitest';

import { createJsKernels } from '../src/kernels/js-kernels.js';
import { PARAM_SETS } from '../src/params.js';
import type { ParamSet } from '../src/params.js';
import { negacyclicMultiply } from '../src/poly.js';
import { primeTables } from '../src/tables.js';

/**
 * Cross-check of our NTT polynomial product against an independent implementation: Microsoft SEAL's
 * BFV (node-seal 6, WASM), with plain modulus = our prime, so a BFV plaintext is exactly a polynomial
 * in Z_p[X]/(X^4096 + 1) and BFV multiplication computes the same negacyclic product.
 *
 * node-seal 6 exposes no setter for plaintext coefficients, so they are written through SEAL's own
 * uncompressed serialisation (the last n·8 bytes are the little-endian u64 coefficients) and read back
 * with `toPolynomial()` (SEAL's hex polynomial string), two unrelated code paths.
 */

const N = 4096;

// Narrow typing of the node-seal 6 API used here; its own typings return `T | void` everywhere.
interface Deletable {
  delete(): void;
}
/** A SEAL object on the WASM heap, freed with `delete()`. */
type Handle<Tag extends string> = Deletable & { readonly __handle: Tag };
/** An embind enum value (scheme, security level, compression mode). */
interface Enum<Tag extends string> {
  readonly __enum: Tag;
}
interface SealPlain extends Deletable {
  readonly coeffCount: number;
  toPolynomial(): string;
  saveArray(compression: Enum<'ComprMode'>): Uint8Array;
  loadArray(context: SealContext, bytes: Uint8Array): void;
}
type SealCipher = Handle<'CipherText'>;
interface SealContext extends Deletable {
  parametersSet(): boolean;
}
interface SealEncParms extends Deletable {
  setPolyModulusDegree(n: number): void;
  setCoeffModulus(moduli: Handle<'Vector'>): void;
  setPlainModulus(modulus: Handle<'Modulus'>): void;
}
interface SealKeyGenerator extends Deletable {
  secretKey(): Handle<'SecretKey'>;
  createPublicKey(): Handle<'PublicKey'>;
}
interface SealEncryptor extends Deletable {
  encrypt(plain: SealPlain): SealCipher;
}
interface SealDecryptor extends Deletable {
  decrypt(cipher: SealCipher): SealPlain;
  invariantNoiseBudget(cipher: SealCipher): number;
}
interface SealEvaluator extends Deletable {
  multiplyPlain(cipher: SealCipher, plain: SealPlain): SealCipher;
  multiply(a: SealCipher, b: SealCipher): SealCipher;
}
interface SealLib {
  readonly SchemeType: { readonly bfv: Enum<'Scheme'> };
  readonly SecurityLevel: { readonly none: Enum<'SecLevel'>; readonly tc128: Enum<'SecLevel'> };
  readonly ComprModeType: { readonly none: Enum<'ComprMode'> };
  readonly CoeffModulus: { Create(n: number, bitSizes: Int32Array): Handle<'Vector'> };
  Modulus(value: bigint): Handle<'Modulus'>;
  EncryptionParameters(scheme: Enum<'Scheme'>): SealEncParms;
  Context(parms: SealEncParms, expandModChain: boolean, security: Enum<'SecLevel'>): SealContext;
  KeyGenerator(context: SealContext): SealKeyGenerator;
  Encryptor(context: SealContext, publicKey: Handle<'PublicKey'>): SealEncryptor;
  Decryptor(context: SealContext, secretKey: Handle<'SecretKey'>): SealDecryptor;
  Evaluator(context: SealContext): SealEvaluator;
  PlainText(options?: { coeffCount: number }): SealPlain;
}

/** Owns SEAL objects so every test frees its WASM heap allocations, in reverse order. */
class Arena {
  private readonly owned: Deletable[] = [];
  keep<T extends Deletable>(object: T): T {
    this.owned.push(object);
    return object;
  }
  free(): void {
    for (const object of this.owned.reverse()) object.delete();
    this.owned.length = 0;
  }
}

/** A BFV context over Z_p[X]/(X^4096 + 1) with keys, encryptor, decryptor and evaluator. */
interface BfvSession {
  readonly context: SealContext;
  readonly encryptor: SealEncryptor;
  readonly decryptor: SealDecryptor;
  readonly evaluator: SealEvaluator;
}

function bfvSession(
  seal: SealLib,
  arena: Arena,
  p: number,
  bitSizes: readonly number[],
  security: Enum<'SecLevel'>,
): BfvSession {
  const parms = arena.keep(seal.EncryptionParameters(seal.SchemeType.bfv));
  parms.setPolyModulusDegree(N);
  parms.setCoeffModulus(arena.keep(seal.CoeffModulus.Create(N, Int32Array.from(bitSizes))));
  parms.setPlainModulus(arena.keep(seal.Modulus(BigInt(p))));
  const context = arena.keep(seal.Context(parms, true, security));
  expect(context.parametersSet()).toBe(true);
  const keys = arena.keep(seal.KeyGenerator(context));
  const secretKey = arena.keep(keys.secretKey());
  const publicKey = arena.keep(keys.createPublicKey());
  return {
    context,
    encryptor: arena.keep(seal.Encryptor(context, publicKey)),
    decryptor: arena.keep(seal.Decryptor(context, secretKey)),
    evaluator: arena.keep(seal.Evaluator(context)),
  };
}

/** Builds a SEAL plaintext with the given coefficients by patching SEAL's uncompressed serialisation. */
function plaintextOf(seal: SealLib, arena: Arena, context: SealContext, coeffs: Uint32Array): SealPlain {
  const template = seal.PlainText({ coeffCount: coeffs.length });
  const bytes = template.saveArray(seal.ComprModeType.none);
  template.delete();
  // Layout: header, parms_id, coeff_count, scale, then a DynArray whose u64 data ends the buffer.
  const dataOffset = bytes.byteLength - 8 * coeffs.length;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  expect(view.getBigUint64(dataOffset - 8, true)).toBe(BigInt(coeffs.length)); // DynArray size field
  coeffs.forEach((c, i) => {
    view.setBigUint64(dataOffset + 8 * i, BigInt(c), true);
  });
  const plain = arena.keep(seal.PlainText());
  plain.loadArray(context, bytes); // SEAL validates coeff_count ≤ n and every coefficient < p
  return plain;
}

/** Parses SEAL's `toPolynomial()` form, e.g. "1Fx^3 + 2x^1 + 3", into n coefficients. */
function coefficientsOf(plain: SealPlain, n: number): Uint32Array {
  const out = new Uint32Array(n);
  const text = plain.toPolynomial().trim();
  if (text === '0') return out;
  for (const term of text.split(' + ')) {
    const match = /^([0-9A-F]+)(?:x\^(\d+))?$/i.exec(term);
    if (match === null) throw new Error(`unexpected SEAL polynomial term "${term}"`);
    const [, hex, exponent] = match;
    const degree = exponent === undefined ? 0 : Number(exponent);
    if (hex === undefined || degree >= n) throw new Error(`SEAL term "${term}" outside degree ${n}`);
    out[degree] = Number.parseInt(hex, 16);
  }
  return out;
}

/** Uniform residues in [0, p) from a seeded xorshift32 (reproducible failures), by rejection on 26 bits. */
function randomPoly(p: number, seed: number): Uint32Array {
  let state = seed >>> 0 || 1;
  const out = new Uint32Array(N);
  for (let i = 0; i < N; i++) {
    let r: number;
    do {
      state ^= state << 13;
      state >>>= 0;
      state ^= state >>> 17;
      state ^= state << 5;
      state >>>= 0;
      r = state >>> 6;
    } while (r >= p);
    out[i] = r;
  }
  return out;
}

function monomial(degree: number, coeff = 1): Uint32Array {
  const out = new Uint32Array(N);
  out[degree] = coeff;
  return out;
}

function ourProduct(params: ParamSet, primeIndex: number, a: Uint32Array, b: Uint32Array): Uint32Array {
  return negacyclicMultiply(a, b, primeTables(params, primeIndex), createJsKernels());
}

/** Index and values of the first differing coefficient, for readable failures on 4096-long arrays. */
function firstMismatch(ours: Uint32Array, theirs: Uint32Array): string {
  const i = ours.findIndex((v, k) => v !== theirs[k]);
  return i < 0 ? 'none' : `coefficient ${i}: ours ${ours[i]}, SEAL ${theirs[i]}`;
}

// 109-bit q (SEAL's 128-bit-secure maximum at n = 4096) leaves ~10 bits of budget after ct×pt, but only
// ~2 after ct×ct with a 26-bit plain modulus; ct×ct therefore uses 180 bits. Security is irrelevant here.
const PT_MODULUS_BITS = [36, 36, 37];
const CT_MODULUS_BITS = [60, 60, 60];

describe('negacyclicMultiply cross-checked against SEAL BFV (node-seal 6)', () => {
  let seal: SealLib;

  beforeAll(async () => {
    // node-seal is CommonJS; Node's interop makes the default import its factory function.
    seal = (await (sealFactory as unknown as () => Promise<unknown>)()) as SealLib;
  });

  it('writes and reads SEAL plaintext coefficients without loss', () => {
    const params = PARAM_SETS[0];
    const p = params?.primes[0];
    if (p === undefined) throw new Error('no parameter set');
    const arena = new Arena();
    try {
      const { context } = bfvSession(seal, arena, p, PT_MODULUS_BITS, seal.SecurityLevel.tc128);
      const poly = randomPoly(p, 7);
      poly[N - 1] = p - 1;
      const plain = plaintextOf(seal, arena, context, poly);
      expect(plain.coeffCount).toBe(N);
      expect(coefficientsOf(plain, N)).toEqual(poly);
    } finally {
      arena.free();
    }
  });

  it('wraps X^4095 · X to -1, i.e. p - 1 at coefficient 0, in both implementations', () => {
    const params = PARAM_SETS[0];
    const p = params?.primes[0];
    if (params === undefined || p === undefined) throw new Error('no parameter set');
    const expected = monomial(0, p - 1);
    expect(ourProduct(params, 0, monomial(N - 1), monomial(1))).toEqual(expected);
    // (1 + 2X)(3 + X^4095) = 3 + 6X + X^4095 + 2X^4096 = 1 + 6X + X^4095.
    const a = monomial(0, 1);
    a[1] = 2;
    const b = monomial(0, 3);
    b[N - 1] = 1;
    const small = new Uint32Array(N);
    small[0] = 1;
    small[1] = 6;
    small[N - 1] = 1;
    expect(ourProduct(params, 0, a, b)).toEqual(small);

    const arena = new Arena();
    try {
      const s = bfvSession(seal, arena, p, PT_MODULUS_BITS, seal.SecurityLevel.tc128);
      const ct = arena.keep(s.encryptor.encrypt(plaintextOf(seal, arena, s.context, monomial(N - 1))));
      const prod = arena.keep(
        s.evaluator.multiplyPlain(ct, plaintextOf(seal, arena, s.context, monomial(1))),
      );
      expect(s.decryptor.invariantNoiseBudget(prod)).toBeGreaterThan(0);
      expect(coefficientsOf(arena.keep(s.decryptor.decrypt(prod)), N)).toEqual(expected);
    } finally {
      arena.free();
    }
  });

  for (const params of PARAM_SETS) {
    params.primes.forEach((p, primeIndex) => {
      it(`agrees with SEAL BFV on random plaintext×ciphertext and ciphertext×ciphertext products mod ${p} (${params.name}, prime ${primeIndex})`, () => {
        const a = randomPoly(p, 0x9e3779b9 ^ (params.id * 131 + primeIndex));
        const b = randomPoly(p, 0x85ebca6b ^ (params.id * 137 + primeIndex));
        const ours = ourProduct(params, primeIndex, a, b);

        const arena = new Arena();
        try {
          const pt = bfvSession(seal, arena, p, PT_MODULUS_BITS, seal.SecurityLevel.tc128);
          const ctA = arena.keep(pt.encryptor.encrypt(plaintextOf(seal, arena, pt.context, a)));
          const ptProd = arena.keep(pt.evaluator.multiplyPlain(ctA, plaintextOf(seal, arena, pt.context, b)));
          expect(pt.decryptor.invariantNoiseBudget(ptProd)).toBeGreaterThan(0);
          const sealPt = coefficientsOf(arena.keep(pt.decryptor.decrypt(ptProd)), N);
          expect(firstMismatch(ours, sealPt)).toBe('none');
          expect(ours).toEqual(sealPt);

          const ct = bfvSession(seal, arena, p, CT_MODULUS_BITS, seal.SecurityLevel.none);
          const encA = arena.keep(ct.encryptor.encrypt(plaintextOf(seal, arena, ct.context, a)));
          const encB = arena.keep(ct.encryptor.encrypt(plaintextOf(seal, arena, ct.context, b)));
          const ctProd = arena.keep(ct.evaluator.multiply(encA, encB));
          expect(ct.decryptor.invariantNoiseBudget(ctProd)).toBeGreaterThan(0);
          const sealCt = coefficientsOf(arena.keep(ct.decryptor.decrypt(ctProd)), N);
          expect(firstMismatch(ours, sealCt)).toBe('none');
          expect(ours).toEqual(sealCt);
        } finally {
          arena.free();
        }
      });
    });
  }
});
