import { describe, expect, it } from 'vitest';
import { getParamSet } from '../src/params.js';
import {
  HEADER_BYTES,
  ObjectKind,
  maxSerializedBytes,
  parseBlock,
  parseBlockScores,
  parseEncryptedQuery,
  parseEncryptedVector,
  parsePublicKey,
  parseSecretKey,
  serializeBlock,
  serializeBlockScores,
  serializeEncryptedQuery,
  serializeEncryptedVector,
  serializePublicKey,
  serializeSecretKey,
} from '../src/serialize/index.js';
import {
  expectCryptoError,
  expectSameObject,
  randomBlock,
  randomPublicKey,
  randomScores,
  randomSecretKey,
  randomVector,
} from './serialize-fixtures.js';

const N = 4096;
/** Payload bytes of `words` residues, packed at 26 bits or as u32 words. */
const residueBytes = (words: number, packed: boolean): number => (packed ? (words * 26) / 8 : words * 4);

const SETS = [
  { id: 1, primes: 2, dims: [32, 384, 2048] },
  { id: 2, primes: 3, dims: [32, 384, 1024] },
] as const;
const PACKINGS = [true, false] as const;

describe('serialised sizes', () => {
  it('uploads one packed 384-d vector at set 1 in 12 × 53,248 B plus the 24-byte header', () => {
    const blob = serializeEncryptedVector(randomVector(1, 384));
    expect(HEADER_BYTES).toBe(24);
    expect(blob.length).toBe(24 + (12 * 2 * 2 * 4096 * 26) / 8);
    expect(blob.length).toBe(639_000);
    expect(blob.length).toBeLessThanOrEqual(12 * 53_248 + HEADER_BYTES);
  });

  it('has the documented sizes for keys and block scores', () => {
    expect(serializePublicKey(randomPublicKey(1)).length).toBe(53_272);
    expect(serializePublicKey(randomPublicKey(1), { packed: false }).length).toBe(65_560);
    expect(serializePublicKey(randomPublicKey(2)).length).toBe(79_896);
    expect(serializePublicKey(randomPublicKey(2), { packed: false }).length).toBe(98_328);
    expect(serializeSecretKey(randomSecretKey(1)).length).toBe(1_048);
    expect(serializeSecretKey(randomSecretKey(2)).length).toBe(1_048);
    expect(serializeBlockScores(randomScores(1, 7)).length).toBe(27_480);
    expect(serializeBlockScores(randomScores(1, 7), { packed: false }).length).toBe(33_816);
    expect(serializeBlockScores(randomScores(2, 7)).length).toBe(81_144);
    expect(serializeBlockScores(randomScores(2, 7), { packed: false }).length).toBe(99_864);
  });

  it('bounds every kind by its largest genuine object', () => {
    expect(maxSerializedBytes(ObjectKind.PUBLIC_KEY)).toBe(98_328);
    expect(maxSerializedBytes(ObjectKind.SECRET_KEY)).toBe(1_048);
    expect(maxSerializedBytes(ObjectKind.ENCRYPTED_VECTOR)).toBe(24 + 64 * 2 * 2 * 4096 * 4);
    expect(maxSerializedBytes(ObjectKind.BLOCK)).toBe(24 + 16 + 64 * 2 * 2 * 4096 * 4);
    expect(maxSerializedBytes(ObjectKind.BLOCK_SCORES)).toBe(99_864);
  });
});

