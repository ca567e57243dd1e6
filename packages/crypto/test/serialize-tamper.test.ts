import { describe, expect, it } from 'vitest';
import type { CryptoErrorCode } from '../src/errors.js';
import { getParamSet } from '../src/params.js';
import { HeaderOffset } from '../src/serialize/header.js';
import {
  HEADER_BYTES,
  ObjectKind,
  maxSerializedBytes,
  packResidues,
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
import type { Block, SecretKey } from '../src/types.js';
import {
  cryptoErrorCodeOf,
  expectCryptoError,
  flipBit,
  randomBlock,
  randomPublicKey,
  randomScores,
  randomSecretKey,
  randomVector,
  residuesAreValid,
  seededRandom,
  withField,
  type ResidueKind,
} from './serialize-fixtures.js';

interface Sample {
  readonly name: string;
  readonly blob: Uint8Array;
  readonly parse: (bytes: Uint8Array) => object;
  /** Parses stating the block id, for kinds that carry one. */
  readonly parseForBlock?: (bytes: Uint8Array, blockId: number) => object;
  /** Where a parsed object may legitimately differ, it must still be a valid object of its kind. */
  readonly isValid: (parsed: object) => boolean;
}

const params1 = getParamSet(1);
const params2 = getParamSet(2);
const BLOCK_ID = 77;

function residueCheck(kind: ResidueKind) {
  return (parsed: object): boolean => {
    const o = parsed as { paramSetId: number; dim?: number; data: Uint32Array };
    return residuesAreValid(kind, getParamSet(o.paramSetId), o.dim ?? 0, o.data);
  };
}

const SAMPLES: readonly Sample[] = [
  {
    name: 'packed public key (set 1)',
    blob: serializePublicKey(randomPublicKey(1)),
    parse: (b) => parsePublicKey(b),
    isValid: residueCheck('publicKey'),
  },
  {
    name: 'secret key (set 2)',
    blob: serializeSecretKey(randomSecretKey(2)),
    parse: (b) => parseSecretKey(b),
    isValid: (o) => (o as SecretKey).coeffs.every((c) => c >= -1 && c <= 1),
  },
  {
    name: 'packed 32-d vector (set 1)',
    blob: serializeEncryptedVector(randomVector(1, 32)),
    parse: (b) => parseEncryptedVector(b),
    isValid: residueCheck('vector'),
  },
  {
    name: 'unpacked 32-d encrypted query (set 2)',
    blob: serializeEncryptedQuery(randomVector(2, 32), { packed: false }),
    parse: (b) => parseEncryptedQuery(b),
    isValid: residueCheck('vector'),
  },
  {
    name: 'packed 32-d block (set 1)',
    blob: serializeBlock(randomBlock(1, 32, BLOCK_ID)),
    parse: (b) => parseBlock(b),
    parseForBlock: (b, blockId) => parseBlock(b, { blockId }),
    isValid: (o) => (o as Block).occupied.length === 16 && residueCheck('block')(o),
  },
  {
    name: 'unpacked block scores (set 2)',
    blob: serializeBlockScores(randomScores(2, BLOCK_ID), { packed: false }),
    parse: (b) => parseBlockScores(b),
    parseForBlock: (b, blockId) => parseBlockScores(b, { blockId }),
    isValid: residueCheck('scores'),
  },
];

/** The code a single flipped header bit must produce, by field. */
function expectedCodeForHeaderByte(byte: number): CryptoErrorCode | 'BLOCK_ID' {
  if (byte === HeaderOffset.PARAM_SET_ID || byte === HeaderOffset.PARAM_SET_ID + 1) {
    return 'UNKNOWN_PARAM_SET'; // no single flip turns 1 into 2 or back
  }
  if (byte >= HeaderOffset.BLOCK_ID && byte < HeaderOffset.BLOCK_ID + 4) {
    return 'BLOCK_ID';
  }
  return 'MALFORMED_INPUT';
}

describe.each(SAMPLES)('tampering with a $name', (sample) => {
  it('parses the untouched blob', () => {
    expect(sample.isValid(sample.parse(sample.blob))).toBe(true);
  });

  it('fails closed on every flipped header bit with the code of its field', () => {
    for (let byte = 0; byte < HEADER_BYTES; byte++) {
      for (let bit = 0; bit < 8; bit++) {
        const tampered = flipBit(sample.blob, byte, bit);
        const expected = expectedCodeForHeaderByte(byte);
        if (expected !== 'BLOCK_ID') {
          expectCryptoError(() => sample.parse(tampered), expected);
        } else if (sample.parseForBlock !== undefined) {
          // Another block id is well formed; only a caller who states the id can notice.
          const { parseForBlock } = sample;
          expectCryptoError(() => parseForBlock(tampered, BLOCK_ID), 'PARAM_MISMATCH');
        } else {
          expectCryptoError(() => sample.parse(tampered), 'MALFORMED_INPUT');
        }
      }
    }
  });

  it('fails closed when truncated anywhere in the header', () => {
    for (let length = 0; length < HEADER_BYTES; length++) {
      expectCryptoError(() => sample.parse(sample.blob.slice(0, length)), 'MALFORMED_INPUT');
    }
  });

  it('fails closed when truncated in the payload', () => {
    const total = sample.blob.length;
    for (const length of [
      HEADER_BYTES,
      HEADER_BYTES + 1,
      HEADER_BYTES + 16,
      total >> 1,
      total - 4,
      total - 1,
    ]) {
      expectCryptoError(() => sample.parse(sample.blob.slice(0, length)), 'MALFORMED_INPUT');
    }
  });

  it('fails closed on one trailing byte', () => {
    const extended = new Uint8Array(sample.blob.length + 1);
    extended.set(sample.blob);
    expectCryptoError(() => sample.parse(extended), 'MALFORMED_INPUT');
  });

  it('reports an unknown parameter set id as UNKNOWN_PARAM_SET', () => {
    for (const id of [0, 3, 0x0101, 0xffff]) {
      expectCryptoError(
        () => sample.parse(withField(sample.blob, HeaderOffset.PARAM_SET_ID, 2, id)),
        'UNKNOWN_PARAM_SET',
      );
    }
  });

  it('rejects a forged payload length even when the bytes are there', () => {
    for (const length of [0, 1, 0xffffffff]) {
      const forged = withField(sample.blob, HeaderOffset.PAYLOAD_BYTES, 4, length);
      expectCryptoError(() => sample.parse(forged), 'MALFORMED_INPUT');
    }
  });

  it('rejects input larger than the largest object of its kind before reading further', () => {
    const kind = sample.blob[HeaderOffset.KIND] ?? 0;
    const oversized = new Uint8Array(maxSerializedBytes(kind as ObjectKind) + 1);
    oversized.set(sample.blob);
    expectCryptoError(() => sample.parse(oversized), 'MALFORMED_INPUT');
  });
});

describe('caller expectations', () => {
  const vector = serializeEncryptedVector(randomVector(1, 64));
  const query = serializeEncryptedQuery(randomVector(2, 64));
  const block = serializeBlock(randomBlock(2, 64, 5));
  const scores = serializeBlockScores(randomScores(1, 5));
  const publicKey = serializePublicKey(randomPublicKey(2));
  const secretKey = serializeSecretKey(randomSecretKey(1));

  it('accepts objects that match every stated expectation', () => {
    parseEncryptedVector(vector, { paramSetId: 1, dim: 64 });
    parseEncryptedQuery(query, { paramSetId: 2, dim: 64 });
    parseBlock(block, { paramSetId: 2, dim: 64, blockId: 5 });
    parseBlockScores(scores, { paramSetId: 1, blockId: 5 });
    parsePublicKey(publicKey, { paramSetId: 2 });
    parseSecretKey(secretKey, { paramSetId: 1 });
  });

  it('reports a different parameter set as PARAM_MISMATCH', () => {
    expectCryptoError(() => parseEncryptedVector(vector, { paramSetId: 2 }), 'PARAM_MISMATCH');
    expectCryptoError(() => parseEncryptedQuery(query, { paramSetId: 1 }), 'PARAM_MISMATCH');
    expectCryptoError(() => parseBlock(block, { paramSetId: 1 }), 'PARAM_MISMATCH');
    expectCryptoError(() => parseBlockScores(scores, { paramSetId: 2 }), 'PARAM_MISMATCH');
    expectCryptoError(() => parsePublicKey(publicKey, { paramSetId: 1 }), 'PARAM_MISMATCH');
    expectCryptoError(() => parseSecretKey(secretKey, { paramSetId: 2 }), 'PARAM_MISMATCH');
  });

  it('reports a different dimension as PARAM_MISMATCH', () => {
    expectCryptoError(() => parseEncryptedVector(vector, { dim: 384 }), 'PARAM_MISMATCH');
    expectCryptoError(() => parseEncryptedQuery(query, { dim: 32 }), 'PARAM_MISMATCH');
    expectCryptoError(() => parseBlock(block, { dim: 96 }), 'PARAM_MISMATCH');
  });

  it('reports a different block id as PARAM_MISMATCH', () => {
    expectCryptoError(() => parseBlock(block, { blockId: 6 }), 'PARAM_MISMATCH');
    expectCryptoError(() => parseBlockScores(scores, { blockId: 0 }), 'PARAM_MISMATCH');
  });

  it('reports a well-formed object of another kind as PARAM_MISMATCH', () => {
    expectCryptoError(() => parseEncryptedVector(query), 'PARAM_MISMATCH');
    expectCryptoError(() => parseEncryptedQuery(vector), 'PARAM_MISMATCH');
    expectCryptoError(() => parsePublicKey(vector), 'PARAM_MISMATCH');
    expectCryptoError(() => parseBlock(scores), 'PARAM_MISMATCH');
    expectCryptoError(() => parseBlockScores(block), 'PARAM_MISMATCH');
    expectCryptoError(() => parseSecretKey(publicKey), 'PARAM_MISMATCH');
    expectCryptoError(() => parsePublicKey(secretKey), 'PARAM_MISMATCH');
  });

  it('rejects an encrypted query header under a plaintext-query set as malformed', () => {
    const forged = withField(withField(vector, HeaderOffset.KIND, 1, ObjectKind.ENCRYPTED_QUERY), 8, 2, 1);
    expectCryptoError(() => parseEncryptedQuery(forged), 'MALFORMED_INPUT');
  });

  it('rejects input that is not a Uint8Array', () => {
    expectCryptoError(() => parsePublicKey(publicKey.buffer as unknown as Uint8Array), 'MALFORMED_INPUT');
    expectCryptoError(() => parsePublicKey('RUNE' as unknown as Uint8Array), 'MALFORMED_INPUT');
  });
});

describe('residues not below their prime', () => {
  const [p1 = 0, p2 = 0] = params1.primes;
  const p3 = params2.primes[2] ?? 0;

  it('rejects an unpacked residue equal to its prime, or any larger u32', () => {
    const vector = randomVector(1, 64); // [chunk][prime][poly][n]: prime 1 starts at word 2n
    const blob = serializeEncryptedVector(vector, { packed: false });
    const wordAt = (i: number): number => HEADER_BYTES + 4 * i;
    expectCryptoError(() => parseEncryptedVector(withField(blob, wordAt(0), 4, p1)), 'MALFORMED_INPUT');
    expectCryptoError(
      () => parseEncryptedVector(withField(blob, wordAt(2 * 4096), 4, p2)),
      'MALFORMED_INPUT',
    );
    expectCryptoError(
      () => parseEncryptedVector(withField(blob, wordAt(6 * 4096 + 5), 4, p2)),
      'MALFORMED_INPUT',
    );
    expectCryptoError(
      () => parseEncryptedVector(withField(blob, wordAt(77), 4, 0xffffffff)),
      'MALFORMED_INPUT',
    );
    // p2 < p1, so p2 is a valid residue in a word of the first prime.
    expect(parseEncryptedVector(withField(blob, wordAt(0), 4, p2)).data[0]).toBe(p2);
  });

  it('rejects a packed residue equal to its prime or at the 26-bit maximum', () => {
    const scores = randomScores(2, 1); // [prime][n/32 + 2n]
    const perPrime = 128 + 2 * 4096;
    for (const [word, value] of [
      [0, p1],
      [perPrime, p2],
      [2 * perPrime + 9, p3],
      [3 * perPrime - 1, 2 ** 26 - 1],
    ] as const) {
      const data = scores.data.slice();
      data[word] = value;
      const blob = serializeBlockScores(scores);
      blob.set(packResidues(data, 26), HEADER_BYTES);
      expectCryptoError(() => parseBlockScores(blob), 'MALFORMED_INPUT');
    }
  });

  it('rejects a residue not below its prime inside a packed block after its bitmap', () => {
    const block = randomBlock(1, 32, 0);
    const data = block.data.slice();
    data[2 * 4096] = p2; // first word of prime 2's region
    const blob = serializeBlock(block);
    blob.set(packResidues(data, 26), HEADER_BYTES + 16);
    expectCryptoError(() => parseBlock(blob), 'MALFORMED_INPUT');
  });
});

describe('secret key codes', () => {
  it('rejects the invalid coefficient code 3 at every position within a byte', () => {
    const blob = serializeSecretKey(randomSecretKey(1));
    for (let slot = 0; slot < 4; slot++) {
      const tampered = blob.slice();
      const at = HEADER_BYTES + 500;
      tampered[at] = (tampered[at] ?? 0) | (3 << (2 * slot));
      expectCryptoError(() => parseSecretKey(tampered), 'MALFORMED_INPUT');
    }
  });

  it('rejects the packed flag on a secret key', () => {
    const blob = serializeSecretKey(randomSecretKey(1));
    expectCryptoError(() => parseSecretKey(withField(blob, HeaderOffset.FLAGS, 1, 1)), 'MALFORMED_INPUT');
  });
});

describe('fuzzing', () => {
  const ALLOWED: ReadonlySet<CryptoErrorCode> = new Set([
    'MALFORMED_INPUT',
    'UNKNOWN_PARAM_SET',
    'PARAM_MISMATCH',
  ]);

  function mutate(blob: Uint8Array, random: () => number): Uint8Array {
    const pick = (n: number): number => Math.floor(random() * n);
    // Half the mutations land in the header, where a wrong acceptance would do the most harm.
    let result: Uint8Array = blob.slice();
    const position = (): number =>
      Math.min(random() < 0.5 ? pick(HEADER_BYTES) : pick(result.length), result.length - 1);
    const mutations = 1 + pick(3);
    for (let m = 0; m < mutations; m++) {
      switch (pick(6)) {
        case 0:
          if (result.length > 0) result = flipBit(result, position(), pick(8));
          break;
        case 1:
          if (result.length > 0) result[position()] = pick(256);
          break;
        case 2:
          result = result.slice(0, pick(result.length + 1));
          break;
        case 3: {
          const longer = new Uint8Array(result.length + 1 + pick(64));
          longer.set(result);
          for (let i = result.length; i < longer.length; i++) longer[i] = pick(256);
          result = longer;
          break;
        }
        case 4: {
          const fields = [8, 10, 12, 16, 18, 20] as const;
          const field = fields[pick(fields.length)] ?? 8;
          const size = field === 12 || field === 20 ? 4 : 2;
          if (result.length >= field + size) {
            result = withField(result, field, size, pick(2 ** (8 * size)));
          }
          break;
        }
        default: {
          const at = HEADER_BYTES + pick(Math.max(1, result.length - HEADER_BYTES));
          if (at < result.length) result[at] = (result[at] ?? 0) ^ 0xff;
          break;
        }
      }
    }
    return result;
  }

  it('either returns a valid object or throws a CryptoError for 2,000 random mutations', () => {
    const random = seededRandom(0x52554e45);
    const counts = { parsed: 0, rejected: 0 };
    for (let round = 0; round < 2000; round++) {
      const sample = SAMPLES[round % SAMPLES.length];
      if (sample === undefined) throw new Error('no sample');
      const mutated = mutate(sample.blob, random);
      let parsed: object | undefined;
      const code = cryptoErrorCodeOf(() => {
        parsed = sample.parse(mutated);
      });
      if (code === undefined) {
        counts.parsed++;
        expect(parsed !== undefined && sample.isValid(parsed), `round ${round}: ${sample.name}`).toBe(true);
      } else {
        counts.rejected++;
        expect(ALLOWED.has(code), `round ${round}: ${code}`).toBe(true);
      }
    }
    expect(counts.parsed + counts.rejected).toBe(2000);
    expect(counts.rejected).toBeGreaterThan(1000);
  });
});
