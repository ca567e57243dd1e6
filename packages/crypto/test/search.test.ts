import { describe, expect, it } from 'vitest';
import { addToBlock, createBlock, firstFreeSlot, occupiedCount, subtractFromBlock } from '../src/block.js';
import type { Engine } from '../src/engine.js';
import { encryptQuery, encryptVector } from '../src/encrypt.js';
import { isCryptoError } from '../src/errors.js';
import { generateKeyPair, type KeyPair } from '../src/keys.js';
import { getParamSet } from '../src/params.js';
import { createPreparedQuery, prepareEncryptedQuery, preparePlainQuery } from '../src/query.js';
import { blockScoreWords, scoreBlock } from '../src/score.js';
import { ScoreDecryptor } from '../src/score-decryptor.js';
import type { Block, BlockScores } from '../src/types.js';
import { decryptTopK } from '../src/vault-ops.js';
import { dotF64, KERNEL_KINDS, randomResidues, randomUnitVectors, testEngine } from './helpers.js';

interface Fixture {
  engine: Engine;
  keys: KeyPair;
  blocks: Block[];
  vectors: Float32Array;
  count: number;
  dim: number;
}

function buildIndex(engine: Engine, paramSetId: number, count: number, dim: number, seed: string): Fixture {
  const keys = generateKeyPair(engine, paramSetId);
  const vectors = randomUnitVectors(count, dim, seed);
  const perBlock = getParamSet(paramSetId).itemsPerBlock;
  const blocks: Block[] = [];
  for (let v = 0; v < count; v++) {
    const b = Math.floor(v / perBlock);
    const block = (blocks[b] ??= createBlock(engine, paramSetId, dim, b));
    const ct = encryptVector(engine, keys.publicKey, vectors.subarray(v * dim, (v + 1) * dim));
    addToBlock(engine, block, ct, v % perBlock);
  }
  return { engine, keys, blocks, vectors, count, dim };
}

function search(f: Fixture, query: Float32Array): BlockScores[] {
  const paramSetId = f.keys.publicKey.paramSetId;
  const prepared = createPreparedQuery(f.engine, paramSetId, f.dim);
  if (getParamSet(paramSetId).queryMode === 'encrypted') {
    prepareEncryptedQuery(prepared, encryptQuery(f.engine, f.keys.publicKey, query));
  } else {
    preparePlainQuery(f.engine, prepared, query);
  }
  return f.blocks.map((block) => {
    const out = new Uint32Array(blockScoreWords(paramSetId));
    scoreBlock(f.engine, block, prepared, out);
    return { paramSetId, blockId: block.blockId, data: out };
  });
}

function decryptAll(f: Fixture, results: BlockScores[], sk = f.keys.secretKey): Float64Array {
  const dec = ScoreDecryptor.create(f.engine, sk);
  const all = new Float64Array(results.length * 128);
  results.forEach((r, b) => {
    dec.decryptBlock(r, all.subarray(b * 128, (b + 1) * 128));
  });
  return all;
}

function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err: unknown) {
    return err;
  }
  return undefined;
}