describe('round trips', () => {
  for (const set of SETS) {
    for (const packed of PACKINGS) {
      const label = `set ${set.id}, ${packed ? 'packed' : 'unpacked'}`;

      it(`round-trips a public key (${label})`, () => {
        const key = randomPublicKey(set.id);
        const blob = serializePublicKey(key, { packed });
        expect(blob.length).toBe(HEADER_BYTES + residueBytes(set.primes * 2 * N, packed));
        expectSameObject(parsePublicKey(blob, { paramSetId: set.id }), key);
      });

      it(`round-trips block scores with their block id (${label})`, () => {
        const scores = randomScores(set.id, 0xfedcba98);
        const blob = serializeBlockScores(scores, { packed });
        const perPrime = N / 32 + (set.id === 2 ? 2 * N : N);
        expect(blob.length).toBe(HEADER_BYTES + residueBytes(set.primes * perPrime, packed));
        expectSameObject(parseBlockScores(blob, { paramSetId: set.id, blockId: 0xfedcba98 }), scores);
      });

      for (const dim of set.dims) {
        const chunks = dim / 32;

        it(`round-trips a ${dim}-d encrypted vector (${label})`, () => {
          const vector = randomVector(set.id, dim);
          const blob = serializeEncryptedVector(vector, { packed });
          expect(blob.length).toBe(HEADER_BYTES + residueBytes(chunks * set.primes * 2 * N, packed));
          expectSameObject(parseEncryptedVector(blob, { paramSetId: set.id, dim }), vector);
        });

        it(`round-trips a ${dim}-d block with its occupancy bitmap (${label})`, () => {
          const block = randomBlock(set.id, dim, 41);
          const blob = serializeBlock(block, { packed });
          expect(blob.length).toBe(HEADER_BYTES + 16 + residueBytes(set.primes * 2 * chunks * N, packed));
          expectSameObject(parseBlock(blob, { paramSetId: set.id, dim, blockId: 41 }), block);
        });
      }
    }

    it(`round-trips a secret key's ternary coefficients (set ${set.id})`, () => {
      const key = randomSecretKey(set.id);
      expectSameObject(parseSecretKey(serializeSecretKey(key), { paramSetId: set.id }), key);
    });
  }

  for (const packed of PACKINGS) {
    it(`round-trips an encrypted query under the encrypted-query set (${packed ? 'packed' : 'unpacked'})`, () => {
      const query = randomVector(2, 384);
      const blob = serializeEncryptedQuery(query, { packed });
      expect(blob.length).toBe(HEADER_BYTES + residueBytes(12 * 3 * 2 * N, packed));
      expectSameObject(parseEncryptedQuery(blob, { paramSetId: 2, dim: 384 }), query);
    });
  }

  it('round-trips a block with every slot occupied and with none', () => {
    for (const fill of [0x00, 0xff]) {
      const block = { ...randomBlock(1, 32, 0), occupied: new Uint8Array(16).fill(fill) };
      expect(parseBlock(serializeBlock(block)).occupied).toEqual(block.occupied);
    }
  });

  it('encodes secret coefficients as 0 → 0, +1 → 1, −1 → 2, four per byte from the low bits', () => {
    const coeffs = new Int8Array(N);
    coeffs.set([0, 1, -1, 1, -1, -1, 0, 0]);
    const blob = serializeSecretKey({ paramSetId: 1, coeffs });
    expect([...blob.subarray(HEADER_BYTES, HEADER_BYTES + 3)]).toEqual([0x64, 0x0a, 0x00]);
  });
});

describe('header encoding', () => {
  it('writes magic, kind, version, flags, set, dimension, chunks and payload length little-endian', () => {
    const blob = serializeEncryptedVector(randomVector(1, 32));
    expect([...blob.subarray(0, HEADER_BYTES)]).toEqual([
      0x52, 0x55, 0x4e, 0x45, 3, 1, 1, 0, 1, 0, 32, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0x00, 0xd0, 0x00, 0x00,
    ]);
  });

  it('writes the block id and slot count of a block', () => {
    const blob = serializeBlock(randomBlock(2, 64, 0x01020304), { packed: false });
    // payload = 16 bitmap bytes + 3 primes × 2 polys × 2 chunks × 4096 × 4 B = 196,624 = 0x030010
    expect([...blob.subarray(0, HEADER_BYTES)]).toEqual([
      0x52, 0x55, 0x4e, 0x45, 5, 1, 0, 0, 2, 0, 64, 0, 4, 3, 2, 1, 2, 0, 128, 0, 0x10, 0x00, 0x03, 0x00,
    ]);
  });

  it('never sets the packed flag on a secret key', () => {
    expect(serializeSecretKey(randomSecretKey(1))[6]).toBe(0);
  });
});

