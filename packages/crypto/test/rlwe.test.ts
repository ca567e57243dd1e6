import { describe, expect, it } from 'vitest';
import { decryptChunksRaw } from '../src/decrypt-raw.js';
import { encryptQuery, encryptVector } from '../src/encrypt.js';
import { isCryptoError } from '../src/errors.js';
import { generateKeyPair } from '../src/keys.js';
import { PARAM_SETS } from '../src/params.js';
import { KERNEL_KINDS, randomUnitVectors, seededEngine, sha256Hex, testEngine } from './helpers.js';

describe.each(KERNEL_KINDS)('RLWE encryption (%s kernels)', (kind) => {
  it.each(PARAM_SETS.map((s) => [s.name, s] as const))(
    'decrypts a fresh encryption to the scaled chunk within the noise bound (%s)',
    (_name, params) => {
      const engine = testEngine(kind);
      const { publicKey, secretKey } = generateKeyPair(engine, params.id);
      const v = randomUnitVectors(1, 64, `vec-${params.id}`);
      const ct = encryptVector(engine, publicKey, v);
      expect(ct.data.length).toBe(2 * params.primes.length * 2 * params.n);
      const chunks = decryptChunksRaw(engine, secretKey, ct);
      let maxNoise = 0;
      chunks.forEach((coeffs, j) => {
        for (let c = 0; c < params.n; c++) {
          const expected = c < 32 ? Math.round((v[32 * j + c] ?? 0) * params.deltaX) : 0;
          maxNoise = Math.max(maxNoise, Math.abs((coeffs[c] ?? 0) - expected));
        }
      });
      // Fresh noise e0 + e·u + e1·s is a few hundred; far below Δx = 2^29, and certainly non-zero.
      expect(maxNoise).toBeGreaterThan(0);
      expect(maxNoise).toBeLessThan(5000);
    },
  );

  it('encodes query chunks reversed so coefficient 31-i holds coordinate i', () => {
    const params = PARAM_SETS[1]!;
    const engine = testEngine(kind);
    const { publicKey, secretKey } = generateKeyPair(engine, params.id);
    const q = randomUnitVectors(1, 32, 'query');
    const chunks = decryptChunksRaw(engine, secretKey, encryptQuery(engine, publicKey, q));
    for (let i = 0; i < 32; i++) {
      const got = (chunks[0]?.[31 - i] ?? 0) / params.deltaQ;
      expect(Math.abs(got - (q[i] ?? 0))).toBeLessThan(1e-6);
    }
  });

  it('produces known-answer keys and ciphertexts from fixed randomness', () => {
    const engine = seededEngine(kind, 'rune known-answer test v1');
    const { publicKey, secretKey } = generateKeyPair(engine, 1);
    const v = new Float32Array(32);
    v[0] = 0.6;
    v[31] = -0.8;
    const ct = encryptVector(engine, publicKey, v);
    expect(Array.from(secretKey.coeffs.subarray(0, 16))).toEqual(KAT.secret16);
    expect(sha256Hex(secretKey.coeffs)).toBe(KAT.secretSha);
    expect(sha256Hex(publicKey.data)).toBe(KAT.publicSha);
    expect(sha256Hex(ct.data)).toBe(KAT.ciphertextSha);
    const plain = decryptChunksRaw(engine, secretKey, ct)[0]!;
    expect(Math.round((plain[0] ?? 0) / 2 ** 16)).toBe(Math.round((0.6 * 2 ** 29) / 2 ** 16));
    expect(Math.round((plain[31] ?? 0) / 2 ** 16)).toBe(Math.round((-0.8 * 2 ** 29) / 2 ** 16));
  });

  it('gives different ciphertexts for the same vector (fresh randomness per encryption)', () => {
    const engine = testEngine(kind);
    const { publicKey } = generateKeyPair(engine, 1);
    const v = randomUnitVectors(1, 32, 'same');
    expect(encryptVector(engine, publicKey, v).data).not.toEqual(encryptVector(engine, publicKey, v).data);
  });

  it('refuses a truncated public key or one of another parameter set', () => {
    const engine = testEngine(kind);
    const { publicKey } = generateKeyPair(engine, 1);
    const v = randomUnitVectors(1, 32, 'pk');
    const truncated = { ...publicKey, data: publicKey.data.subarray(0, 1000) };
    expect(
      isCryptoError(
        catchError(() => encryptVector(engine, truncated, v)),
        'MALFORMED_INPUT',
      ),
    ).toBe(true);
    const foreign = { ...publicKey, paramSetId: 2 };
    expect(
      isCryptoError(
        catchError(() => encryptVector(engine, foreign, v)),
        'MALFORMED_INPUT',
      ),
    ).toBe(true);
  });

  it('refuses vectors it cannot encode: wrong length, non-finite, too long', () => {
    const engine = testEngine(kind);
    const { publicKey } = generateKeyPair(engine, 1);
    const bad = [
      new Float32Array(33),
      Float32Array.from({ length: 32 }, () => Number.NaN),
      new Float32Array(32).fill(1),
    ];
    for (const v of bad) {
      let err: unknown;
      try {
        encryptVector(engine, publicKey, v);
      } catch (e: unknown) {
        err = e;
      }
      expect(isCryptoError(err, 'INVALID_VECTOR')).toBe(true);
    }
  });
});

// Outputs of generateKeyPair/encryptVector on the SHAKE256 stream seeded 'rune known-answer test v1'.
// They pin the sampler byte consumption, the NTT convention and the ciphertext layout.
const KAT = {
  secret16: [1, 1, -1, 0, -1, 0, 0, -1, 0, -1, 1, 0, -1, 1, 1, 1],
  secretSha: 'fbe6223210621d162dcfb2e8b2b0c5f58fa9a23cc383c9d0494135c13852ab57',
  publicSha: '922c09464528fc8933d709a5e046027337705b4c818c330d7e6fbd30413234e6',
  ciphertextSha: '99500d74c8bbd25ce4bc00b1a8f5c3a1c9932368e883a777f383f79d5fbaf689',
};

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err: unknown) {
    return err;
  }
  return undefined;
}