describe.each(KERNEL_KINDS)('encrypted search (%s kernels)', (kind) => {
  const engine = testEngine(kind);
  const plain = buildIndex(engine, 1, 200, 64, 'plain-db');

  it('decrypts scores that match float64 dot products (plaintext query, 2 primes)', () => {
    const queries = randomUnitVectors(3, 64, 'plain-q');
    for (let q = 0; q < 3; q++) {
      const query = queries.subarray(q * 64, (q + 1) * 64);
      const scores = decryptAll(plain, search(plain, query));
      let maxErr = 0;
      for (let v = 0; v < plain.count; v++) {
        maxErr = Math.max(maxErr, Math.abs((scores[v] ?? 0) - dotF64(plain.vectors, v * 64, query, 0, 64)));
      }
      expect(maxErr).toBeLessThan(5e-5);
      // Empty slots of the last block decrypt to (near) zero.
      for (let v = plain.count; v < 256; v++) expect(Math.abs(scores[v] ?? 1)).toBeLessThan(5e-5);
    }
  });

  it('decrypts encrypted-query scores that match float64 dot products (3 primes)', () => {
    const enc = buildIndex(engine, 2, 130, 64, 'enc-db');
    const query = randomUnitVectors(1, 64, 'enc-q');
    const scores = decryptAll(enc, search(enc, query));
    let maxErr = 0;
    for (let v = 0; v < enc.count; v++) {
      maxErr = Math.max(maxErr, Math.abs((scores[v] ?? 0) - dotF64(enc.vectors, v * 64, query, 0, 64)));
    }
    expect(maxErr).toBeLessThan(5e-5);
  });

  it('returns the true top-k, rounded to 1e-3, skipping slots that are not live', () => {
    const query = plain.vectors.slice(17 * 64, 18 * 64); // an item itself scores ≈ 1
    const results = search(plain, query);
    const dec = ScoreDecryptor.create(engine, plain.keys.secretKey);
    const top = decryptTopK(dec, results, {
      k: 5,
      isLive: (b, s) => b * 128 + s < plain.count && b * 128 + s !== 3,
    });
    const exact = Array.from({ length: plain.count }, (_, v) => ({
      v,
      s: dotF64(plain.vectors, v * 64, query, 0, 64),
    }))
      .filter(({ v }) => v !== 3)
      .sort((a, b) => b.s - a.s)
      .slice(0, 5);
    expect(top.map((t) => t.blockId * 128 + t.slot)).toEqual(exact.map((e) => e.v));
    expect(top[0]?.score).toBe(1);
    for (const t of top) expect(Math.round(t.score * 1000)).toBeCloseTo(t.score * 1000, 9);
  });

  it('cancels a deleted vector so its slot scores zero and its neighbours are unchanged', () => {
    const f = buildIndex(engine, 1, 4, 32, 'delete-db');
    const query = f.vectors.slice(32, 64);
    const before = decryptAll(f, search(f, query));
    // Re-create the exact ciphertext of item 1 by re-encrypting is impossible (fresh randomness), so
    // insert a known ciphertext into a free slot, then delete it.
    const extra = encryptVector(engine, f.keys.publicKey, query);
    const slot = firstFreeSlot(f.blocks[0]!);
    addToBlock(engine, f.blocks[0]!, extra, slot);
    expect(Math.abs((decryptAll(f, search(f, query))[slot] ?? 0) - 1)).toBeLessThan(5e-5);
    subtractFromBlock(engine, f.blocks[0]!, extra, slot);
    const after = decryptAll(f, search(f, query));
    expect(Math.abs(after[slot] ?? 1)).toBeLessThan(5e-5);
    for (let v = 0; v < 4; v++) expect(Math.abs((after[v] ?? 0) - (before[v] ?? 0))).toBeLessThan(5e-5);
    expect(occupiedCount(f.blocks[0]!)).toBe(4);
  });

  it('refuses to add into an occupied slot or delete from an empty one', () => {
    const f = buildIndex(engine, 1, 1, 32, 'slot-db');
    const ct = encryptVector(engine, f.keys.publicKey, f.vectors);
    expect(
      isCryptoError(
        caught(() => {
          addToBlock(engine, f.blocks[0]!, ct, 0);
        }),
        'INVALID_INDEX',
      ),
    ).toBe(true);
    expect(
      isCryptoError(
        caught(() => {
          subtractFromBlock(engine, f.blocks[0]!, ct, 5);
        }),
        'INVALID_INDEX',
      ),
    ).toBe(true);
    expect(
      isCryptoError(
        caught(() => {
          addToBlock(engine, f.blocks[0]!, ct, 128);
        }),
        'INVALID_INDEX',
      ),
    ).toBe(true);
  });

  describe('fails closed on tampered or foreign results', () => {
    const query = randomUnitVectors(1, 64, 'tamper-q');
    const genuine = search(plain, query);
    const dec = ScoreDecryptor.create(engine, plain.keys.secretKey);
    const allLive = { k: 10, isLive: () => true };

    it('accepts the genuine result', () => {
      expect(decryptTopK(dec, genuine, allLive)).toHaveLength(10);
    });

    it.each([0, 5, 127, 128, 2000, 4223, 4224, 8447])(
      'refuses a result with one flipped bit at word %i',
      (word) => {
        for (const bit of [0, 7, 25]) {
          const data = Uint32Array.from(genuine[0]!.data);
          data[word] = ((data[word] ?? 0) ^ (1 << bit)) >>> 0;
          const forged = [{ ...genuine[0]!, data }, ...genuine.slice(1)];
          expect(
            isCryptoError(
              caught(() => decryptTopK(dec, forged, allLive)),
              'SCORE_OUT_OF_RANGE',
            ),
          ).toBe(true);
        }
      },
    );

    it('refuses a result decrypted with the wrong secret key', () => {
      const other = generateKeyPair(engine, 1);
      const wrong = ScoreDecryptor.create(engine, other.secretKey);
      expect(
        isCryptoError(
          caught(() => decryptTopK(wrong, genuine, allLive)),
          'SCORE_OUT_OF_RANGE',
        ),
      ).toBe(true);
    });

    it('refuses a truncated result and one of another parameter set', () => {
      const truncated = [{ ...genuine[0]!, data: genuine[0]!.data.subarray(0, 4000) }];
      expect(
        isCryptoError(
          caught(() => decryptTopK(dec, truncated, allLive)),
          'MALFORMED_INPUT',
        ),
      ).toBe(true);
      const foreign = [{ ...genuine[0]!, paramSetId: 2 }];
      expect(
        isCryptoError(
          caught(() => decryptTopK(dec, foreign, allLive)),
          'PARAM_MISMATCH',
        ),
      ).toBe(true);
    });

    it('refuses a block the index assembled from a random ciphertext', () => {
      const f = buildIndex(engine, 1, 1, 64, 'random-block');
      // Uniform residues below the smaller prime are valid residues for both primes.
      f.blocks[0]!.data.set(randomResidues(f.blocks[0]!.data.length, 67043329));
      const results = search({ ...f, keys: plain.keys }, query);
      expect(
        isCryptoError(
          caught(() => decryptTopK(dec, results, allLive)),
          'SCORE_OUT_OF_RANGE',
        ),
      ).toBe(true);
    });

    it('refuses use after the decryptor was destroyed', () => {
      const d = ScoreDecryptor.create(engine, plain.keys.secretKey);
      d.destroy();
      expect(
        isCryptoError(
          caught(() => decryptTopK(d, genuine, allLive)),
          'DECRYPTION_FAILED',
        ),
      ).toBe(true);
    });
  });
});