describe('parsed objects own their memory', () => {
  it('parses from a Node Buffer at a nonzero offset and keeps no view of it', () => {
    const block = randomBlock(1, 32, 3);
    const blob = serializeBlock(block, { packed: false });
    const pool = Buffer.alloc(blob.length + 7);
    pool.set(blob, 5);
    const view = pool.subarray(5, 5 + blob.length);
    const parsed = parseBlock(view);
    pool.fill(0xaa);
    expectSameObject(parsed, block);
    expect(parsed.data.buffer).not.toBe(pool.buffer);
    expect(parsed.occupied.buffer).not.toBe(pool.buffer);
  });

  it('returns packed vectors and secret keys that do not change when the input is overwritten', () => {
    const vector = randomVector(2, 32);
    const blob = serializeEncryptedVector(vector);
    const parsed = parseEncryptedVector(blob);
    blob.fill(0);
    expectSameObject(parsed, vector);
    const key = randomSecretKey(1);
    const keyBlob = serializeSecretKey(key);
    const parsedKey = parseSecretKey(keyBlob);
    keyBlob.fill(0);
    expectSameObject(parsedKey, key);
  });
});

describe('serialisers refuse invalid objects', () => {
  it('rejects an unknown parameter set', () => {
    expectCryptoError(
      () => serializePublicKey({ paramSetId: 9, data: new Uint32Array(0) }),
      'UNKNOWN_PARAM_SET',
    );
  });

  it('rejects an unsupported dimension', () => {
    for (const dim of [0, 33, 2080]) {
      expectCryptoError(
        () => serializeEncryptedVector({ paramSetId: 1, dim, data: new Uint32Array(0) }),
        'INVALID_VECTOR',
      );
    }
    expectCryptoError(
      () => serializeEncryptedVector({ paramSetId: 2, dim: 2048, data: new Uint32Array(0) }),
      'INVALID_VECTOR',
    );
  });

  it('rejects data of the wrong length for its shape', () => {
    const vector = randomVector(1, 32);
    expectCryptoError(() => serializeEncryptedVector({ ...vector, dim: 64 }), 'MALFORMED_INPUT');
    expectCryptoError(
      () => serializePublicKey({ paramSetId: 1, data: vector.data.subarray(1) }),
      'MALFORMED_INPUT',
    );
  });

  it('rejects a residue not below its prime instead of emitting it', () => {
    for (const packed of PACKINGS) {
      const key = randomPublicKey(1);
      key.data[5] = getParamSet(1).primes[0] ?? 0;
      expectCryptoError(() => serializePublicKey(key, { packed }), 'MALFORMED_INPUT');
      key.data[5] = 2 ** 26; // would be truncated by 26-bit packing
      expectCryptoError(() => serializePublicKey(key, { packed }), 'MALFORMED_INPUT');
    }
  });

  it('rejects a block id that is not a u32', () => {
    for (const blockId of [-1, 2 ** 32, 1.5, Number.NaN]) {
      expectCryptoError(() => serializeBlockScores({ ...randomScores(1, 0), blockId }), 'INVALID_INDEX');
      expectCryptoError(() => serializeBlock({ ...randomBlock(1, 32, 0), blockId }), 'INVALID_INDEX');
    }
  });

  it('rejects an occupancy bitmap that is not exactly one bit per slot', () => {
    const block = randomBlock(1, 32, 0);
    expectCryptoError(() => serializeBlock({ ...block, occupied: new Uint8Array(17) }), 'MALFORMED_INPUT');
  });

  it('rejects an encrypted query under a plaintext-query parameter set', () => {
    expectCryptoError(() => serializeEncryptedQuery(randomVector(1, 32)), 'PARAM_MISMATCH');
  });

  it('rejects secret coefficients outside {−1, 0, 1} and keys of the wrong length', () => {
    for (const bad of [2, -2, 3, 127, -128]) {
      const key = randomSecretKey(1);
      key.coeffs[100] = bad;
      expectCryptoError(() => serializeSecretKey(key), 'MALFORMED_INPUT');
    }
    expectCryptoError(
      () => serializeSecretKey({ paramSetId: 1, coeffs: new Int8Array(N - 1) }),
      'MALFORMED_INPUT',
    );
  });
});
